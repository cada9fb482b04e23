"""Datasets read in place: the data stays at its source (a CSV file, a Parquet file or partitioned folder, a
database table or read-only query) and is read when it is loaded, with only the columns asked for and the filter
pushed into the read, so nothing is copied into the vault.

What is kept. The catalogue database keeps the kind of source, where it is as may be shown (a file's path; a
database as ``driver://host:port/database``, never its login) and the table or query (``dataset_sources``); the
datasets row says ``has_data = 2``. A database's full URL, credentials included, is kept only in the vault's
credentials file for the dataset (``vault/sources/<id>.url``, mode 0600 in a 0700 folder, beside the governed
data itself), written aside and moved into place once the registration committed. No API, message or audit
event shows it: sources are named by ``safe_url``, and errors from drivers are scrubbed of the login.

Reading (``read``): one entry point for "these columns of a dataset, rows kept by ``where``", whatever the source.
Files are read by DuckDB (Parquet: only the columns named, row groups skipped by their statistics; CSV: cast to
the declared types as registration checked them); PostgreSQL through ADBC (Arrow straight from libpq's binary
protocol), with the column list and the WHERE in the SQL, identifiers quoted and every value a bound parameter;
other databases through SQLAlchemy with bound parameters. Columns come back as the declared types
(``sources.ARROW_TARGETS``), so a dataset loads the same whether copied or in place.

Order. A database has no stable row order, so loads put rows in a keyed order of their content: each row's
DuckDB hash over every declared column (in declared types), encrypted with AES under a key derived from the
project's key and the dataset, sorted. The same source gives the same order in a project, whatever columns or
filter a load asks for (so two loads of one project line up row for row), and an unrelated order in another.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import hmac
import math
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import delete, insert, select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from workbench.catalogue.quality import agree
from workbench.catalogue.sources import (
    ARROW_TARGETS,
    Copied,
    Source,
    _duckdb,
    _first_line,
    _measure,
    _name,
    _rows,
    _scrub,
    _which_failed,
    arrow_fits,
    database,
    file_columns,
    file_scan,
    safe_url,
)
from workbench.db.schema import dataset_sources
from workbench.errors import InvalidInput, NotFound, WorkbenchError
from workbench.ids import check_dataset_id

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MODES = ("copy", "in-place")
IN_PLACE = 2  # ``datasets.has_data`` of a dataset read in place (1: copied into the vault)
CREDENTIALS = "sources"  # the vault's folder of database URLs, one file per dataset
_ORDER = "\0order"  # the column of row hashes while a load is ordered (no declared column can be named so; never
# given to DuckDB, which drops the NUL)


def check_mode(mode: object) -> str:
    """``mode`` checked: 'copy' (into the vault) or 'in-place'."""
    if mode not in MODES:
        raise InvalidInput(f"mode: {mode!r} is not a registration mode; give 'copy' (the data is copied into the "
                           "vault) or 'in-place' (the data stays at its source and is read when loaded).",
                           field="mode")
    return str(mode)


@dataclass(frozen=True)
class InPlace:
    """A dataset read in place: where its data is, and (for a database, never shown) the URL to reach it."""

    dataset_id: str
    owner: str | None
    kind: str  # 'csv', 'parquet', 'table' or 'query'
    location: str  # a file's path, or a database as safe_url shows it
    table: str | None = None
    query: str | None = field(default=None, repr=False)
    url: str | None = field(default=None, repr=False)

    def source(self) -> Source:
        if self.kind in ("csv", "parquet"):
            return Source(path=Path(self.location))
        if self.url is None:
            raise self.unavailable("the workspace keeps no connection for it (its credentials file is missing)")
        return Source(url=self.url, table=self.table, query=self.query)

    def __str__(self) -> str:
        if self.kind == "table":
            return f"table {self.table} at {self.location}"
        if self.kind == "query":
            return f"query at {self.location}"
        return f"{'CSV file' if self.kind == 'csv' else 'Parquet data'} {self.location}"

    def marker(self) -> str:
        """What identifies the source (not its content): for outputs' provenance."""
        what = f"{self.kind}\0{self.location}\0{self.table or ''}\0{self.query or ''}"
        return hashlib.sha256(what.encode()).hexdigest()

    def unavailable(self, reason: str) -> NotFound:
        return NotFound(f"The data of {self.dataset_id} is registered in place ({self}) and cannot be read now: "
                        f"{reason.rstrip('.')}. Ask its owner ({self.owner or 'unknown'}) to make the source "
                        "available again or register the dataset again.")


