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

from workbench.demo import _world_reference as ref

LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
THEME = "https://www.data.gov.uk/search?filters%5Btopic%5D="

DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = (
    # slug, abbreviation, name, e-mail/local-id prefix
    ("office-for-national-statistics", "ONS", "Office for National Statistics", "ons"),
    ("department-of-health-and-social-care", "DHSC", "Department of Health and Social Care", "dhsc"),
    ("nhs-england", "NHSE", "NHS England", "nhse"),
    ("department-for-work-pensions", "DWP", "Department for Work and Pensions", "dwp"),
    ("department-for-education", "DfE", "Department for Education", "dfe"),
    ("home-office", "HO", "Home Office", "ho"),
    ("ministry-of-justice", "MoJ", "Ministry of Justice", "moj"),
    ("department-for-energy-security-and-net-zero", "DESNZ", "Department for Energy Security and Net Zero",
     "desnz"),
    ("met-office", "Met Office", "Met Office", "metoffice"),
    ("department-for-transport", "DfT", "Department for Transport", "dft"),
)
_SLUG = {prefix: slug for slug, _, _, prefix in DEPARTMENTS}

# (first, last, department prefix, role)
STAFF: tuple[tuple[str, str, str, str], ...] = (
    ("Priya", "Sharma", "ons", "data_owner"),
    ("Gareth", "Evans", "dhsc", "data_owner"),
    ("Aisha", "Khan", "nhse", "data_owner"),
    ("Martin", "Clarke", "dwp", "data_owner"),
    ("Helen", "Whitfield", "dfe", "data_owner"),
    ("Daniel", "Okafor", "ho", "data_owner"),
    ("Fiona", "Campbell", "moj", "data_owner"),
    ("Rhys", "Morgan", "desnz", "data_owner"),
    ("Catherine", "Holt", "metoffice", "data_owner"),
    ("Tom", "Fletcher", "dft", "data_owner"),
    ("Amelia", "Hughes", "ons", "analyst"),
    ("Oliver", "Bennett", "ons", "analyst"),
    ("Sanjay", "Patel", "dwp", "analyst"),
    ("Laura", "Mitchell", "dhsc", "analyst"),
    ("Chloe", "Robinson", "dfe", "analyst"),
    ("Kwame", "Mensah", "moj", "analyst"),
    ("Emily", "Carter", "desnz", "analyst"),
    ("James", "Wilson", "nhse", "analyst"),
    ("Ruth", "Sinclair", "ons", "output_checker"),
    ("Mark", "Davies", "dhsc", "output_checker"),
    ("Nadia", "Rahman", "dwp", "output_checker"),  # in no project: every project has two independent checkers
    ("Sophie", "Turner", "ons", "trainer"),
    ("Alex", "Reid", "ons", "admin"),
)


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
    """One research project per government mission."""
    def team(lead: str, *others: tuple[str, str]) -> list[dict]:
        return [{"username": lead, "role": "lead"}] + [{"username": u, "role": r} for u, r in others]

    return [
        {"id": "m1-economic-inactivity",
         "title": "Health, benefits and economic inactivity",
         "purpose": ("Economic inactivity because of long-term sickness has risen since 2019. By linking Labour "
                     "Force Survey respondents to their benefit claims and hospital admissions, this project "
                     "estimates how far chronic ill health, recent hospital care and benefit receipt explain "
                     "inactivity in different places, to inform employment support under the growth mission."),
         "mission": 1, "legalGateway": "dea-2017-research", "lead": "sanjay.patel",
         "members": team("sanjay.patel", ("amelia.hughes", "analyst"), ("laura.mitchell", "analyst"),
                         ("ruth.sinclair", "reviewer")),
         "datasets": ["ons.lfs", "dhsc.hes_apc", "dwp.benefit_claims", "ons.population_estimates"],
         "intendedOutputs": ["Inactivity rates by health condition and region (table)",
                             "Share of inactive people with a health-related benefit claim (table)",
                             "Emergency admissions in the year before leaving work (chart)"],
         "start": "2026-04-01", "end": "2027-03-31"},
        {"id": "m2-heating-demand",
         "title": "Weather, heating demand and domestic emissions",
         "purpose": ("Cold winters raise gas use and domestic emissions; the 2022 price shock cut them. This project "
                     "separates the weather from behaviour in local domestic energy use and emissions, and adds road "
                     "transport, to show where heat pumps and insulation would cut most carbon for the clean energy "
                     "mission. It uses open data only."),
         "mission": 2, "legalGateway": "open-government-licence", "lead": "emily.carter",
         "members": team("emily.carter", ("oliver.bennett", "analyst"), ("mark.davies", "reviewer")),
         "datasets": ["desnz.domestic_energy", "desnz.emissions_by_area", "metoffice.weather_by_area",
                      "dft.road_traffic", "ons.population_estimates"],
         "intendedOutputs": ["Weather-adjusted gas use per home by local authority (table)",
                             "Domestic and transport emissions per resident, 2019-2024 (chart)"],
         "start": "2026-04-01", "end": "2027-03-31"},
        {"id": "m3-reoffending-pathways",
         "title": "School absence, deprivation and reoffending",
         "purpose": ("Young people who miss school are over-represented among offenders. Linking pupil records to "
                     "proven offending shows how absence, special educational needs and free school meals relate "
                     "to first offences and reoffending, and how that varies with local crime and deprivation, "
                     "to target prevention under the safer streets mission."),
         "mission": 3, "legalGateway": "dea-2017-research", "lead": "kwame.mensah",
         "members": team("kwame.mensah", ("chloe.robinson", "analyst"), ("oliver.bennett", "analyst"),
                         ("ruth.sinclair", "reviewer")),
         "datasets": ["moj.offender_records", "dfe.npd_pupils", "ho.recorded_crime", "ons.local_authorities"],
         "intendedOutputs": ["One-year reoffending rate by school absence band (table)",
                             "Recorded crime against deprivation by local authority (chart)"],
         "start": "2026-04-01", "end": "2027-03-31"},
        {"id": "m4-fsm-attainment",
         "title": "Free school meals, absence and attainment",
         "purpose": ("The attainment gap between disadvantaged pupils and their peers opens early and widens by "
                     "key stage 4. Linking pupils to their households' benefit claims tests whether free school "
                     "meal eligibility captures disadvantage well, and how absence and teacher supply in schools "
                     "relate to the gap, for the opportunity mission."),
         "mission": 4, "legalGateway": "dea-2017-research", "lead": "chloe.robinson",
         "members": team("chloe.robinson", ("sanjay.patel", "analyst"), ("mark.davies", "reviewer")),
         "datasets": ["dfe.npd_pupils", "dfe.school_workforce", "dfe.teacher_vacancies", "dwp.benefit_claims"],
         "intendedOutputs": ["Attainment 8 by free school meal eligibility and absence (table)",
                             "Pupil-teacher ratios by school deprivation (chart)"],
         "start": "2026-04-01", "end": "2027-03-31"},
        {"id": "m5-emergency-admissions",
         "title": "Emergency admissions, deprivation and winter pressure",
         "purpose": ("Emergency admissions crowd out planned care each winter. This project measures how admission "
                     "rates vary with age, deprivation and cold weather, and how that relates to waiting lists for "
                     "planned treatment, to support an NHS fit for the future."),
         "mission": 5, "legalGateway": "nhs-act-2006-s251", "lead": "james.wilson",
         "members": team("james.wilson", ("laura.mitchell", "analyst"), ("amelia.hughes", "analyst"),
                         ("mark.davies", "reviewer")),
         "datasets": ["dhsc.hes_apc", "nhse.rtt_waiting", "metoffice.weather_by_area", "ons.population_estimates",
                      "ons.local_authorities"],
         "intendedOutputs": ["Emergency admissions per 1,000 residents by deprivation decile (table)",
                             "Weekly admissions against temperature, 2021-2026 (chart)"],
         "start": "2026-04-01", "end": "2027-03-31"},
    ]


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



