"""Project-keyed person ids: what a project receives of the person index.

Column. Every dataset in the live person index (``store``) shows a column the workbench provides, ``person_id``
(role ``record_identifier``), after the columns its owner declared: ``schema_view`` adds it wherever a dataset's
schema is read to grant, load or check (the catalogue entry, access requests and decisions, loads, sources read
by spec, the roles of an analyst's frame). Owners grant it like any record identifier; a project that was not
granted it never receives it. A dataset whose owner declared a column of that name keeps the owner's column.

Derivation. ``person_id = pseudonymise(index_id, person_id_key(master_key, project_id))``: the keyed pseudonym
(``governance.pseudonyms``) of the record's index id under a key of its own, ``project_key(master_key,
project_id + ":person_id")``. No project id can contain ``:``, so that key is no project's pseudonymisation key:
a person id never equals a pseudonym of any other identifier (in this project or another) except by the 2⁻⁸⁰
chance of any two pseudonyms. It is the same on every load of the project, unrelated across projects, and null
where the index left the record unlinked. Rows then follow the project's order like every column, so a person
id stays with its record; two datasets granted to one project join on it directly.

A dataset read in place has no stable rows: the index keeps, for the version it linked, each record's content
key (``in_place.content_keys``, under the workspace's key), and a load finds each row's index id by the key of the
row it read (``in_place_person_ids``; derived frames take the same path, and tables and DP queries count its
people by the same keys, ``in_place_person_codes``). A row whose key the index does not hold (the source changed
since it was linked) makes its ``person_id`` refused until its owner registers it again or an admin refreshes the
index.

Index ids (``wbp_…``) never leave this module: loads receive person ids, and person-key codes used to count
people (``person_codes``) are integers local to one read. A dataset whose file changed after it was indexed has
no person ids until the index is updated: asking for them is refused rather than answered with someone else's.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.catalogue.in_place import content_keys
from workbench.errors import Conflict, InvalidInput
from workbench.governance.pseudonyms import Read, project_key, project_rows, pseudonymise, read_governed, read_rows
from workbench.ids import check_dataset_id, check_project_id
from workbench.person_index import store

__all__ = ["DESCRIPTION", "PERSON_ID", "column", "in_place_person_codes", "in_place_person_ids", "indexed", "made_up",
           "person_codes", "person_id_key", "person_ids", "provided", "read_dataset", "schema_view",
           "workbench_identifiers"]

PERSON_ID = "person_id"
DESCRIPTION = "The project's person id from the workbench's person index"
PROVIDED_BY = "workbench"
_CACHE = "person_id@index.arrow"  # in the project's cache folder of the dataset
_CACHE_STAMP = b"workbench.person_id_cache"


def column() -> dict[str, Any]:
    """The schema definition of the column the workbench provides."""
    return {"name": PERSON_ID, "type": "string", "role": "record_identifier", "description": DESCRIPTION,
            "providedBy": PROVIDED_BY}


def _members_path(vault_root: Path, dataset_id: str) -> Path | None:
    folder = store.current(vault_root)
    path = None if folder is None else folder / "members" / f"{check_dataset_id(dataset_id)}.parquet"
    return path if path is not None and path.is_file() else None


def indexed(vault_root: Path, dataset_id: str) -> bool:
    """Whether the live person index holds the dataset (two file look-ups: cheap enough for every schema read)."""
    return _members_path(vault_root, dataset_id) is not None


def schema_view(record: Mapping[str, Any], vault_root: Path) -> dict[str, Any]:
    """The record as grants and loads see it: its columns and, when the dataset is in the person index and its
    owner declared no column of that name, the workbench's ``person_id``. The stored record is not changed."""
    columns = list(record.get("columns", []))
    if any(c.get("name") == PERSON_ID for c in columns) or not record.get("localId") \
            or not indexed(vault_root, record["localId"]):
        return dict(record)
    return {**record, "columns": [*columns, column()]}


def provided(columns: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a schema (column definitions) holds the workbench's ``person_id`` (not an owner's column)."""
    return any(c.get("name") == PERSON_ID and c.get("providedBy") == PROVIDED_BY for c in columns)


def workbench_identifiers(record: Mapping[str, Any]) -> list[str]:
    """The identifier columns the workbench may have given a project of this dataset, whether or not it is in
    the index now (a person id loaded earlier is still one): ``person_id`` unless the owner declared that name."""
    return [] if any(c.get("name") == PERSON_ID for c in record.get("columns", [])) else [PERSON_ID]


def person_id_key(master_key: bytes, project_id: str) -> bytes:
    """The project's person-id key: ``project_key(master_key, project_id + ":person_id")``, a key no project has."""
    return project_key(master_key, check_project_id(project_id, "project") + ":person_id")


