"""The person index at rest: versioned Parquet files in the vault's restricted area, switched in one step.

Layout, under ``<vault>/restricted/person_index/`` (and the clerical review pairs of each dataset's last update
under ``<vault>/restricted/person_index_review/<dataset>.parquet``)::

    CURRENT                          the live version's folder name ("v7"), replaced atomically
    v7/persons.parquet               one row per person: ``index_id`` and the normalised identifying fields
    v7/persons.delta.<n>.parquet     persons changed or added by later updates (none after a compaction): each
                                     row's ``position`` in the persons table, then the person's columns
    v7/members/<dataset>.parquet     one row per record of the dataset's stored file, in the file's row order:
                                     ``row`` (int64), ``index_id`` (string), ``fingerprint`` (string); for a
                                     dataset read in place, which has no stable rows, also ``content`` (uint64:
                                     the record's keyed content key, ``in_place.content_keys``); and, when
                                     written by this release or later, ``raw`` (uint64: a keyed hash of the
                                     record's key and raw identifying values, so an update normalises only the
                                     records whose raw values changed; a file without it takes the full path)

A version is written in full beside the live one (members of datasets an update did not touch are hard-linked,
and so are the persons files when an update changed few persons: it adds one delta file of the persons it changed
or added, and the persons are the base file with each delta applied in turn; when the deltas hold a quarter as
many rows as the base, the version is written whole again) and becomes live when ``CURRENT`` is replaced; older
versions are then removed. A crash before the switch leaves the previous index live and whole: an update is never
half-applied.

Each members file records, in its Parquet metadata, the row count and the stamp (size and modification time) of
the dataset file it was built from; ``index_ids`` answers only while the dataset file is the same, so a dataset
replaced without its index being updated gets no person ids rather than someone else's. A dataset read in place
records instead the catalogue version it was linked at (``in_place_stamp``); its records are found by content key
(``content_members``), and a record whose key is not there (the source changed) has no person id.

Nothing here is reachable from a kernel: the index service reads it for admins and linkers, and loads read only
the ``index_id`` column of one dataset's members to derive project-keyed person ids.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.ids import check_dataset_id

__all__ = ["CONTENT", "MEMBER_COLUMNS", "RAW", "commit", "content_members", "current", "dataset_stamp",
           "in_place_stamp", "index_ids", "members", "members_stamp",
           "members_table", "person_count", "persons", "persons_table", "review", "root", "write_review"]

MEMBER_COLUMNS = ("row", "index_id", "fingerprint")
CONTENT = "content"  # members of a dataset read in place: each record's content key
RAW = "raw"  # each member's keyed hash of its record key and raw identifying values (optional)
_STAMP = b"workbench.dataset_stamp"  # members metadata: the dataset file (rows, size, mtime) they describe
_COUNT = b"workbench.persons"  # persons delta metadata: how many persons the index holds with it applied
COMPACT = 0.25  # deltas holding this share of the base's rows: the persons are written whole again


def root(vault_root: Path) -> Path:
    """The index's folder in the vault's restricted area."""
    return Path(vault_root) / "restricted" / "person_index"


def current(vault_root: Path) -> Path | None:
    """The live version's folder, or None while no index has been built."""
    pointer = root(vault_root) / "CURRENT"
    if not pointer.is_file():
        return None
    folder = root(vault_root) / pointer.read_text().strip()
    return folder if folder.is_dir() else None


def dataset_stamp(dataset_file: Path) -> str:
    """What identifies one stored dataset file: its row count, size and modification time."""
    stat = Path(dataset_file).stat()
    return f"{pq.read_metadata(dataset_file).num_rows}:{stat.st_size}:{stat.st_mtime_ns}"


def in_place_stamp(version: int | None) -> str:
    """What identifies the data of a dataset read in place for its members: the catalogue version linked."""
    return f"in-place:{version}"


def content_members(vault_root: Path, dataset_id: str, stamp: str) -> pa.Table | None:
    """The ``content`` and ``index_id`` of a dataset read in place, or None when it is not in the live index, was
    linked as copied data, or at another version than ``stamp`` (``in_place_stamp``)."""
    folder = current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    if path is None or not path.is_file():
        return None
    schema = pq.read_schema(path)
    if CONTENT not in schema.names or (schema.metadata or {}).get(_STAMP, b"").decode() != stamp:
        return None
    return pq.read_table(path, columns=[CONTENT, "index_id"])


