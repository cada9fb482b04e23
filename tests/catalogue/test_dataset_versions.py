"""Dataset versions on SQLite and PostgreSQL: registering data again makes a new version (number, date, rows,
checksum) that the entry lists; grants cover the current version unless the owner pins one, and a pinned version
still loads after the data changed; loads, tables by spec and the usage report name the version they used; a
failed registration leaves the previous version current with nothing written half-way; revoking and registering
again behave."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from factories import admissions, patient_record, patients, record
from helpers import ADMIN, ANALYST, DATASET, OTHER_PROJECT, OWNER, PROJECT, cli_runner, grant
from sqlalchemy import select

from workbench.catalogue import versions
from workbench.db.schema import audit_events, data_loads, dataset_versions, outputs
from workbench.errors import AccessDenied, Conflict, InvalidInput
from workbench.server.handlers import catalogue_entry

pytestmark = pytest.mark.db  # also on PostgreSQL


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vault_files(ws) -> dict[str, str]:
    """Every file under the vault's datasets folder (hidden staging files included) with its SHA-256."""
    root = ws._ctx.vault.root / "datasets"
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def version_rows(ws, dataset_id: str = DATASET) -> list[dict]:
    with ws._ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(select(dataset_versions)
                                              .where(dataset_versions.c.dataset_id == dataset_id)
                                              .order_by(dataset_versions.c.number)).mappings()]


def events(ws, action: str) -> list:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).where(audit_events.c.action == action)
                            .order_by(audit_events.c.seq)).all()


def register_again(governed, rows: int = 120, seed: int = 2):
    return governed(OWNER).catalogue.register(patient_record(), patients(rows, seed))


def test_registering_again_makes_a_new_version_listed_by_the_entry(governed) -> None:
    owner = governed(OWNER)
    vault = owner._ctx.vault
    first = owner.catalogue.get(DATASET)
    assert [(v["number"], v["rows"], v["current"]) for v in first.versions] == [(1, 100, True)]
    assert first.versions[0]["checksum"] == sha256(vault.dataset_path(DATASET))

    entry = register_again(governed)
    assert entry.row_count == 120
    listed = entry.versions
    assert [(v["number"], v["rows"], v["current"], v["mode"]) for v in listed] == [(1, 100, False, "copy"),
                                                                                   (2, 120, True, "copy")]
    assert listed[0]["registeredAt"] <= listed[1]["registeredAt"] and listed[1]["registeredBy"] == OWNER
    # the current file is version 2's; version 1 is kept, unchanged, beside it
    assert listed[1]["checksum"] == sha256(vault.dataset_path(DATASET))
    assert listed[0]["checksum"] == sha256(vault.dataset_version_path(DATASET, 1)) != listed[1]["checksum"]
    assert len(pd.read_parquet(vault.dataset_version_path(DATASET, 1))) == 100
    assert len(pd.read_parquet(vault.dataset_path(DATASET))) == 120
    assert events(owner, "catalogue.update")[-1].detail["version"] == 2
    assert "v2 (current)" in entry.versions_summary and "v2 (current)" in entry._repr_html_()

    # the REST entry route (the owner panel) lists them in the same shape
    shown = catalogue_entry(governed(ANALYST), DATASET)["versions"]
    assert [{k: v[k] for k in ("number", "rows", "current")} for v in shown] == [
        {"number": 1, "rows": 100, "current": False}, {"number": 2, "rows": 120, "current": True}]
    assert {"number", "registeredAt", "rows", "checksum", "marker", "current"} <= set(shown[0])

    # metadata alone changes no version
    owner.catalogue.register(patient_record(title="Admissions by trust, renamed"))
    assert [v["number"] for v in owner.catalogue.get(DATASET).versions] == [1, 2]