# ----- what is kept ------------------------------------------------------------------------------------------
def credentials_path(vault_root: Path, dataset_id: str) -> Path:
    return vault_root / CREDENTIALS / f"{check_dataset_id(dataset_id)}.url"


def row_values(source: Source) -> dict[str, Any]:
    """What the catalogue database keeps of a source: never a login."""
    if source.url is None:
        assert source.path is not None
        return {"kind": source.kind, "location": str(source.path), "table_name": None, "query": None}
    return {"kind": source.kind, "location": safe_url(source.url), "table_name": source.table,
            "query": source.query}


def keep(conn: Connection, dataset_id: str, source: Source, username: str, now: dt.datetime) -> None:
    """Record, in the caller's transaction, that ``dataset_id`` is read in place from ``source``."""
    conn.execute(delete(dataset_sources).where(dataset_sources.c.dataset_id == dataset_id))
    conn.execute(insert(dataset_sources).values(dataset_id=dataset_id, registered_by=username, registered_at=now,
                                                **row_values(source)))


def forget(conn: Connection, dataset_id: str) -> bool:
    """Record, in the caller's transaction, that ``dataset_id`` is no longer read in place; whether it was."""
    return bool(conn.execute(delete(dataset_sources).where(dataset_sources.c.dataset_id == dataset_id)).rowcount)


@contextmanager
def staged_credentials(vault_root: Path, dataset_id: str, source: Source) -> Iterator[None]:
    """The dataset's credentials file as ``source`` needs it, in place if the block succeeds (a file source keeps
    none: an earlier one is removed), untouched if it fails."""
    path = credentials_path(vault_root, dataset_id)
    if source.url is None:
        yield
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(source.url)
    try:
        yield
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def drop_credentials(vault_root: Path, dataset_id: str) -> None:
    credentials_path(vault_root, dataset_id).unlink(missing_ok=True)


def lookup(conn: Connection, vault_root: Path, dataset: dict[str, Any]) -> InPlace | None:
    """The in-place source of a dataset row (``conditions.dataset_row``), or None when its data is copied."""
    if dataset.get("has_data") != IN_PLACE:
        return None
    row = conn.execute(select(dataset_sources).where(dataset_sources.c.dataset_id == dataset["id"])).mappings().first()
    if row is None:
        return None
    url = None
    if row["kind"] in ("table", "query"):
        path = credentials_path(vault_root, dataset["id"])
        url = path.read_text().strip() if path.is_file() else None
    return InPlace(dataset["id"], dataset.get("owner"), row["kind"], row["location"], row["table_name"],
                   row["query"], url)