def _index_ids(vault_root: Path, dataset_id: str, dataset_file: Path) -> pa.Array:
    ids = store.index_ids(vault_root, dataset_id, dataset_file)
    if ids is None:
        raise Conflict(f"{PERSON_ID} of {dataset_id} is not available now: the dataset's data changed since the "
                       "person index last linked it (or it left the index). An admin must update the person index; "
                       f"until then load the other columns, e.g. columns=[...] without {PERSON_ID!r}.")
    return ids


def _cache_stamp(vault_root: Path, dataset_id: str, dataset_file: Path, key: bytes) -> bytes:
    """What a cached column is valid for: this members file and dataset file, with this key (not recoverable)."""
    members = _members_path(vault_root, dataset_id)
    stat = members.stat() if members is not None else None
    check = hmac.new(key, b"workbench person id cache: aes-256-cmac", hashlib.sha256).hexdigest()[:16]
    held = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}" if stat is not None else "none"
    return f"{held}:{store.dataset_stamp(dataset_file)}:{check}".encode()


def person_ids(vault_root: Path, dataset_id: str, dataset_file: Path, master_key: bytes, project_id: str, *,
               cache: Path | None = None) -> pa.Array:
    """The project's person id of each stored record (Arrow ``large_string``, null where unlinked), in the
    dataset file's row order; kept in ``cache`` (the project's cache folder of the dataset) while the index, the
    file and the key are unchanged. Refused (Conflict) while the index does not describe the file."""
    key = person_id_key(master_key, project_id)
    dataset_file = Path(dataset_file)
    stamp = _cache_stamp(vault_root, dataset_id, dataset_file, key)
    path = Path(cache) / _CACHE if cache is not None else None
    if path is not None and path.is_file():
        try:
            with pa.memory_map(str(path)) as source:
                reader = pa.ipc.open_file(source)
                if (reader.schema.metadata or {}).get(_CACHE_STAMP) == stamp:
                    return reader.read_all().column(0).combine_chunks()
        except (OSError, pa.ArrowException):
            pass  # damaged or half-written: compute again
    ids = pseudonymise(_index_ids(vault_root, dataset_id, dataset_file), key)
    ids = pc.cast(ids, pa.large_string())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        schema = pa.schema([(PERSON_ID, pa.large_string())], metadata={_CACHE_STAMP: stamp})
        tmp = path.parent / f".{_CACHE}.{uuid.uuid4().hex}.tmp"
        try:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                writer.write_batch(pa.record_batch([ids], schema=schema))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return ids


def read_dataset(vault_root: Path, dataset_id: str, path: Path, columns: list[str], identifiers: list[str],
                 master_key: bytes, project_id: str, *, with_person_id: bool, cache: Path | None = None,
                 in_project_order: bool = False, rows: np.ndarray | None = None,
                 read: Read | None = None) -> pd.DataFrame:
    """``columns`` of a stored dataset as ``pseudonyms.read_governed`` gives them (``identifiers`` pseudonymised)
    in the file's row order, or with ``in_project_order`` in the project's order (``pseudonyms.project_order``,
    a fresh ``RangeIndex``); with ``rows`` (file row numbers), just those rows in that order
    (``pseudonyms.read_rows``, given what ``read`` already holds of them). With ``with_person_id`` (the schema
    holds the workbench's column), ``person_id`` among ``columns`` is the project's person id instead of a column
    of the file."""
    if not isinstance(columns, list) or not columns:
        raise InvalidInput("columns: name at least one column to read.", field="columns")
    wanted = with_person_id and PERSON_ID in columns
    from_file = [c for c in columns if not (wanted and c == PERSON_ID)]
    key = project_key(master_key, project_id)
    if rows is not None:
        frame = read_rows(path, from_file, [c for c in identifiers if c in from_file], key, rows, read=read) \
            if from_file \
            else pd.DataFrame(index=pd.RangeIndex(len(rows)))
    elif from_file:
        frame = read_governed(path, from_file, [c for c in identifiers if c in from_file], key, cache=cache,
                              dataset_id=dataset_id if in_project_order else None)
    else:
        frame = pd.DataFrame(index=pd.RangeIndex(pq.read_metadata(path).num_rows))
    if wanted:
        ids = person_ids(vault_root, dataset_id, path, master_key, project_id, cache=cache)
        if rows is not None:
            ids = ids.take(pa.array(rows, pa.int64()))
        elif in_project_order:  # the order the rows were just read in, kept in the cache: not drawn again
            ids = ids.take(pa.array(project_rows(path, key, dataset_id, None, cache=cache)))
        frame.insert(columns.index(PERSON_ID), PERSON_ID, pd.arrays.ArrowStringArray(ids))
    return frame


