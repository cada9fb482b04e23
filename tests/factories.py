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
