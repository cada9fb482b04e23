"""Where a data owner's data comes from: a CSV file, a Parquet file or partitioned Parquet folder, or a database
table or read-only query given by an SQLAlchemy URL; and copying it into the vault as one Parquet file.

Copying streams, in bounded memory, so data larger than memory can be registered. A file is copied by DuckDB in
one pass (CSV read as text and cast to the entry's declared types, Parquet checked against them from its schema
before any row is read, categories checked by casting to an ENUM), and the figures (rows, completeness, bounds)
come from the statistics DuckDB returns for what it wrote. A database is read in record batches through
SQLAlchemy into a Parquet writer, and the copy measured in one DuckDB scan. A query must be a single SELECT (or WITH ...
SELECT): it is parsed with sqlglot and refused before it runs if it could write, and it runs in a read-only
transaction where the database has one. A database URL's user name and password never appear in messages: a
source is shown as ``driver://host:port/database``.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlalchemy import MetaData, Table, create_engine, inspect, select
from sqlalchemy import text as sql
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlglot import exp

from workbench.catalogue.quality import agree
from workbench.errors import InvalidInput

BATCH_ROWS = 50_000  # rows per record batch read from a database
MEMORY_LIMIT = "1GB"  # DuckDB's working memory while copying; it spills to a folder inside the vault beyond it
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MAX_QUERY = 100_000
# SQL that changes something, anywhere in a query (a data-modifying WITH, SELECT INTO, a row lock...)
WRITES = tuple(getattr(exp, name) for name in (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable", "Command",
    "Into", "Lock", "Copy", "Set", "Grant", "Revoke", "Use", "Transaction", "Commit", "Rollback", "LoadData")
    if hasattr(exp, name))
SQLGLOT_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql",
                    "mssql": "tsql", "oracle": "oracle", "duckdb": "duckdb", "snowflake": "snowflake",
                    "bigquery": "bigquery"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT"}
DECLARED_CASTS = {"string": "VARCHAR", "category": "VARCHAR", "integer": "BIGINT", "float": "DOUBLE",
                  "boolean": "BOOLEAN", "date": "TIMESTAMP"}
WHITESPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


@dataclass(frozen=True)
class Source:
    """Data to register that is not a DataFrame: a file or folder (``Source(path)``), or a database table or
    read-only query (``Source.database(url, table="schema.name")`` / ``Source.database(url, query="SELECT ...")``).

    A plain path (str or ``Path``) given as ``data`` means ``Source(path)``. ``str(source)`` names it without the
    database's credentials.
    """

    path: Path | None = None
    url: str | None = field(default=None, repr=False)
    table: str | None = None
    query: str | None = field(default=None, repr=False)

    @classmethod
    def database(cls, url: str, *, table: str | None = None, query: str | None = None) -> Source:
        """A database table (``"name"`` or ``"schema.name"``) or a single SELECT, at an SQLAlchemy URL."""
        return cls(url=url, table=table, query=query)

    @property
    def kind(self) -> str:
        """'csv', 'parquet', 'table' or 'query'."""
        if self.url is not None:
            return "table" if self.table is not None else "query"
        assert self.path is not None
        return "parquet" if self.path.is_dir() or _suffix(self.path) in PARQUET_SUFFIXES else "csv"

    def __str__(self) -> str:
        if self.url is None:
            assert self.path is not None
            what = "CSV file" if self.kind == "csv" else "Parquet folder" if self.path.is_dir() else "Parquet file"
            return f"{what} {self.path}"
        where = safe_url(self.url)
        return f"table {self.table} at {where}" if self.table else f"query at {where}"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES) if name.endswith(s)), path.suffix.lower())


def safe_url(url: str) -> str:
    """A database URL as ``driver://host:port/database``: never its user name, password or query options."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "an unreadable database URL"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()}://{parsed.host or ''}{port}/{parsed.database or ''}"


def source_of(data: object) -> Source:
    """``data`` as a checked ``Source``: a path (str or PathLike) or a ``Source``; refuse anything else."""
    if isinstance(data, str | PathLike) and not isinstance(data, Source):
        text = str(data)
        if SCHEME.match(text):
            raise InvalidInput(f"data: {safe_url(text)} is a URL, not a local file; for a database say what to read "
                               "from it with Source.database(url, table='schema.name') or Source.database(url, "
                               "query='SELECT ...') (CLI: --table or --query).", field="data")
        data = Source(path=Path(text))
    if not isinstance(data, Source):
        raise InvalidInput(f"data: expected a pandas DataFrame, a CSV or Parquet path, or a Source, got "
                           f"{type(data).__name__}.", field="data")
    if data.url is None:
        return _file_source(data)
    return _database_source(data)


