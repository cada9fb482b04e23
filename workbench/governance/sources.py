"""What the workbench reads itself: a source named by the analyst, resolved and read inside the service.

A source is a catalogue dataset granted to the project or a frame saved in it. ``resolve`` gives its public
schema (the catalogue's column definitions), the catalogue datasets in its lineage (whose grants govern it and
whose budgets a DP query is charged to), its person key (the dataset's ``personKey``, or the key of a frame the
workbench made), its file, version and the facts the policy judges for each lineage dataset. ``read`` reads only
the columns asked for, with the ``where`` filters pushed down into the Parquet scan, so memory is bounded by the
rows kept, never by the file. Outputs by spec (``outputs.computed``), ``project.dp`` and ``project.derive`` all
take this one path, so what they read is what the grant and the spec say, never what a kernel sent.

``where`` is a dict of column → a scalar (equality), a list/tuple/set (membership) or a dict of range bounds
among ``>``, ``>=``, ``<``, ``<=``; nothing else (no expressions). Identifier columns (direct and record
identifiers) are never filtered, grouped or aggregated.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select

from workbench.catalogue import in_place, versions
from workbench.catalogue.model import PSEUDONYMISED_ROLES
from workbench.catalogue.versions import file_sha256
from workbench.db.schema import dataset_versions
from workbench.db.schema import project_datasets as pd_t
from workbench.errors import InvalidInput, NotFound
from workbench.governance.conditions import dataset_row
from workbench.governance.lineage import granted_version, grants_for
from workbench.ids import check_dataset_id
from workbench.person_index import person_ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.vault import Vault

RANGE_OPERATORS = (">", ">=", "<", "<=")
MAX_WHERE_VALUES = 10_000  # values in one membership list
# (path, mtime_ns, size, key column) → the key's integer codes, for the last few files read: encoding a million
# text keys costs more than the rest of a table, and a file's keys change only with the file
_PERSON_CODES: OrderedDict[tuple[str, int, int, str], np.ndarray] = OrderedDict()
_PERSON_CODES_KEPT = 4


@dataclass
class Source:
    """A dataset or saved frame as the workbench reads it, with the public metadata that governs it."""

    name: str
    kind: str  # "dataset" (a catalogue dataset) or "saved" (a frame saved in the project)
    path: Path
    datasets: list[str]  # the catalogue datasets in its lineage
    schema: dict[str, dict[str, Any]]  # column → catalogue definition (type, role, categories)
    person_key: str | None  # the column naming the person, when the workbench can trust it
    public_rows: int | None
    version: Any  # a saved frame's version; a dataset's version number (``catalogue.versions``; None: no data)
    made_by: str  # "catalogue", "workbench" or "analyst": who made the rows
    checks: list[dict[str, Any]] = field(default_factory=list)  # per lineage dataset: owner, granted, lapsed...
    spec: dict[str, Any] | None = None  # how the workbench made a saved frame
    rows_are_people: bool = False  # without a person key: each row is one person (as the owner declares)
    # the vault whose person index gives the person key, when it is the workbench's person_id of a dataset
    index_root: Path | None = None
    place: in_place.InPlace | None = None  # a dataset read in place: its source (``path`` is then not read)

    def unlinked_apart(self) -> bool:
        """Whether rows without a person key are each their own person: so for the workbench's person_id, where a
        record the index left unlinked is a person the index knows no other record of."""
        return self.person_key == person_ids.PERSON_ID and person_ids.provided(self.schema.values())

    def identifiers(self) -> list[str]:
        """Columns that are direct or record identifiers: never filtered, grouped or aggregated."""
        return [c for c, d in self.schema.items() if d.get("role") in PSEUDONYMISED_ROLES]

    def sha256(self) -> str:
        """The SHA-256 of the file read (hashed once per change of the file); for a dataset read in place, of
        what names its source (a database has no file to hash)."""
        return self.place.marker() if self.place is not None else file_sha256(self.path)

    def origin(self, spec: dict[str, Any]) -> dict[str, Any]:
        """An output's origin when the workbench computed it from this source by ``spec``."""
        return {"source": self.name, "kind": self.kind, "version": plain_value(self.version), "sha256": self.sha256(),
                "datasets": list(self.datasets), "made_by": self.made_by, "spec": spec}

    def wanted(self, check: dict[str, Any], used: list[str]) -> list[str]:
        """The columns of ``used`` the policy judges against ``check``'s grant: all of them for a catalogue
        dataset; none for a saved frame (its columns were granted when its rows were made; the grant must still
        be current)."""
        return [c for c in used if c in check["columns"]] if check["columns"] is not None else []


