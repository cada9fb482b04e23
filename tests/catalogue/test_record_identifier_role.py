"""The ``record_identifier`` column role: part of the workbench's extension of the UK metadata model (the UK model
itself has no column roles), valid in records, kept through DCAT JSON-LD and YAML, and what the catalogue proposes
and warns about for columns that look like record keys."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from factories import record

from workbench.catalogue.dcat import from_jsonld, to_jsonld
from workbench.catalogue.entry import Entry
from workbench.catalogue.model import PSEUDONYMISED_ROLES, MetadataInvalid, _load_yaml, schema, validate
from workbench.catalogue.quality import (
    infer_columns,
    named_like_identifier,
    record_key_warnings,
    unique_per_row,
)
from workbench.catalogue.twin import ROLES

ROLE_VALUES = ["direct_identifier", "record_identifier", "quasi_identifier", "sensitive", "other"]


def keyed(role: str = "record_identifier") -> dict:
    columns = record()["columns"]
    columns[0]["role"] = role
    return record(columns=columns)


def test_the_role_is_the_workbench_extensions_not_the_uk_models() -> None:
    from workbench.catalogue.model import HERE

    uk_model = _load_yaml(HERE / "ukgov_metadata_model.yaml")
    extension = _load_yaml(HERE / "workbench_extension.yaml")
    assert "ColumnRoleValues" not in (uk_model.get("enums") or {})
    assert list(extension["enums"]["ColumnRoleValues"]["permissible_values"]) == ROLE_VALUES
    assert schema().enums["ColumnRoleValues"] == ROLE_VALUES
    assert set(PSEUDONYMISED_ROLES) == {"direct_identifier", "record_identifier"}
    assert tuple(ROLES) == tuple(ROLE_VALUES)  # twins know every role


def test_a_record_identifier_column_validates() -> None:
    checked = validate(keyed(), "Dataset")
    assert checked["columns"][0] == {"name": "admission_id", "type": "string", "role": "record_identifier",
                                     "description": "Random record id"}


def test_an_unknown_role_is_refused_listing_the_record_identifier() -> None:
    with pytest.raises(MetadataInvalid, match=r"columns\[0\]\.role: 'record_id' is not a permitted value; use one "
                                              r"of direct_identifier, record_identifier, quasi_identifier"):
        validate(keyed("record_id"), "Dataset")


@pytest.mark.parametrize("role", ["record_identifier", "direct_identifier"])
@pytest.mark.parametrize("kind", ["float", "date", "boolean"])
def test_identifiers_must_be_text_or_whole_numbers(role: str, kind: str) -> None:
    columns = record()["columns"]
    columns[0].update(role=role, type=kind)
    with pytest.raises(MetadataInvalid, match=rf"columns\[0\]\.type: 'admission_id' is a {role.replace('_', ' ')}, "
                                              rf"which projects receive as pseudonyms.*not '{kind}'"):
        validate(record(columns=columns), "Dataset")


def test_dcat_jsonld_round_trip_keeps_the_role() -> None:
    checked = validate(keyed(), "Dataset")
    document = to_jsonld([checked])
    assert '"record_identifier"' in document
    [back], _ = from_jsonld(document)
    assert back == checked and back["columns"][0]["role"] == "record_identifier"


def test_yaml_round_trip_keeps_the_role() -> None:
    entry = Entry(validate(keyed(), "Dataset"))
    again = validate(yaml.safe_load(entry.to_yaml()), "Dataset")
    assert again == entry.record
    assert json.loads(entry.to_jsonld())  # and the entry's own JSON-LD is valid JSON


@pytest.mark.parametrize("name", ["id", "case_id", "episode_id", "claim_no", "tax_number", "household_serial",
                                  "serial", "case_ref", "urn", "key", "caseId", "ID"])
def test_names_like_identifiers(name: str) -> None:
    assert named_like_identifier(name)


@pytest.mark.parametrize("name", ["idle", "valid", "paid", "kidney", "monkey", "la_code", "provider_code", "region",
                                  "survey_weight", "turnkey", "identity_checked"])
def test_names_not_like_identifiers(name: str) -> None:
    assert not named_like_identifier(name)


def test_unique_per_row_needs_every_row_distinct_and_present() -> None:
    table = pa.table({"a": ["x", "y", "z"], "b": ["x", "x", "z"], "c": ["x", None, "z"], "d": [1, 2, 3]})
    assert unique_per_row(table, ["a", "b", "c", "d"]) == {"a", "d"}
    assert unique_per_row(table.slice(0, 1), ["a"]) == set()  # one row proves nothing


def test_warnings_name_the_column_and_the_fix() -> None:
    columns = [{"name": "case_id", "role": "other"}, {"name": "household_serial", "role": "other"},
               {"name": "episode_id", "role": "record_identifier"}, {"name": "region", "role": "other"},
               {"name": "school_urn", "role": "quasi_identifier"}]
    [warning] = record_key_warnings(columns, unique={"case_id"})
    assert warning.startswith("column 'case_id' has role 'other' but differs on every row and is named like an "
                              "identifier") and "'record_identifier'" in warning
    # without the data the name alone warns
    assert [w.split("'")[1] for w in record_key_warnings(columns, None)] == ["case_id", "household_serial"]


def test_the_starting_schema_proposes_record_identifier_for_unique_id_columns() -> None:
    frame = pd.DataFrame({"case_id": ["a", "b", "c"], "household_serial": ["h1", "h1", "h2"], "age": [1, 2, 3],
                          "ref_no": [10, 20, 30], "label": ["x", "y", "z"]})
    roles = {c["name"]: c["role"] for c in infer_columns(frame)}
    assert roles == {"case_id": "record_identifier", "household_serial": "other", "age": "other",
                     "ref_no": "record_identifier", "label": "other"}


def test_entry_repr_and_html_show_warnings() -> None:
    plain = Entry(validate(record(), "Dataset"))
    assert repr(plain) == "<Entry dhsc.admissions: Hospital admissions by trust>"
    warned = Entry(plain.record, warnings=("column 'admission_id' has role 'other' <b>",))
    assert repr(warned).startswith("<Entry dhsc.admissions: Hospital admissions by trust — 1 warning: column "
                                   "'admission_id'")
    assert "column &#x27;admission_id&#x27; has role &#x27;other&#x27; &lt;b&gt;" in warned._repr_html_()


def test_twins_fake_record_identifiers_even_when_frequent() -> None:
    from workbench.catalogue.twin import synthesise

    serials = [f"H{i // 20:04d}" for i in range(400)]  # each household serial 20 times: above min_count
    real = pa.table({"household_serial": serials, "n": list(range(400))})

    def twin(role: str) -> tuple[set, str]:
        columns = [{"name": "household_serial", "type": "string", "role": role},
                   {"name": "n", "type": "integer", "role": "other"}]
        made = synthesise(real, columns, epsilon=1.0, min_count=10, seed=1)
        return set(made.table.column("household_serial").to_pylist()), made.marginals[0].reason

    for role in ("other", "record_identifier"):  # free text and identifiers alike: never a real value
        faked, _ = twin(role)
        assert faked and not faked & set(serials)
    assert twin("record_identifier")[1].startswith("a record identifier: made up")