def describe(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """What may be shown of a dataset's in-place source (kind, location, table; never a login), or None."""
    row = conn.execute(select(dataset_sources).where(dataset_sources.c.dataset_id == dataset_id)).mappings().first()
    if row is None:
        return None
    place = InPlace(dataset_id, None, row["kind"], row["location"], row["table_name"])
    return {"mode": "in-place", "kind": row["kind"], "location": row["location"], "table": row["table_name"],
            "source": str(place)}


# ----- registering: checked and measured, nothing copied ---------------------------------------------------
def measure(source: Source, columns: list[dict[str, Any]] | None, work: Path) -> Copied:
    """Check ``source`` against the entry's ``columns`` (names, types, categories, bounds) and count its rows and
    completeness in one streamed pass, without copying it; refusals as the copy gives them."""
    if not columns:
        raise InvalidInput("columns: describe every column (name, type, role) before registering data; "
                           "`workbench catalogue draft --data SOURCE` writes a starting point.", field="columns")
    with _duckdb(work) as con:
        if source.url is None:
            selected, _guarded = file_columns(con, source, columns)
            scan = file_scan(source, as_text=source.kind == "csv")
            try:
                return _measure(con, f"(SELECT {', '.join(selected)} FROM {scan})", columns)
            except duckdb.ConversionException:
                raise (_which_failed(con, scan, columns, source)
                       or InvalidInput("data: some values do not convert to the declared types.",
                                       field="columns")) from None
            except duckdb.Error as error:
                raise InvalidInput(f"data: cannot read {source}: {_first_line(error)}.", field="data") from None
        with _database_batches(source, columns) as reader:
            con.register("source_rows", reader)
            try:
                return _measure(con, "source_rows", columns, rescan=False)
            except duckdb.Error as error:
                cause = error.__cause__ or error.__context__
                if isinstance(cause, WorkbenchError):
                    raise cause from None
                raise InvalidInput(f"data: reading {source} failed: {_first_line(error)}.", field="data") from None


def declared_schema(columns: list[dict[str, Any]]) -> pa.Schema:
    """The Arrow schema in-place reads give the declared columns."""
    return pa.schema([(c["name"], ARROW_TARGETS[c["type"]]) for c in columns])


_target_schema = declared_schema


def _conform(batch: pa.RecordBatch, columns: list[dict[str, Any]], source: object) -> pa.RecordBatch:
    """A batch read from a database as the declared columns and types; refused naming the column otherwise."""
    arrays = []
    for i, column in enumerate(columns):
        name, kind = column["name"], column["type"]
        array = batch.column(batch.schema.get_field_index(name))
        if not arrow_fits(kind, array.type):
            raise InvalidInput(f"columns[{i}]: {name!r} is declared {kind!r} but {source} holds {array.type} in it.",
                               field=f"columns[{i}].type")
        try:
            arrays.append(pc.cast(array, ARROW_TARGETS[kind]))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInput(f"columns[{i}]: {name!r} is declared {kind!r} but some values of {source} do not "
                               "convert to it.", field=f"columns[{i}].type") from None
    return pa.RecordBatch.from_arrays(arrays, schema=_target_schema(columns))


@contextmanager
def _database_batches(source: Source, columns: list[dict[str, Any]]) -> Iterator[pa.RecordBatchReader]:
    """Every row of a database source as a stream of Arrow batches in the declared types."""
    schema = _target_schema(columns)
    if _is_postgres(source):
        with _adbc(source) as cursor:
            _execute(cursor, source, f"SELECT * FROM {_relation(source)}", [])
            reader = cursor.fetch_record_batch()
            agree(columns, reader.schema.names)
            yield pa.RecordBatchReader.from_batches(schema, (_conform(b, columns, source) for b in reader))
        return
    from workbench.catalogue.sources import _batch  # rows as the copy converts them

    with database(source) as conn:
        names, batches = _rows(conn, source)
        agree(columns, names)
        positions = [names.index(c["name"]) for c in columns]
        yield pa.RecordBatchReader.from_batches(schema, (_batch(rows, positions, columns, source, schema)
                                                         for rows in batches))


# ----- databases -----------------------------------------------------------------------------------------------
def _is_postgres(source: Source) -> bool:
    return source.url is not None and make_url(source.url).get_backend_name() == "postgresql"


def _relation(source: Source) -> str:
    """The source as an SQL relation: its table (identifiers quoted) or its query as a subquery."""
    if source.table is not None:
        return ".".join(_name(part) for part in source.table.split("."))
    return f"({source.query}) AS {_name('source')}"


_IDLE: dict[str, tuple[int, Any]] = {}  # URI -> (process id, one idle ADBC connection whose session is read-only)
_IDLE_LOCK = threading.Lock()
MAX_IDLE = 8  # databases whose connection is kept between reads


@atexit.register
def _close_idle() -> None:
    """Close the kept connections before the interpreter tears down the driver."""
    with _IDLE_LOCK:
        kept = list(_IDLE.values())
        _IDLE.clear()
    for pid, conn in kept:
        if pid == os.getpid():
            with suppress(Exception):
                conn.close()


def _connect(uri: str, source: Source) -> Any:
    import adbc_driver_postgresql.dbapi as adbc  # lazy: loaded by loads and registrations that read PostgreSQL

    assert source.url is not None
    try:
        conn = adbc.connect(uri, autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    except adbc.Error as error:
        raise InvalidInput(f"data: cannot connect to {safe_url(source.url)}: "
                           f"{_scrub(_first_line(error), make_url(source.url))}; check the host, port, database name "
                           "and the login.", field="data") from None
    return conn


def _alive(conn: Any) -> bool:
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        return True
    except Exception:  # any failure means: do not reuse it
        with suppress(Exception):
            conn.close()
        return False


@contextmanager
def _adbc(source: Source) -> Iterator[Any]:
    """An ADBC cursor on a PostgreSQL source, every statement read-only; a refusal naming the server (never its
    login) when it cannot be reached. Opening an ADBC connection costs about 0.15 s (it reads the server's type
    catalogue), so one idle connection per database is kept in this process between reads (checked alive
    before reuse; never shared across a fork, never shown)."""
    assert source.url is not None
    uri = make_url(source.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with _IDLE_LOCK:
        kept = _IDLE.pop(uri, None)
    conn = kept[1] if kept is not None and kept[0] == os.getpid() and _alive(kept[1]) else None
    if conn is None:
        conn = _connect(uri, source)
    done = False
    try:
        with conn.cursor() as cursor:
            yield cursor
        done = True
    finally:
        if done:
            with _IDLE_LOCK:
                if uri not in _IDLE and len(_IDLE) < MAX_IDLE:
                    _IDLE[uri], conn = (os.getpid(), conn), None
        if conn is not None:
            conn.close()


def _execute(cursor: Any, source: Source, statement: str, params: list[Any]) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    assert source.url is not None
    try:
        cursor.execute(statement, parameters=params or None)
    except adbc.Error as error:
        reason = _scrub(_first_line(error), make_url(source.url))
        if source.table is not None and "does not exist" in reason:
            raise InvalidInput(f"table: there is no table {source.table!r} in {safe_url(source.url)}; check its name "
                               "and schema.", field="table") from None
        raise InvalidInput(f"data: reading {source} failed: {reason}.", field="data") from None


# ----- reading -------------------------------------------------------------------------------------------------
def _value(value: Any, kind: str, column: str, dataset_id: str) -> Any:
    """A ``where`` value as the declared type of its column, refused when it cannot be one."""
    ok: Any
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        ok = value
    elif kind in ("integer", "float") and isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value):
        ok = float(value)
    elif (kind in ("string", "category") and isinstance(value, str)) or (kind == "boolean" and isinstance(value, bool)):
        ok = value
    elif kind == "date" and isinstance(value, dt.date | str):
        try:
            ok = value if isinstance(value, dt.datetime) else \
                dt.datetime.fromisoformat(value) if isinstance(value, str) else dt.datetime(value.year, value.month,
                                                                                            value.day)
        except ValueError:
            ok = None
    else:
        ok = None
    if ok is None:
        raise InvalidInput(f"where: {column!r} of {dataset_id} holds {kind} values; {value!r} is not such a value.",
                           field="where")
    return ok


def conditions_sql(where: dict[str, Any], kinds: dict[str, str], dataset_id: str,
                   placeholder: Callable[[int], str]) -> tuple[str, list[Any]]:
    """``where`` (``governance.sources.check_where``'s form) as an SQL condition on quoted column names, every
    value a bound parameter named by ``placeholder(n)``; '' when there is none."""
    parts: list[str] = []
    params: list[Any] = []

    def bind(value: Any) -> str:
        params.append(value)
        return placeholder(len(params))

    for column, condition in where.items():
        kind = kinds[column]
        name = _name(column)
        if isinstance(condition, dict):
            if kind not in ("integer", "float", "date"):
                raise InvalidInput(f"where: {column!r} of {dataset_id} holds {kind} values; a range needs a numeric "
                                   "or date column, so list the values to keep instead.", field="where")
            for op, value in condition.items():
                parts.append(f"{name} {op} {bind(_value(value, kind, column, dataset_id))}")
        elif isinstance(condition, list):
            values = [_value(v, kind, column, dataset_id) for v in condition]
            parts.append(f"{name} IN ({', '.join(bind(v) for v in values)})")
        else:
            parts.append(f"{name} = {bind(_value(condition, kind, column, dataset_id))}")
    return " AND ".join(parts), params


def _declared_columns(place: InPlace, declared: list[dict[str, Any]], columns: list[str],
                      where: dict[str, Any]) -> list[str]:
    """``columns`` once each, refusing any of them or of ``where`` that the entry does not declare."""
    kinds = {c["name"] for c in declared}
    outside = [c for c in [*columns, *where] if c not in kinds]
    if outside:
        raise InvalidInput(f"columns: {', '.join(map(repr, outside))} are not columns of {place.dataset_id}.",
                           field="columns")
    return list(dict.fromkeys(columns))


def read(place: InPlace, declared: list[dict[str, Any]], columns: list[str], where: dict[str, Any], *,
         order_key: bytes | None = None) -> pa.Table:
    """``columns`` of the rows ``where`` keeps, in the declared types, read at the source with the columns pruned
    and the filter pushed down. With ``order_key`` (the project's key), in the project's keyed order of the rows'
    content (see the module). A source that cannot be read is refused naming the dataset and its owner."""
    columns = _declared_columns(place, declared, columns, where)
    if order_key is not None:
        return read_keyed(place, declared, columns, where, order_key=order_key)[0]
    source = place.source()
    try:
        if source.url is None:
            table = _read_file(source, declared, columns, where, place, False)
        else:
            table = _read_database(source, declared, columns, where, place)
    except InvalidInput as error:
        if error.field == "where":
            raise
        raise place.unavailable(str(error).split(": ", 1)[-1]) from None
    return table.select(columns)


def read_keyed(place: InPlace, declared: list[dict[str, Any]], columns: list[str], where: dict[str, Any], *,
               order_key: bytes | None = None) -> tuple[pa.Table, np.ndarray]:
    """What ``read`` gives, with each row's content digest (uint64: DuckDB's hash over every declared column, in
    the declared types) aligned with the rows: the digest orders loads (``order_key``) and, keyed by
    ``content_keys``, names a record of a source that has no stable rows (the person index). Without
    ``order_key`` the rows come as the source gives them."""
    columns = _declared_columns(place, declared, columns, where)
    read_columns = [c["name"] for c in declared]
    source = place.source()
    try:
        if source.url is None:
            table = _read_file(source, declared, read_columns, where, place, True)
        else:
            table = _read_database(source, declared, read_columns, where, place)
            with duckdb.connect(config={"threads": 2}) as con:
                con.register("fetched", table)
                hashed = con.sql(f"SELECT hash({', '.join(_name(n) for n in read_columns)}) FROM fetched"
                                 ).to_arrow_table().column(0)
            table = table.append_column(_ORDER, hashed)
    except InvalidInput as error:
        if error.field == "where":
            raise
        raise place.unavailable(str(error).split(": ", 1)[-1]) from None
    digests = table.column(_ORDER).to_numpy(zero_copy_only=False).astype(np.uint64)
    if order_key is None:
        return table.select(columns), digests
    order = keyed_order(digests, order_key, place.dataset_id)
    return table.select(columns).take(pa.array(order)), digests[order]


def content_keys(digests: np.ndarray, secret: bytes) -> np.ndarray:
    """Each row's content key (uint64): its digest (``read_keyed``) encrypted with AES under a key derived from
    the workspace's ``secret``, the same in every project. Rows alike in every declared column share a key; a
    key says nothing of the row without the secret."""
    derived = hmac.new(secret, b"in-place content key", hashlib.sha256).digest()
    blocks = np.zeros((len(digests), 2), dtype="<u8")
    blocks[:, 0] = digests
    encrypted = Cipher(algorithms.AES(derived), modes.ECB()).encryptor().update(blocks.tobytes())
    return np.frombuffer(encrypted, dtype="<u8").reshape(-1, 2)[:, 0].copy() if len(digests) \
        else np.zeros(0, np.uint64)


def read_columns(vault_root: Path, dataset: dict[str, Any], place: InPlace | None, columns: list[str],
                 where: dict[str, Any] | None = None) -> pa.Table:
    """``columns`` of a catalogue dataset (``conditions.dataset_row``), raw, rows kept by ``where``, whether it was
    copied into the vault (its Parquet file read as a source) or is read in place (``place``, from ``lookup``):
    the one reader for services that need a dataset's own values (linkage, the twin, checks of person keys).
    Refused naming the dataset and its owner when there is no data or the source cannot be read."""
    declared = list(dataset["record"].get("columns", []))
    if place is None:
        path = vault_root / "datasets" / f"{check_dataset_id(dataset['id'])}.parquet"
        if not path.is_file():
            raise NotFound(f"The vault holds no data for {dataset['id']}; its owner ({dataset.get('owner')}) must "
                           "register it.")
        place = InPlace(dataset["id"], dataset.get("owner"), "parquet", str(path))
    return read(place, declared, columns, where or {})


def keyed_order(digests: np.ndarray, key: bytes, dataset_id: str) -> np.ndarray:
    """Positions sorting ``digests`` (uint64 row hashes) by their AES encryption under a key derived from
    ``key`` and the dataset: a keyed order of row contents."""
    derived = hmac.new(key, f"in-place order:{dataset_id}".encode(), hashlib.sha256).digest()
    blocks = np.zeros((len(digests), 2), dtype="<u8")
    blocks[:, 0] = digests
    encrypted = Cipher(algorithms.AES(derived), modes.ECB()).encryptor().update(blocks.tobytes())
    tags = np.frombuffer(encrypted, dtype="<u8").reshape(-1, 2)
    return np.lexsort((tags[:, 1], tags[:, 0])).astype(np.int64) if len(digests) else np.zeros(0, np.int64)


def _read_file(source: Source, declared: list[dict[str, Any]], columns: list[str], where: dict[str, Any],
               place: InPlace, hashed: bool) -> pa.Table:
    if source.path is None or not source.path.exists():
        raise place.unavailable(f"there is no file or folder {str(source.path)!r} any more")
    kinds = {c["name"]: c["type"] for c in declared}
    condition, params = conditions_sql(where, kinds, place.dataset_id, lambda _n: "?")
    with duckdb.connect(config={"threads": 2, "autoinstall_known_extensions": False,
                                "autoload_known_extensions": False}) as con:
        try:
            selected, _guarded = file_columns(con, source, declared)
            scan = file_scan(source, as_text=source.kind == "csv")
            outputs = [_name(c) for c in columns]
            if hashed:
                outputs.append(f"hash({', '.join(_name(c) for c in columns)})")
            statement = (f"SELECT {', '.join(outputs)} FROM (SELECT {', '.join(selected)} FROM {scan})"
                         + (f" WHERE {condition}" if condition else ""))
            table = con.sql(statement, params=params).to_arrow_table()
        except duckdb.Error as error:
            raise place.unavailable(_first_line(error)) from None
    schema = _target_schema([c for c in declared if c["name"] in columns])
    arrays = [pc.cast(table.column(c), schema.field(c).type) for c in columns]
    if hashed:
        return pa.table([*arrays, table.column(len(columns))], names=[*columns, _ORDER])  # the hash, by position
    return pa.table(arrays, schema=pa.schema([schema.field(c) for c in columns]))


def _read_database(source: Source, declared: list[dict[str, Any]], columns: list[str], where: dict[str, Any],
                   place: InPlace) -> pa.Table:
    kinds = {c["name"]: c["type"] for c in declared}
    wanted = [c for c in declared if c["name"] in columns]
    wanted.sort(key=lambda c: columns.index(c["name"]))
    postgres = _is_postgres(source)
    condition, params = conditions_sql(where, kinds, place.dataset_id,
                                       (lambda n: f"${n}") if postgres else (lambda n: f":p{n}"))
    statement = (f"SELECT {', '.join(_name(c) for c in columns)} FROM {_relation(source)}"
                 + (f" WHERE {condition}" if condition else ""))
    if postgres:
        with _adbc(source) as cursor:
            _execute(cursor, source, statement, params)
            fetched = cursor.fetch_arrow_table()
        batches = [_conform(b, wanted, source) for b in fetched.to_batches()]
        return pa.Table.from_batches(batches, schema=_target_schema(wanted))
    from workbench.catalogue.sources import _batch

    schema = _target_schema(wanted)
    with database(source) as conn:
        try:
            result = conn.execute(sql(statement), {f"p{i + 1}": v for i, v in enumerate(params)})
            rows = result.fetchall()
        except SQLAlchemyError as error:
            original = getattr(error, "orig", None) or error
            assert source.url is not None
            raise place.unavailable(_scrub(_first_line(original), make_url(source.url))) from None
    return pa.Table.from_batches([_batch(list(rows), list(range(len(wanted))), wanted, source, schema)],
                                 schema=schema)


__all__ = ["IN_PLACE", "MODES", "InPlace", "check_mode", "conditions_sql", "content_keys", "declared_schema",
           "describe", "drop_credentials", "forget", "keep", "keyed_order", "lookup", "measure", "read", "read_columns",
           "read_keyed", "staged_credentials"]