def plain_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def resolve(conn: Connection, vault: Vault, project_id: str, name: Any, field_name: str = "source") -> Source:
    """The dataset or saved frame ``name`` of the project: NotFound if it is neither; a saved frame wins over a
    dataset of the same name (project names are the project's)."""
    check_dataset_id(name, field_name)
    latest = conn.execute(select(func.max(pd_t.c.version)).where(
        (pd_t.c.project_id == project_id) & (pd_t.c.name == name))).scalar()
    if latest is None:
        row = dataset_row(conn, name)
        record = person_ids.schema_view(row["record"], vault.root)
        granted, lapsed = grants_for(conn, project_id, name)
        declared = {c["name"]: c for c in record.get("columns", [])}
        check = {"dataset": name, "owner": row["owner"], "granted": granted, "lapsed": lapsed,
                 "columns": list(declared)}
        # without a personKey of its own, a dataset whose person id the project holds counts people by it
        # the version the project's grants cover: the current one unless they are all pinned to an older one
        latest, pinned = versions.current(conn, name), granted_version(conn, project_id, name)
        number = pinned or latest
        # (the person index links the current version only)
        place = None if number is not None and number != latest else in_place.lookup(conn, vault.root, row)
        # (read in place or copied alike: a dataset read in place finds its records in the index by content key)
        by_index = (not record.get("personKey") and person_ids.provided(declared.values())
                    and person_ids.PERSON_ID in granted and number == latest)
        rows = record.get("rowCount")
        older = number is not None and number != latest  # a copy kept in the vault, even if now read in place
        if older:
            rows = conn.execute(select(dataset_versions.c.row_count).where(
                (dataset_versions.c.dataset_id == name) & (dataset_versions.c.number == number))).scalar()
        return Source(name, "dataset", versions.version_file(vault, name, number, latest), [name], declared,
                      person_ids.PERSON_ID if by_index else record.get("personKey"), rows, number, "catalogue",
                      [check], rows_are_people=not record.get("personKey"),
                      index_root=vault.root if by_index else None,
                      place=place)
    saved = conn.execute(select(pd_t).where((pd_t.c.project_id == project_id) & (pd_t.c.name == name)
                                            & (pd_t.c.version == latest))).mappings().one()
    frame_columns = list(saved["columns"])
    schema: dict[str, dict[str, Any]] = {}
    checks = []
    for dataset_id in saved["sources"]:
        row = dataset_row(conn, dataset_id)
        granted, lapsed = grants_for(conn, project_id, dataset_id)
        checks.append({"dataset": dataset_id, "owner": row["owner"], "granted": granted, "lapsed": lapsed,
                       "columns": None})
        for column in person_ids.schema_view(row["record"], vault.root).get("columns", []):
            if column["name"] in frame_columns:
                schema.setdefault(column["name"], column)
    for column in frame_columns:
        schema.setdefault(column, {"name": column, "type": "unknown", "role": "other"})
    made_by = saved["made_by"] or "analyst"
    person_key = saved["person_key"] if made_by == "workbench" and saved["person_key"] in frame_columns else None
    if person_key is not None and schema[person_key].get("role") not in PSEUDONYMISED_ROLES:
        # a key the workbench made (a linkage's link key) names people as surely as the identifier it replaces
        schema[person_key] = {**schema[person_key], "role": "record_identifier"}
    spec = saved["spec"] or {}
    return Source(name, "saved", vault.project_path(project_id, name, latest), list(saved["sources"]),
                  {c: schema[c] for c in frame_columns}, person_key, saved["row_count"], latest, made_by, checks,
                  saved["spec"], rows_are_people=made_by == "workbench" and spec.get("rows_are_people") is True)


