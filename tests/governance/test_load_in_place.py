"""Datasets registered in place (a CSV file, a partitioned Parquet folder, an SQLite or PostgreSQL table): checked
and measured at registration without a copy, read at each load with the columns pruned and ``where`` pushed down,
and governed exactly as copied data — the same pseudonyms, minimisation, where, sample, batches and audit — in a
keyed, stable project order; they survive a restart; an unreachable source is refused naming the dataset and its
owner; a database's credentials never appear anywhere."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from factories import episode_record, episodes
from helpers import ADMIN, ANALYST, OWNER, PROJECT, Unchanged, cli_runner, events, pg_scratch_schema
from sqlalchemy import select

from workbench.catalogue.sources import Source
from workbench.db.schema import audit_events, dataset_sources, datasets
from workbench.errors import AccessDenied, InvalidInput, NotFound

pytestmark = pytest.mark.db  # also on PostgreSQL

DATASET = "dhsc.episodes"
ROWS = 300
WHERE = {"age_band": ["0-17", "65+"], "cost": {">=": 500, "<": 3000}}
SECRET = "s3cret-pw"
KINDS = ["csv", "parquet-folder", "sqlite", "postgresql"]


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("episode_id").reset_index(drop=True)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A throwaway schema on the test PostgreSQL server holding the episodes as ``ep``: (URL, schema)."""
    with pg_scratch_schema("inplace") as (url, schema, engine):
        with engine.begin() as conn:
            episodes(ROWS).to_sql("ep", conn, schema=schema, index=False)
        yield url, schema


def make_source(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Source:
    frame = episodes(ROWS)
    if kind == "csv":
        path = tmp_path / "episodes.csv"
        frame.to_csv(path, index=False)
        return Source(path=path)
    if kind == "parquet-folder":
        folder = tmp_path / "episodes"
        pq.write_to_dataset(pa.Table.from_pandas(frame, preserve_index=False), folder, partition_cols=["age_band"])
        return Source(path=folder)
    if kind == "sqlite":
        path = tmp_path / "source.db"
        with sqlite3.connect(path) as conn:
            frame.to_sql("ep", conn, index=False)
        return Source.database(f"sqlite:///{path}", table="ep")
    url, schema = request.getfixturevalue("pg_schema")
    with_password = sa.make_url(url)
    with_password = with_password.set(username=with_password.username or "postgres", password=SECRET)
    return Source.database(with_password.render_as_string(hide_password=False), table=f"{schema}.ep")


def grant(connect, project: str = PROJECT, columns: list[str] | None = None) -> int:
    request = connect(ANALYST).project(project).request_access(DATASET, columns, justification="Episodes by age")
    return connect(OWNER).owner.decide(request["id"], "approve")["grant_id"]


def everything_shown(ws) -> str:
    """What the workspace shows of itself: the audit log, the catalogue row and entry, the export."""
    with ws._ctx.db.read() as conn:
        audit = " ".join(f"{r.resource} {r.detail}" for r in conn.execute(select(audit_events)))
        rows = " ".join(map(repr, conn.execute(select(datasets)).all()))
        rows += " ".join(map(repr, conn.execute(select(dataset_sources)).all()))
    entry = ws.catalogue.get(DATASET)
    return " ".join([audit, rows, repr(entry), str(entry.record), ws.catalogue.export(DATASET)])


@pytest.mark.parametrize("kind", KINDS)
def test_in_place_loads_are_the_copied_loads(governed, tmp_path, request, kind) -> None:
    """The same source registered copied, then in place (re-registering switches it): every load gives the same
    rows, pseudonyms and types; where and sample keep the full in-place load's order."""
    source = make_source(kind, tmp_path, request)
    owner = governed(OWNER)
    copied_entry = owner.catalogue.register(episode_record(), data=source)
    grant(governed)
    project = governed(ANALYST).project(PROJECT)
    copied = project.load(DATASET)

    entry = owner.catalogue.register(episode_record(), data=source, mode="in-place")
    assert entry.has_data and entry.row_count == ROWS == copied_entry.row_count
    assert entry.record["completeness"] == copied_entry.record["completeness"]
    assert not owner._ctx.vault.dataset_path(DATASET).exists()  # nothing copied; the earlier copy removed
    assert events(owner)[-1]["detail"]["mode"] == "in-place"

    full = project.load(DATASET)
    pd.testing.assert_frame_equal(by_id(full), by_id(copied), check_like=True)
    assert list(full.columns) == list(copied.columns)
    assert full["episode_id"].str.len().eq(20).all()
    pd.testing.assert_frame_equal(project.load(DATASET), full)  # a stable order
    mask = full["age_band"].isin(["0-17", "65+"]) & (full["cost"] >= 500) & (full["cost"] < 3000)
    filtered = project.load(DATASET, where=WHERE)
    assert 0 < len(filtered) < len(full)
    pd.testing.assert_frame_equal(filtered, full[mask].reset_index(drop=True))
    some = project.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=10, seed=4)
    assert len(some) == 10
    pd.testing.assert_frame_equal(some, project.load(DATASET, ["cost", "episode_id"], where=WHERE, sample=10, seed=4))
    assert set(some["episode_id"]) <= set(filtered["episode_id"])
    # another column subset lines up row for row with the full load
    pd.testing.assert_frame_equal(project.load(DATASET, ["serial_no", "cost"]), full[["serial_no", "cost"]])
    pieces = list(project.batches(DATASET, where=WHERE, rows=13))
    assert all(len(p) <= 13 for p in pieces)
    pd.testing.assert_frame_equal(pd.concat(pieces).reset_index(drop=True), filtered)
    last = events(owner)[-1]
    assert (last["action"], last["outcome"]) == ("data.load", "ok") and last["detail"]["batch"]["rows"] == 13
    if kind == "postgresql":
        shown = everything_shown(owner)
        assert SECRET not in shown and "postgres@" not in shown
        path = owner._ctx.vault.root / "sources" / f"{DATASET}.url"
        assert SECRET in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600

    # re-registering as a copy forgets the source and its credentials
    owner.catalogue.register(episode_record(), data=source)
    assert owner._ctx.vault.dataset_path(DATASET).exists()
    assert not (owner._ctx.vault.root / "sources" / f"{DATASET}.url").exists()
    pd.testing.assert_frame_equal(by_id(project.load(DATASET)), by_id(copied))


