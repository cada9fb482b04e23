"""``governance.sources``: the ``where`` grammar, sources resolved by name with their lineage and person key, and
reads with the filter pushed into the scan."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import ANALYST, DATASET, PROJECT

from workbench.errors import InvalidInput, NotFound
from workbench.governance import sources
from workbench.governance.project_data import ProjectData


@pytest.mark.parametrize(("where", "canonical"), [
    (None, {}),
    ({"sex": "F"}, {"sex": "F"}),
    ({"region": ("North", "South", "North")}, {"region": ["North", "South"]}),
    ({"region": {"South", "North"}}, {"region": ["North", "South"]}),
    ({"age": {">=": 16, "<": 65}}, {"age": {">=": 16, "<": 65}}),
    ({"admitted": {"<": dt.date(2025, 7, 1)}}, {"admitted": {"<": dt.date(2025, 7, 1)}}),
])
def test_where_in_its_canonical_form(where, canonical) -> None:
    assert sources.check_where(where) == canonical


@pytest.mark.parametrize(("where", "message"), [
    ("age > 16", "dict of column"),
    ({"age": {"!=": 3}}, "range takes only"),
    ({"age": {}}, "no operator"),
    ({"age": {">": True}}, "range on 'age' needs numbers or dates"),
    ({"age": []}, "must be 1 to"),
    ({"age": float("nan")}, "compared with nan"),
    ({"age": {"x": 1}}, "compared with|range takes only"),
    ({"age": [[1]]}, "compared with"),
])
def test_where_refuses_anything_else(where, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        sources.check_where(where)


def test_filters_are_cast_to_the_column_types_and_pushed_into_the_read(tmp_path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"sex": ["F", "M", "F"], "age": [10, 30, 70],
                             "day": pa.array([dt.date(2025, 1, d) for d in (1, 2, 3)])}), path)
    schema = {c: {"name": c, "role": "other"} for c in ("sex", "age", "day")}
    source = sources.Source("x", "dataset", path, ["x"], schema, None, 3, None, "catalogue")
    where = sources.check_where({"sex": ["F"], "age": {">": 5.5}, "day": {"<=": "2025-01-02"}})
    assert sources.read(source, ["age"], where).to_pydict() == {"age": [10]}
    with pytest.raises(InvalidInput, match="not such a value"):
        sources.read(source, ["age"], sources.check_where({"age": "old"}))
    with pytest.raises(InvalidInput, match="range needs a numeric or date column"):
        sources.read(source, ["age"], sources.check_where({"sex": {">": 1}}))
    with pytest.raises(InvalidInput, match="no person key"):
        sources.read(source, ["age"], {}, person=True)


def test_a_dataset_and_a_workbench_made_frame_resolve_with_lineage_and_key(desk) -> None:
    ws = desk(ANALYST)
    with ws._ctx.db.read() as conn:
        dataset = sources.resolve(conn, ws._ctx.vault, PROJECT, DATASET)
        with pytest.raises(NotFound, match="No dataset"):
            sources.resolve(conn, ws._ctx.vault, PROJECT, "dhsc.nothing")
    assert (dataset.kind, dataset.person_key, dataset.datasets, dataset.made_by) == (
        "dataset", "nhs_number", [DATASET], "catalogue")
    assert dataset.checks[0]["granted"] and dataset.checks[0]["lapsed"] is None
    with ws._ctx.write() as conn:  # a frame a linkage would save: its link key is the workbench's person key
        ProjectData(ws._ctx, PROJECT).save_derived(
            conn, pd.DataFrame({"link_key": ["k1", "k2"], "age_band": ["0-17", "65+"]}), "linked",
            sources=[DATASET], person_key="link_key", spec={"source": DATASET}, made_by="workbench",
            action="data.derive")
    with ws._ctx.db.read() as conn:
        linked = sources.resolve(conn, ws._ctx.vault, PROJECT, "linked")
    assert (linked.kind, linked.person_key, linked.version, linked.made_by) == ("saved", "link_key", 1, "workbench")
    assert linked.schema["link_key"]["role"] == "record_identifier" and linked.identifiers() == ["link_key"]
    assert linked.schema["age_band"]["type"] == "category"  # the catalogue's definition, from the lineage
    with pytest.raises(InvalidInput, match="record identifier"):
        sources.check_columns(linked, ["link_key"], what="tables by spec")