# -- where ---------------------------------------------------------------------------------------------------------
_EXAMPLE = "e.g. where={'sex': 'F', 'region': ['North', 'South'], 'age': {'>=': 16, '<': 65}}"


def _scalar(value: Any, column: str) -> Any:
    if isinstance(value, bool | str | int | dt.date):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, np.bool_ | np.integer | np.floating):
        return _scalar(value.item(), column)
    raise InvalidInput(f"where: {column!r} compared with {value!r} ({type(value).__name__}); give text, a number, "
                       f"True/False or a date, {_EXAMPLE}.", field="where")


def check_where(value: Any) -> dict[str, Any]:
    """``where`` checked and in its canonical form: column → scalar, list of scalars, or {operator: scalar}."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise InvalidInput(f"where: give a dict of column → value, list of values or range, {_EXAMPLE}.",
                           field="where")
    out: dict[str, Any] = {}
    for column, condition in value.items():
        if isinstance(condition, dict):
            unknown = [op for op in condition if op not in RANGE_OPERATORS]
            if unknown or not condition:
                raise InvalidInput(f"where: {column!r} uses {', '.join(map(repr, unknown)) or 'no operator'}; a "
                                   f"range takes only {', '.join(RANGE_OPERATORS)}, {_EXAMPLE}.", field="where")
            bounds = {op: _scalar(v, column) for op, v in condition.items()}
            if any(isinstance(v, bool) for v in bounds.values()):
                raise InvalidInput(f"where: a range on {column!r} needs numbers or dates, not {condition!r}; "
                                   "give True or False as the value to keep.", field="where")
            out[column] = bounds
        elif isinstance(condition, list | tuple | set | frozenset):
            values = [_scalar(v, column) for v in condition]
            if not values or len(values) > MAX_WHERE_VALUES:
                raise InvalidInput(f"where: the values to keep for {column!r} must be 1 to {MAX_WHERE_VALUES:,}; "
                                   f"got {len(values):,}.", field="where")
            if isinstance(condition, set | frozenset):
                values = sorted(values, key=repr)
            out[column] = list(dict.fromkeys(values))
        else:
            out[column] = _scalar(condition, column)
    return out


def where_json(where: dict[str, Any]) -> dict[str, Any]:
    """``where`` (canonical) as JSON-safe values, for a spec that is recorded."""
    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return plain_value(v)
    return {k: plain(v) for k, v in where.items()}


def check_columns(source: Source, used: list[str], *, what: str) -> None:
    """Every column ``used`` is one of the source's and none is an identifier; ``what`` names the use in the
    refusal (e.g. "tables by spec")."""
    for column in used:
        if column not in source.schema:
            raise InvalidInput(f"{column!r} is not a column of {source.name} (its columns: "
                               f"{', '.join(source.schema)}).", field="columns")
        role = source.schema[column].get("role")
        if role in PSEUDONYMISED_ROLES:
            raise InvalidInput(f"{column!r} is a {role.replace('_', ' ')} of {source.name}; {what} never group, "
                               "filter or aggregate identifiers, so use other columns.", field="columns")


def filter_expression(schema: pa.Schema, where: dict[str, Any], name: str) -> pc.Expression | None:
    """``where`` as a pyarrow filter, each value cast to its column's type (or refused saying the type)."""
    expression = None
    for column, condition in where.items():
        kind = schema.field(column).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type

        def cast(value: Any, column: str = column, kind: pa.DataType = kind) -> pa.Scalar:
            try:
                if isinstance(value, str) and not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                                                   or pa.types.is_temporal(kind)):
                    raise pa.ArrowInvalid("text for a non-text column")
                return pa.scalar(value).cast(kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError):
                raise InvalidInput(f"where: {column!r} of {name} holds {kind}; {value!r} is not such a value.",
                                   field="where") from None

        target = pc.field(column)
        if isinstance(condition, dict):
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)
                    or pa.types.is_decimal(kind)):
                raise InvalidInput(f"where: {column!r} of {name} holds {kind}; a range needs a numeric or date "
                                   "column, so list the values to keep instead.", field="where")
            ops = {">": pc.greater, ">=": pc.greater_equal, "<": pc.less, "<=": pc.less_equal}
            parts = [ops[op](target, pa.scalar(float(v)) if pa.types.is_integer(kind) and isinstance(v, float)
                             else cast(v)) for op, v in condition.items()]  # age > 5.5 on whole numbers
        elif isinstance(condition, list):
            parts = [target.isin(pa.array([cast(v).as_py() for v in condition], type=kind))]
        else:
            parts = [target == cast(condition)]
        for part in parts:
            expression = part if expression is None else expression & part
    return expression


