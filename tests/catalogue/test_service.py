"""Catalogue service on SQLite and PostgreSQL: register, import, search, export — and refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from factories import admissions, record
from helpers import ADMIN, ANALYST, OTHER_OWNER, OWNER, REFERENCE, cli_runner
from sqlalchemy import func, select

from workbench.catalogue.model import MetadataInvalid
from workbench.db.schema import audit_events, contact_points, datasets, distributions
from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.db  # also on PostgreSQL


def counts(ws) -> dict[str, int]:
    with ws._ctx.db.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (datasets, distributions, contact_points, audit_events)}


def vault_files(ws) -> list[str]:
    return sorted(p.name for p in (ws.home / "vault").rglob("*") if p.is_file())


# ----- registering ----------------------------------------------------------------------------------------
def test_register_with_data_computes_quality_and_stores_the_data(staffed) -> None:
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(), admissions(100))
    assert entry.id == "dhsc.admissions" and entry.owner == OWNER  # owner defaults to the registering owner
    assert entry.row_count == 100
    completeness = entry.record["completeness"]
    assert completeness["age_band"] == 0.9 and completeness["cost"] == 1.0
    assert entry.has_data
    stored = owner._ctx.vault.read_dataset("dhsc.admissions")
    pd.testing.assert_frame_equal(stored, admissions(100), check_dtype=False)
    schema = entry.schema
    assert list(schema["name"]) == [c["name"] for c in record()["columns"]]
    assert schema.set_index("name").loc["age_band", "completeness"] == 0.9
    with owner._ctx.db.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).first()
    assert (last.action, last.resource, last.outcome, last.actor) == (
        "catalogue.register", "dataset dhsc.admissions", "ok", OWNER)
    assert last.detail["rows"] == 100


def test_declared_row_count_is_replaced_by_the_data(staffed) -> None:
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(rowCount=5, completeness={"cost": 0.1}), admissions(40))
    assert entry.row_count == 40 and entry.record["completeness"]["cost"] == 1.0
    # a later metadata-only update keeps the figures computed from the stored data
    again = owner.catalogue.register(record(title="Hospital admissions (revised)", rowCount=7))
    assert again.row_count == 40 and again.title == "Hospital admissions (revised)"


@pytest.mark.parametrize(("change", "message"), [
    (lambda df: df.assign(length_of_stay=df.length_of_stay + 0.5), "declared 'integer'"),
    (lambda df: df.drop(columns=["cost"]), "declared but not in the data: cost"),
    (lambda df: df.assign(extra=1), "in the data but not declared: extra"),
    (lambda df: df.assign(age_band="unknown-band"), "not among its declared categories"),
    (lambda df: df.assign(admitted="2025-01-01"), "declared 'date'"),
    (lambda df: df.assign(admission_id=1), "declared 'string'"),
    (lambda df: df.assign(admission_id=["A", 2] * 10), "mixed types"),
    (lambda df: df.assign(admitted=True), "declared 'date'"),
])
def test_data_that_does_not_fit_the_schema_is_refused_and_nothing_is_written(staffed, change, message) -> None:
    owner = staffed(OWNER)
    before, files = counts(owner), vault_files(owner)
    with pytest.raises(InvalidInput, match=message):
        owner.catalogue.register(record(), change(admissions(20)))
    assert counts(owner) == before and vault_files(owner) == files
    assert "dhsc.admissions" not in owner.catalogue


def test_categoricals_blanks_and_empty_columns(staffed) -> None:
    frame = admissions(20).assign(age_band=lambda df: df.age_band.astype("category"), cost=float("nan"))
    frame.loc[frame.index[10:15], "admission_id"] = "  "  # blank text counts as missing
    entry = staffed(OWNER).catalogue.register(record(), frame)
    assert entry.record["completeness"] == {"admission_id": 0.75, "age_band": 0.5, "length_of_stay": 1.0,
                                            "cost": 0.0, "admitted": 1.0}
    empty = staffed(OWNER).catalogue.register(record(), admissions(5).iloc[:0])
    assert empty.row_count == 0 and set(empty.record["completeness"].values()) == {1.0}


def test_data_without_a_schema_is_refused_with_a_starting_point(staffed) -> None:
    owner = staffed(OWNER)
    with pytest.raises(InvalidInput, match="infer_columns"):
        owner.catalogue.register(record(columns=None), admissions(5))
    inferred = owner.catalogue.infer_columns(admissions(5))
    assert [c["type"] for c in inferred] == ["string", "string", "integer", "float", "date"]
    with pytest.raises(InvalidInput, match="DataFrame"):
        owner.catalogue.register(record(), data=[1, 2, 3])


def test_a_failed_database_write_leaves_no_data_in_the_vault(staffed) -> None:
    owner = staffed(OWNER)
    before, files = counts(owner), vault_files(owner)
    with pytest.raises(InvalidInput, match="legalGateway"):  # refused inside the transaction, after staging
        owner.catalogue.register(record(legalGateway=["no-such-gateway"]), admissions(10))
    assert counts(owner) == before and vault_files(owner) == files


def test_owner_and_gateway_must_be_known(staffed) -> None:
    admin = staffed(ADMIN)
    with pytest.raises(InvalidInput, match="not registered"):
        admin.catalogue.register(record(dataOwner="nobody.here"))
    with pytest.raises(InvalidInput, match="not a data owner"):
        admin.catalogue.register(record(dataOwner=ANALYST))
    with pytest.raises(InvalidInput, match="known: "):
        admin.catalogue.register(record(dataOwner=OWNER, legalGateway=["made-up"]))
    assert len(admin.catalogue) == 0


def test_identifier_and_local_id_conflicts(staffed) -> None:
    admin = staffed(ADMIN)
    admin.catalogue.register(record(dataOwner=OWNER))
    with pytest.raises(Conflict, match=r"already catalogued as 'dhsc\.admissions'"):
        admin.catalogue.register(record(localId="dhsc.other", dataOwner=OWNER))
    with pytest.raises(InvalidInput, match="differs from the record's localId"):
        admin.catalogue.register(record(), dataset_id="dhsc.else")
    with pytest.raises(InvalidInput, match="path separator"):
        admin.catalogue.register(record(localId=None), dataset_id="../../escape")
    with pytest.raises(InvalidInput, match="path separator"):
        admin.catalogue.get("../secrets")
    with pytest.raises(NotFound):
        admin.catalogue.get("dhsc.missing")


def test_owners_change_only_their_own_entries(staffed) -> None:
    staffed(OWNER).catalogue.register(record())
    other = staffed(OTHER_OWNER)
    with pytest.raises(AccessDenied, match="data owner"):
        other.catalogue.register(record(title="Hijacked"))
    mine = staffed(OWNER)
    with pytest.raises(AccessDenied, match="only an admin may hand"):
        mine.catalogue.register(record(dataOwner=OTHER_OWNER))
    assert mine.catalogue.register(record(title="Renamed")).title == "Renamed"
    admin = staffed(ADMIN)
    assert admin.catalogue.register(record(dataOwner=OTHER_OWNER)).owner == OTHER_OWNER
    with admin._ctx.db.read() as conn:
        denied = conn.execute(select(audit_events.c.actor, audit_events.c.action)
                              .where(audit_events.c.outcome == "denied")).all()
    assert (OTHER_OWNER, "catalogue.update") in denied and (OWNER, "catalogue.update") in denied
    assert ("Hijacked" not in json.dumps(admin.catalogue.export()))


# ----- importing ------------------------------------------------------------------------------------------
def test_every_valid_reference_file_imports(staffed) -> None:
    admin = staffed(ADMIN)
    results = []
    for path in sorted(REFERENCE.glob("*/valid/*.yaml")):
        results += admin.catalogue.import_file(path)
    kinds = [r["kind"] for r in results]
    assert kinds.count("Dataset") == 2 and kinds.count("Distribution") == 4 and kinds.count("ContactPoint") == 1
    # both dataset files describe the same identifier: the second import updates the first
    assert [r["action"] for r in results if r["kind"] == "Dataset"] == ["created", "updated"]
    entry = admin.catalogue["os-postcodes-data"]
    assert entry.record["updateFrequency"] == "freq:quarterly"
    assert entry.department == "department-for-work-pensions" and entry.owner is None
    # two distribution files (full and minimal CSV) describe one identifier too
    assert [r["action"] for r in results if r["kind"] == "Distribution"].count("updated") == 1
    assert counts(admin)["distributions"] == 3 and counts(admin)["contact_points"] == 1


def test_every_invalid_reference_file_is_refused_and_nothing_is_written(staffed) -> None:
    admin = staffed(ADMIN)
    before = counts(admin)
    for path in sorted(REFERENCE.glob("*/invalid/*.yaml")):
        with pytest.raises(MetadataInvalid, match=path.name):
            admin.catalogue.import_file(path)
    assert counts(admin) == before


def test_a_file_with_one_bad_record_imports_nothing(staffed, tmp_path) -> None:
    admin = staffed(ADMIN)
    good = (REFERENCE / "Dataset/valid/Dataset-minimal-datset.yaml").read_text()
    bad = (REFERENCE / "Dataset/invalid/invalid-frequency.yaml").read_text()
    path = tmp_path / "two.yaml"
    path.write_text(good + "\n---\n" + bad)
    before = counts(admin)
    with pytest.raises(MetadataInvalid, match="record 2"):
        admin.catalogue.import_file(path)
    assert counts(admin) == before


@pytest.mark.parametrize(("text", "fmt", "message"), [
    ("title: [unclosed", "yaml", "not valid YAML at line"),
    ("", "yaml", "holds no records"),
    ("{not json", "jsonld", "not valid JSON"),
    ('{"@context": 5, "@id": "x"}', "jsonld", "not valid JSON-LD"),
    ('{"@id": "https://x.invalid/a", "http://purl.org/dc/terms/title": "no type"}', "jsonld", "no dcat:Dataset"),
    ("a: 1", "xml", "not supported"),
])
def test_malformed_input_is_refused(staffed, text, fmt, message) -> None:
    admin = staffed(ADMIN)
    before = counts(admin)
    with pytest.raises(InvalidInput, match=message):
        admin.catalogue.import_text(text, format=fmt)
    assert counts(admin) == before


def test_import_checks_files_and_ids(staffed, tmp_path) -> None:
    admin = staffed(ADMIN)
    with pytest.raises(NotFound):
        admin.catalogue.import_file(tmp_path / "missing.yaml")
    path = REFERENCE / "Dataset/valid/Dataset-minimal-datset.yaml"
    assert admin.catalogue.import_file(path, dataset_id="dwp.postcodes")[0]["id"] == "dwp.postcodes"
    with pytest.raises(InvalidInput, match="path separator"):
        admin.catalogue.import_file(path, dataset_id="a/../b")
    with pytest.raises(MetadataInvalid, match="is required"):
        admin.catalogue.import_file(REFERENCE / "ContactPoint/valid/ContactPoint-fsa-minimal.yaml", kind="Dataset")


# ----- JSON-LD --------------------------------------------------------------------------------------------
def test_jsonld_export_round_trips_without_loss(staffed, tmp_path, new_database) -> None:
    import workbench

    owner = staffed(OWNER)
    owner.catalogue.register(record(distribution=["https://data.example.invalid/files/admissions.csv"]),
                             admissions(30))
    admin = staffed(ADMIN)
    admin.catalogue.import_file(REFERENCE / "Dataset/valid/Dataset-os-postcodes-datset.yaml")
    admin.catalogue.import_text(json.dumps({
        "identifier": "https://data.example.invalid/files/admissions.csv", "type": "dcat:Distribution",
        "title": "Admissions CSV", "licence": "OGL", "mediaType": "text/csv", "byteSize": 1024}), format="yaml")
    exported = admin.catalogue.export()
    document = json.loads(exported)
    assert any(node.get("@type") == "dcat:Catalog" for node in document["@graph"])

    # a second workspace (own folder, own database) with the same people
    second = workbench.connect(tmp_path / "second", database_url=new_database())
    second.people.add(ADMIN, "Ada", roles=["admin"])
    second.people.add(OWNER, "Olu", roles=["data_owner"])
    results = second.catalogue.import_text(exported, format="jsonld")
    assert sorted(r["kind"] for r in results) == ["Dataset", "Dataset", "Distribution"]
    originals = {r["localId"]: r for r in map(lambda e: e.record, (admin.catalogue[i] for i in
                                                                    ("dhsc.admissions", "os-postcodes-data")))}
    for dataset_id, original in originals.items():
        assert second.catalogue[dataset_id].record == original
    again = json.loads(second.catalogue.export())
    assert len(again["@graph"]) == len(document["@graph"])
    second.close()


def test_single_entry_export(staffed) -> None:
    owner = staffed(OWNER)
    owner.catalogue.register(record())
    document = json.loads(owner.catalogue.export("dhsc.admissions"))
    datasets_ = [n for n in document["@graph"] if n.get("@type") == "dcat:Dataset"]
    assert len(datasets_) == 1 and datasets_[0]["wb:localId"] == "dhsc.admissions"
    with pytest.raises(NotFound):
        owner.catalogue.export("dhsc.nothing")


# ----- ownership of distributions and contact points ------------------------------------------------------
DISTRIBUTION = ("identifier: https://data.example.invalid/files/shared.csv\ntype: dcat:Distribution\n"
                "title: {title}\nlicence: OGL\nmediaType: text/csv\n")
CONTACT = "contactName: {title}\nemail: data-team@example.invalid\n"


def reference_rows(ws) -> dict[str, list[tuple]]:
    with ws._ctx.db.read() as conn:
        return {"distributions": conn.execute(select(distributions.c.identifier, distributions.c.title,
                                                     distributions.c.registered_by)).all(),
                "contact_points": conn.execute(select(contact_points.c.email, contact_points.c.name,
                                                      contact_points.c.registered_by)).all()}


def last_denial(ws) -> tuple:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events.c.actor, audit_events.c.action, audit_events.c.resource,
                                   audit_events.c.outcome).order_by(audit_events.c.seq.desc()).limit(1)).one()


@pytest.mark.parametrize("template", [DISTRIBUTION, CONTACT], ids=["distribution", "contact point"])
def test_another_owner_cannot_overwrite_a_reference_record(staffed, template) -> None:
    owner, other, admin = staffed(OWNER), staffed(OTHER_OWNER), staffed(ADMIN)
    assert owner.catalogue.import_text(template.format(title="Mine"))[0]["action"] == "created"
    assert owner.catalogue.import_text(template.format(title="Mine, renamed"))[0]["action"] == "updated"
    before = reference_rows(admin)
    # alone, or hidden behind a record of the other owner's own in the same file: nothing is written
    for text in (template.format(title="Hijacked"),
                 DISTRIBUTION.replace("shared", "theirs").format(title="Theirs") + "---\n"
                 + template.format(title="Hijacked")):
        with pytest.raises(AccessDenied, match=f"{OTHER_OWNER} may not register .*: it belongs to {OWNER}, who "
                                               f"registered it; only {OWNER} or an admin may change it"):
            other.catalogue.import_text(text)
        assert reference_rows(admin) == before
        assert last_denial(admin)[::3] == (OTHER_OWNER, "denied")
        assert last_denial(admin)[1] == "catalogue.register_reference"
    # an admin may change it; it stays the registered owner's
    assert admin.catalogue.import_text(template.format(title="Corrected"))[0]["action"] == "updated"
    rows = reference_rows(admin)
    kind = "distributions" if template is DISTRIBUTION else "contact_points"
    assert [(row[1], row[2]) for row in rows[kind]] == [("Corrected", OWNER)]


def test_another_owner_cannot_overwrite_a_distribution_through_dcat(staffed) -> None:
    from workbench.catalogue.dcat import to_jsonld

    owner, other, admin = staffed(OWNER), staffed(OTHER_OWNER), staffed(ADMIN)
    owner.catalogue.import_text(DISTRIBUTION.format(title="Mine"))
    theirs = to_jsonld([], [{"identifier": "https://data.example.invalid/files/shared.csv",
                             "type": "dcat:Distribution", "title": "Hijacked", "licence": "OGL",
                             "mediaType": "text/csv"}])
    before = reference_rows(admin)
    with pytest.raises(AccessDenied, match=f"it belongs to {OWNER}"):
        other.catalogue.import_text(theirs, format="jsonld")
    assert reference_rows(admin) == before
    assert last_denial(admin) == (OTHER_OWNER, "catalogue.register_reference",
                                  "distribution https://data.example.invalid/files/shared.csv", "denied")
    assert owner.catalogue.import_text(theirs.replace("Hijacked", "Mine, via DCAT"), format="jsonld")
    assert reference_rows(admin)["distributions"][0][1:] == ("Mine, via DCAT", OWNER)


def test_the_command_line_refuses_another_owners_contact_point(staffed, monkeypatch, capsys, tmp_path) -> None:
    staffed(OWNER).catalogue.import_text(CONTACT.format(title="Mine"))
    path = tmp_path / "contact.yaml"
    path.write_text(CONTACT.format(title="Hijacked"))
    run = cli_runner(staffed, monkeypatch, capsys)
    before = reference_rows(staffed(ADMIN))
    code, _out, err = run(OTHER_OWNER, "catalogue", "import", str(path))
    assert code == 1 and err.startswith("workbench: error: ") and f"it belongs to {OWNER}" in err
    assert reference_rows(staffed(ADMIN)) == before
    assert last_denial(staffed(ADMIN)) == (OTHER_OWNER, "catalogue.register_reference",
                                           "contact point data-team@example.invalid", "denied")