def persons(vault_root: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
    """The live index's persons (``index_id`` and identifying fields), or None before the first build."""
    table = persons_table(vault_root, columns)
    return None if table is None else table.to_pandas()


def persons_table(vault_root: Path, columns: list[str] | None = None) -> pa.Table | None:
    """The live index's persons as an Arrow table (the base file with its deltas applied), or None before the
    first build."""
    folder = current(vault_root)
    if folder is None or not (folder / "persons.parquet").is_file():
        return None
    base = pq.read_table(folder / "persons.parquet", columns=columns)
    deltas = _deltas(folder)
    if not deltas:
        return base
    parts, positions = [base], [np.arange(base.num_rows, dtype=np.int64)]
    for path in deltas:
        delta = pq.read_table(path, columns=None if columns is None else ["position", *columns])
        positions.append(delta.column("position").to_numpy())
        parts.append(delta.drop_columns(["position"]).cast(base.schema))
    whole = pa.concat_tables(parts)
    where = np.concatenate(positions)
    order = np.empty(int(where.max()) + 1 if where.size else 0, dtype=np.int64)
    order[where] = np.arange(where.size)  # a later delta's row of a person replaces the earlier one
    return whole.take(pa.array(order))


def person_count(vault_root: Path) -> int:
    """How many persons the live index holds (read from the files' metadata)."""
    folder = current(vault_root)
    if folder is None or not (folder / "persons.parquet").is_file():
        return 0
    count = pq.read_metadata(folder / "persons.parquet").num_rows
    for path in _deltas(folder):
        count = max(count, int((pq.read_schema(path).metadata or {}).get(_COUNT, b"0").decode()))
    return count


def _deltas(folder: Path) -> list[Path]:
    """The version's persons delta files, oldest first."""
    return sorted(folder.glob("persons.delta.*.parquet"), key=lambda p: int(p.name.split(".")[2]))


def members_table(vault_root: Path, dataset_id: str, columns: list[str] | None = None) -> pa.Table | None:
    """One dataset's members (``MEMBER_COLUMNS``, or only those of ``columns`` the file holds: ``RAW`` is not in
    files written before it) as an Arrow table, or None if not indexed."""
    folder = current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    if path is None or not path.is_file():
        return None
    if columns is not None:
        held = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in held]
    return pq.read_table(path, columns=columns)


def members_stamp(vault_root: Path, dataset_id: str) -> str | None:
    """The stamp of the dataset file the live members of ``dataset_id`` were built from (``dataset_stamp``), read
    from the members file's metadata only; None when the dataset is not in the live index."""
    folder = current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    if path is None or not path.is_file():
        return None
    return (pq.read_schema(path).metadata or {}).get(_STAMP, b"").decode() or None


def members(vault_root: Path, dataset_id: str) -> pd.DataFrame | None:
    """The live index's record → person assignment for one dataset (``MEMBER_COLUMNS``), or None if not indexed."""
    folder = current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    if path is None or not path.is_file():
        return None
    return pq.read_table(path).to_pandas()


def index_ids(vault_root: Path, dataset_id: str, dataset_file: Path) -> pa.Array | None:
    """Each stored record's ``index_id`` (null where the record is not linked), in the dataset file's row order;
    None when the dataset is not in the live index or its file changed since it was linked."""
    folder = current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    if path is None or not path.is_file():
        return None
    table = pq.read_table(path, columns=["row", "index_id"])
    stamp = (table.schema.metadata or {}).get(_STAMP, b"").decode()
    if not Path(dataset_file).is_file() or stamp != dataset_stamp(dataset_file):
        return None
    rows = int(stamp.split(":", 1)[0])
    positions = table.column("row").to_numpy()
    ids = table.column("index_id").combine_chunks().cast(pa.string())
    if len(positions) == rows and np.array_equal(positions, np.arange(rows)):
        return ids
    where = np.full(rows, -1, dtype=np.int64)
    where[positions] = np.arange(len(positions))
    return pc.take(ids, pa.array(where, mask=where < 0))


