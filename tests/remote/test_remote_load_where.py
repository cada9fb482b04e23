"""Loads that keep rows, embedded and over the service: ``where``, ``sample`` and ``batches`` give the same
frames and the same refusals (class, message, field), audited in the workspace either way."""

from __future__ import annotations

from contextlib import ExitStack

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import episode_record, episodes
from helpers import ANALYST, OWNER, PROJECT, pg_scratch_schema, snapshot
from sqlalchemy import func, select

from workbench.catalogue.sources import Source
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, InvalidInput

pytestmark = pytest.mark.db  # also on PostgreSQL

DATASET = "dhsc.episodes"
WHERE = {"cost": {">=": 500, "<": 3000}}


@pytest.fixture
def episodes_granted(desk):
    """Episodes registered by OWNER; PROJECT granted every column but age_band."""
    desk(OWNER).catalogue.register(episode_record(), episodes(rows=200))
    request = desk(ANALYST).project(PROJECT).request_access(
        DATASET, ["episode_id", "household_serial", "serial_no", "cost"], justification="Episodes by age")
    desk(OWNER).owner.decide(request["id"], "approve")
    return desk


def test_filtered_and_sampled_loads_and_batches_as_embedded(episodes_granted, kernel) -> None:
    here = episodes_granted(ANALYST).project(PROJECT)
    there = kernel(ANALYST).project(PROJECT)
    full = here.load(DATASET)
    expected = full[full["cost"].between(500, 3000, inclusive="left")]
    filtered = there.load(DATASET, where=WHERE)
    pd.testing.assert_frame_equal(filtered, expected.reset_index(drop=True))
    sampled = there.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=0.5, seed=11)
    pd.testing.assert_frame_equal(sampled, here.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=0.5,
                                                     seed=11))
    pieces = list(there.batches(DATASET, where=WHERE, rows=7))
    assert all(len(p) <= 7 for p in pieces)
    pd.testing.assert_frame_equal(pd.concat(pieces), filtered)


def test_refusals_over_the_service_as_embedded(episodes_granted, kernel) -> None:
    ws = kernel(ANALYST)
    project = ws.project(PROJECT)
    admin_view = episodes_granted(ANALYST)
    cases = [
        (lambda: project.load(DATASET, where={"age_band": "65+"}), AccessDenied, "age_band are outside"),
        (lambda: project.load(DATASET, where={"episode_id": "E000001"}), InvalidInput, "never filters on"),
        (lambda: project.load(DATASET, where={"cost": {"~": 1}}), InvalidInput, "a range takes only"),
        (lambda: project.load(DATASET, where={"nope": 1}), InvalidInput, "'nope' is not a column"),
        (lambda: project.load(DATASET, sample=0), InvalidInput, "keeps nothing"),
        (lambda: project.load(DATASET, sample=201), InvalidInput, "the load keeps 200"),
        (lambda: project.load(DATASET, sample=1.5), InvalidInput, "above 0 and at most 1"),
        (lambda: project.batches(DATASET, rows=0), InvalidInput, "rows: give the number"),
        (lambda: project.batches(DATASET, where={"age_band": "65+"}), AccessDenied, "age_band are outside"),
    ]
    for operation, error, message in cases:
        before = snapshot(admin_view)
        with admin_view._ctx.db.read() as conn:
            events = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
        with pytest.raises(error, match=message):
            operation()
        after = snapshot(admin_view)
        after.pop("api_tokens", None), before.pop("api_tokens", None)
        assert after == before, message
        with admin_view._ctx.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == events + 1, message


@pytest.mark.parametrize("where_kept", ["parquet-folder", "postgresql"])
def test_in_place_datasets_load_over_the_service_as_embedded(desk, kernel, tmp_path, where_kept) -> None:
    """A dataset registered in place (a partitioned Parquet folder, a PostgreSQL table): the service reads the
    source for the remote kernel, with where, sample and batches, as the embedded kernel gets them."""
    frame = episodes(rows=200)
    with ExitStack() as stack:
        if where_kept == "parquet-folder":
            pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ep",
                                partition_cols=["age_band"])
            source = Source(path=tmp_path / "ep")
        else:
            url, schema, engine = stack.enter_context(pg_scratch_schema("remote"))
            with engine.begin() as conn:
                frame.to_sql("ep", conn, schema=schema, index=False)
            source = Source.database(url, table=f"{schema}.ep")
        desk(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
        request = desk(ANALYST).project(PROJECT).request_access(
            DATASET, ["episode_id", "household_serial", "serial_no", "cost"], justification="Episodes by cost")
        desk(OWNER).owner.decide(request["id"], "approve")
        here = desk(ANALYST).project(PROJECT)
        there = kernel(ANALYST).project(PROJECT)
        pd.testing.assert_frame_equal(there.load(DATASET, where=WHERE), here.load(DATASET, where=WHERE))
        pd.testing.assert_frame_equal(there.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=0.5, seed=11),
                                      here.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=0.5, seed=11))
        pieces = list(there.batches(DATASET, where=WHERE, rows=7))
        pd.testing.assert_frame_equal(pd.concat(pieces).reset_index(drop=True), here.load(DATASET, where=WHERE))
