"""Catalogue records, staff and projects of the synthetic public sector.

The records follow the UK cross-government metadata exchange model (camelCase keys) plus the workbench's own
keys (``localId``, ``dataOwner``, ``department``, ``legalGateway``, ``mission``, ``columns``...). What differs
between datasets, staff and projects is kept as data beside this module (``catalogue.yaml``, ``columns.yaml``,
``people.yaml``, ``projects.yaml``), so this module holds only how records are made from it. The column lists are
the contract for the generated data: ``world._conform`` orders and types every dataset by them, so a record can
never drift from its data.

Record keys (``case_id``, ``household_serial``, ``episode_id``, ``claim_id``, ``pupil_id``, ``staff_id``,
``vacancy_id``, ``offender_id``) are ``record_identifier``: random ids with no meaning outside their extract, but the
same in every copy of it, so projects receive them as their own pseudonyms and cannot join their extracts on them.
School URNs are public establishment numbers, not record keys: ``quasi_identifier``. Real-world identifiers (NHS
number, NINO, UPN, PNC id, teacher reference number), names and postcodes are ``direct_identifier``; date of birth,
sex, age, area and school are ``quasi_identifier``; health, benefits, offending, pay and attainment are
``sensitive``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workbench.demo import _world_reference as ref

LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
THEME = "https://www.data.gov.uk/search?filters%5Btopic%5D="


def _load(name: str) -> Any:
    """The demo data kept as YAML beside this module."""
    with (Path(__file__).parent / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


_PEOPLE = _load("people.yaml")
# slug, abbreviation, name, e-mail/local-id prefix
DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = tuple(
    (slug, *rest) for slug, rest in _PEOPLE["departments"].items())
_SLUG = {prefix: slug for slug, _, _, prefix in DEPARTMENTS}
# first, last, department prefix, role
STAFF: tuple[tuple[str, str, str, str], ...] = tuple(tuple(person) for person in _PEOPLE["staff"])


def departments() -> list[dict]:
    """The organisations taking part, keyed by their GOV.UK organisation slug."""
    return [{"slug": slug, "abbreviation": abbr, "name": name} for slug, abbr, name, _ in DEPARTMENTS]


def people() -> list[dict]:
    """Fixed demo staff, so usernames are stable whatever the seed."""
    out = []
    for first, last, prefix, role in STAFF:
        user = f"{first}.{last}".lower()
        out.append({"username": user, "name": f"{first} {last}", "email": f"{user}@{prefix}.demo.invalid",
                    "department": _SLUG[prefix], "roles": [role]})
    return out


def projects() -> list[dict]:
    """One research project per government mission, from projects.yaml beside this module."""
    out = _load("projects.yaml")
    for project in out:
        project["members"] = [{"username": project["lead"], "role": "lead"}] + [
            {"username": username, "role": role} for username, role in project["members"]]
    return out


# --- column lists -----------------------------------------------------------------------------------------------

def _column(spec: dict) -> dict:
    """One column of columns.yaml as catalogue records hold it: category columns list their categories, number and
    date columns their public bounds (what synthetic twins bin them within)."""
    col: dict[str, Any] = {"name": spec["name"], "type": spec["type"], "description": spec["description"],
                           "role": spec["role"]}
    if spec["type"] == "category":
        categories = spec.get("categories", ())
        col["categories"] = list(getattr(ref, categories) if isinstance(categories, str) else categories)
    for bound in ("lowerBound", "upperBound", "earliestDate", "latestDate"):
        if bound in spec:
            col[bound] = spec[bound]
    return col


COLUMNS: dict[str, list[dict]] = {local_id: [_column(spec) for spec in specs]
                                  for local_id, specs in _load("columns.yaml").items()}

# --- dataset records --------------------------------------------------------------------------------------------

# The per-dataset metadata is data, kept in catalogue.yaml beside this module; the column lists above join it here.
DATASETS: dict[str, dict] = _load("catalogue.yaml")

for _local_id, _record in DATASETS.items():
    _record["columns"] = COLUMNS[_local_id]


def search_terms() -> list[tuple[str, str]]:
    """The abbreviations and synonyms the demo catalogue's users type, as (term, meaning) pairs."""
    return [(term, meaning) for term, meaning in _load("search_terms.yaml")]


def build_entries(staff: list[dict]) -> dict[str, dict]:
    """Catalogue records for every dataset, owned by the data owner of the owning department."""
    owners = {p["department"]: p["username"] for p in staff if "data_owner" in p["roles"]}
    entries: dict[str, dict] = {}
    for local_id, m in DATASETS.items():
        dept = _SLUG[m["department"]]
        team, mailbox = m["contact"]
        version = m["modified"][:7]
        entries[local_id] = {
            "identifier": f"https://demo.workbench.invalid/dataset/{local_id}",
            "type": "dcat:Dataset",
            "title": m["title"],
            "summary": m["summary"],
            "description": m["description"],
            "keyword": list(m["keyword"]),
            "theme": [THEME + t.replace(" ", "%20") for t in m["theme"]],
            "licence": LICENCE,
            "version": version,
            "accessRights": m["access"],
            "securityClassification": "OFFICIAL",
            "contactPoint": {"contactName": team, "email": f"{mailbox}@{m['publisher']}.demo.invalid"},
            "creator": list(m.get("creator", [dept])),
            "publisher": m["publisher"],
            "issued": m["issued"],
            "modified": m["modified"],
            "updateFrequency": m["updateFrequency"],
            "localId": local_id,
            "dataOwner": owners[dept],
            "department": dept,
            "legalGateway": list(m["gateways"]),
            "mission": list(m["mission"]),
            "columns": [dict(c, categories=list(c["categories"])) if "categories" in c else dict(c)
                        for c in m["columns"]],
            "temporalCoverage": {"start": m["temporal"][0], "end": m["temporal"][1]},
            "spatialCoverage": m["spatial"],
            "lineage": m["lineage"],
            **({"personKey": m["person_key"]} if "person_key" in m else {}),
        }
    return entries
