"""Catalogue records, staff and projects of the synthetic public sector.

The records follow the UK cross-government metadata exchange model (camelCase keys) plus the workbench's own
keys (``localId``, ``dataOwner``, ``department``, ``legalGateway``, ``mission``, ``columns``...). The column lists
here are the contract for the generated data: ``world._conform`` orders and types every dataset by them, so a
record can never drift from its data.

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

def _c(name: str, type_: str, role: str, description: str, categories: tuple[str, ...] | None = None) -> dict:
    col: dict[str, str | list[str]] = {"name": name, "type": type_, "description": description, "role": role}
    if type_ == "category":
        col["categories"] = list(categories or ())
    return col


D, R, Q, S, OTHER = "direct_identifier", "record_identifier", "quasi_identifier", "sensitive", "other"


def _person(first: str = "first_name", last: str = "last_name", postcode: bool = True) -> list[dict]:
    cols = [
        _c(first, "string", D, "First name as recorded; may be an informal form, mistyped or missing."),
        _c(last, "string", D, "Surname as recorded; may be a previous (e.g. maiden) name, mistyped or missing."),
        _c("dob", "date", Q, "Date of birth as recorded; day and month are occasionally transposed."),
        _c("sex", "category", Q, "Sex as recorded: F female, M male.", ref.SEX),
    ]
    if postcode:
        cols.append(_c("postcode", "string", D, "Home postcode as recorded; may be out of date or badly formatted."))
    return cols


def _la(role: str = Q) -> list[dict]:
    return [_c("la_code", "string", role, "GSS code of the local authority (E06/E07/E08/E09/W06)."),
            _c("la_name", "string", role, "Local authority name.")]


_REGION = _c("region", "category", Q, "Region (Wales for Welsh authorities).", ref.REGIONS)
_MONTH = _c("month", "date", OTHER, "First day of the calendar month the figures cover.")
_YEAR = _c("year", "integer", OTHER, "Calendar year.")

COLUMNS: dict[str, list[dict]] = {
    "ons.lfs": [
        _c("case_id", "string", R, "Random identifier of this respondent record; no meaning outside this extract."),
        _c("household_serial", "string", R, "Random identifier shared by respondents in one sampled household."),
        _c("interview_date", "date", OTHER, "Date of the interview."),
        *_person(),
        _c("la_code", "string", Q, "GSS code of the local authority of the sampled address."),
        _REGION,
        _c("age", "integer", Q, "Age in completed years at interview."),
        _c("ilo_status", "category", S, "Economic activity status on the ILO definition.", ref.ILO_STATUS),
        _c("inactivity_reason", "category", S, "Main reason for not seeking work; only for the economically "
           "inactive.", ref.INACTIVITY_REASONS),
        _c("hours_worked", "float", S, "Usual weekly hours in the main job; only for the employed."),
        _c("gross_weekly_pay", "float", S, "Usual gross weekly pay in the main job (GBP); about a quarter of "
           "employees do not answer."),
        _c("soc_major_group", "category", Q, "Occupation of the main job, SOC 2020 major group.",
           ref.SOC_MAJOR_GROUPS),
        _c("long_term_health_condition", "boolean", S, "Has a physical or mental health condition expected to "
           "last 12 months or more."),
        _c("health_condition_limits_activity", "boolean", S, "The condition reduces ability to carry out "
           "day-to-day activities."),
        _c("survey_weight", "float", OTHER, "Person weight grossing the sample up to the resident population."),
    ],
    "dhsc.hes_apc": [
        _c("episode_id", "string", R, "Random identifier of the episode; no meaning outside this extract."),
        _c("nhs_number", "string", D, "NHS number of the patient (10 digits with check digit); occasionally "
           "missing."),
        *_person("forename", "surname"),
        _c("la_code", "string", Q, "GSS code of the local authority of residence, derived from the postcode."),
        _c("age_at_admission", "integer", Q, "Age in completed years on the admission date."),
        _c("admission_date", "date", Q, "Date the patient was admitted."),
        _c("discharge_date", "date", Q, "Date of discharge; empty while the patient is still in care."),
        _c("length_of_stay", "integer", S, "Nights in care (0 = day case); empty while the patient is still in "
           "care."),
        _c("admission_method", "category", S, "How the patient was admitted (grouped).", ref.ADMISSION_METHODS),
        _c("primary_diagnosis_chapter", "category", S, "ICD-10 chapter of the primary diagnosis.",
           ref.ICD10_CHAPTERS),
        _c("provider_code", "category", OTHER, "ODS code of the provider trust.", tuple(ref.NHS_TRUSTS)),
    ],
    "dwp.benefit_claims": [
        _c("claim_id", "string", R, "Random identifier of the claim; no meaning outside this extract."),
        _c("nino", "string", D, "National Insurance number of the claimant."),
        *_person(),
        _c("la_code", "string", Q, "GSS code of the local authority of the claimant's address."),
        _c("benefit", "category", S, "Benefit claimed. Universal Credit is recorded against the lead claimant of "
           "the household.", ref.BENEFITS),
        _c("claim_start", "date", Q, "Date the award started."),
        _c("claim_end", "date", Q, "Date the award ended; empty if still in payment on 31 March 2026."),
        _c("weekly_amount", "float", S, "Weekly amount in payment at the latest assessment (GBP)."),
        _c("health_related", "boolean", S, "Award depends on a health condition or disability (PIP, ESA, or "
           "Universal Credit with limited capability for work)."),
    ],
    "dfe.npd_pupils": [
        _c("pupil_id", "string", R, "Random identifier of the pupil record; no meaning outside this extract."),
        _c("upn", "string", D, "Unique pupil number (13 characters, check letter first)."),
        *_person(),
        _c("la_code", "string", Q, "GSS code of the local authority where the school is."),
        _c("school_urn", "integer", Q, "Unique reference number of the school."),
        _c("year_group", "integer", Q, "National curriculum year group in 2024/25 (1 to 13)."),
        _c("fsm_eligible", "boolean", S, "Known to be eligible for free school meals at the census."),
        _c("sen_status", "category", S, "Special educational needs provision.", ref.SEN_STATUS),
        _c("absence_rate", "float", S, "Percentage of possible sessions missed in 2024/25 (authorised and "
           "unauthorised)."),
        _c("ks4_attainment8", "float", S, "Key stage 4 Attainment 8 score, summer 2025; only for year 11 pupils."),
    ],
    "dfe.school_workforce": [
        _c("staff_id", "string", R, "Random identifier of the staff record; no meaning outside this extract."),
        _c("teacher_reference_number", "string", D, "Teacher reference number (7 digits)."),
        *_person(postcode=False),
        _c("school_urn", "integer", Q, "Unique reference number of the school."),
        _c("role", "category", Q, "Post held.", ref.TEACHER_ROLES),
        _c("fte", "float", OTHER, "Full-time equivalent of the contract (0 to 1)."),
        _c("annual_salary", "float", S, "Annual salary for the full-time equivalent post, GBP."),
        _c("subject", "category", OTHER, "Main subject taught (primary teachers teach all subjects).",
           ref.TEACHER_SUBJECTS),
    ],
    "dfe.teacher_vacancies": [
        _c("vacancy_id", "string", R, "Random identifier of the advert; no meaning outside this extract."),
        _c("school_urn", "integer", Q, "Unique reference number of the school advertising."),
        _c("la_code", "string", OTHER, "GSS code of the local authority the school is in."),
        _c("advertised_on", "date", OTHER, "Date the advert was published."),
        _c("role", "category", OTHER, "Post advertised.", ref.TEACHER_ROLES),
        _c("subject", "category", OTHER, "Main subject of the post (primary posts teach all subjects).",
           ref.TEACHER_SUBJECTS),
        _c("filled", "boolean", OTHER, "The post was filled from this advert."),
        _c("days_to_fill", "integer", OTHER, "Days from advert to appointment; empty when not filled."),
    ],
    "moj.offender_records": [
        _c("offender_id", "string", R, "Random identifier of this offender-in-cohort record; no meaning "
           "outside this extract."),
        _c("pnc_id", "string", D, "Police National Computer identifier (year/serial plus check letter)."),
        *_person(),
        _c("offence_group", "category", S, "Group of the index offence.", ref.OFFENCE_GROUPS),
        _c("sentence_type", "category", S, "Disposal for the index offence.", ref.SENTENCE_TYPES),
        _c("sentence_date", "date", Q, "Date of caution, conviction or sentence for the index offence."),
        _c("age_at_sentence", "integer", Q, "Age in completed years on the sentence date."),
        _c("previous_offences", "integer", S, "Number of previous proven offences."),
        _c("reoffended_within_1_year", "boolean", S, "A proven reoffence was committed within one year of the "
           "index date."),
    ],
    "ons.population_estimates": [
        *_la(), _REGION, _c("year", "integer", OTHER, "Year of the mid-year (30 June) estimate."),
        _c("sex", "category", Q, "F female, M male.", ref.SEX),
        _c("age_band", "category", Q, "Five-year age band.", ref.AGE_BANDS),
        _c("population", "integer", OTHER, "Usually resident population."),
    ],
    "ons.local_authorities": [
        *_la(),
        _REGION,
        _c("country", "category", OTHER, "Country.", ("England", "Wales")),
        _c("urban_rural", "category", OTHER, "Rural-urban classification of the authority.", ref.URBAN_RURAL),
        _c("imd_average_score", "float", OTHER, "Average deprivation score (IMD 2019 for England; a comparable "
           "estimate for Wales). Higher is more deprived."),
        _c("imd_rank", "integer", OTHER, "Rank of the deprivation score among these authorities (1 = most "
           "deprived)."),
        _c("police_force_area", "string", OTHER, "Police force covering the authority."),
        _c("postcode_districts", "string", OTHER, "Postcode districts in the authority, space separated."),
    ],
    "ho.recorded_crime": [
        *_la(),
        _c("police_force_area", "string", OTHER, "Police force that recorded the offences."),
        _MONTH,
        _c("offence_group", "category", OTHER, "Offence group.", ref.CRIME_GROUPS),
        _c("offences", "integer", OTHER, "Number of offences recorded by the police."),
    ],
    "dft.road_traffic": [
        *_la(), _MONTH,
        _c("vehicle_type", "category", OTHER, "Vehicle type.", ref.VEHICLE_TYPES),
        _c("vehicle_miles_millions", "float", OTHER, "Estimated vehicle miles travelled on all roads, millions."),
    ],
    "desnz.emissions_by_area": [
        *_la(), _REGION, _YEAR,
        _c("sector", "category", OTHER, "Emissions sector.", ref.EMISSION_SECTORS),
        _c("emissions_kt_co2e", "float", OTHER, "Territorial greenhouse gas emissions, kilotonnes CO2 equivalent "
           "(negative for net removals)."),
    ],
    "desnz.domestic_energy": [
        *_la(), _YEAR,
        _c("fuel", "category", OTHER, "Fuel.", ref.FUELS),
        _c("meters", "integer", OTHER, "Number of domestic meters."),
        _c("consumption_gwh", "float", OTHER, "Total domestic consumption, GWh."),
        _c("mean_kwh_per_meter", "float", OTHER, "Mean consumption per meter, kWh."),
    ],
    "metoffice.weather_by_area": [
        *_la(), _MONTH,
        _c("mean_temperature_c", "float", OTHER, "Mean air temperature, degrees Celsius."),
        _c("rainfall_mm", "float", OTHER, "Total rainfall, millimetres."),
        _c("sunshine_hours", "float", OTHER, "Total sunshine duration, hours."),
        _c("heating_degree_days", "float", OTHER, "Heating degree days below a 15.5 C base temperature."),
    ],
    "nhse.rtt_waiting": [
        *_la(), _MONTH,
        _c("treatment_function", "category", OTHER, "Treatment function (specialty) of the pathway.",
           ref.TREATMENT_FUNCTIONS),
        _c("incomplete_pathways", "integer", OTHER, "Patients waiting to start treatment at the end of the month."),
        _c("waiting_over_18_weeks", "integer", OTHER, "Of whom waiting more than 18 weeks."),
        _c("waiting_over_52_weeks", "integer", OTHER, "Of whom waiting more than 52 weeks."),
        _c("median_wait_weeks", "float", OTHER, "Median wait of incomplete pathways, weeks."),
    ],
}

# --- dataset records --------------------------------------------------------------------------------------------

# The per-dataset metadata is data, kept in catalogue.yaml beside this module; the column lists above join it here.
DATASETS: dict[str, dict] = _load("catalogue.yaml")

for _local_id, _record in DATASETS.items():
    _record["columns"] = COLUMNS[_local_id]


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