def _file_source(source: Source) -> Source:
    if source.path is None or source.table is not None or source.query is not None:
        raise InvalidInput("data: a Source is a path, or a database URL with a table or a query.", field="data")
    path = Path(source.path).expanduser()
    if set("*?[{") & set(str(path)):  # DuckDB would read them as a pattern matching other files too
        raise InvalidInput(f"data: {str(path)!r} holds one of * ? [ {{, which would be read as a pattern; rename "
                           "the file or folder.", field="data")
    if not path.exists():
        raise InvalidInput(f"data: there is no file or folder {str(path)!r}.", field="data")
    if path.is_dir():
        if not any(path.rglob("*.parquet")):
            raise InvalidInput(f"data: the folder {str(path)!r} holds no .parquet files; give a CSV file, a Parquet "
                               "file or a folder of Parquet files.", field="data")
    elif _suffix(path) not in (*CSV_SUFFIXES, *PARQUET_SUFFIXES):
        raise InvalidInput(f"data: {path.name!r} is neither CSV ({', '.join(CSV_SUFFIXES)}) nor Parquet "
                           f"({', '.join(PARQUET_SUFFIXES)} or a folder of them).", field="data")
    try:
        if path.is_file():
            path.open("rb").close()
    except OSError as error:
        raise InvalidInput(f"data: cannot read {str(path)!r}: {error.strerror or error}.", field="data") from None
    return Source(path=path.resolve())


def _database_source(source: Source) -> Source:
    url = source.url
    if not isinstance(url, str) or source.path is not None:
        raise InvalidInput("data: a database source needs its SQLAlchemy URL as text.", field="data")
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput("data: the database URL cannot be read; write it as driver://user@host:port/database "
                           "(an SQLAlchemy URL).", field="data") from None
    if (source.table is None) == (source.query is None):
        raise InvalidInput(f"data: say what to read from {safe_url(url)}: a table or a query, one of them.",
                           field="data")
    if source.table is not None and (not isinstance(source.table, str) or not TABLE_NAME.match(source.table)):
        raise InvalidInput(f"table: {source.table!r} is not a table name; give 'name' or 'schema.name' (letters, "
                           "digits and '_').", field="table")
    if source.query is not None:
        check_read_only(source.query, make_url(url).get_backend_name())
    return source


def check_read_only(query: object, backend: str) -> None:
    """Refuse a query that is not one read-only SELECT (or WITH ... SELECT, or set operations of them), before it
    runs: parsed with sqlglot, never matched as text. Functions with side effects are stopped by the read-only
    transaction the query then runs in."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("query: give the SELECT to read as text.", field="query")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"query: {len(query):,} characters is too long for a query; use at most {MAX_QUERY:,}.",
                           field="query")
    try:
        statements = [s for s in sqlglot.parse(query, read=SQLGLOT_DIALECTS.get(backend)) if s is not None]
    except sqlglot.errors.SqlglotError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidInput(f"query: cannot be read as SQL ({first}); give one SELECT.", field="query") from None
    if len(statements) != 1:
        raise InvalidInput(f"query: holds {len(statements)} statements; give exactly one SELECT.", field="query")
    statement = statements[0]
    writes = sorted({type(node).__name__.upper() for node in statement.walk() if isinstance(node, WRITES)})
    if not isinstance(statement, exp.Query) or writes:
        what = ", ".join(writes) or type(statement).__name__.upper()
        raise InvalidInput(f"query: only a read-only SELECT (or WITH ... SELECT) may be registered, and this one "
                           f"contains {what}; nothing was run.", field="query")


# ----- copying into the vault --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Copied:
    row_count: int
    completeness: dict[str, float]


def copy_to(source: Source, columns: list[dict[str, Any]] | None, target: Path) -> Copied:
    """Copy ``source`` to the Parquet file ``target`` with the entry's ``columns`` in their order; refuse data that
    does not fit them (``InvalidInput`` naming the column). ``target`` is the caller's to delete on failure."""
    if not columns:
        raise InvalidInput("columns: describe every column (name, type, role) before registering data; "
                           "`workbench catalogue draft --data SOURCE` writes a starting point.", field="columns")
    with _duckdb(target.parent) as con:
        if source.url is None:
            copied = _copy_file(con, source, columns, target)
            if copied is not None:
                return copied
        else:
            _copy_database(source, columns, target)
        return _measure(con, target, columns)


