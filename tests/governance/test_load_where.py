"""Loads that keep rows: ``where`` pushed into the Parquet read, ``sample`` drawn per project, ``batches``; each
minimised, pseudonymised and audited like a whole load, and every refusal audited with nothing else recorded."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import episode_record, episodes
from helpers import ANALYST, OTHER_PROJECT, OWNER, PROJECT, snapshot
from sqlalchemy import func, select
from test_access import last_event, refused

from workbench.db.schema import audit_events, data_loads
from workbench.errors import AccessDenied, InvalidInput
from workbench.governance import pseudonyms
from workbench.governance.sources import check_where, filter_expression

pytestmark = pytest.mark.db  # also on PostgreSQL

DATASET = "dhsc.episodes"
COLUMNS = ["episode_id", "household_serial", "age_band", "serial_no", "cost"]  # three record identifiers
WHERE = {"age_band": ["0-17", "65+"], "cost": {">=": 500, "<": 3000}}


def kept(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a full load that WHERE keeps, as a filtered load gives them."""
    mask = frame["age_band"].isin(["0-17", "65+"]) & (frame["cost"] >= 500) & (frame["cost"] < 3000)
    return frame[mask].reset_index(drop=True)


def grant(connect, project: str = PROJECT, columns: list[str] | None = None) -> None:
    request = connect(ANALYST).project(project).request_access(DATASET, columns, justification="Episodes by age")
    connect(OWNER).owner.decide(request["id"], "approve")


@pytest.fixture
def desk(governed):
    """Episodes (record identifiers, pseudonymised on load) registered by OWNER and granted whole to PROJECT."""
    governed(OWNER).catalogue.register(episode_record(), episodes(rows=300))
    grant(governed)
    return governed


def test_a_filtered_load_is_the_full_load_filtered(desk) -> None:
    project = desk(ANALYST).project(PROJECT)
    full = project.load(DATASET)
    assert list(full.columns) == COLUMNS and full["episode_id"].str.len().eq(20).all()
    filtered = project.load(DATASET, where=WHERE)
    assert 0 < len(filtered) < len(full)
    pd.testing.assert_frame_equal(filtered, kept(full))  # same pseudonyms, types and the project's order
    assert filtered.attrs["workbench.sources"] == [DATASET]
    event = last_event(desk(ANALYST))
    assert event["action"] == "data.load" and event["outcome"] == "ok"
    assert event["detail"]["where"] == WHERE and event["detail"]["rows"] == len(filtered)
    with desk(ANALYST)._ctx.db.read() as conn:
        assert conn.execute(select(data_loads.c.row_count).order_by(data_loads.c.id.desc())).first()[0] \
            == len(filtered)
    few = project.load(DATASET, ["cost", "serial_no"], where={"age_band": "65+", "cost": {">": 2000.5}})
    pd.testing.assert_frame_equal(few, full[(full["age_band"] == "65+") & (full["cost"] > 2000.5)][
        ["cost", "serial_no"]].reset_index(drop=True))
    assert project.load(DATASET, where={"cost": {">": 1e12}}).empty


def test_each_project_gets_its_own_order_and_pseudonyms(desk) -> None:
    grant(desk, OTHER_PROJECT)
    analyst = desk(ANALYST)
    mine, theirs = (analyst.project(p).load(DATASET, where=WHERE) for p in (PROJECT, OTHER_PROJECT))
    assert sorted(mine["cost"]) == sorted(theirs["cost"])
    assert not set(mine["episode_id"]) & set(theirs["episode_id"])
    assert list(mine["cost"]) != list(theirs["cost"])


def test_samples_are_drawn_again_with_the_same_seed(desk) -> None:
    project = desk(ANALYST).project(PROJECT)
    full = project.load(DATASET)
    first = project.load(DATASET, sample=10, seed=7)
    assert len(first) == 10
    pd.testing.assert_frame_equal(first, project.load(DATASET, sample=10, seed=7))
    assert not first.equals(project.load(DATASET, sample=10, seed=8))
    positions = full.reset_index().merge(first, on=list(full.columns))["index"]
    assert len(positions) == 10 and positions.is_monotonic_increasing  # in the full load's order
    assert len(project.load(DATASET, sample=0.25, seed=1)) == round(0.25 * len(full))
    assert len(project.load(DATASET, sample=1.0)) == len(full)
    filtered = project.load(DATASET, where=WHERE, sample=3, seed=2)
    assert len(filtered) == 3 and filtered["episode_id"].isin(kept(full)["episode_id"]).all()
    detail = last_event(desk(ANALYST))["detail"]
    assert detail["sample"] == 3 and detail["seed"] == 2 and detail["where"] == WHERE