def test_unpinned_grants_follow_the_current_version_and_pinned_ones_keep_theirs(governed) -> None:
    follows = grant(governed)["grant_id"]
    pinned = grant(governed, OTHER_PROJECT, version=1)["grant_id"]
    analyst = governed(ANALYST)
    assert len(analyst.project(PROJECT).load(DATASET)) == 100  # builds the project's caches of version 1

    register_again(governed)
    now = analyst.project(PROJECT).load(DATASET)
    kept = analyst.project(OTHER_PROJECT).load(DATASET)
    assert len(now) == 120 and len(kept) == 100  # caches of version 1 never answer for version 2
    assert sorted(kept["cost"]) == sorted(patients(100)["cost"])
    assert sorted(now["cost"]) == sorted(patients(120, 2)["cost"])
    # a pinned version keeps its own caches: loading it again, and the current one, gives the same rows
    pd.testing.assert_frame_equal(analyst.project(OTHER_PROJECT).load(DATASET), kept)
    pd.testing.assert_frame_equal(analyst.project(PROJECT).load(DATASET), now)
    # pseudonyms are of the values, not the version: a person in both versions has one pseudonym in a project
    v1_in_project = analyst.project(PROJECT).load(DATASET, ["length_of_stay"])  # still version 2: 120 rows
    assert len(v1_in_project) == 120

    with analyst._ctx.db.read() as conn:
        loaded = conn.execute(select(data_loads.c.project_id, data_loads.c.version, data_loads.c.row_count)
                              .order_by(data_loads.c.id)).all()
    assert [tuple(r) for r in loaded] == [(PROJECT, 1, 100), (PROJECT, 2, 120), (OTHER_PROJECT, 1, 100),
                                          (OTHER_PROJECT, 1, 100), (PROJECT, 2, 120), (PROJECT, 2, 120)]
    assert [e.detail["version"] for e in events(analyst, "data.load")] == [1, 2, 1, 1, 2, 2]

    report = governed(OWNER).owner.usage(DATASET)
    assert report.versions[["version", "rows", "current", "loads", "projects_loading", "grants"]].to_dict(
        "records") == [{"version": 1, "rows": 100, "current": False, "loads": 3, "projects_loading": 2, "grants": 1},
                       {"version": 2, "rows": 120, "current": True, "loads": 3, "projects_loading": 1, "grants": 1}]
    grants = report.grants.set_index("grant_id")
    assert (grants.loc[follows, "version"], bool(grants.loc[follows, "pinned"])) == (2, False)
    assert (grants.loc[pinned, "version"], bool(grants.loc[pinned, "pinned"])) == (1, True)
    by_version = report.loads.groupby("version")["loads"].sum().to_dict()
    assert by_version == {1: 3, 2: 3}
    assert "Versions of its data" in report._repr_html_()


def test_the_owner_pins_and_unpins_a_grant_and_bad_pins_are_refused(governed) -> None:
    grant_id = grant(governed)["grant_id"]
    register_again(governed)
    owner, analyst = governed(OWNER), governed(ANALYST)
    assert len(analyst.project(PROJECT).load(DATASET)) == 120

    pinned = owner.owner.pin(grant_id, 1)
    assert pinned["version"] == 1 and owner.owner.grants(DATASET).set_index("id").loc[grant_id, "version"] == 1
    assert len(analyst.project(PROJECT).load(DATASET)) == 100
    assert events(owner, "access.pin")[-1].detail == {"version": 1, "was": None}
    owner.owner.pin(grant_id, None)
    assert len(analyst.project(PROJECT).load(DATASET)) == 120

    for bad, message in ((3, "has versions 1 to 2, not 3"), (0, "not 0"), (True, "not True"), ("1", "not '1'")):
        with pytest.raises(InvalidInput, match=message):
            owner.owner.pin(grant_id, bad)
    with pytest.raises(AccessDenied):
        analyst.owner.pin(grant_id, 1)
    refused = [e for e in events(owner, "access.pin") if e.outcome != "ok"]
    assert len(refused) == 5  # every refusal audited
    assert owner.owner.grants(DATASET).set_index("id").loc[grant_id, "version"] is None

    # approving with a version that does not exist is refused and leaves the request pending
    request = analyst.project(OTHER_PROJECT).request_access(DATASET, justification="Planning")
    with pytest.raises(InvalidInput, match="has versions 1 to 2, not 7"):
        owner.owner.decide(request["id"], "approve", version=7)
    assert analyst.access.mine().set_index("id").loc[request["id"], "status"] == "pending"
    assert owner.owner.decide(request["id"], "approve", version=2)["status"] == "approved"