def in_place_person_ids(vault_root: Path, dataset_id: str, version: int | None, digests: np.ndarray,
                        master_key: bytes, project_id: str) -> pa.Array:
    """The project's person id (``large_string``, null where unlinked) of each row of a dataset read in place,
    from the rows' content digests (``in_place.read_keyed``, in the load's order) and its current catalogue
    ``version``. Refused (Conflict) when the index did not link that version
    or holds no record of some row's content (the source changed since it was linked)."""
    ids = _in_place_index_ids(vault_root, dataset_id, version, digests, master_key)
    return pc.cast(pseudonymise(ids, person_id_key(master_key, project_id)), pa.large_string())


def in_place_person_codes(vault_root: Path, dataset_id: str, version: int | None, digests: np.ndarray,
                          master_key: bytes) -> np.ndarray:
    """``person_codes`` of the rows of a dataset read in place, found as ``in_place_person_ids`` finds their
    person ids (and refused as it is): so tables and DP queries count its people as they count a copied one's."""
    return _codes(_in_place_index_ids(vault_root, dataset_id, version, digests, master_key))


def _in_place_index_ids(vault_root: Path, dataset_id: str, version: int | None, digests: np.ndarray,
                        master_key: bytes) -> pa.Array:
    """The index id (null where unlinked) of each row read in place, by its content key."""
    members = store.content_members(vault_root, dataset_id, store.in_place_stamp(version))
    if members is None:
        raise Conflict(f"{PERSON_ID} of {dataset_id} is not available now: the person index has not linked the "
                       "dataset as it is registered now. Its owner must register it again (or an admin refresh the "
                       f"person index); until then load the other columns, e.g. columns=[...] without "
                       f"{PERSON_ID!r}.")
    keys = pa.array(content_keys(digests, master_key), pa.uint64())
    where = pc.index_in(keys, value_set=members.column(store.CONTENT).combine_chunks())
    if where.null_count:
        raise Conflict(f"{PERSON_ID} of {dataset_id} is not available now: its source (read in place) changed since "
                       f"the person index linked it ({where.null_count:,} of the rows read are not in the index). Its "
                       "owner must register it again (or an admin refresh the person index); until then load the "
                       f"other columns, e.g. columns=[...] without {PERSON_ID!r}.")
    return members.column("index_id").combine_chunks().cast(pa.string()).take(where)


def made_up(rows: int, seed: int) -> pa.Array:
    """Person ids for a synthetic twin: random text shaped like person ids (a person of about three rows),
    drawn from ``seed`` alone."""
    rng = np.random.default_rng(seed)
    persons = rng.integers(0, 256, size=(max(rows // 3, 1), 10), dtype=np.uint8)
    chosen = persons[rng.integers(0, len(persons), size=rows)]
    return pa.array([bytes(row).hex() for row in chosen], pa.large_string())


def person_codes(vault_root: Path, dataset_id: str, dataset_file: Path) -> np.ndarray:
    """Integer codes (int64) of each stored record's person in the index, in the file's row order, for counting
    people inside the workbench: records of one person share a code; an unlinked record gets a code of its own
    (the index knows no other record of the person: the dataset's rows are people, as its owner declares)."""
    return _codes(_index_ids(vault_root, dataset_id, Path(dataset_file)))


def _codes(ids: pa.Array) -> np.ndarray:
    """Index ids as integer codes, an unlinked record (null) a code of its own."""
    encoded = pc.dictionary_encode(ids)
    known = len(encoded.dictionary)
    values = encoded.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False).copy()
    missing = values < 0
    values[missing] = known + np.arange(int(missing.sum()), dtype=np.int64)
    return values