def test_batches_are_the_load_in_pieces(desk) -> None:
    analyst = desk(ANALYST)
    project = analyst.project(PROJECT)
    whole = project.load(DATASET, where=WHERE)
    with analyst._ctx.db.read() as conn:
        events = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
    pieces = list(project.batches(DATASET, where=WHERE, rows=4))
    assert [len(p) for p in pieces[:-1]] == [4] * (len(pieces) - 1) and 1 <= len(pieces[-1]) <= 4
    pd.testing.assert_frame_equal(pd.concat(pieces), whole)  # the index goes on across batches
    with analyst._ctx.db.read() as conn:  # each batch recorded as a load of its rows
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == events + len(pieces)
        counts = conn.execute(select(data_loads.c.row_count).order_by(data_loads.c.id.desc())
                              .limit(len(pieces))).scalars().all()
    assert sum(counts) == len(whole)
    detail = last_event(analyst)["detail"]
    assert detail["batch"] == {"number": len(pieces) - 1, "rows": 4, "of_rows": len(whole)}
    assert detail["where"] == WHERE
    every = pd.concat(project.batches(DATASET, ["cost"], rows=70))
    pd.testing.assert_frame_equal(every, project.load(DATASET, ["cost"]))
    pd.testing.assert_frame_equal(project.batch(DATASET, where=WHERE, rows=4, number=1), pieces[1])
    assert project.batch(DATASET, where=WHERE, rows=4, number=len(pieces)) is None
    assert list(project.batches(DATASET, where={"cost": {">": 1e12}})) == []


def test_refusals_record_nothing_but_the_refusal(governed) -> None:
    governed(OWNER).catalogue.register(episode_record(), episodes(rows=100))
    analyst = governed(ANALYST)
    project = analyst.project(PROJECT)
    refused(analyst, lambda: project.load(DATASET, where={"cost": {">": 3}}), AccessDenied, "holds no grant")
    grant(governed, columns=["cost", "episode_id"])
    refused(analyst, lambda: project.load(DATASET, ["cost"], where={"age_band": "65+"}), AccessDenied,
            r"age_band are outside project p-alpha's grant")
    refused(analyst, lambda: project.load(DATASET, ["cost"], where={"nope": 1}), InvalidInput,
            f"'nope' is not a column of {DATASET}", outcome="refused")
    refused(analyst, lambda: project.load(DATASET, ["cost"], where={"episode_id": "E000001"}), InvalidInput,
            "never filters on", outcome="refused")
    refused(analyst, lambda: project.load(DATASET, where={"cost": {"!=": 3}}), InvalidInput,
            "a range takes only", outcome="refused")
    refused(analyst, lambda: project.load(DATASET, where="cost > 3"), InvalidInput, "give a dict",
            outcome="refused")
    refused(analyst, lambda: project.load(DATASET, where={"cost": "cheap"}), InvalidInput,
            "is not such a value", outcome="refused")
    refused(analyst, lambda: project.load(DATASET, where={"cost": {">": "0"}}), InvalidInput,
            "is not such a value", outcome="refused")
    for bad, message in ((0, "keeps nothing"), (-3, "keeps nothing"), (101, "the load keeps 100"),
                         (0.0, "above 0 and at most 1"), (1.5, "above 0 and at most 1"),
                         (float("nan"), "above 0 and at most 1"), (True, "give a number"), ("10", "give a number"),
                         (0.001, "keeps no row")):
        refused(analyst, lambda bad=bad: project.load(DATASET, sample=bad), InvalidInput, message,
                outcome="refused")
    refused(analyst, lambda: project.load(DATASET, sample=5, seed="x"), InvalidInput, "seed: give a whole number",
            outcome="refused")
    refused(analyst, lambda: project.load(DATASET, seed=3), InvalidInput, "give sample= too", outcome="refused")
    refused(analyst, lambda: project.batches(DATASET, rows=0), InvalidInput, "rows: give the number",
            outcome="refused")
    refused(analyst, lambda: project.batch(DATASET, number=-1), InvalidInput, "number: give the batch's number",
            outcome="refused")
    refused(analyst, lambda: project.batches(DATASET, ["cost"], where={"age_band": "65+"}), AccessDenied,
            "outside project p-alpha's grant")
    before = snapshot(analyst)
    assert len(project.load(DATASET, where={"cost": {">": 10}}, sample=2, seed=1)) == 2
    assert snapshot(analyst) != before  # an allowed load is recorded