def test_a_failed_registration_leaves_the_previous_version_current(staffed, tmp_path, monkeypatch) -> None:
    owner = staffed(OWNER)
    good = tmp_path / "admissions.csv"
    admissions(100).to_csv(good, index=False)
    owner.catalogue.register(record(), data=str(good))
    before_files, before_rows = vault_files(owner), version_rows(owner, "dhsc.admissions")

    missing = tmp_path / "missing.csv"
    admissions(50).drop(columns=["cost"]).to_csv(missing, index=False)
    mistyped = tmp_path / "mistyped.csv"
    admissions(50).assign(length_of_stay="long").to_csv(mistyped, index=False)
    for bad in (missing, mistyped):
        with pytest.raises(InvalidInput):
            owner.catalogue.register(record(), data=str(bad))
    with pytest.raises(InvalidInput):
        owner.catalogue.register(record(), admissions(50).drop(columns=["cost"]))

    # a failure inside the registration's transaction, after the data was staged and hashed
    def broken(*args, **kwargs):
        raise InvalidInput("the database refused the version (simulated)")

    monkeypatch.setattr(versions, "record_version", broken)
    with pytest.raises(InvalidInput, match="simulated"):
        owner.catalogue.register(record(), data=str(good))
    with pytest.raises(InvalidInput, match="simulated"):
        owner.catalogue.register(record(), admissions(30))
    monkeypatch.undo()

    assert version_rows(owner, "dhsc.admissions") == before_rows
    entry = owner.catalogue.get("dhsc.admissions")
    assert entry.row_count == 100 and [v["number"] for v in entry.versions] == [1]
    assert vault_files(owner) == before_files  # no staged file, no version 2 file, the current file unchanged
    assert "versions/dhsc.admissions/v1.parquet" in before_files
    refused = [e for e in events(owner, "catalogue.register") if e.outcome != "ok"]
    assert len(refused) >= 3  # the source registrations' refusals are audited


def test_outputs_by_spec_name_the_version_they_read(governed) -> None:
    grant(governed)
    grant(governed, OTHER_PROJECT, version=1)
    register_again(governed)
    analyst = governed(ANALYST)
    vault = analyst._ctx.vault
    current = analyst.project(PROJECT).tables.groupby_agg(DATASET, by="age_band", values="cost")
    pinned = analyst.project(OTHER_PROJECT).tables.groupby_agg(DATASET, by="age_band", values="cost")
    with analyst._ctx.db.read() as conn:
        origins = {row.id: row.origin for row in conn.execute(select(outputs.c.id, outputs.c.origin))}
    first, second = (origins[int(o.uid.rsplit("_", 1)[-1])] for o in (current, pinned))
    assert (first["version"], second["version"]) == (2, 1)
    assert first["sha256"] == sha256(vault.dataset_path(DATASET))
    assert second["sha256"] == sha256(vault.dataset_version_path(DATASET, 1))
    report = governed(OWNER).owner.usage(DATASET)
    assert sorted(report.outputs["version"]) == ["1", "2"]


def test_revoking_then_registering_again(governed) -> None:
    grant_id = grant(governed)["grant_id"]
    owner, analyst = governed(OWNER), governed(ANALYST)
    owner.owner.revoke(grant_id, reason="The data is being replaced")
    register_again(governed)
    with pytest.raises(AccessDenied, match="revoked"):
        analyst.project(PROJECT).load(DATASET)
    with pytest.raises(Conflict, match="revoked"):
        owner.owner.pin(grant_id, 1)
    renewed = grant(governed, version=1)
    assert renewed["status"] == "approved"
    assert len(analyst.project(PROJECT).load(DATASET)) == 100  # the new grant is pinned to version 1
    owner.owner.pin(renewed["grant_id"], None)
    assert len(analyst.project(PROJECT).load(DATASET)) == 120
    # registering once more: the unpinned grant follows, without a new decision
    register_again(governed, rows=90, seed=3)
    assert len(analyst.project(PROJECT).load(DATASET)) == 90
    assert [v["number"] for v in owner.catalogue.get(DATASET).versions] == [1, 2, 3]