@contextmanager
def _duckdb(work: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that spills only to a folder beside the copy (inside the vault) and loads nothing."""
    spill = work / f".spill-{uuid.uuid4().hex}"
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill),
                                 "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _name(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def file_scan(source: Source, *, as_text: bool) -> str:
    """The DuckDB table function reading a file source (CSV all as text when ``as_text``)."""
    assert source.path is not None
    path = str(source.path)
    if source.kind == "csv":
        return f"read_csv({_literal(path)}, header = true, all_varchar = {str(as_text).lower()})"
    if source.path.is_dir():
        return (f"read_parquet({_literal(str(Path(path) / '**' / '*.parquet'))}, hive_partitioning = true, "
                "union_by_name = true)")
    return f"read_parquet({_literal(path)})"


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0].strip()


def _describe(con: duckdb.DuckDBPyConnection, scan: str, source: Source) -> dict[str, str]:
    try:
        return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    except duckdb.Error as error:
        raise InvalidInput(f"data: cannot read {source}: {_first_line(error)}.", field="data") from None


def duck_fits(kind: str, duck_type: str) -> bool:
    """Can a column of this DuckDB type be stored as a column declared ``kind``?"""
    if duck_type in ('"NULL"', "NULL"):
        return True
    return {
        "string": duck_type == "VARCHAR",
        "category": duck_type == "VARCHAR" or duck_type.startswith("ENUM"),
        "integer": duck_type in INTEGER_TYPES,
        "float": duck_type in INTEGER_TYPES or duck_type in ("FLOAT", "DOUBLE") or duck_type.startswith("DECIMAL"),
        "boolean": duck_type == "BOOLEAN",
        "date": duck_type == "DATE" or duck_type.startswith("TIMESTAMP"),
    }[kind]


def file_columns(con: duckdb.DuckDBPyConnection, source: Source,
                 columns: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The DuckDB select list turning a file's columns into the entry's declared ones (CSV text cast to the declared
    types; Parquet checked against them from its schema, before any row is read), plain and with category columns
    cast to an ENUM of their categories (which stops a read at a value outside them)."""
    csv = source.kind == "csv"
    types = _describe(con, file_scan(source, as_text=csv), source)
    agree(columns, list(types))
    selected, guarded = [], []
    for i, column in enumerate(columns):
        name, kind, held = column["name"], column["type"], types[column["name"]]
        if csv:
            cast = DECLARED_CASTS[kind]
            expression = f"{_name(name)}::{cast}" if cast != "VARCHAR" else _name(name)
        elif not duck_fits(kind, held):
            raise InvalidInput(f"columns[{i}]: {name!r} is declared {kind!r} but {source} holds {held}.",
                               field=f"columns[{i}].type")
        elif held.startswith(("ENUM", "DECIMAL", "HUGEINT", "UHUGEINT")):
            expression = f"{_name(name)}::{DECLARED_CASTS[kind]}"
        else:
            expression = _name(name)
        selected.append(f"{expression} AS {_name(name)}")
        if kind == "category":  # a value outside the categories stops the copy; stored as text all the same
            expression = f"{expression}::ENUM({_categories(column)})"
        guarded.append(f"{expression} AS {_name(name)}")
    return selected, guarded


def _copy_file(con: duckdb.DuckDBPyConnection, source: Source, columns: list[dict[str, Any]],
               target: Path) -> Copied | None:
    """Copy a file in one pass: DuckDB converts it, refuses values outside declared categories on the way, and
    returns the copy's statistics (rows, nulls, least and greatest values), from which the figures follow without
    reading the copy again (None when they do not: then the copy is measured)."""
    csv = source.kind == "csv"
    scan = file_scan(source, as_text=csv)
    selected, guarded = file_columns(con, source, columns)
    try:
        stats = con.execute(f"COPY (SELECT {', '.join(guarded)} FROM {scan}) TO {_literal(str(target))} "
                            "(FORMAT parquet, RETURN_STATS)").fetchall()
    except duckdb.ConversionException:
        raise (_which_failed(con, scan, columns, source) if csv else None) \
            or _outside_categories(con, f"(SELECT {', '.join(selected)} FROM {scan})", columns) from None
    except duckdb.Error as error:
        raise InvalidInput(f"data: cannot read {source}: {_first_line(error)}.", field="data") from None
    return _from_stats(con, stats, target, columns)


def _categories(column: dict[str, Any]) -> str:
    return ", ".join(_literal(str(v)) for v in dict.fromkeys(column["categories"]))


def _outside_categories(con: duckdb.DuckDBPyConnection, relation: str,
                        columns: list[dict[str, Any]]) -> InvalidInput:
    """The refusal naming the first category column of ``relation`` holding other values, with up to five."""
    for i, column in enumerate(columns):
        if column["type"] != "category":
            continue
        name = _name(column["name"])
        shown = con.execute(f"SELECT DISTINCT {name} FROM {relation} WHERE {name} NOT IN ({_categories(column)}) "
                            "ORDER BY 1 LIMIT 5").fetchall()
        if shown:
            return InvalidInput(f"columns[{i}].categories: {column['name']!r} holds values that are not among its "
                                f"declared categories: {', '.join(repr(r[0]) for r in shown)}.",
                                field=f"columns[{i}].categories")
    return InvalidInput("data: some values do not convert to the declared types.", field="columns")


def _from_stats(con: duckdb.DuckDBPyConnection, stats: list[Any], target: Path,
                columns: list[dict[str, Any]]) -> Copied | None:
    """Rows and completeness from the statistics DuckDB returned for the copy, refusing values outside declared
    bounds. Blank text counts as missing: a text column whose least value starts above a space holds none, so only
    a column that might is scanned for them. None when the statistics do not say enough."""
    if len(stats) != 1 or not isinstance(stats[0][4], dict):
        return None
    rows, per_column = int(stats[0][1]), stats[0][4]
    nulls: dict[str, int] = {}
    maybe_blank = []
    for column in columns:
        name, kind = column["name"], column["type"]
        figures = per_column.get(_name(name))
        if figures is None or "null_count" not in figures:
            return None
        nulls[name] = int(figures["null_count"])
        low, high = column.get("lowerBound"), column.get("upperBound")
        if kind in ("integer", "float") and (low is not None or high is not None) and nulls[name] < rows:
            if "min" not in figures or "max" not in figures or figures.get("min_is_exact") != "true" \
                    or figures.get("max_is_exact") != "true":
                return None
            if (low is not None and float(figures["min"]) < low) or (high is not None and float(figures["max"]) > high):
                return None  # measured, which counts and refuses them
        if kind in ("string", "category") and nulls[name] < rows:
            least = figures.get("min")
            if least is None or figures.get("min_is_exact") != "true" or least[:1] <= " ":
                maybe_blank.append(name)
    blanks = dict.fromkeys(nulls, 0)
    if maybe_blank:
        counted = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE trim({_name(n)}, {WHITESPACE}) = '')"
                                                    for n in maybe_blank)
                              + f" FROM read_parquet({_literal(str(target))})").fetchone()
        assert counted is not None
        blanks.update(zip(maybe_blank, map(int, counted), strict=True))
    return Copied(rows, {name: round((rows - nulls[name] - blanks[name]) / rows, 4) if rows else 1.0
                         for name in nulls})


