"""Small valid catalogue records and data for tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

BASE: dict[str, Any] = {
    "identifier": "https://data.example.invalid/dataset/hospital-admissions",
    "type": "dcat:Dataset",
    "title": "Hospital admissions by trust",
    "summary": "Admissions to NHS hospital trusts, one row per admission.",
    "description": "Every admission to an NHS hospital trust in England, with age band, diagnosis and length "
                   "of stay. Collected monthly from trusts.",
    "keyword": ["hospital", "admissions", "NHS"],
    "theme": ["https://www.data.gov.uk/search?filters%5Btopic%5D=Health"],
    "licence": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "version": "2026-10",
    "accessRights": "INTERNAL",
    "securityClassification": "OFFICIAL",
    "contactPoint": {"contactName": "Hospital Data Team", "email": "hospital.data@dhsc.example.invalid"},
    "creator": ["department-of-health-and-social-care"],
    "publisher": "department-of-health-and-social-care",
    "issued": "2024-01-01",
    "modified": "2026-10-01",
    "updateFrequency": "freq:monthly",
    "localId": "dhsc.admissions",
    "department": "department-of-health-and-social-care",
    "legalGateway": ["nhs-act-2006-s251"],
    "mission": [5],
    "columns": [
        {"name": "admission_id", "type": "string", "role": "other", "description": "Random record id"},
        {"name": "age_band", "type": "category", "role": "quasi_identifier", "description": "Age band",
         "categories": ["0-17", "18-64", "65+"]},
        {"name": "length_of_stay", "type": "integer", "role": "sensitive", "description": "Nights in hospital"},
        {"name": "cost", "type": "float", "role": "sensitive", "description": "Cost in pounds"},
        {"name": "admitted", "type": "date", "role": "quasi_identifier", "description": "Admission date"},
    ],
    "temporalCoverage": {"start": "2024-01-01", "end": "2026-09-30"},
    "spatialCoverage": "England",
    "lineage": "Monthly returns from NHS trusts, cleaned by the hospital data team.",
}


def record(**overrides: Any) -> dict[str, Any]:
    """A valid dataset record with ``overrides`` applied (a value of None removes the field)."""
    out = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def admissions(rows: int = 100, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "admission_id": [f"A{i:06d}" for i in range(rows)],
        "age_band": rng.choice(["0-17", "18-64", "65+"], rows).astype(object),
        "length_of_stay": rng.integers(0, 30, rows),
        "cost": rng.gamma(2, 1000, rows),
        "admitted": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
    })
    frame.loc[frame.index[:10], "age_band"] = None  # 10% missing
    return frame


PATIENT_COLUMNS = [
    {"name": "nhs_number", "type": "string", "role": "direct_identifier", "description": "NHS number"},
    {"name": "surname", "type": "string", "role": "direct_identifier", "description": "Family name"},
    *BASE["columns"],
]


def patient_record(**overrides: Any) -> dict[str, Any]:
    """Patient-level admissions (``dhsc.patients``): the admissions record with two direct identifiers in front,
    the NHS number naming the person (a patient may have several admissions)."""
    return record(**{"columns": copy.deepcopy(PATIENT_COLUMNS), "localId": "dhsc.patients", "personKey": "nhs_number",
                     "identifier": "https://data.example.invalid/dataset/patients", **overrides})


def patients(rows: int = 100, seed: int = 1) -> pd.DataFrame:
    """Admissions with an NHS number (50 people, so repeats) and a surname."""
    frame = admissions(rows, seed)
    frame.insert(0, "surname", [f"Surname{i % 50}" for i in range(rows)])
    frame.insert(0, "nhs_number", [f"{9000000000 + i % 50}" for i in range(rows)])
    return frame


# ----- two departments' records of one population, for linkage --------------------------------------------------
FORENAMES = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emily", "Leo", "Grace",
             "William", "Sophia", "Thomas", "Lily", "James", "Freya", "Henry", "Ella"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright",
            "Robinson", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Clarke"]


def _person_columns(first: str, other: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": "ref", "type": "string", "role": "other", "description": "Random record id"},
        {"name": first, "type": "string", "role": "direct_identifier", "description": "Given name"},
        {"name": "surname", "type": "string", "role": "direct_identifier", "description": "Family name"},
        {"name": "dob", "type": "date", "role": "quasi_identifier", "description": "Date of birth"},
        {"name": "postcode", "type": "string", "role": "direct_identifier", "description": "Home postcode"},
        other,
    ]


def people_records() -> tuple[dict[str, Any], dict[str, Any]]:
    """Catalogue records of ``dhsc.people`` (forename, ..., diagnosis) and ``ons.people`` (first_name, ..., status)."""
    left = record(localId="dhsc.people", identifier="https://data.example.invalid/dataset/people-dhsc",
                  title="Patients", columns=_person_columns("forename", {
                      "name": "diagnosis", "type": "category", "role": "sensitive", "description": "Diagnosis group",
                      "categories": ["A", "B", "C"]}))
    right = record(localId="ons.people", identifier="https://data.example.invalid/dataset/people-ons",
                   title="Survey respondents", publisher="office-for-national-statistics",
                   creator=["office-for-national-statistics"], department="office-for-national-statistics",
                   legalGateway=["dea-2017-research"], columns=_person_columns("first_name", {
                       "name": "status", "type": "category", "role": "sensitive", "description": "Economic status",
                       "categories": ["employed", "inactive"]}))
    return left, right


def linkable_people(rows: int = 300, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two extracts of one population (two thirds of people in both, some slips in the second) and the truth:
    (left ref, right ref) of every true pair."""
    rng = np.random.default_rng(seed)
    people = pd.DataFrame({
        "first": rng.choice(FORENAMES, rows), "surname": rng.choice(SURNAMES, rows),
        "dob": pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, rows), unit="D"),
        "postcode": [f"LS{rng.integers(1, 20)} {rng.integers(1, 10)}{'ABDEFGHJ'[rng.integers(0, 8)]}"
                     f"{'LNPQRSTU'[rng.integers(0, 8)]}" for _ in range(rows)],
    })
    in_left = rng.random(rows) < 0.8
    in_right = (rng.random(rows) < 0.8) | ~in_left
    left = people[in_left].reset_index(names="person")
    right = people[in_right].reset_index(names="person")
    right["surname"] = right["surname"].str.upper()
    slip = rng.random(len(right)) < 0.1
    right.loc[slip, "postcode"] = right.loc[slip, "postcode"].str.replace(" ", "").str.lower()
    left["ref"] = [f"L{i:05d}" for i in range(len(left))]
    right["ref"] = [f"R{i:05d}" for i in range(len(right))]
    truth = left[["person", "ref"]].merge(right[["person", "ref"]], on="person", suffixes=("_left", "_right"))
    left = pd.DataFrame({"ref": left["ref"], "forename": left["first"], "surname": left["surname"],
                         "dob": left["dob"], "postcode": left["postcode"],
                         "diagnosis": rng.choice(["A", "B", "C"], len(left))})
    right = pd.DataFrame({"ref": right["ref"], "first_name": right["first"], "surname": right["surname"],
                          "dob": right["dob"], "postcode": right["postcode"],
                          "status": rng.choice(["employed", "inactive"], len(right))})
    return left, right, truth.rename(columns={"ref_left": "left_id", "ref_right": "right_id"})[["left_id", "right_id"]]


