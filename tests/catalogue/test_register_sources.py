"""Registering a dataset from a CSV file, a Parquet file or folder, or a database table or query (copy mode), on
SQLite and PostgreSQL — and the refusals: unreadable sources, columns or types that do not fit, databases that
cannot be reached, missing tables, queries that write. Nothing is registered half-way and every refusal is audited,
without a database's credentials."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from factories import admissions, record
from helpers import ANALYST, OWNER, pg_scratch_schema
from sqlalchemy import func, select

from workbench.catalogue.sources import Source, check_read_only
from workbench.db.schema import audit_events, datasets
from workbench.errors import AccessDenied, InvalidInput

pytestmark = pytest.mark.db  # also on PostgreSQL

SECRET = "s3cret-pw"


def state(ws) -> tuple[int, list[str]]:
    """Datasets catalogued and files in the vault (hidden staging files included)."""
    with ws._ctx.db.read() as conn:
        n = conn.execute(select(func.count()).select_from(datasets)).scalar_one()
    return n, sorted(str(p.relative_to(ws.home)) for p in (ws.home / "vault").rglob("*") if p.is_file())


def last_event(ws):
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).first()


def all_audit_text(ws) -> str:
    with ws._ctx.db.read() as conn:
        return " ".join(f"{r.resource} {r.detail}" for r in conn.execute(select(audit_events)))


def stored(ws, dataset_id: str = "dhsc.admissions") -> pd.DataFrame:
    return ws._ctx.vault.read_dataset(dataset_id)


def same_data(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    frame = frame.assign(admitted=pd.to_datetime(frame["admitted"]).astype("datetime64[ns]"))
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "admissions.csv"
    admissions(100).to_csv(path, index=False)
    return path


# ----- files -----------------------------------------------------------------------------------------------------
def test_register_from_csv_copies_checks_and_measures(staffed, csv_file) -> None:
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(), data=str(csv_file))
    assert entry.has_data and entry.row_count == 100
    assert entry.record["completeness"]["age_band"] == 0.9 and entry.record["completeness"]["cost"] == 1.0
    same_data(stored(owner), admissions(100))
    event = last_event(owner)
    assert (event.action, event.outcome, event.actor) == ("catalogue.register", "ok", OWNER)
    assert event.detail["rows"] == 100 and event.detail["source"] == f"CSV file {csv_file}"
    assert not [p for p in (owner.home / "vault").rglob(".*") if p.name.startswith((".dhsc", ".spill"))]
    assert owner.catalogue.register(record(), data=Source(str(csv_file))).row_count == 100  # a Source of text too


def test_register_from_parquet_file_and_partitioned_folder(staffed, tmp_path) -> None:
    owner = staffed(OWNER)
    frame = admissions(200)
    frame.to_parquet(tmp_path / "one.parquet")
    entry = owner.catalogue.register(record(), data=tmp_path / "one.parquet")
    assert entry.row_count == 200
    same_data(stored(owner), frame)

    folder = tmp_path / "parts"
    pq.write_to_dataset(pa.Table.from_pandas(frame.assign(length_of_stay=frame.length_of_stay % 3),
                                             preserve_index=False), folder, partition_cols=["length_of_stay"])
    assert len(list(folder.iterdir())) == 3
    again = owner.catalogue.register(record(), data=folder)
    assert again.row_count == 200 and again.record["completeness"]["age_band"] == 0.95
    back = stored(owner).sort_values("admission_id")
    assert list(back.columns) == [c["name"] for c in record()["columns"]]  # the entry's order, not the files'
    assert sorted(back["length_of_stay"].unique().tolist()) == [0, 1, 2]


@pytest.mark.parametrize(("change", "message"), [
    (lambda df: df.drop(columns=["cost"]), "declared but not in the data: cost"),
    (lambda df: df.assign(extra=1), "in the data but not declared: extra"),
    (lambda df: df.assign(length_of_stay="many"), r"'length_of_stay' is declared 'integer' but 100 of its values"),
    (lambda df: df.assign(admitted="not a date"), r"'admitted' is declared 'date'"),
    (lambda df: df.assign(age_band="unknown-band"), "not among its declared categories"),
])
def test_csv_that_does_not_fit_is_refused_audited_and_nothing_is_written(staffed, tmp_path, change, message) -> None:
    owner = staffed(OWNER)
    before = state(owner)
    path = tmp_path / "bad.csv"
    change(admissions(100)).to_csv(path, index=False)
    with pytest.raises(InvalidInput, match=message):
        owner.catalogue.register(record(), data=path)
    assert state(owner) == before
    event = last_event(owner)
    assert (event.action, event.resource, event.outcome) == ("catalogue.register", "dataset dhsc.admissions",
                                                             "refused")


def test_parquet_whose_types_do_not_fit_is_refused_before_copying(staffed, tmp_path) -> None:
    owner = staffed(OWNER)
    before = state(owner)
    admissions(20).assign(length_of_stay=1.5).to_parquet(tmp_path / "f.parquet")
    with pytest.raises(InvalidInput, match=r"'length_of_stay' is declared 'integer' but Parquet file .* holds DOUBLE"):
        owner.catalogue.register(record(), data=tmp_path / "f.parquet")
    assert state(owner) == before


def test_blanks_count_as_missing_and_bounds_are_checked(staffed, tmp_path) -> None:
    owner = staffed(OWNER)
    frame = admissions(100)
    frame.loc[frame.index[:5], "admission_id"] = ["", " ", "\t", "  ", "\n"]
    frame.loc[frame.index[5:8], "admission_id"] = [" A1", "\tA2", "A3 "]  # text with spaces is not blank
    frame.to_parquet(tmp_path / "f.parquet")
    entry = owner.catalogue.register(record(), data=tmp_path / "f.parquet")
    assert entry.record["completeness"]["admission_id"] == 0.95
    assert stored(owner)["admission_id"].iloc[5] == " A1"  # copied as it is
    bounded = record()
    bounded["columns"][2].update(lowerBound=0, upperBound=10)  # length_of_stay goes up to 29
    with pytest.raises(InvalidInput, match=r"values of 'length_of_stay' lie outside its declared bounds \(0.0, 10.0\)"):
        owner.catalogue.register(bounded, data=tmp_path / "f.parquet")
    bounded["columns"][2].update(lowerBound=0, upperBound=30)
    assert owner.catalogue.register(bounded, data=tmp_path / "f.parquet").row_count == 100


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "missing.csv", "there is no file or folder"),
    (lambda tmp: (tmp / "a*.csv").write_text("x") and tmp / "a*.csv", "would be read as a pattern"),
    (lambda tmp: (tmp / "x.xlsx").write_text("x") and tmp / "x.xlsx", "is neither CSV"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds no .parquet files"),
    (lambda tmp: (tmp / "bin.csv").write_bytes(bytes(range(256)) * 50) and tmp / "bin.csv", "cannot read"),
    (lambda tmp: (tmp / "bad.parquet").write_text("not parquet") and tmp / "bad.parquet", "cannot read"),
])
def test_unreadable_or_missing_files_are_refused(staffed, tmp_path, make, message) -> None:
    owner = staffed(OWNER)
    before = state(owner)
    with pytest.raises(InvalidInput, match=message):
        owner.catalogue.register(record(), data=make(tmp_path))
    assert state(owner) == before
    assert last_event(owner).outcome == "refused"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_refused(staffed, csv_file) -> None:
    owner = staffed(OWNER)
    csv_file.chmod(0)
    with pytest.raises(InvalidInput, match="cannot read"):
        owner.catalogue.register(record(), data=csv_file)


def test_a_failed_reregistration_keeps_the_previous_data(staffed, csv_file, tmp_path) -> None:
    owner = staffed(OWNER)
    owner.catalogue.register(record(), data=csv_file)
    kept = stored(owner)
    bad = tmp_path / "bad.csv"
    admissions(50).assign(cost="free").to_csv(bad, index=False)
    with pytest.raises(InvalidInput, match="'cost' is declared 'float'"):
        owner.catalogue.register(record(), data=bad)
    assert owner.catalogue["dhsc.admissions"].row_count == 100
    pd.testing.assert_frame_equal(stored(owner), kept)


def test_the_policy_is_asked_before_the_source_is_read(staffed, tmp_path) -> None:
    analyst = staffed(ANALYST)
    with pytest.raises(AccessDenied):  # not "no file": the file is never looked at
        analyst.catalogue.register(record(), data=tmp_path / "missing.csv")
    assert last_event(analyst).outcome == "denied"


def test_the_service_reads_no_file_a_kernel_names(staffed, csv_file) -> None:
    owner = staffed(OWNER)
    owner._ctx.service = True
    with pytest.raises(InvalidInput, match="send the data as a DataFrame"):
        owner.catalogue.register(record(), data=str(csv_file))
    with pytest.raises(InvalidInput, match="draft from a DataFrame"):
        owner.catalogue.draft(str(csv_file))
    assert owner.catalogue.register(record(), data=admissions(10)).row_count == 10  # a frame still registers


def test_a_url_without_table_or_query_and_other_data_are_refused(staffed) -> None:
    owner = staffed(OWNER)
    with pytest.raises(InvalidInput, match=r"is a URL, not a local file; for a database say what to read"):
        owner.catalogue.register(record(), data=f"postgresql://me:{SECRET}@db.invalid/x")
    with pytest.raises(InvalidInput, match="expected a pandas DataFrame, a CSV or Parquet path, or a Source"):
        owner.catalogue.register(record(), data=[1, 2])
    with pytest.raises(InvalidInput, match="a table or a query, one of them"):
        owner.catalogue.register(record(), data=Source.database("sqlite:///x.db", table="a", query="SELECT 1"))
    with pytest.raises(InvalidInput, match="is not a table name"):
        owner.catalogue.register(record(), data=Source.database("sqlite:///x.db", table="a; DROP TABLE b"))
    assert SECRET not in all_audit_text(owner)


# ----- databases -------------------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_source(tmp_path: Path) -> str:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as conn:
        admissions(100).assign(admitted=lambda df: df.admitted.dt.strftime("%Y-%m-%d")).to_sql(
            "adm", conn, index=False, dtype={"admitted": "DATE"})
        conn.execute("CREATE TABLE log (n INTEGER)")
    return f"sqlite:///{path}"


@pytest.fixture
def pg_source() -> Iterator[tuple[str, str]]:
    """A throwaway schema with the admissions in a table on the test PostgreSQL server: (URL, schema)."""
    with pg_scratch_schema("src") as (url, schema, engine):
        with engine.begin() as conn:
            admissions(100).to_sql("adm", conn, schema=schema, index=False)
            conn.exec_driver_sql(f"CREATE SEQUENCE {schema}.seq")
        yield url, schema


def test_register_from_a_sqlite_table_and_query(staffed, sqlite_source) -> None:
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(), data=Source.database(sqlite_source, table="adm"))
    assert entry.row_count == 100 and entry.record["completeness"]["age_band"] == 0.9
    assert last_event(owner).detail["source"].startswith("table adm at sqlite:///")
    with pytest.raises(InvalidInput, match=r"'admitted' is declared 'date' but query at sqlite.* holds string"):
        # SQLite keeps dates as text: the table's declared DATE reads them as dates, a bare query does not
        owner.catalogue.register(record(), data=Source.database(sqlite_source, query="SELECT * FROM adm"))


def test_register_from_a_postgresql_table_and_query(staffed, pg_source) -> None:
    url, schema = pg_source
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(), data=Source.database(url, table=f"{schema}.adm"))
    assert entry.row_count == 100
    same_data(stored(owner), admissions(100))
    query = f"WITH a AS (SELECT * FROM {schema}.adm WHERE length_of_stay < 10) SELECT * FROM a"
    again = owner.catalogue.register(record(), data=Source.database(url, query=query))
    assert again.row_count == int((admissions(100).length_of_stay < 10).sum())
    assert "@" not in last_event(owner).detail["source"]


def test_queries_that_write_are_refused_before_they_run(staffed, pg_source) -> None:
    url, schema = pg_source
    owner = staffed(OWNER)
    before = state(owner)
    for query, what in ((f"DELETE FROM {schema}.adm", "DELETE"),
                        (f"WITH d AS (DELETE FROM {schema}.adm RETURNING *) SELECT * FROM d", "DELETE"),
                        (f"SELECT * INTO {schema}.copy FROM {schema}.adm", "INTO"),
                        (f"SELECT 1; DROP TABLE {schema}.adm", "2 statements"),
                        (f"SELECT * FROM {schema}.adm FOR UPDATE", "LOCK")):
        with pytest.raises(InvalidInput, match=what):
            owner.catalogue.register(record(), data=Source.database(url, query=query))
    # a function with side effects passes the parser and is stopped by the read-only transaction
    with pytest.raises(InvalidInput, match="read-only transaction"):
        owner.catalogue.register(record(), data=Source.database(url, query=f"SELECT nextval('{schema}.seq') AS n"))
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {schema}.adm").scalar_one() == 100
        assert not conn.exec_driver_sql("SELECT to_regclass(%s)", (f"{schema}.copy",)).scalar_one()
        assert conn.exec_driver_sql(f"SELECT last_value, is_called FROM {schema}.seq").one()[1] is False
    engine.dispose()
    assert state(owner) == before


def test_sqlite_queries_run_read_only(staffed, sqlite_source) -> None:
    owner = staffed(OWNER)
    with pytest.raises(InvalidInput, match="nothing was run"):
        owner.catalogue.register(record(), data=Source.database(sqlite_source, query="INSERT INTO log VALUES (1)"))


def test_databases_that_cannot_be_reached_or_tables_that_do_not_exist(staffed, tmp_path, sqlite_source) -> None:
    owner = staffed(OWNER)
    before = state(owner)
    unreachable = f"postgresql://someone:{SECRET}@127.0.0.1:1/nowhere"
    with pytest.raises(InvalidInput, match=r"cannot connect to postgresql://127.0.0.1:1/nowhere") as caught:
        owner.catalogue.register(record(), data=Source.database(unreachable, table="adm"))
    assert SECRET not in str(caught.value) and "someone" not in str(caught.value)
    with pytest.raises(InvalidInput, match="no SQLite database file"):
        owner.catalogue.register(record(), data=Source.database(f"sqlite:///{tmp_path}/none.db", table="adm"))
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(InvalidInput, match="there is no table 'missing'"):
        owner.catalogue.register(record(), data=Source.database(sqlite_source, table="missing"))
    with pytest.raises(InvalidInput, match=r"reading query at sqlite.* failed: no such table"):
        owner.catalogue.register(record(), data=Source.database(sqlite_source, query="SELECT * FROM missing"))
    with sqlite3.connect(sqlite_source.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE TABLE odd (admission_id TEXT, age_band TEXT, length_of_stay INTEGER, cost REAL, "
                     "admitted DATE)")
        conn.execute("INSERT INTO odd VALUES ('A1', NULL, 1, 1.0, 'yesterday')")
    with pytest.raises(InvalidInput, match="does not match the type the database declares"):
        owner.catalogue.register(record(), data=Source.database(sqlite_source, table="odd"))
    with pytest.raises(InvalidInput, match="cannot use nosuchdriver://"):
        owner.catalogue.register(record(), data=Source.database("nosuchdriver://h/d", table="adm"))
    assert state(owner) == before
    text = all_audit_text(owner)
    assert "cannot connect to postgresql://127.0.0.1:1/nowhere" in text
    assert SECRET not in text and "someone" not in text


def test_a_database_with_a_password_in_the_url_never_shows_it(staffed, pg_source) -> None:
    url, schema = pg_source
    parsed = sa.make_url(url)
    wrong = parsed.set(password=SECRET, username=parsed.username or "postgres")
    owner = staffed(OWNER)
    with pytest.raises(InvalidInput) as caught:
        owner.catalogue.register(record(), data=Source.database(wrong.render_as_string(hide_password=False),
                                                                 table=f"{schema}.missing"))
    assert SECRET not in str(caught.value) and SECRET not in all_audit_text(owner)


# ----- the read-only check on its own ----------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["SELECT 1", "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
                                   "SELECT 1 UNION ALL SELECT 2", "select * from s.t where name = 'DELETE'"])
def test_read_only_queries_pass(query) -> None:
    check_read_only(query, "postgresql")


@pytest.mark.parametrize(("query", "message"), [
    ("UPDATE t SET a = 1", "UPDATE"), ("DROP TABLE t", "DROP"), ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("VACUUM", "COMMAND"), ("SET search_path = x", "SET"), ("COPY t TO '/tmp/x'", "COPY"),
    ("SELEC 1", "cannot be read as SQL"), ("", "give the SELECT"), ("SELECT 1; SELECT 2", "2 statements"),
    ("INSERT INTO t SELECT 1", "INSERT"),
])
def test_writing_or_unreadable_queries_are_refused(query, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_read_only(query, "postgresql")