def _which_failed(con: duckdb.DuckDBPyConnection, scan: str, columns: list[dict[str, Any]],
                  source: Source) -> InvalidInput | None:
    """The refusal for a CSV whose values do not convert to the declared types: the first such column and how many
    values failed (never the values: the error may be kept in the audit log); None if every value converts."""
    cast = [(i, c) for i, c in enumerate(columns) if DECLARED_CASTS[c["type"]] != "VARCHAR"]
    counts = ", ".join(f"count(*) FILTER (WHERE {_name(c['name'])} IS NOT NULL AND "
                       f"TRY_CAST({_name(c['name'])} AS {DECLARED_CASTS[c['type']]}) IS NULL)" for _, c in cast)
    try:
        failed = con.execute(f"SELECT {counts} FROM {scan}").fetchone() if cast else None
    except duckdb.Error as error:
        return InvalidInput(f"data: cannot read {source}: {_first_line(error)}.", field="data")
    for (i, column), n in zip(cast, failed or (), strict=False):
        if n:
            kind = column["type"]
            what = {"integer": "whole numbers", "float": "numbers", "boolean": "true/false values",
                    "date": "dates (YYYY-MM-DD, optionally with a time)"}[kind]
            return InvalidInput(f"columns[{i}]: {column['name']!r} is declared {kind!r} but {n:,} of its values in "
                                f"{source} are not {what}; correct the data or declare the type it holds.",
                                field=f"columns[{i}].type")
    return None