def test_admins_may_pin_and_the_cli_pins(governed, monkeypatch, capsys) -> None:
    grant_id = grant(governed)["grant_id"]
    register_again(governed)
    assert governed(ADMIN).owner.pin(grant_id, 1)["version"] == 1
    run = cli_runner(governed, monkeypatch, capsys)
    code, out, _ = run(OWNER, "owner", "pin", str(grant_id), "--current")
    assert code == 0 and "follows the current version" in out
    code, out, _ = run(OWNER, "owner", "usage", DATASET)
    assert code == 0 and "Versions" in out


def test_a_pinned_older_version_loads_without_the_person_index_s_person_id(governed) -> None:
    grant(governed, version=1)
    register_again(governed)
    project = governed(ANALYST).project(PROJECT)
    entry = governed(ANALYST).catalogue.get(DATASET)
    if not entry.provided:
        pytest.skip("the dataset is not linked to the person index here")
    frame = project.load(DATASET)
    assert len(frame) == 100 and "person_id" not in frame.columns  # the index links version 2, not 1
    with pytest.raises(InvalidInput, match="person index, which links the current version"):
        project.load(DATASET, ["person_id", "cost"])
    assert events(governed(ANALYST), "data.load")[-1].outcome == "refused"


def test_upgrading_makes_data_registered_before_versions_version_1(governed) -> None:
    from alembic import command

    from workbench.db import current_revision, head_revision, migrations_config

    ws = governed(ADMIN)
    config = migrations_config()
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    assert current_revision(ws._ctx.db) == "0014"
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert current_revision(ws._ctx.db) == head_revision()
    listed = governed(OWNER).catalogue.get(DATASET).versions
    assert [(v["number"], v["rows"], v["checksum"], v["current"]) for v in listed] == [(1, 100, None, True)]
    # registering again keeps the data of before as version 1, loadable by a pinned grant
    vault = ws._ctx.vault
    vault.dataset_version_path(DATASET, 1).unlink()  # as stored before versions were kept: no version file
    before = sha256(vault.dataset_path(DATASET))
    grant(governed, version=1)
    register_again(governed)
    assert sha256(vault.dataset_version_path(DATASET, 1)) == before
    assert len(governed(ANALYST).project(PROJECT).load(DATASET)) == 100


def test_registering_in_place_makes_a_version_with_a_marker_and_keeps_the_copy_before(governed, tmp_path) -> None:
    owner, analyst = governed(OWNER), governed(ANALYST)
    owner.catalogue.register(record(), admissions(100))  # version 1: a copy
    request = analyst.project(PROJECT).request_access("dhsc.admissions", justification="Costs")
    pinned = owner.owner.decide(request["id"], "approve", version=1)["grant_id"]
    source = tmp_path / "admissions.parquet"
    admissions(70, seed=4).to_parquet(source, index=False)
    entry = owner.catalogue.register(record(), data=str(source), mode="in-place")  # version 2: read in place
    second = entry.versions[-1]
    assert (second["number"], second["mode"], second["rows"], second["checksum"]) == (2, "in-place", 70, None)
    assert second["marker"].startswith("registered ") and "1 file(s)" in second["marker"]
    assert str(source) not in second["marker"]  # a digest of where, not the place itself
    project = analyst.project(PROJECT)
    assert len(project.load("dhsc.admissions")) == 100  # the pinned copy, kept though the current data is in place
    owner.owner.pin(pinned, None)
    assert len(project.load("dhsc.admissions")) == 70  # the current version, read at its source
    assert [e.detail["version"] for e in events(analyst, "data.load")][-2:] == [1, 2]