def read(source: Source, columns: list[str], where: dict[str, Any], *, person: bool = False,
         secret: bytes | None = None) -> pa.Table:
    """``columns`` of the source's rows that ``where`` keeps, read with pyarrow: the columns pruned and the filter
    pushed into the scan. With ``person``, a column ``PERSON`` holds integer codes of the person key (the key itself
    never leaves this function). ``secret`` (the workspace's pseudonymisation key) finds the person index's records
    of a dataset read in place by their content keys: needed to count its people by the index."""
    if source.kind == "dataset" and any(person_ids.provided([source.schema[c]]) for c in columns
                                        if c in source.schema):
        raise InvalidInput(f"columns: {person_ids.PERSON_ID} of {source.name} is the project's person id from the "
                           "person index; read by spec it only counts people (tables and DP queries count the "
                           "index's persons themselves). To have it as a column, load it or derive a frame keeping "
                           "it (project.derive).", field="columns")
    if source.place is not None:
        return _read_in_place(source, source.place, columns, where, person=person, secret=secret)
    if not source.path.exists():
        raise NotFound(f"The vault holds no data for {source.name}; its owner must register it.")
    schema = pq.read_schema(source.path)
    missing = [c for c in list(columns) + list(where) if c not in schema.names]
    if missing:
        raise NotFound(f"The file of {source.name} has no column {', '.join(map(repr, missing))}; its owner must "
                       "register its data again.")
    key = source.person_key if person else None
    if person and key is None:
        raise InvalidInput(f"{source.name} has no person key, so its rows cannot be counted as people.",
                           field="source")
    expression = filter_expression(schema, where, source.name)
    wanted = list(dict.fromkeys(columns))
    if not key and expression is None and wanted and all(pa.types.is_dictionary(schema.field(c).type)
                                                            for c in wanted):
        return dictionary_columns(source.path, wanted)
    # columns stored as dictionaries are read as such, without rebuilding each one's dictionary (faster)
    dictionaries = [c for c in wanted if pa.types.is_dictionary(schema.field(c).type)] or None
    if not key:
        return pq.read_table(source.path, columns=wanted, filters=expression, read_dictionary=dictionaries)
    table = pq.read_table(source.path, columns=list(dict.fromkeys([*wanted, *where])),  # the filter's columns too
                          read_dictionary=dictionaries)
    if source.index_root is not None:  # the person index's person of each record: codes, never its ids
        codes = person_ids.person_codes(source.index_root, source.name, source.path)
    else:
        codes = person_codes(source.path, key, apart=source.unlinked_apart())
    table = table.append_column(PERSON, pa.array(codes))
    table = table.filter(expression) if expression is not None else table
    return table.select([*wanted, PERSON])