# ----- databases ---------------------------------------------------------------------------------------------
@contextmanager
def database(source: Source) -> Iterator[Connection]:
    """A read-only connection to the source's database; a clear refusal when it cannot be reached."""
    assert source.url is not None
    url: URL = make_url(source.url)
    where = safe_url(source.url)
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).is_file():
        raise InvalidInput(f"data: cannot connect to {where}: there is no SQLite database file there.",
                           field="data")
    try:
        engine = create_engine(url, poolclass=NullPool)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise InvalidInput(f"data: cannot use {where}: {_scrub(str(error), url)}.", field="data") from None
    try:
        try:
            conn = engine.connect()
        except SQLAlchemyError as error:
            raise InvalidInput(f"data: cannot connect to {where}: {_reason(error, url)}; check the host, port, "
                               "database name and the login.", field="data") from None
        with conn:
            if backend == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif backend == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            yield conn
    finally:
        engine.dispose()


def _scrub(text: str, url: URL) -> str:
    """``text`` without the URL's user name or password."""
    for secret in (url.password, url.username):
        if secret:
            text = text.replace(str(secret), "***")
    return text


def _reason(error: SQLAlchemyError, url: URL) -> str:
    original = getattr(error, "orig", None) or error
    return _scrub(_first_line(original), url).rstrip(".")


def _rows(conn: Connection, source: Source) -> tuple[list[str], Iterator[list[Any]]]:
    """The source's column names, and its rows in lists of ``BATCH_ROWS``, streamed from the server."""
    assert source.url is not None
    url = make_url(source.url)
    where = safe_url(source.url)
    try:
        if source.table is not None:
            schema_name, _, table_name = source.table.rpartition(".")
            if not inspect(conn).has_table(table_name, schema=schema_name or None):
                raise InvalidInput(f"table: there is no table {source.table!r} in {where}; check its name and "
                                   "schema.", field="table")
            table = Table(table_name, MetaData(), schema=schema_name or None, autoload_with=conn)
            statement: Any = select(table)
        else:
            statement = sql(source.query or "")
        result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(statement)
    except SQLAlchemyError as error:
        raise InvalidInput(f"data: reading {source} failed: {_reason(error, url)}.", field="data") from None
    names = list(map(str, result.keys()))  # a Result iterates its rows, not its keys

    def batches() -> Iterator[list[Any]]:
        try:
            for rows in result.partitions():
                yield list(rows)
        except SQLAlchemyError as error:
            raise InvalidInput(f"data: reading {source} failed: {_reason(error, url)}.", field="data") from None
        except (ValueError, TypeError, OverflowError) as error:  # the driver could not convert a stored value
            raise InvalidInput(f"data: reading {source} failed: a value does not match the type the database "
                               f"declares for its column ({_first_line(error)}).", field="data") from None
    return names, batches()


ARROW_TARGETS = {"string": pa.string(), "category": pa.string(), "integer": pa.int64(), "float": pa.float64(),
                 "boolean": pa.bool_(), "date": pa.timestamp("us")}


def arrow_fits(kind: str, arrow_type: pa.DataType) -> bool:
    t = pa.types
    if t.is_null(arrow_type):
        return True
    return {
        "string": t.is_string(arrow_type) or t.is_large_string(arrow_type),
        "category": t.is_string(arrow_type) or t.is_large_string(arrow_type),
        "integer": t.is_integer(arrow_type),
        "float": t.is_floating(arrow_type) or t.is_integer(arrow_type) or t.is_decimal(arrow_type),
        "boolean": t.is_boolean(arrow_type),
        "date": t.is_timestamp(arrow_type) or t.is_date(arrow_type),
    }[kind]