# ----- record-level keys: episodes and the households they belong to ----------------------------------------------
EPISODE_COLUMNS = [
    {"name": "episode_id", "type": "string", "role": "record_identifier", "description": "Random episode id"},
    {"name": "household_serial", "type": "string", "role": "record_identifier",
     "description": "Random id shared by the episodes of one household"},
    {"name": "age_band", "type": "category", "role": "quasi_identifier", "description": "Age band",
     "categories": ["0-17", "18-64", "65+"]},
    {"name": "serial_no", "type": "integer", "role": "record_identifier", "description": "Running number"},
    {"name": "cost", "type": "float", "role": "sensitive", "description": "Cost in pounds"},
]
HOUSEHOLD_COLUMNS = [
    {"name": "household_serial", "type": "string", "role": "record_identifier", "description": "Random household id"},
    {"name": "tenure", "type": "category", "role": "quasi_identifier", "description": "Tenure",
     "categories": ["owned", "rented"]},
]


def episode_record(**overrides: Any) -> dict[str, Any]:
    """Episodes (``dhsc.episodes``) keyed by record identifiers: an episode id, a household serial shared by about
    three episodes, and an integer running number."""
    return record(**{"columns": copy.deepcopy(EPISODE_COLUMNS), "localId": "dhsc.episodes",
                     "identifier": "https://data.example.invalid/dataset/episodes", **overrides})


def household_record(**overrides: Any) -> dict[str, Any]:
    """Households (``dhsc.households``): one row per household serial of ``episodes``."""
    return record(**{"columns": copy.deepcopy(HOUSEHOLD_COLUMNS), "localId": "dhsc.households",
                     "identifier": "https://data.example.invalid/dataset/households", **overrides})


def episodes(rows: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "episode_id": [f"E{i:06d}" for i in rng.permutation(rows)],
        "household_serial": [f"H{i // 3:05d}" for i in range(rows)],
        "age_band": rng.choice(["0-17", "18-64", "65+"], rows).astype(object),
        "serial_no": np.arange(1, rows + 1),
        "cost": rng.gamma(2, 1000, rows),
    })


def households(rows: int = 60) -> pd.DataFrame:
    count = (rows + 2) // 3
    return pd.DataFrame({"household_serial": [f"H{i:05d}" for i in range(count)],
                         "tenure": ["owned" if i % 2 else "rented" for i in range(count)]})