def _meta(**kw: object) -> dict:
    return kw


DATASETS: dict[str, dict] = {
    "ons.lfs": _meta(
        title="Labour Force Survey: person-level responses",
        summary="Quarterly household survey of the labour market: employment, unemployment, economic inactivity, "
                "hours, pay and health of people aged 16 and over.",
        description=(
            "The Labour Force Survey interviews everyone aged 16 and over in a sample of about 4% of private "
            "households, spread across the 2025/26 survey year. One row is one respondent. It is the source of the "
            "headline employment, unemployment and economic inactivity rates on the International Labour "
            "Organisation definitions, and records occupation, usual hours, gross pay and long-term health "
            "conditions.\n\n"
            "Known issues: names, dates of birth and postcodes are as the respondent gave them, so informal first "
            "names are common and about 2% of dates of birth were refused. A quarter of employees do not report "
            "pay. Estimates must use survey_weight; unweighted counts are not population figures. Response has "
            "fallen since 2020, so small-area estimates are volatile."),
        keyword=["labour market", "employment", "unemployment", "economic inactivity", "long-term sickness",
                 "pay", "survey"],
        theme=["Business and economy", "Society"], department="ons", publisher="office-for-national-statistics",
        contact=("Labour Market Survey Team", "labour.market"), issued="1992-05-01", modified="2026-05-12",
        updateFrequency="freq:quarterly", access="INTERNAL", gateways=["sraa-2007-s39", "dea-2017-research"],
        mission=[1, 5], temporal=("2025-04-01", "2026-03-31"), spatial="England and Wales",
        lineage=("Collected by ONS field and telephone interviewers; this extract holds the 2025/26 responses "
                 "with the identifiers collected for linkage, weighted to mid-year population estimates.")),
    "dhsc.hes_apc": _meta(
        person_key="nhs_number",
        title="Hospital Episode Statistics: admitted patient care",
        summary="Every episode of admitted patient care in NHS hospitals in England, with diagnosis, admission "
                "method, dates and provider.",
        description=(
            "Hospital Episode Statistics (HES) admitted patient care holds a record for every finished consultant "
            "episode of patients admitted to NHS hospitals in England, and to independent sector providers "
            "treating NHS patients. One row is one episode; a patient often has several. This extract covers "
            "admissions from April 2021 to March 2026 for residents of the selected English local authorities, "
            "including births.\n\n"
            "Known issues: patient names are stored in upper case; postcodes come from GP registration and about "
            "7% are out of date; dates of birth are sometimes keyed with day and month swapped. Episodes still "
            "open at the extract date have no discharge date or length of stay. Diagnoses are grouped to ICD-10 "
            "chapter."),
        keyword=["hospital", "hospital admissions", "inpatients", "HES", "diagnosis", "emergency admissions",
                 "NHS"],
        theme=["Health"], department="dhsc", publisher="nhs-england", creator=["nhs-england"],
        contact=("HES Data Team", "hes.data"), issued="2024-04-01", modified="2026-10-01",
        updateFrequency="freq:monthly", access="INTERNAL", gateways=["nhs-act-2006-s251", "dea-2017-research"],
        mission=[5, 1], temporal=("2021-04-01", "2026-03-31"), spatial="England",
        lineage=("Submitted monthly by providers through the Secondary Uses Service, cleaned and derived by NHS "
                 "England; extracted for the workbench with patient identifiers retained for approved linkage.")),
    "dwp.benefit_claims": _meta(
        person_key="nino",
        title="Benefit claims: Universal Credit, disability, carer and pension benefits",
        summary="Claims to Universal Credit, PIP, ESA, State Pension and Carer's Allowance in payment at any "
                "time since April 2019, with amounts and dates.",
        description=(
            "Administrative records of benefit awards from DWP operational systems. One row is one claim; a person "
            "can have several (for example Universal Credit and Personal Independence Payment). The extract holds "
            "every claim in payment at any time from April 2019 to March 2026. Legacy Employment and Support "
            "Allowance claims that moved to Universal Credit in managed migration end in 2024-26.\n\n"
            "Known issues: Universal Credit is a household benefit recorded against the lead claimant only. "
            "Addresses are usually current, but around 3% are previous addresses. Amounts are the weekly "
            "equivalent at the latest assessment, not payments made."),
        keyword=["benefits", "Universal Credit", "disability", "PIP", "State Pension", "welfare", "claims"],
        theme=["Society", "Government"], department="dwp", publisher="department-for-work-pensions",
        contact=("Benefit Statistics Team", "benefit.statistics"), issued="2019-07-01", modified="2026-09-16",
        updateFrequency="freq:monthly", access="INTERNAL",
        gateways=["dea-2017-research", "dea-2017-public-service-delivery", "uk-gdpr-public-task"],
        mission=[1, 4], temporal=("2019-04-01", "2026-03-31"), spatial="England and Wales",
        lineage=("Extracted from the Universal Credit full service and legacy benefit payment systems, "
                 "de-duplicated to one row per award.")),
    "dfe.npd_pupils": _meta(
        title="National Pupil Database: pupils, absence and key stage 4",
        summary="Pupils in state-funded schools in England in 2024/25 with free school meals, special "
                "educational needs, absence and key stage 4 results.",
        description=(
            "The National Pupil Database joins the school census to attendance and attainment records. One row "
            "is one pupil in years 1 to 13 of a state-funded school at the January 2025 census, with their "
            "2024/25 absence and, for year 11, their summer 2025 Attainment 8 score. Independent schools and "
            "further education colleges are not covered, so many 16-18 year olds are absent.\n\n"
            "Known issues: postcodes are those held by the school and are sometimes out of date; first names may "
            "be the name the pupil is known by. Free school meal eligibility is recorded on census day only."),
        keyword=["pupils", "schools", "attainment", "free school meals", "absence", "special educational needs",
                 "education"],
        theme=["Education"], department="dfe", publisher="department-for-education",
        contact=("National Pupil Database Team", "npd.requests"), issued="2002-01-01", modified="2026-03-26",
        updateFrequency="freq:annual", access="INTERNAL",
        gateways=["education-act-1996-s537a", "dea-2017-research"],
        mission=[4, 3], temporal=("2024-09-01", "2025-08-31"), spatial="England",
        lineage=("School census returns from schools and local authorities, matched to attendance and key stage "
                 "4 results by DfE; extracted with pupil identifiers for approved linkage.")),
    "dfe.school_workforce": _meta(
        title="School Workforce Census: teachers",
        summary="Teachers in state-funded schools in England at the November 2024 census, with post, FTE, salary "
                "and main subject.",
        description=(
            "The School Workforce Census is collected from every state-funded school each November. One row is one "
            "teacher in post on census day, with their school, post, contract FTE, salary and main subject. "
            "Teachers holding posts in two schools appear once, at their main school.\n\n"
            "Known issues: names are as held by the school's payroll and can differ from the name on the teacher "
            "reference number, especially surnames after marriage. Home addresses are not collected."),
        keyword=["teachers", "school workforce", "salaries", "schools", "education"],
        theme=["Education"], department="dfe", publisher="department-for-education",
        contact=("School Workforce Statistics Team", "school.workforce"), issued="2011-04-01",
        modified="2026-06-05", updateFrequency="freq:annual", access="INTERNAL",
        gateways=["education-act-1996-s537a", "uk-gdpr-public-task"],
        mission=[4], temporal=("2024-11-07", "2024-11-07"), spatial="England",
        lineage="Census returns from schools and local authorities, validated by DfE."),
    "dfe.teacher_vacancies": _meta(
        title="Teaching vacancies: adverts by school",
        summary="Every teaching post advertised by state-funded schools in England, September 2024 to August "
                "2025, with post, subject and whether and how fast it was filled.",
        description=(
            "Schools advertise teaching posts through the national teaching vacancies service. One row is one "
            "advert: the school (URN) and its local authority, the date, the post and main subject, whether an "
            "appointment was made from it and how many days that took. Together with the School Workforce Census "
            "it measures teacher shortage by school: adverts per teacher, and the share left unfilled.\n\n"
            "Known issues: posts re-advertised after a failed search appear once per advert; appointments made "
            "without an advert (internal promotions, supply cover) are not here."),
        keyword=["teacher vacancies", "recruitment", "teacher shortage", "schools", "education"],
        theme=["Education"], department="dfe", publisher="department-for-education",
        contact=("Teacher Supply Analysis Team", "teacher.supply"), issued="2019-09-01",
        modified="2025-09-30", updateFrequency="freq:monthly", access="OPEN", gateways=["open-government-licence"],
        mission=[4], temporal=("2024-09-01", "2025-08-31"), spatial="England",
        lineage="Adverts and appointment outcomes recorded by schools in the teaching vacancies service."),
    "moj.offender_records": _meta(
        person_key="pnc_id",
        title="Proven offending and reoffending cohorts",
        summary="Offenders cautioned, convicted or released from custody in England and Wales, April 2019 to "
                "March 2025, with index offence, sentence and one-year proven reoffending.",
        description=(
            "Each row is one offender in a quarterly proven reoffending cohort: someone who received a caution, a "
            "non-custodial conviction or was released from custody. The index offence and disposal are recorded "
            "with whether the person committed a proven reoffence within one year. The same person can appear in "
            "several cohorts with the same PNC identifier.\n\n"
            "Known issues: names are held in upper case as recorded on the Police National Computer and aliases "
            "are common; around 6% have no fixed abode and no postcode, and 15% of addresses are out of date. "
            "Reoffences need six months to be proven after the follow-up year."),
        keyword=["offenders", "reoffending", "sentencing", "crime", "justice", "convictions"],
        theme=["Crime and justice"], department="moj", publisher="ministry-of-justice",
        contact=("Justice Data Team", "justice.data"), issued="2013-01-31", modified="2026-07-30",
        updateFrequency="freq:quarterly", access="INTERNAL",
        gateways=["crime-and-disorder-act-1998-s115", "dea-2017-research"],
        mission=[3], temporal=("2019-04-01", "2025-03-31"), spatial="England and Wales",
        lineage=("Derived from the Police National Computer and prison and probation records; cohort rows "
                 "selected by MoJ analysts.")),
    "ons.population_estimates": _meta(
        title="Mid-year population estimates by local authority, sex and age",
        summary="Usually resident population at 30 June each year by local authority, sex and five-year age band.",
        description=(
            "Official mid-year estimates of the usually resident population, rolled forward from the 2021 Census "
            "with births, deaths and migration. One row is one authority, year, sex and age band.\n\n"
            "Known issues: estimates for areas with many students or international migrants are less certain; "
            "figures are rounded independently so totals may differ slightly."),
        keyword=["population", "demography", "age", "mid-year estimates", "residents"],
        theme=["Society", "Government"], department="ons", publisher="office-for-national-statistics",
        contact=("Population Estimates Unit", "pop.info"), issued="2012-06-28", modified="2026-07-15",
        updateFrequency="freq:annual", access="OPEN", gateways=["open-government-licence"],
        mission=[1, 2, 3, 4, 5], temporal=("2019-06-30", "2025-06-30"), spatial="England and Wales",
        lineage="Cohort component method applied to the 2021 Census base by ONS."),
    "ons.local_authorities": _meta(
        title="Local authorities: codes, regions, rurality and deprivation",
        summary="Reference list of the local authorities in the workbench with GSS codes, region, rural-urban "
                "class, deprivation score and postcode districts.",
        description=(
            "A lookup for joining area statistics: one row per local authority with its GSS code, region, "
            "rural-urban classification, average deprivation score and rank, police force area and the postcode "
            "districts it contains.\n\n"
            "Known issues: the Index of Multiple Deprivation is not comparable between England and Wales; Welsh "
            "scores here are estimates on the English scale. Postcode districts can straddle authority boundaries."),
        keyword=["local authorities", "geography", "lookup", "deprivation", "postcodes", "GSS codes"],
        theme=["Mapping", "Government"], department="ons", publisher="office-for-national-statistics",
        contact=("ONS Geography", "ons.geography"), issued="2019-09-26", modified="2026-04-01",
        updateFrequency="freq:irregular", access="OPEN", gateways=["open-government-licence"],
        mission=[1, 2, 3, 4, 5], temporal=("2019-01-01", "2026-03-31"), spatial="England and Wales",
        lineage="Compiled from the ONS Open Geography Portal and the English Indices of Deprivation 2019."),
    "ho.recorded_crime": _meta(
        title="Police recorded crime by local authority and offence group",
        summary="Monthly counts of crimes recorded by the police in each local authority, by offence group.",
        description=(
            "Notifiable offences recorded by the 43 territorial police forces, allocated to the local authority "
            "where the offence took place. One row is one authority, month and offence group. Fraud is excluded "
            "(it is recorded centrally).\n\n"
            "Known issues: recording practice changes affect trends, especially for violence and sexual offences; "
            "counts in city centres are high relative to residents. Lockdowns in 2020-21 depressed theft."),
        keyword=["crime", "police", "recorded crime", "offences", "community safety"],
        theme=["Crime and justice"], department="ho", publisher="home-office",
        contact=("Crime Statistics Team", "crime.statistics"), issued="2015-07-16", modified="2026-10-23",
        updateFrequency="freq:monthly", access="OPEN", gateways=["open-government-licence"],
        mission=[3], temporal=("2019-04-01", "2026-03-31"), spatial="England and Wales",
        lineage="Home Office Data Hub returns from police forces, aggregated by the Home Office."),
    "dft.road_traffic": _meta(
        title="Road traffic estimates by local authority and vehicle type",
        summary="Monthly vehicle miles travelled on all roads in each local authority by vehicle type, including "
                "pedal cycles.",
        description=(
            "Traffic estimates from automatic and manual counts, expanded to all roads. One row is one authority, "
            "month and vehicle type, in millions of vehicle miles.\n\n"
            "Known issues: minor road estimates rest on few counts; cycle estimates are weather sensitive and "
            "uncertain. Traffic fell sharply during the 2020-21 lockdowns."),
        keyword=["traffic", "transport", "roads", "vehicle miles", "cycling", "mobility"],
        theme=["Transport", "Environment"], department="dft", publisher="department-for-transport",
        contact=("Road Traffic Statistics", "roadtraff.stats"), issued="2016-05-12", modified="2026-09-24",
        updateFrequency="freq:annual", access="OPEN", gateways=["open-government-licence"],
        mission=[2, 1], temporal=("2019-04-01", "2026-03-31"), spatial="England and Wales",
        lineage="Count points and the road length database combined by DfT statisticians."),
    "desnz.emissions_by_area": _meta(
        title="Local authority greenhouse gas emissions by sector",
        summary="Annual territorial greenhouse gas emissions in each local authority by sector, kilotonnes CO2 "
                "equivalent.",
        description=(
            "Emissions from the national inventory allocated to local authorities. One row is one authority, "
            "year and sector. Domestic emissions follow heating demand and grid carbon intensity; transport "
            "follows road traffic.\n\n"
            "Known issues: large industrial sites dominate some areas; land use can be a net removal (negative). "
            "Figures are revised every year back to 2005."),
        keyword=["emissions", "greenhouse gas", "carbon", "net zero", "climate"],
        theme=["Environment"], department="desnz", publisher="department-for-energy-security-and-net-zero",
        contact=("Local Emissions Team", "climatechange.statistics"), issued="2020-06-25", modified="2026-06-26",
        updateFrequency="freq:annual", access="OPEN", gateways=["open-government-licence"],
        mission=[2], temporal=("2019-01-01", "2024-12-31"), spatial="England and Wales",
        lineage="UK Greenhouse Gas Inventory disaggregated to local authorities for DESNZ."),
    "desnz.domestic_energy": _meta(
        title="Domestic gas and electricity consumption by local authority",
        summary="Annual domestic gas and electricity meters, total and mean consumption in each local authority.",
        description=(
            "Meter point consumption from energy suppliers, aggregated to local authorities. One row is one "
            "authority, year and fuel. Gas consumption is weather corrected in the official series but is shown "
            "here unadjusted, so cold years are higher.\n\n"
            "Known issues: homes off the gas grid (common in rural areas) use oil or electric heating; the "
            "2022-23 price rise cut consumption."),
        keyword=["energy", "gas", "electricity", "consumption", "heating"],
        theme=["Environment", "Business and economy"], department="desnz",
        publisher="department-for-energy-security-and-net-zero",
        contact=("Energy Consumption Statistics", "energy.stats"), issued="2018-12-20", modified="2026-09-25",
        updateFrequency="freq:annual", access="OPEN", gateways=["open-government-licence"],
        mission=[2], temporal=("2019-01-01", "2024-12-31"), spatial="England and Wales",
        lineage="Annual meter readings from gas transporters and electricity suppliers, aggregated by DESNZ."),
    "metoffice.weather_by_area": _meta(
        title="Monthly weather by local authority",
        summary="Monthly mean temperature, rainfall, sunshine and heating degree days in each local authority.",
        description=(
            "Gridded observations averaged over each local authority. One row is one authority and month. "
            "Heating degree days measure how far daily temperatures fall below 15.5 C, the usual base for "
            "heating demand.\n\n"
            "Known issues: upland areas differ from the authority average; the latest months are provisional."),
        keyword=["weather", "temperature", "rainfall", "climate", "heating degree days"],
        theme=["Environment"], department="metoffice", publisher="met-office",
        contact=("Climate Data Services", "climate.data"), issued="2017-03-01", modified="2026-04-03",
        updateFrequency="freq:monthly", access="OPEN", gateways=["open-government-licence"],
        mission=[2, 5], temporal=("2019-01-01", "2026-03-31"), spatial="England and Wales",
        lineage="HadUK-Grid 1 km observations averaged over local authority boundaries."),
    "nhse.rtt_waiting": _meta(
        title="Referral to treatment waiting times by local authority",
        summary="Patients waiting to start consultant-led elective treatment at the end of each month, by local "
                "authority of residence and treatment function.",
        description=(
            "Referral to treatment (RTT) waiting times for incomplete pathways. One row is one local authority of "
            "residence, month and treatment function, with the number waiting, how many have waited over 18 and "
            "52 weeks, and the median wait. The constitutional standard is 92% waiting under 18 weeks.\n\n"
            "Known issues: some providers paused reporting after system changes; validation of waiting lists "
            "removes pathways in bulk. Waiting lists grew sharply after the pandemic."),
        keyword=["waiting lists", "waiting times", "referral to treatment", "elective care", "NHS"],
        theme=["Health"], department="nhse", publisher="nhs-england",
        contact=("Performance Analysis Team", "rtt.data"), issued="2015-10-08", modified="2026-05-14",
        updateFrequency="freq:monthly", access="OPEN", gateways=["open-government-licence"],
        mission=[5], temporal=("2019-04-01", "2026-03-31"), spatial="England",
        lineage="Monthly RTT returns from providers and commissioners, reallocated to residence by NHS England."),
}

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