def test_rows_read_by_number_are_the_governed_read_of_those_rows(tmp_path) -> None:
    """Over many row groups, dictionary columns, integer and text identifiers with nulls: the rows a filter keeps,
    in the project's order, read by number, are row for row the full governed read's."""
    rng = np.random.default_rng(5)
    rows = 5_000
    ids = pa.array([None if i % 97 == 0 else f"P{i % 700:05d}" for i in range(rows)])
    table = pa.table({"id": ids, "serial": pa.array([None if i % 89 == 0 else 10_000 + i for i in range(rows)]),
                      "kind": pa.array(rng.choice(["a", "b", "c"], rows)).dictionary_encode(),
                      "x": rng.random(rows), "seq": np.arange(rows)})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=600)
    key, columns, identifiers = b"k" * 32, ["x", "id", "kind", "serial", "seq"], ["id", "serial"]
    full = pseudonyms.read_governed(path, columns, identifiers, key, dataset_id="d")
    where = check_where({"x": {"<": 0.3}, "kind": ["a", "c"]})
    found = pseudonyms.matching_rows(path, filter_expression(pq.read_schema(path), where, "d"), list(where))
    chosen = pseudonyms.project_rows(path, key, "d", found, cache=tmp_path / "cache")
    got = pseudonyms.read_rows(path, columns, identifiers, key, chosen)
    mask = (full["x"] < 0.3) & full["kind"].isin(["a", "c"])
    pd.testing.assert_frame_equal(got, full[mask].reset_index(drop=True))
    first = pseudonyms.matching_rows(path, filter_expression(pq.read_schema(path), {"seq": {"<": 10}}, "d"), ["seq"])
    assert list(first) == list(range(10))
    nothing = pseudonyms.read_rows(path, columns, identifiers, key, np.zeros(0, np.int64))
    assert list(nothing.columns) == columns and nothing.empty


@pytest.mark.parametrize("where", [
    {"kind": "b"}, {"kind": ["a", "c"]}, {"n": {">": 3, "<=": 40}}, {"n": {">": 5.5}}, {"n": [7, 8, 1000]},
    {"text": "07"}, {"text": 7}, {"text": ["07", "x", "Ünï"]}, {"flag": True}, {"day": {">=": "2020-01-05"}},
    {"day": "2020-01-03", "kind": "a"}, {"x": {"<": 0.5}}, {"x": {"<": 0.5}, "n": {">": 10}},
    {"kind": "none of them"}, {'we"ird': 2},
])
def test_duckdb_keeps_the_rows_the_pyarrow_filter_keeps(tmp_path, where) -> None:
    """Where DuckDB evaluates ``where`` in its scan, it keeps exactly the rows the pyarrow expression keeps: nulls
    never kept, values cast to the column's type first (7 on a text column is "7"), a fractional bound
    on whole numbers compared as a number; floats (NaN orders differently in DuckDB) stay with pyarrow."""
    rng = np.random.default_rng(3)
    rows = 3_000
    table = pa.table({
        "kind": pa.array([None if i % 53 == 0 else "abc"[i % 3] for i in range(rows)]).dictionary_encode(),
        "n": pa.array([None if i % 41 == 0 else int(v) for i, v in enumerate(rng.integers(0, 60, rows))], pa.int16()),
        "text": pa.array([None if i % 37 == 0 else f"{i % 12:02d}" if i % 5 else ["7", "Ünï"][i % 2]
                          for i in range(rows)]),
        "flag": pa.array([None if i % 31 == 0 else bool(i % 2) for i in range(rows)]),
        "day": pa.array([None if i % 29 == 0 else dt.date(2020, 1, 1 + i % 9) for i in range(rows)], pa.date32()),
        "x": np.where(np.arange(rows) % 23 == 0, np.nan, rng.random(rows)),
        'we"ird': pa.array(rng.integers(0, 4, rows)),
    })
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=700)
    checked = check_where(where)
    expression = filter_expression(pq.read_schema(path), checked, "d")
    by_arrow = pseudonyms.matching_rows(path, expression, list(checked))
    by_duckdb = pseudonyms.matching_rows(path, expression, list(checked), where=checked)
    assert by_duckdb.dtype == np.int64 and list(by_duckdb) == list(by_arrow)
    uses_duckdb = pseudonyms._sql_filter(pq.read_schema(path), checked) is not None
    assert uses_duckdb == ("x" not in where)

    # one scan for the rows and their plain columns: the same rows, and read_rows gives the same frame with it
    columns, key = ["n", "text", "flag", "day", "x", "kind"], b"k" * 32
    read = pseudonyms.matching_rows_read(path, checked, columns)
    assert (read is not None) == uses_duckdb
    if read is not None:
        assert list(read.rows) == list(by_arrow) and "kind" not in read.table.column_names  # categories apart
        chosen = pseudonyms.project_rows(path, key, "d", read.rows)
        for rows in (chosen, chosen[::3]):  # all the rows read, or some of them (a sample)
            pd.testing.assert_frame_equal(pseudonyms.read_rows(path, columns, ["text"], key, rows, read=read),
                                          pseudonyms.read_rows(path, columns, ["text"], key, rows))
        other = np.setdiff1d(np.arange(len(table)), read.rows)[:5]  # rows it does not hold: read from the file
        pd.testing.assert_frame_equal(pseudonyms.read_rows(path, columns, [], key, other, read=read),
                                      pseudonyms.read_rows(path, columns, [], key, other))