def _read_in_place(source: Source, place: in_place.InPlace, columns: list[str], where: dict[str, Any], *,
                   person: bool, secret: bytes | None) -> pa.Table:
    """``read`` of a dataset read in place: the columns and filter pushed into the read at its source; person codes
    from its person key's values or, for the workbench's person_id, from the person index by each row's content
    key (refused, Conflict, when the index does not hold a row read: the source changed since it was linked)."""
    wanted = list(dict.fromkeys(columns))
    key = source.person_key if person else None
    if person and key is None:
        raise InvalidInput(f"{source.name} has no person key, so its rows cannot be counted as people.",
                           field="source")
    declared = [c for c in source.schema.values() if not person_ids.provided([c])]  # the source's own columns
    if key is not None and source.index_root is not None:  # the index's person of each row: codes, never its ids
        if secret is None:
            raise ValueError("counting the people of a dataset read in place by the person index needs the "
                             "workspace's key (secret=)")
        table, digests = in_place.read_keyed(place, declared, wanted, where)
        codes = pa.array(person_ids.in_place_person_codes(source.index_root, source.name, source.version, digests,
                                                          secret))
        return table.append_column(PERSON, codes) if wanted else pa.table({PERSON: codes})
    table = in_place.read(place, declared, list(dict.fromkeys([*wanted, *([key] if key else [])])), where)
    if key is None:
        return table.select(wanted)
    encoded = pc.dictionary_encode(table.column(key)).combine_chunks()
    codes = encoded.indices.fill_null(-1).cast(pa.int64())
    return table.select(wanted).append_column(PERSON, codes)


def person_codes(path: Path, key: str, *, apart: bool = False) -> np.ndarray:
    """Integer codes (int64; -1 where the key is missing, or with ``apart`` a code of its own per such row) of
    the file's ``key`` column, one per row, remembered for the last few files while the file is unchanged."""
    stat = path.stat()
    memo = (str(path), stat.st_mtime_ns, stat.st_size, key + "\0apart" if apart else key)
    if memo in _PERSON_CODES:
        _PERSON_CODES.move_to_end(memo)
        return _PERSON_CODES[memo]
    column = pq.read_table(path, columns=[key])[key]
    encoded = pc.dictionary_encode(column).combine_chunks()
    codes = encoded.indices.fill_null(-1).cast(pa.int64()).to_numpy()
    if apart:
        codes = codes.copy()
        missing = codes < 0
        codes[missing] = len(encoded.dictionary) + np.arange(int(missing.sum()), dtype=np.int64)
    codes.flags.writeable = False  # shared between calls: nobody may change it
    _PERSON_CODES[memo] = codes
    while len(_PERSON_CODES) > _PERSON_CODES_KEPT:
        _PERSON_CODES.popitem(last=False)
    return codes


def dictionary_columns(path: Path, columns: list[str]) -> pa.Table:
    """Columns stored as dictionaries (categories), each remembered while the file is unchanged: their integer
    indices and small dictionaries are a byte or so a row, and decoding them is most of a grouped count's time
    (about 4 ms a column of a million rows). At most ``_DICTIONARY_BYTES_KEPT`` bytes are kept, the least
    recently used let go first; a service's threads share them under a lock (Arrow arrays are immutable)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    arrays: dict[str, pa.ChunkedArray] = {}
    with _DICTIONARIES_LOCK:
        for column in columns:
            if (*key, column) in _DICTIONARIES:
                _DICTIONARIES.move_to_end((*key, column))
                arrays[column] = _DICTIONARIES[(*key, column)]
    missing = [column for column in columns if column not in arrays]
    if missing:
        table = pq.read_table(path, columns=missing)
        with _DICTIONARIES_LOCK:
            for column in missing:
                arrays[column] = table[column]
                if table[column].nbytes <= _DICTIONARY_BYTES_KEPT:
                    _DICTIONARIES[(*key, column)] = table[column]
            while sum(a.nbytes for a in _DICTIONARIES.values()) > _DICTIONARY_BYTES_KEPT:
                _DICTIONARIES.popitem(last=False)
    return pa.table({column: arrays[column] for column in columns})


_DICTIONARIES: OrderedDict[tuple[str, int, int, str], pa.ChunkedArray] = OrderedDict()
_DICTIONARIES_LOCK = threading.Lock()
_DICTIONARY_BYTES_KEPT = 256 * 2**20


PERSON = "\0person"  # the column of person-key codes (no catalogue column can be named so)


__all__ = ["PERSON", "RANGE_OPERATORS", "Source", "check_columns", "check_where", "file_sha256", "filter_expression",
           "plain_value", "read", "resolve", "where_json"]
