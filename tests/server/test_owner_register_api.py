"""An owner drafts and registers a dataset from the lab (``owner/draft``, ``owner/register``): a CSV, a partitioned
Parquet folder, a SQLite and a PostgreSQL table; refusals listed field by field for the form, in the lab's terms
(paths relative to its folder, database URLs without credentials); hostile paths, bodies and YAML refused; only
owners and admins may draft or register, and their refusals are audited."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import yaml
from factories import admissions, record
from helpers import ADMIN, ANALYST, OWNER, PROJECT, pg_scratch_schema
from sqlalchemy import func, select

from workbench.db.schema import audit_events, datasets

SECRET = "s3cret-pw"


def entry_yaml(**changes) -> str:
    return yaml.safe_dump(record(**changes), sort_keys=False)


def denied(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)
                            .where(audit_events.c.outcome.in_(["denied", "refused"]))).scalar_one()


def catalogued(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(datasets)).scalar_one()


@pytest.fixture
def lab_csv(jp_root_dir: Path) -> str:
    admissions(100).to_csv(jp_root_dir / "admissions.csv", index=False)
    return "admissions.csv"


async def test_an_owner_drafts_from_a_csv_in_the_lab_and_registers_it(api, served, lab_csv) -> None:
    draft = await api(OWNER, "POST", "owner", "draft", body={"path": lab_csv})
    assert draft.status == 200, draft
    assert draft.json["source"] == "file admissions.csv"
    assert "Drafted from CSV file admissions.csv" in draft.json["yaml"]  # not the server's path
    assert [c["name"] for c in yaml.safe_load(draft.json["yaml"])["columns"]] == list(admissions(1).columns)
    assert {p["field"] for p in draft.json["problems"]} >= {"title", "description", "identifier"}

    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": lab_csv,
                                                                 "mode": "copy"})
    assert reply.status == 200, reply
    assert (reply.json["id"], reply.json["row_count"], reply.json["has_data"]) == ("dhsc.admissions", 100, True)
    assert reply.json["owner"]["username"] == OWNER
    assert served(OWNER).catalogue["dhsc.admissions"].row_count == 100


async def test_a_partitioned_parquet_folder_registers_from_a_json_entry(api, served, jp_root_dir) -> None:
    frame = admissions(60)
    pq.write_to_dataset(pa.Table.from_pandas(frame.assign(length_of_stay=frame.length_of_stay % 3),
                                             preserve_index=False), jp_root_dir / "data" / "parts",
                        partition_cols=["length_of_stay"])
    reply = await api(ADMIN, "POST", "owner", "register", body={"entry": record(dataOwner=OWNER),
                                                                 "path": "data/parts", "mode": "copy"})
    assert reply.status == 200, reply
    assert reply.json["row_count"] == 60


async def test_a_draft_with_placeholders_is_refused_field_by_field(api, served, lab_csv) -> None:
    draft = await api(OWNER, "POST", "owner", "draft", body={"path": lab_csv})
    before = catalogued(served(OWNER))
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": draft.json["yaml"], "path": lab_csv,
                                                                 "mode": "copy"})
    assert reply.status == 400, reply
    fields = {p["field"] for p in reply.json["problems"]}
    assert fields == {p["field"] for p in draft.json["problems"]}
    assert all(p["message"] == "still a placeholder" for p in reply.json["problems"])
    assert catalogued(served(OWNER)) == before


async def test_a_csv_whose_columns_do_not_match_is_refused_in_the_lab_s_terms(api, served, jp_root_dir) -> None:
    admissions(50).drop(columns=["cost"]).to_csv(jp_root_dir / "bad.csv", index=False)
    before = denied(served(OWNER))
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": "bad.csv",
                                                                 "mode": "copy"})
    assert reply.status == 400, reply
    assert "declared but not in the data: cost" in reply.json["message"]
    assert str(jp_root_dir) not in json.dumps(reply.json)
    assert reply.json["problems"] and reply.json["problems"][0]["field"] == reply.json["field"]
    assert denied(served(OWNER)) == before + 1  # audited by the catalogue


async def test_an_invalid_entry_lists_its_problems(api, served, lab_csv) -> None:
    doc = record()
    doc["columns"][1]["type"] = "colour"
    del doc["title"]
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": doc, "path": lab_csv, "mode": "copy"})
    assert reply.status == 400, reply
    fields = [p["field"] for p in reply.json["problems"]]
    assert any("title" in f for f in fields) and any("columns" in f for f in fields), reply.json


@pytest.mark.parametrize("make", ["parent", "absolute", "link", "link-in-folder", "sqlite-outside"])
async def test_paths_outside_the_lab_s_folder_are_refused(api, served, jp_root_dir, tmp_path_factory, make) -> None:
    outside = tmp_path_factory.mktemp("outside")
    admissions(10).to_csv(outside / "secret.csv", index=False)
    body: dict = {"path": "../secret.csv"}
    if make == "absolute":
        body = {"path": str(outside / "secret.csv")}
    elif make == "link":
        (jp_root_dir / "innocent.csv").symlink_to(outside / "secret.csv")
        body = {"path": "innocent.csv"}
    elif make == "link-in-folder":
        (jp_root_dir / "folder").mkdir()
        pq.write_table(pa.Table.from_pandas(admissions(10)), jp_root_dir / "folder" / "a.parquet")
        pq.write_table(pa.Table.from_pandas(admissions(10)), outside / "b.parquet")
        (jp_root_dir / "folder" / "b.parquet").symlink_to(outside / "b.parquet")
        body = {"path": "folder"}
    elif make == "sqlite-outside":
        with sqlite3.connect(outside / "s.db") as conn:
            conn.execute("CREATE TABLE t (n INTEGER)")
        body = {"url": f"sqlite:///{outside / 's.db'}", "table": "t"}
    for route, extra in (("draft", {}), ("register", {"entry": entry_yaml(), "mode": "copy"})):
        reply = await api(OWNER, "POST", "owner", route, body={**body, **extra})
        assert reply.status == 400, reply
        assert reply.json["field"] == ("url" if make == "sqlite-outside" else "path"), reply.json
        assert "outside the lab's folder" in reply.json["message"] or "'..'" in reply.json["message"]


async def test_analysts_may_neither_draft_nor_register_and_are_audited(api, served, lab_csv) -> None:
    before = denied(served(ANALYST)), catalogued(served(ANALYST))
    draft = await api(ANALYST, "POST", "owner", "draft", body={"path": lab_csv})
    assert draft.status == 403, draft
    reply = await api(ANALYST, "POST", "owner", "register", body={"entry": entry_yaml(dataOwner=OWNER),
                                                                   "path": lab_csv, "mode": "copy"})
    assert reply.status == 403, reply
    assert (denied(served(ANALYST)), catalogued(served(ANALYST))) == (before[0] + 2, before[1])
    nobody = await api(None, "POST", "owner", "draft", body={"path": lab_csv})
    assert nobody.status == 403


async def test_bad_shapes_modes_and_bodies_are_refused(api, served, lab_csv) -> None:
    cases = [
        ({"path": lab_csv, "url": "sqlite:///x.db"}, "draft", "url"),
        ({}, "draft", "path"),
        ({"path": lab_csv, "table": "t"}, "draft", "table"),
        ({"path": lab_csv, "entry": entry_yaml(), "mode": "sideways"}, "register", "mode"),
        ({"path": lab_csv, "entry": entry_yaml()}, "register", "mode"),
        ({"path": lab_csv, "entry": 3, "mode": "copy"}, "register", "entry"),
        ({"path": lab_csv, "entry": "a: &x [1]\nb: *x\n", "mode": "copy"}, "register", "entry"),
        ({"path": "nothing-here.csv"}, "draft", "data"),
        ({"path": lab_csv, "surprise": 1}, "draft", "surprise"),
    ]
    for body, route, field in cases:
        reply = await api(OWNER, "POST", "owner", route, body=body)
        assert (reply.status, reply.json["field"]) == (400, field), (body, reply)
    big = await api(OWNER, "POST", "owner", "register", raw=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert big.status == 413, big
    small_route = await api(OWNER, "POST", "owner", "draft", raw=b"{" + b" " * (64 * 1024 + 10) + b"}")
    assert small_route.status == 413, small_route


def granted_load(served, dataset_id: str, rows: int) -> None:
    """An analyst with a grant loads the dataset with ``where`` and ``sample``, read at its source."""
    request = served(ANALYST).project(PROJECT).request_access(dataset_id, justification="Admissions by age band")
    served(OWNER).owner.decide(request["id"], "approve")
    project = served(ANALYST).project(PROJECT)
    assert len(project.load(dataset_id)) == rows
    kept = project.load(dataset_id, where={"age_band": "65+"})
    assert 0 < len(kept) < rows and set(kept.age_band) == {"65+"}
    assert len(project.load(dataset_id, where={"age_band": "65+"}, sample=5, seed=1)) == min(5, len(kept))


def held_in_place(reply, kind: str, source: str) -> None:
    """The answer says the data is read in place at ``source`` (named as the lab does), with a version of it."""
    assert reply.status == 200, reply
    assert reply.json["storage"]["mode"] == "in-place" and reply.json["storage"]["kind"] == kind, reply.json
    assert reply.json["storage"]["source"] == source
    assert [(v["number"], v["mode"], v["current"]) for v in reply.json["versions"]] == [(1, "in-place", True)]


async def test_in_place_is_passed_on_and_a_bad_mode_refused(api, served, lab_csv, jp_root_dir) -> None:
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": lab_csv,
                                                                 "mode": "in-place"})
    held_in_place(reply, "csv", "CSV file admissions.csv")
    assert reply.json["row_count"] == 100 and reply.json["has_data"]
    assert not served(OWNER)._ctx.vault.dataset_path("dhsc.admissions").exists()  # nothing copied into the vault
    shown = await api(OWNER, "GET", "catalogue", "dhsc.admissions")
    assert shown.json["storage"] == reply.json["storage"] and str(jp_root_dir) not in json.dumps(shown.json)
    seen = await api(ANALYST, "GET", "catalogue", "dhsc.admissions")  # analysts learn the mode, not the place
    assert seen.json["storage"] == {"mode": "in-place"} and "admissions.csv" not in json.dumps(seen.json["storage"])
    granted_load(served, "dhsc.admissions", 100)
    refused = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": lab_csv,
                                                                   "mode": "in_place"})
    assert (refused.status, refused.json["field"]) == (400, "mode")
    assert "choose copy or in-place" in refused.json["message"]


async def test_a_copied_dataset_says_so(api, served, lab_csv) -> None:
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": lab_csv,
                                                                 "mode": "copy"})
    assert reply.json["storage"] == {"mode": "copy"}, reply
    assert served(OWNER)._ctx.vault.dataset_path("dhsc.admissions").exists()


async def test_a_partitioned_parquet_folder_registers_in_place(api, served, jp_root_dir) -> None:
    frame = admissions(60)
    pq.write_to_dataset(pa.Table.from_pandas(frame.assign(length_of_stay=frame.length_of_stay % 3),
                                             preserve_index=False), jp_root_dir / "data" / "parts",
                        partition_cols=["length_of_stay"])
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "path": "data/parts",
                                                                 "mode": "in-place"})
    held_in_place(reply, "parquet", "Parquet data data/parts")
    assert reply.json["row_count"] == 60
    assert not served(OWNER)._ctx.vault.dataset_path("dhsc.admissions").exists()
    granted_load(served, "dhsc.admissions", 60)


async def test_in_place_from_an_unreachable_database_is_refused_without_its_login(api, served) -> None:
    before = catalogued(served(OWNER))
    url = f"postgresql://someone:{SECRET}@127.0.0.1:1/nothing"
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "url": url, "table": "adm",
                                                                 "mode": "in-place"})
    assert reply.status == 400, reply
    assert reply.json["problems"] and reply.json["problems"][0]["field"] == reply.json["field"], reply.json
    text = json.dumps(reply.json)
    assert SECRET not in text and "someone" not in text
    assert catalogued(served(OWNER)) == before


@pytest.fixture
def lab_sqlite(jp_root_dir: Path) -> str:
    with sqlite3.connect(jp_root_dir / "source.db") as conn:
        admissions(40).assign(admitted=lambda df: df.admitted.dt.strftime("%Y-%m-%d")).to_sql(
            "adm", conn, index=False, dtype={"admitted": "DATE"})
    return "sqlite:///source.db"  # relative to the lab's folder


async def test_a_sqlite_table_in_the_lab_s_folder(api, served, lab_sqlite) -> None:
    draft = await api(OWNER, "POST", "owner", "draft", body={"url": lab_sqlite, "table": "adm"})
    assert draft.status == 200, draft
    assert draft.json["source"].startswith("table adm at sqlite://")
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "url": lab_sqlite,
                                                                 "table": "adm", "mode": "copy"})
    assert reply.status == 200 and reply.json["row_count"] == 40, reply


@pytest.fixture
def pg_table() -> Iterator[tuple[str, str]]:
    with pg_scratch_schema("lab") as (url, schema, engine):
        with engine.begin() as conn:
            admissions(70).to_sql("adm", conn, schema=schema, index=False)
        yield url, f"{schema}.adm"


async def test_a_postgresql_table_and_credentials_never_echoed(api, served, pg_table) -> None:
    url, table = pg_table
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "url": url, "table": table,
                                                                 "mode": "copy"})
    assert reply.status == 200 and reply.json["row_count"] == 70, reply
    parsed = sa.engine.make_url(url)
    wrong = parsed.set(username="someone", password=SECRET, port=1).render_as_string(hide_password=False)
    for route, extra in (("draft", {}), ("register", {"entry": entry_yaml(), "mode": "copy"})):
        refused = await api(OWNER, "POST", "owner", route, body={"url": wrong, "table": table, **extra})
        assert refused.status == 400, refused
        assert SECRET not in json.dumps(refused.json) and "someone" not in json.dumps(refused.json)


async def test_a_postgresql_table_registers_in_place(api, served, pg_table) -> None:
    url, table = pg_table
    reply = await api(OWNER, "POST", "owner", "register", body={"entry": entry_yaml(), "url": url, "table": table,
                                                                 "mode": "in-place"})
    location = sa.engine.make_url(url)
    held_in_place(reply, "table", f"table {table} at postgresql://{location.host}:{location.port or 5432}/"
                                  f"{location.database}")
    assert reply.json["row_count"] == 70 and "postgres@" not in json.dumps(reply.json)
    assert not served(OWNER)._ctx.vault.dataset_path("dhsc.admissions").exists()
    granted_load(served, "dhsc.admissions", 70)