def commit(vault_root: Path, persons_table: pd.DataFrame | pa.Table,
           changed: Mapping[str, tuple[pd.DataFrame | pa.Table, Path | str]], removed: tuple[str, ...] = (),
           persons_changed: np.ndarray | None = None) -> str:
    """Write a new version — ``persons_table``, the members of ``changed`` datasets (dataset → (members, the
    dataset file they describe, or the ``in_place_stamp`` of a dataset read in place)), every other live
    dataset's members carried over, ``removed`` ones dropped — and make it live in one step. ``persons_changed``:
    the positions of the only persons that differ from the live version's (the others in the same places), so
    only those are written, as a delta. Returns the new version's name."""
    base = root(vault_root)
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    live = current(vault_root)
    name = f"v{uuid.uuid4().hex[:12]}"
    staging = base / f".{name}.tmp"
    (staging / "members").mkdir(parents=True, mode=0o700)
    made = base / name
    pointer = base / f".CURRENT.{uuid.uuid4().hex}.tmp"
    try:
        _write_persons(live, staging, _table(persons_table), persons_changed)
        for dataset_id, (frame, dataset_file) in changed.items():
            table = _table(frame)
            table = table.select([*MEMBER_COLUMNS, *(c for c in (CONTENT, RAW) if c in table.column_names)])
            stamp = dataset_file if isinstance(dataset_file, str) else dataset_stamp(dataset_file)
            metadata = {**(table.schema.metadata or {}), _STAMP: stamp.encode()}
            # row numbers, random ids and fingerprints: a dictionary would not shrink them, only slow reading
            pq.write_table(table.replace_schema_metadata(metadata),
                           staging / "members" / f"{check_dataset_id(dataset_id)}.parquet", use_dictionary=False)
        if live is not None:
            for path in (live / "members").glob("*.parquet"):
                if path.stem not in changed and path.stem not in removed:
                    os.link(path, staging / "members" / path.name)
        staging.rename(made)
        pointer.write_text(name)
        os.replace(pointer, base / "CURRENT")
    except BaseException:
        if current(vault_root) != made:  # the switch did not happen: nothing of the new version stays
            shutil.rmtree(made, ignore_errors=True)
            pointer.unlink(missing_ok=True)
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    for old in base.iterdir():
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return name


def _write_persons(live: Path | None, staging: Path, table: pa.Table, changed: np.ndarray | None) -> None:
    """The new version's persons: a delta beside the live version's files (hard-linked) when that is small and
    the live persons are the new ones' first rows, else the whole table."""
    if live is not None and changed is not None and (live / "persons.parquet").is_file():
        base = pq.read_metadata(live / "persons.parquet").num_rows
        deltas = _deltas(live)
        held = sum(pq.read_metadata(p).num_rows for p in deltas)
        if held + len(changed) <= COMPACT * base and table.num_rows >= base:
            os.link(live / "persons.parquet", staging / "persons.parquet")
            for path in deltas:
                os.link(path, staging / path.name)
            if not len(changed):
                return
            number = int(deltas[-1].name.split(".")[2]) + 1 if deltas else 1
            positions = np.asarray(changed, dtype=np.int64)
            delta = table.take(pa.array(positions)).add_column(0, "position", pa.array(positions))
            delta = delta.replace_schema_metadata({**(delta.schema.metadata or {}),
                                                   _COUNT: str(table.num_rows).encode()})
            pq.write_table(delta, staging / f"persons.delta.{number}.parquet")
            return
    pq.write_table(table, staging / "persons.parquet")


def review_root(vault_root: Path) -> Path:
    """Where the clerical review pairs of each dataset's last update are kept (restricted, beside the index)."""
    return Path(vault_root) / "restricted" / "person_index_review"


def write_review(vault_root: Path, dataset_id: str, pairs: pd.DataFrame | None) -> None:
    """Replace the dataset's review pairs (none: remove them), atomically."""
    folder = review_root(vault_root)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{check_dataset_id(dataset_id)}.parquet"
    if pairs is None or not len(pairs):
        path.unlink(missing_ok=True)
        return
    staging = folder / f".{path.stem}.{uuid.uuid4().hex}.tmp"
    pq.write_table(_table(pairs), staging)
    os.replace(staging, path)


def review(vault_root: Path, dataset_id: str) -> pd.DataFrame | None:
    """The dataset's review pairs from its last update, or None."""
    path = review_root(vault_root) / f"{check_dataset_id(dataset_id)}.parquet"
    return pq.read_table(path).to_pandas() if path.is_file() else None


def _table(data: pd.DataFrame | pa.Table) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
