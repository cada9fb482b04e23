"""The index at rest: versions switched in one step, members tied to the dataset file they describe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.person_index import store


def _dataset(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"x": range(rows)}).to_parquet(path)
    return path


def _members(index_ids: list[str | None], rows: list[int] | None = None) -> pd.DataFrame:
    rows = list(range(len(index_ids))) if rows is None else rows
    return pd.DataFrame({"row": rows, "index_id": index_ids, "fingerprint": ["f"] * len(rows)})


def test_nothing_before_the_first_build(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "datasets" / "a.b.parquet", 2)
    assert store.current(tmp_path) is None and store.persons(tmp_path) is None
    assert store.members(tmp_path, "a.b") is None and store.index_ids(tmp_path, "a.b", data) is None


def test_a_commit_is_live_and_carries_untouched_datasets(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "datasets" / "a.b.parquet", 3)
    c = _dataset(tmp_path / "datasets" / "c.d.parquet", 2)
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p1", "p2"]}),
                 {"a.b": (_members(["p1", None, "p2"]), a), "c.d": (_members(["p2", "p1"]), c)})
    first = store.current(tmp_path)
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p1", "p2", "p3"]}), {"c.d": (_members(["p3", "p1"]), c)})
    assert store.current(tmp_path) != first and not first.exists()  # the old version is gone
    assert store.index_ids(tmp_path, "a.b", a).to_pylist() == ["p1", None, "p2"]
    assert store.index_ids(tmp_path, "c.d", c).to_pylist() == ["p3", "p1"]
    assert store.persons(tmp_path)["index_id"].tolist() == ["p1", "p2", "p3"]
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p3"]}), {}, removed=("a.b",))
    assert store.members(tmp_path, "a.b") is None and store.index_ids(tmp_path, "c.d", c) is not None


def test_records_missing_from_the_members_get_no_id(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "datasets" / "a.b.parquet", 4)
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p1"]}), {"a.b": (_members(["p1", "p2"], rows=[3, 1]), a)})
    assert store.index_ids(tmp_path, "a.b", a).to_pylist() == [None, "p2", None, "p1"]


def test_a_replaced_dataset_file_gets_no_ids_until_it_is_linked_again(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "datasets" / "a.b.parquet", 2)
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p1"]}), {"a.b": (_members(["p1", "p1"]), a)})
    _dataset(a, 3)
    assert store.index_ids(tmp_path, "a.b", a) is None


def test_a_crash_before_the_switch_leaves_the_previous_index(tmp_path: Path, monkeypatch) -> None:
    a = _dataset(tmp_path / "datasets" / "a.b.parquet", 2)
    store.commit(tmp_path, pd.DataFrame({"index_id": ["p1"]}), {"a.b": (_members(["p1", "p1"]), a)})
    live = store.current(tmp_path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError):
        store.commit(tmp_path, pd.DataFrame({"index_id": ["p9"]}), {"a.b": (_members(["p9", "p9"]), a)})
    monkeypatch.undo()
    assert store.current(tmp_path) == live
    assert store.index_ids(tmp_path, "a.b", a).to_pylist() == ["p1", "p1"]
    assert [p.name for p in store.root(tmp_path).iterdir() if p.name.startswith(".")] == []


def _persons(count: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"index_id": [f"p{i}" for i in range(start, start + count)],
                         "surname": [f"name{i}" for i in range(start, start + count)]})


def test_an_update_of_few_persons_writes_them_as_a_delta(tmp_path: Path) -> None:
    a = _dataset(tmp_path / "datasets" / "a.b.parquet", 2)
    store.commit(tmp_path, _persons(40), {"a.b": (_members(["p0", "p1"]), a)})
    base = (store.current(tmp_path) / "persons.parquet").stat().st_ino
    changed = _persons(42)
    changed.loc[3, "surname"] = "renamed"  # one person changed, two added
    store.commit(tmp_path, changed, {}, persons_changed=np.array([3, 40, 41]))
    folder = store.current(tmp_path)
    assert [p.name for p in folder.glob("persons.delta.*")] == ["persons.delta.1.parquet"]
    assert (folder / "persons.parquet").stat().st_ino == base  # the base is not written again
    pd.testing.assert_frame_equal(store.persons(tmp_path), changed)
    assert store.person_count(tmp_path) == 42
    again = pd.concat([changed, _persons(1, start=42)], ignore_index=True)
    again.loc[40, "surname"] = "changed twice"
    store.commit(tmp_path, again, {}, persons_changed=np.array([40, 42]))
    assert len(list(store.current(tmp_path).glob("persons.delta.*"))) == 2
    pd.testing.assert_frame_equal(store.persons(tmp_path), again)
    assert store.persons(tmp_path, ["surname"])["surname"].tolist() == again["surname"].tolist()
    assert store.index_ids(tmp_path, "a.b", a).to_pylist() == ["p0", "p1"]


def test_deltas_past_a_quarter_of_the_persons_are_compacted(tmp_path: Path) -> None:
    store.commit(tmp_path, _persons(8), {})
    grown = _persons(12)
    store.commit(tmp_path, grown, {}, persons_changed=np.arange(8, 12))  # 4 rows > a quarter of 8
    assert not list(store.current(tmp_path).glob("persons.delta.*"))
    assert pq.read_metadata(store.current(tmp_path) / "persons.parquet").num_rows == 12
    pd.testing.assert_frame_equal(store.persons(tmp_path), grown)
