"""The UK cross-government metadata model: reference examples and the workbench extension's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from factories import record
from helpers import REFERENCE

from workbench.catalogue.model import MetadataInvalid, detect_kind, validate

VALID = sorted(REFERENCE.glob("*/valid/*.yaml"))
INVALID = sorted(REFERENCE.glob("*/invalid/*.yaml"))
# The field each invalid reference file gets wrong (what the refusal must name).
OFFENDING = {
    "invalid-contact-email.yaml": "email",
    "missing-contact-name.yaml": "contactName",
    "invalid-distribution.yaml": "distribution[0]",
    "invalid-frequency.yaml": "updateFrequency",
    "invalid-type.yaml": "type",
    "missing-frequency.yaml": "updateFrequency",
    "multiple-frequency.yaml": "updateFrequency",
    "invalid-mediatype-csv.yaml": "mediaType",
    "invalid-mediatype-uri.yaml": "mediaType",
    "multiple-mediatype.yaml": "mediaType",
    "os-postcodes-csv-distribution.yaml": "type",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_reference_copy_matches_the_shared_reference() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ukgov-metadata" / "data"
    if not shared.exists():
        pytest.skip("the shared reference folder is not beside this checkout")
    for path in shared.glob("*/*/*.yaml"):
        assert (REFERENCE / path.relative_to(shared)).read_bytes() == path.read_bytes()


def test_every_reference_file_is_covered() -> None:
    assert len(VALID) == 7 and len(INVALID) == 11
    assert {p.name for p in INVALID} == set(OFFENDING)


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_valid_reference_files_validate_as_their_folder_kind(path: Path) -> None:
    kind = path.parent.parent.name
    assert detect_kind(load(path)) == kind
    out = validate(load(path), kind)
    assert out["identifier" if kind != "ContactPoint" else "email"]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_invalid_reference_files_are_refused_naming_the_field(path: Path) -> None:
    kind = path.parent.parent.name
    for as_kind in (None, kind):  # detected, and when told what the file is
        with pytest.raises(MetadataInvalid) as caught:
            validate(load(path), as_kind, source=path.name)
        fields = [field for field, _ in caught.value.problems] or [caught.value.field]
        assert OFFENDING[path.name] in fields, str(caught.value)
        assert OFFENDING[path.name].split("[")[0] in str(caught.value)


def test_refusal_lists_every_problem_at_once() -> None:
    doc = record(updateFrequency="freq:sometimes", accessRights="SECRETISH", title=None)
    with pytest.raises(MetadataInvalid) as caught:
        validate(doc, "Dataset")
    fields = {field for field, _ in caught.value.problems}
    assert fields == {"updateFrequency", "accessRights", "title"}
    assert "3 problems" in str(caught.value)
    assert "freq:monthly" in str(caught.value)  # says what would be allowed


def test_unknown_field_is_refused_with_a_suggestion() -> None:
    with pytest.raises(MetadataInvalid, match="did you mean 'keyword'"):
        validate(record(keywords=["x"]), "Dataset")


def test_normalisation_dates_lists_and_curies() -> None:
    import datetime as dt

    out = validate(record(modified=dt.date(2026, 1, 2), keyword="single", mission=[5, 1, 5],
                          theme=["dcat:Example"]), "Dataset")
    assert out["modified"] == "2026-01-02"
    assert out["keyword"] == ["single"]
    assert out["mission"] == [1, 5]
    assert out["theme"] == ["http://www.w3.org/ns/dcat#Example"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"localId": "../etc/passwd"}, "localId"),
    ({"localId": "dhsc/hes"}, "localId"),
    ({"localId": "dhsc..hes"}, "localId"),
    ({"mission": [6]}, "mission[0]"),
    ({"mission": ["one"]}, "mission[0]"),
    ({"modified": "01/02/2026"}, "modified"),
    ({"contactPoint": {"contactName": "X", "email": "not an email"}}, "contactPoint.email"),
    ({"contactPoint": "team@example.org"}, "contactPoint"),
    ({"creator": ["Not A Slug"]}, "creator[0]"),
    ({"summary": "x" * 251}, "summary"),
    ({"dataOwner": "Not Valid"}, "dataOwner"),
    ({"temporalCoverage": {"start": "2026-01-01", "end": "2025-01-01"}}, "temporalCoverage"),
    ({"temporalCoverage": {"start": "2026-01-01"}}, "temporalCoverage.end"),
    ({"columns": [{"name": "a", "type": "text", "role": "other"}]}, "columns[0].type"),
    ({"columns": [{"name": "a", "type": "string", "role": "secret"}]}, "columns[0].role"),
    ({"columns": [{"name": "a", "type": "string", "role": "other"},
                  {"name": "a", "type": "string", "role": "other"}]}, "columns[1].name"),
    ({"columns": [{"name": "a", "type": "category", "role": "other"}]}, "columns[0].categories"),
    ({"columns": [{"name": "a", "type": "string", "role": "other", "categories": ["x"]}]},
     "columns[0].categories"),
    ({"completeness": {"nope": 0.5}}, "completeness"),
    ({"completeness": {"cost": 1.5}}, "completeness.cost"),
    ({"rowCount": -1}, "rowCount"),
])
def test_extension_rules_refuse_bad_values(overrides: dict, field: str) -> None:
    with pytest.raises(MetadataInvalid) as caught:
        validate(record(**overrides), "Dataset")
    assert field in [f for f, _ in caught.value.problems], caught.value.problems


def test_records_that_are_not_mappings_are_refused() -> None:
    with pytest.raises(MetadataInvalid, match="type"):
        validate(["a", "list"])
    with pytest.raises(MetadataInvalid, match="type"):
        validate({"type": "dcat:Catalog", "title": "x"})