def _batch(rows: list[Any], positions: list[int], columns: list[dict[str, Any]], source: Source,
           schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for i, (column, at) in enumerate(zip(columns, positions, strict=True)):
        values = [row[at] for row in rows]
        kind = column["type"]
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            raise InvalidInput(f"columns[{i}]: {column['name']!r} is declared {kind!r} but {source} holds values "
                               "of mixed types in it; make them all one type.", field=f"columns[{i}].type") from None
        if not arrow_fits(kind, array.type):
            raise InvalidInput(f"columns[{i}]: {column['name']!r} is declared {kind!r} but {source} holds "
                               f"{array.type} in it.", field=f"columns[{i}].type")
        try:
            arrays.append(array.cast(schema.field(i).type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInput(f"columns[{i}]: {column['name']!r} is declared {kind!r} but some values of {source} "
                               "do not convert to it.", field=f"columns[{i}].type") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _copy_database(source: Source, columns: list[dict[str, Any]], target: Path) -> None:
    schema = pa.schema([(c["name"], ARROW_TARGETS[c["type"]]) for c in columns])
    with database(source) as conn:
        names, batches = _rows(conn, source)
        agree(columns, names)
        positions = [names.index(c["name"]) for c in columns]
        with pq.ParquetWriter(target, schema) as writer:
            for rows in batches:
                writer.write_batch(_batch(rows, positions, columns, source, schema))


def database_sample(source: Source, rows: int) -> pa.Table:
    """The first ``rows`` rows of a database source as Arrow, types as the driver gives them (for drafting)."""
    with database(source) as conn:
        names, batches = _rows(conn, source)
        if len(set(names)) != len(names):
            raise InvalidInput("data: column names repeat; give each column a unique name.", field="data")
        taken: list[Any] = []
        for batch in batches:
            taken.extend(batch[:rows - len(taken)])
            if len(taken) >= rows:
                break
    arrays = {}
    for at, name in enumerate(names):
        values = [row[at] for row in taken]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
        if pa.types.is_decimal(arrays[name].type):
            arrays[name] = arrays[name].cast(pa.float64())
    return pa.table(arrays) if names else pa.table({})


# ----- measuring the copy ------------------------------------------------------------------------------------
def _measure(con: duckdb.DuckDBPyConnection, target: Path | str, columns: list[dict[str, Any]], *,
             rescan: bool = True) -> Copied:
    """Rows, completeness per column, and refusals for values outside declared categories or bounds, in one scan of
    the copy (a Parquet file), or of ``target`` given as a DuckDB relation (SQL text; a stream read once when not
    ``rescan``: then a refusal counts values outside the categories instead of showing some)."""
    scan = f"read_parquet({_literal(str(target))})" if isinstance(target, Path) else target
    parts = ["count(*)"]
    for column in columns:
        name, kind = _name(column["name"]), column["type"]
        blank = (f" - count(*) FILTER (WHERE trim({name}, {WHITESPACE}) = '')"
                 if kind in ("string", "category") else "")
        parts.append(f"count({name}){blank}")
        if kind == "category":
            parts.append(f"count(*) FILTER (WHERE {name} NOT IN ({_categories(column)}))")
        low, high = column.get("lowerBound"), column.get("upperBound")
        if kind in ("integer", "float") and (low is not None or high is not None):
            tests = ([f"{name} < {float(low)!r}"] if low is not None else []) + \
                    ([f"{name} > {float(high)!r}"] if high is not None else [])
            parts.append(f"count(*) FILTER (WHERE {' OR '.join(tests)})")
    found = con.execute(f"SELECT {', '.join(parts)} FROM {scan}").fetchone()
    assert found is not None
    rows, at = int(found[0]), 1
    completeness = {}
    for i, column in enumerate(columns):
        name, kind = column["name"], column["type"]
        present = int(found[at])
        at += 1
        completeness[name] = round(present / rows, 4) if rows else 1.0
        if kind == "category":
            if found[at]:
                if not rescan:
                    raise InvalidInput(f"columns[{i}].categories: {int(found[at]):,} values of {name!r} are not "
                                       "among its declared categories.", field=f"columns[{i}].categories")
                raise _outside_categories(con, scan, columns)
            at += 1
        low, high = column.get("lowerBound"), column.get("upperBound")
        if kind in ("integer", "float") and (low is not None or high is not None):
            if found[at]:
                raise InvalidInput(f"columns[{i}]: {int(found[at]):,} values of {name!r} lie outside its declared "
                                   f"bounds ({low}, {high}); declare the bounds the column can really take, or "
                                   "correct the data.", field=f"columns[{i}].lowerBound")
            at += 1
    return Copied(rows, completeness)


__all__ = ["Copied", "Source", "check_read_only", "copy_to", "safe_url", "source_of"]