def test_in_place_survives_a_restart_and_a_revoked_grant_is_refused(governed, tmp_path, request) -> None:
    source = make_source("parquet-folder", tmp_path, request)
    governed(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
    grant_id = grant(governed, columns=["household_serial", "age_band", "cost"])
    first = governed(ANALYST).project(PROJECT).load(DATASET, where={"age_band": "65+"})
    again = governed(ANALYST).project(PROJECT).load(DATASET, where={"age_band": "65+"})  # a new Workspace object
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["household_serial", "age_band", "cost"]  # minimised to the grant
    with pytest.raises(AccessDenied, match="serial_no"):
        governed(ANALYST).project(PROJECT).load(DATASET, ["serial_no"])
    governed(OWNER).owner.revoke(grant_id, reason="Project closed")
    with pytest.raises(AccessDenied):
        governed(ANALYST).project(PROJECT).load(DATASET)


def test_an_unreachable_source_is_refused_naming_the_dataset_and_its_owner(governed, tmp_path, request) -> None:
    source = make_source("csv", tmp_path, request)
    governed(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
    grant(governed)
    analyst = governed(ANALYST)
    assert len(analyst.project(PROJECT).load(DATASET)) == ROWS
    assert source.path is not None
    source.path.unlink()
    with pytest.raises(NotFound, match=rf"{DATASET} is registered in place .*Ask its owner \({OWNER}\)"):
        analyst.project(PROJECT).load(DATASET, where={"age_band": "65+"})
    event = events(analyst)[-1]
    assert (event["action"], event["outcome"]) == ("data.load", "refused") and OWNER in event["detail"]["reason"]


def test_a_dropped_table_is_refused_naming_the_dataset_and_its_owner(governed, tmp_path, request) -> None:
    source = make_source("postgresql", tmp_path, request)
    governed(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
    grant(governed)
    url, schema = request.getfixturevalue("pg_schema")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {schema}.ep")
    engine.dispose()
    with pytest.raises(NotFound, match=rf"{DATASET} is registered in place .*\({OWNER}\)") as caught:
        governed(ANALYST).project(PROJECT).load(DATASET)
    assert SECRET not in str(caught.value) and SECRET not in everything_shown(governed(OWNER))


def test_where_values_are_bound_never_pasted(governed, tmp_path, request) -> None:
    source = make_source("sqlite", tmp_path, request)
    governed(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
    grant(governed)
    project = governed(ANALYST).project(PROJECT)
    assert project.load(DATASET, where={"age_band": "x' OR '1'='1"}).empty
    assert project.load(DATASET, where={"age_band": ['0-17"; DROP TABLE ep; --']}).empty
    with pytest.raises(InvalidInput, match=r"'cost' of dhsc\.episodes holds float values; 'cheap' is not"):
        project.load(DATASET, where={"cost": "cheap"})
    assert len(project.load(DATASET)) == ROWS


@pytest.mark.parametrize(("make", "message"), [
    (lambda src: ("copied", {"mode": "elsewhere"}), "'elsewhere' is not a registration mode"),
    (lambda src: (episodes(ROWS), {"mode": "in-place"}), "a DataFrame or no data is registered with mode='copy'"),
    (lambda src: (None, {"mode": "in-place"}), "a DataFrame or no data is registered with mode='copy'"),
    (lambda src: (src / "missing.csv", {"mode": "in-place"}), "there is no file or folder"),
    (lambda src: (src / "wrong.csv", {"mode": "in-place"}), "the schema and the data disagree"),
    (lambda src: (src / "typed.csv", {"mode": "in-place"}), "'cost' is declared 'float' but 1 of its values"),
    (lambda src: (Source.database(f"sqlite:///{src / 'source.db'}", table="nope"), {"mode": "in-place"}),
     "there is no table 'nope'"),
    (lambda src: (Source.database(f"sqlite:///{src / 'source.db'}", query="DELETE FROM ep"), {"mode": "in-place"}),
     "only a read-only SELECT"),
    (lambda src: (Source.database(f"postgresql://someone:{SECRET}@127.0.0.1:1/nowhere", table="ep"),
                  {"mode": "in-place"}), "cannot connect to postgresql://127.0.0.1:1/nowhere"),
])
def test_bad_in_place_registrations_are_refused_whole_and_audited(governed, tmp_path, make, message) -> None:
    frame = episodes(ROWS)
    frame.drop(columns=["cost"]).to_csv(tmp_path / "wrong.csv", index=False)
    frame.assign(cost=frame["cost"].astype(object).where(frame.index != 5, "n/a")).to_csv(tmp_path / "typed.csv",
                                                                                        index=False)
    with sqlite3.connect(tmp_path / "source.db") as conn:
        frame.to_sql("ep", conn, index=False)
    owner = governed(OWNER)
    unchanged = Unchanged(owner)
    data, options = make(tmp_path)
    with pytest.raises(InvalidInput, match=message) as caught:
        owner.catalogue.register(episode_record(), data=data, **options)
    unchanged.check()
    assert not (owner._ctx.vault.root / "sources").exists() or not any((owner._ctx.vault.root / "sources").iterdir())
    event = events(owner)[-1]
    assert (event["action"], event["outcome"]) == ("catalogue.register", "refused")
    assert SECRET not in str(caught.value) and SECRET not in str(event)


def test_the_cli_registers_in_place(governed, tmp_path, request, monkeypatch, capsys) -> None:
    import yaml

    source = make_source("postgresql", tmp_path, request)
    entry = tmp_path / "entry.yaml"
    entry.write_text(yaml.safe_dump(episode_record()))
    run = cli_runner(governed, monkeypatch, capsys)
    assert source.url is not None and source.table is not None
    code, out, err = run(OWNER, "catalogue", "register", str(entry), "--data", source.url, "--table", source.table,
                         "--mode", "in-place")
    assert code == 0, err
    assert out.strip() == f"registered {DATASET} in place (nothing copied) with {ROWS:,} rows"
    code, out, err = run(OWNER, "catalogue", "show", DATASET)
    assert code == 0 and SECRET not in out + err
    assert f"Data held: in place: table {source.table} at postgresql://" in out
    with pytest.raises(SystemExit):
        run(OWNER, "catalogue", "register", str(entry), "--data", source.url, "--table", source.table,
            "--mode", "sideways")
    err = capsys.readouterr().err
    assert "invalid choice: 'sideways'" in err and SECRET not in err
    grant(governed)
    assert len(governed(ANALYST).project(PROJECT).load(DATASET, where={"age_band": "65+"})) > 0


@pytest.mark.parametrize("kind", ["parquet-folder", "postgresql"])
def test_outputs_by_spec_dp_and_derive_read_in_place_as_copied(governed, tmp_path, request, kind) -> None:
    """Tables by spec, DP queries and derived frames take the same reader: the same numbers as from the copy."""
    source = make_source(kind, tmp_path, request)
    owner = governed(OWNER)
    owner.catalogue.register(episode_record(), data=source)
    grant(governed)
    owner.dp.set_budget(DATASET, epsilon=500, project=PROJECT)
    project = governed(ANALYST).project(PROJECT)
    where = {"cost": {">=": 500}}

    def measured() -> tuple[pd.Series, float, pd.DataFrame, str]:
        table = project.tables.groupby_agg(DATASET, by="age_band", values="cost", aggfunc="mean", where=where).table
        count = float(project.dp.count(DATASET, epsilon=50, where=where).table.iat[0, 0])
        saved = project.derive(DATASET, columns=["episode_id", "age_band", "cost"], where=where, new_name="dear")
        frame = project.read("dear", saved["version"])
        listed = project.outputs.list()
        return table.iloc[:, 0].sort_index(), count, by_id(frame), str(listed.to_dict())

    copied_table, copied_count, copied_frame, _ = measured()
    owner.catalogue.register(episode_record(), data=source, mode="in-place")
    table, count, frame, listed = measured()
    pd.testing.assert_series_equal(table, copied_table)
    assert abs(count - copied_count) < 10
    pd.testing.assert_frame_equal(frame, copied_frame)
    assert SECRET not in listed and SECRET not in everything_shown(owner)


def test_linkage_of_a_dataset_read_in_place_is_the_copied_linkage(governed, tmp_path) -> None:
    from factories import linkable_people, people_records

    left_record, right_record = people_records()
    left, right, _truth = linkable_people()
    (tmp_path / "left").mkdir()
    pq.write_table(pa.Table.from_pandas(left, preserve_index=False), tmp_path / "left" / "part-0.parquet")
    governed(OWNER).catalogue.register(left_record, data=tmp_path / "left", mode="in-place")
    governed("priya.owner").catalogue.register(right_record, right)
    for dataset, owner, columns, linkage in (
            (left_record["localId"], OWNER, ["ref", "diagnosis"], ["forename", "surname", "dob", "postcode"]),
            (right_record["localId"], "priya.owner", ["ref", "status"], ["first_name", "surname", "dob", "postcode"])):
        request = governed(ANALYST).project(PROJECT).request_access(dataset, [*columns, *linkage],
                                                                    justification="Linkage study")
        governed(owner).owner.decide(request["id"], "approve", columns=columns, linkage=linkage)
    in_place_frame = governed(ANALYST).project(PROJECT).link(left_record["localId"], right_record["localId"]).frame
    governed(OWNER).catalogue.register(left_record, left)  # now copied
    copied_frame = governed(ANALYST).project(PROJECT).link(left_record["localId"], right_record["localId"]).frame
    pairs = [set(zip(f["ref_dhsc_people"], f["ref_ons_people"], strict=True)) for f in (in_place_frame, copied_frame)]
    assert pairs[0] == pairs[1] and len(pairs[0]) > 0


def test_the_twin_of_a_dataset_read_in_place_and_the_person_index(governed, tmp_path, request) -> None:
    source = make_source("csv", tmp_path, request)
    owner = governed(OWNER)
    owner.catalogue.register(episode_record(), data=source, mode="in-place")
    twin = owner.catalogue.twin(DATASET)
    assert list(twin.columns) == [c["name"] for c in episode_record()["columns"]] and len(twin) > 0
    pd.testing.assert_frame_equal(owner.catalogue.twin(DATASET), twin)  # kept: not charged again
    # read in place is no reason to refuse it (tests/person_index/test_in_place_index.py), not being about people is
    with pytest.raises(InvalidInput, match="is not a person-level dataset"):
        governed("ada.admin").person_index.build(DATASET)


def test_a_read_only_query_registered_in_place(governed, tmp_path) -> None:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as conn:
        episodes(ROWS).to_sql("ep", conn, index=False)
    query = "SELECT * FROM ep WHERE cost >= 1000"
    entry = governed(OWNER).catalogue.register(episode_record(), data=Source.database(f"sqlite:///{path}",
                                                                                      query=query), mode="in-place")
    assert entry.row_count == int((episodes(ROWS)["cost"] >= 1000).sum())
    grant(governed)
    frame = governed(ANALYST).project(PROJECT).load(DATASET, ["cost", "age_band"], where={"age_band": "65+"})
    expected = episodes(ROWS).query("cost >= 1000 and age_band == '65+'")
    assert sorted(frame["cost"]) == sorted(expected["cost"])


def test_a_postgresql_table_that_does_not_exist_or_does_not_fit_is_refused(governed, tmp_path, request) -> None:
    source = make_source("postgresql", tmp_path, request)
    owner = governed(OWNER)
    unchanged = Unchanged(owner)
    assert source.url is not None and source.table is not None
    missing = Source.database(source.url, table=source.table.replace(".ep", ".nope"))
    with pytest.raises(InvalidInput, match=r"there is no table '.*\.nope'") as caught:
        owner.catalogue.register(episode_record(), data=missing, mode="in-place")
    assert SECRET not in str(caught.value)
    columns = [c for c in episode_record()["columns"] if c["name"] != "cost"]
    with pytest.raises(InvalidInput, match="the schema and the data disagree"):
        owner.catalogue.register(episode_record(columns=columns), data=source, mode="in-place")
    typed = [{**c, "type": "integer"} if c["name"] == "cost" else c for c in episode_record()["columns"]]
    with pytest.raises(InvalidInput, match=r"'cost' is declared 'integer' but .* holds double"):
        owner.catalogue.register(episode_record(columns=typed), data=source, mode="in-place")
    unchanged.check()
    assert SECRET not in str(events(owner))


def test_only_the_owner_and_admins_see_where_an_in_place_source_is(governed, tmp_path, request) -> None:
    """Every reader of the catalogue learns that a dataset is read in place; its file path or database host only
    its owner, delegates and admins (an analyst has no use for it, and it says where to aim)."""
    source = make_source("csv", tmp_path, request)
    governed(OWNER).catalogue.register(episode_record(), data=source, mode="in-place")
    assert governed(ANALYST).catalogue.get(DATASET).storage == {"mode": "in-place"}
    assert "in place (read at its source" in governed(ANALYST).catalogue.get(DATASET).storage_summary
    for reader in (OWNER, ADMIN):
        storage = governed(reader).catalogue.get(DATASET).storage
        assert storage["mode"] == "in-place" and storage["location"].endswith("episodes.csv")


@pytest.mark.parametrize("mode", ["copy", "in-place"])
def test_a_file_inside_the_vault_is_never_a_source(governed, tmp_path, request, mode) -> None:
    """Another dataset's governed file (or anything else the vault keeps) cannot be registered again as a source,
    copied or in place: that would hand its owner's data to whoever grants the new entry."""
    governed(OWNER).catalogue.register(episode_record(), data=make_source("csv", tmp_path, request))
    held = governed(OWNER)._ctx.vault.dataset_path(DATASET)
    assert held.exists()
    record = {**episode_record(), "localId": "dhsc.episodes_again", "identifier": "https://example.org/again"}
    unchanged = Unchanged(governed(OWNER))
    with pytest.raises(InvalidInput, match="inside the workbench's vault"):
        governed(OWNER).catalogue.register(record, data=held, mode=mode)
    unchanged.check()
