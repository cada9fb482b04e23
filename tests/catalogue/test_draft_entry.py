"""Drafting an entry from the data: types, categories, suggested roles (record keys, names, dates of birth,
postcodes, NHS numbers by check digit), coverage, and placeholders that registering refuses until completed."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import yaml
from factories import BASE
from helpers import ANALYST, OWNER

from workbench.catalogue.draft import PLACEHOLDER, is_nhs_number, placeholders
from workbench.catalogue.sources import Source
from workbench.errors import AccessDenied, InvalidInput

NHS = ["9434765919", "4010232137", "9876543210", "943 476 5870"]  # valid check digits


def people(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "episode_id": [f"E{i:05d}" for i in range(rows)],
        "nhs_number": [NHS[i % 4] for i in range(rows)],
        "surname": rng.choice(["Smith", "Jones", "Patel"], rows),
        "dob": pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20_000, rows), unit="D"),
        "postcode": rng.choice(["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH"], rows),
        "sex": rng.choice(["F", "M"], rows),
        "admitted": pd.to_datetime("2024-03-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
        "cost": rng.gamma(2, 100, rows),
        "ward_code": rng.choice(["W1", "W2", "W3"], rows),
    })


def completed(text: str) -> dict:
    """The drafted entry with every placeholder filled as its owner would."""
    doc = yaml.safe_load(text)
    for key in ("identifier", "title", "description", "publisher", "licence", "version", "accessRights",
                "securityClassification", "updateFrequency"):
        doc[key] = BASE[key]
    doc["creator"], doc["contactPoint"] = BASE["creator"], BASE["contactPoint"]
    doc["localId"] = "dhsc.episodes"
    return doc


def by_name(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in doc["columns"]}


def test_nhs_number_check_digit() -> None:
    assert all(map(is_nhs_number, NHS))
    assert not is_nhs_number("9434765918") and not is_nhs_number("123") and not is_nhs_number("abcdefghij")
    assert not is_nhs_number("1000000010")  # check digit would be 10: never issued


def test_draft_from_csv_suggests_types_roles_categories_and_coverage(staffed, tmp_path) -> None:
    path = tmp_path / "episodes.csv"
    people().to_csv(path, index=False)
    text = staffed(OWNER).catalogue.draft(str(path))
    doc = yaml.safe_load(text)
    columns = by_name(doc)
    assert list(columns) == list(people().columns)
    assert columns["episode_id"]["role"] == "record_identifier"
    assert (columns["nhs_number"]["role"], columns["nhs_number"]["type"]) == ("direct_identifier", "string")
    assert columns["surname"]["role"] == "direct_identifier" and "categories" not in columns["surname"]
    assert (columns["dob"]["role"], columns["dob"]["type"]) == ("quasi_identifier", "date")
    assert columns["postcode"]["role"] == "direct_identifier" and "categories" not in columns["postcode"]
    assert (columns["sex"]["type"], columns["sex"]["categories"]) == ("category", ["F", "M"])
    assert columns["cost"]["type"] == "float" and columns["admitted"]["type"] == "date"
    assert doc["temporalCoverage"] == {"start": str(people().admitted.min().date()),
                                       "end": str(people().admitted.max().date())}  # not from the date of birth
    assert "# suggested: its values are NHS numbers" in text
    assert set(placeholders(doc)) >= {"identifier", "title", "description", "accessRights", "contactPoint.email",
                                      "creator[0]", "publisher", "securityClassification", "updateFrequency"}


def test_a_draft_is_refused_until_completed_then_registers_with_its_data(staffed, tmp_path) -> None:
    owner = staffed(OWNER)
    path = tmp_path / "episodes.parquet"
    people().to_parquet(path)
    text = owner.catalogue.draft(path)
    with pytest.raises(InvalidInput, match=r"the entry is a draft: complete identifier, title, description") as err:
        owner.catalogue.register(yaml.safe_load(text), data=path)
    assert ("accessRights", "still a placeholder") in err.value.problems
    assert "dhsc.episodes" not in owner.catalogue
    with pytest.raises(InvalidInput, match="is a draft"):
        owner.catalogue.import_text(text)
    entry = owner.catalogue.register(completed(text), data=path)
    assert entry.row_count == 120 and entry.record["completeness"]["nhs_number"] == 1.0


def test_a_partly_completed_draft_names_what_is_left(staffed, tmp_path) -> None:
    owner = staffed(OWNER)
    doc = completed(owner.catalogue.draft(people()))
    doc["contactPoint"] = {"contactName": "Team", "email": f"{PLACEHOLDER}: a team mailbox>"}
    with pytest.raises(InvalidInput, match=r"complete contactPoint.email \(still"):
        owner.catalogue.register(doc)


def test_draft_from_a_database_table_says_it_profiled_a_sample(staffed, tmp_path) -> None:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as conn:
        day = "%Y-%m-%d"
        people().assign(dob=lambda df: df.dob.dt.strftime(day), admitted=lambda df: df.admitted.dt.strftime(day)) \
            .to_sql("episodes", conn, index=False, dtype={"dob": "DATE", "admitted": "DATE"})
    text = staffed(OWNER).catalogue.draft(Source.database(f"sqlite:///{path}", table="episodes"))
    assert "table episodes at sqlite:///" in text and "(profiled from its first 100,000 rows)" in text
    columns = by_name(yaml.safe_load(text))
    assert columns["nhs_number"]["role"] == "direct_identifier" and columns["dob"]["type"] == "date"


def test_only_owners_and_admins_draft_and_bad_sources_are_refused(staffed, tmp_path) -> None:
    with pytest.raises(AccessDenied):
        staffed(ANALYST).catalogue.draft(people())
    owner = staffed(OWNER)
    with pytest.raises(InvalidInput, match="there is no file or folder"):
        owner.catalogue.draft(tmp_path / "none.csv")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 50)
    with pytest.raises(InvalidInput, match="cannot read"):
        owner.catalogue.draft(tmp_path / "bin.csv")
