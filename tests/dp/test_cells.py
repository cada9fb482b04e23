"""The true cells of a DP crosstab, before any noise: counted over the file's own codes and folded into the
declared categories — equal to counting row by row, whatever the columns' storage (dictionaries with other or
undeclared values, missing values, several chunks with different dictionaries, plain text, booleans)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.dp import queries
from workbench.governance import sources

AREAS = ["north", "south", "east"]
KINDS = ["a", "b"]


def reference(frame: pd.DataFrame, declared: dict[str, list], weights: np.ndarray | None = None) -> np.ndarray:
    """Row by row: a row counts in its declared cell; a missing or undeclared value puts it in none."""
    shape = [len(v) for v in declared.values()]
    out = np.zeros(int(np.prod(shape)))
    for i, row in enumerate(frame.itertuples(index=False)):
        cell = 0
        for value, names in zip(row, declared.values(), strict=True):
            if value is None or (isinstance(value, float) and np.isnan(value)) or value not in names:
                break
            cell = cell * len(names) + names.index(value)
        else:
            out[cell] += 1 if weights is None else weights[i]
    return out


def source(declared: dict[str, list]) -> Any:
    """What the counting reads of a source: its public schema."""
    return SimpleNamespace(schema={c: {"type": "boolean" if v == [False, True] else "category", "categories": v}
                                   for c, v in declared.items()})


def tables() -> list[tuple[str, pa.Table, pd.DataFrame]]:
    rng = np.random.default_rng(3)
    area_values = np.array(["south", "north", "east", "west", None], dtype=object)  # "west" is not declared
    area = area_values[rng.integers(0, 5, 500)].tolist()
    kind = np.array(["b", "a", None], dtype=object)[rng.integers(0, 3, 500)].tolist()
    frame = pd.DataFrame({"area": area, "kind": kind})
    plain = pa.table({"area": pa.array(area), "kind": pa.array(kind)})
    encoded = pa.table({"area": pa.array(area).dictionary_encode(), "kind": pa.array(kind).dictionary_encode()})
    chunks = pa.concat_tables([encoded.slice(0, 200).combine_chunks(),  # each chunk its own dictionary
                               pa.table({"area": pa.array(area[200:]).dictionary_encode(),
                                         "kind": pa.array(kind[200:]).dictionary_encode()})])
    return [("plain text", plain, frame), ("dictionaries", encoded, frame), ("chunks", chunks, frame)]


@pytest.mark.parametrize("row_by_row", [False, True], ids=["folded", "recoded per row"])
@pytest.mark.parametrize(("label", "table", "frame"), tables(), ids=[t[0] for t in tables()])
def test_cells_equal_counting_row_by_row(label, table, frame, row_by_row, monkeypatch) -> None:
    if row_by_row:  # the path for columns with too many values of their own to combine
        monkeypatch.setattr(queries, "_combinable", lambda combinations, rows: False)
    declared = {"area": AREAS, "kind": KINDS}
    units = np.arange(table.num_rows, dtype=np.int64) * 7
    cells = queries._crosstab_cells(table, ["area", "kind"], source(declared), 6, units)
    assert cells["count"].tolist() == reference(frame, declared).astype(int).tolist()
    assert cells["sum"].tolist() == reference(frame, declared, units).astype(int).tolist()


def test_the_recoding_path_is_taken_when_the_combinations_outnumber_the_rows(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    values = [f"v{i}" for i in rng.integers(0, 10_000, 300)]  # hundreds of undeclared values
    values[:3] = ["a", "b", "a"]
    frame = pd.DataFrame({"kind": values, "other": values})
    table = pa.table({"kind": pa.array(values).dictionary_encode(), "other": pa.array(values).dictionary_encode()})
    declared = {"kind": KINDS, "other": KINDS}
    cells = queries._crosstab_cells(table, ["kind", "other"], source(declared), 4, None)
    assert cells["count"].tolist() == reference(frame, declared).astype(int).tolist() == [2, 0, 0, 1]


def test_booleans_count_in_false_then_true() -> None:
    values = [True, False, None, True, True]
    table = pa.table({"flag": pa.array(values)})
    cells = queries._crosstab_cells(table, ["flag"], source({"flag": [False, True]}), 2, None)
    assert cells["count"].tolist() == [1, 3]


def test_remembered_dictionary_columns_follow_the_file(tmp_path) -> None:
    """Columns kept between queries are read again once the file changes."""
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"kind": pa.array(["a", "b", "a"]).dictionary_encode()}), path)
    assert sources.dictionary_columns(path, ["kind"])["kind"].to_pylist() == ["a", "b", "a"]
    assert sources.dictionary_columns(path, ["kind"])["kind"].to_pylist() == ["a", "b", "a"]
    pq.write_table(pa.table({"kind": pa.array(["b", "b", "b", "a"]).dictionary_encode()}), path)
    assert sources.dictionary_columns(path, ["kind"])["kind"].to_pylist() == ["b", "b", "b", "a"]
