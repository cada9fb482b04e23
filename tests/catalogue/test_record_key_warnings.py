"""The catalogue warns (never refuses) when a column that looks like a record key is registered with role 'other':
in register and import results, in the entry (``ws.catalogue[...]``, its repr) and in the REST entry. SQLite and
PostgreSQL."""

from __future__ import annotations

import json

from factories import admissions, patient_record, record
from helpers import ADMIN, ANALYST, DATASET, OWNER
from sqlalchemy import select

from workbench.db.schema import audit_events


def with_role(role: str, **overrides) -> dict:
    columns = record()["columns"]
    columns[0]["role"] = role  # admission_id: a random id, different on every row of admissions()
    return record(columns=columns, **overrides)


def test_registering_data_with_a_unique_id_column_as_other_warns_but_registers(staffed) -> None:
    owner = staffed(OWNER)
    entry = owner.catalogue.register(record(), admissions(50))
    [warning] = entry.warnings
    assert warning.startswith("column 'admission_id' has role 'other' but differs on every row and is named like "
                              "an identifier: if it identifies a record")
    assert "give it role 'record_identifier'" in warning
    assert entry.has_data and entry.row_count == 50  # registered all the same
    assert "1 warning: column 'admission_id'" in repr(entry)
    assert staffed(ANALYST).catalogue["dhsc.admissions"].warnings == entry.warnings  # every reader sees it
    with owner._ctx.db.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).first()
    assert (last.action, last.outcome) == ("catalogue.register", "ok")


def test_no_warning_once_the_role_is_record_identifier(staffed) -> None:
    owner = staffed(OWNER)
    owner.catalogue.register(record(), admissions(50))
    fixed = owner.catalogue.register(with_role("record_identifier"))  # metadata-only update of the same entry
    assert fixed.warnings == () and repr(fixed) == "<Entry dhsc.admissions: Hospital admissions by trust>"
    assert staffed(ANALYST).catalogue["dhsc.admissions"].schema.set_index("name").loc["admission_id", "role"] == \
        "record_identifier"


def test_an_id_column_that_repeats_in_the_data_does_not_warn(staffed) -> None:
    frame = admissions(40).assign(admission_id=[f"H{i // 3}" for i in range(40)])  # shared, like a household
    entry = staffed(OWNER).catalogue.register(record(), frame)
    assert entry.warnings == ()


def test_import_results_carry_the_warnings(staffed) -> None:
    admin = staffed(ADMIN)
    text = json.dumps(record(dataOwner=OWNER))
    [result] = admin.catalogue.import_text(text, format="yaml")
    assert result["action"] == "created" and result["kind"] == "Dataset"
    [warning] = result["warnings"]
    assert warning.startswith("column 'admission_id' has role 'other' but is named like an identifier")  # no data
    [clean] = admin.catalogue.import_text(json.dumps(with_role("record_identifier", dataOwner=OWNER)))
    assert clean["action"] == "updated" and clean["warnings"] == []
    # JSON-LD import too: export the warned entry, re-import it
    admin.catalogue.import_text(text)
    [again] = admin.catalogue.import_text(admin.catalogue.export("dhsc.admissions"), format="jsonld")
    assert again["warnings"] == [warning]


def test_importing_over_held_data_judges_by_the_data(staffed) -> None:
    owner = staffed(OWNER)
    owner.catalogue.register(record(), admissions(30).assign(admission_id=["same"] * 30))
    [result] = staffed(ADMIN).catalogue.import_text(json.dumps(record(dataOwner=OWNER, title="Renamed")))
    assert result["warnings"] == []  # the held data shows admission_id repeats: not a record key


async def test_the_rest_entry_lists_the_warnings(api, served) -> None:
    reply = await api(ANALYST, "GET", "catalogue", DATASET)
    assert reply.status == 200, reply
    [warning] = reply.json["warnings"]
    assert warning.startswith("column 'admission_id' has role 'other'")
    served(OWNER).catalogue.register(patient_record(columns=_patient_columns()))
    reply = await api(ANALYST, "GET", "catalogue", DATASET)
    assert reply.status == 200 and reply.json["warnings"] == []


def _patient_columns() -> list[dict]:
    columns = patient_record()["columns"]
    for column in columns:
        if column["name"] == "admission_id":
            column["role"] = "record_identifier"
    return columns


def test_marking_a_column_record_identifier_remakes_the_twin(staffed) -> None:
    owner = staffed(OWNER)
    frame = admissions(200).assign(admission_id=[f"H{i % 5}" for i in range(200)])  # 5 values, 40 times each
    owner.catalogue.register(record(), frame)
    analyst = staffed(ANALYST)
    made_up = set(analyst.catalogue.twin("dhsc.admissions")["admission_id"])  # free text: made up either way
    assert made_up and not made_up & set(frame["admission_id"])
    assert analyst.catalogue.get("dhsc.admissions").twin["twins"] == 1
    owner.catalogue.register(with_role("record_identifier"))  # metadata only: the data file is unchanged
    faked = set(analyst.catalogue.twin("dhsc.admissions")["admission_id"].dropna())
    assert faked and not faked & set(frame["admission_id"])
    assert analyst.catalogue.get("dhsc.admissions").twin["twins"] == 2  # a new schema: a new twin, charged
