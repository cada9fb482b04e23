"""The demo's governed-access story: accreditation, training, requests and owner decisions, loads and saves.

Played through the ordinary services as the people concerned, so the demo shows every path: approved
grants (some with fewer columns than asked, one with a ticked identifier under an identifier-permitting
gateway), requests waiting for owners, a refusal with its reason, a delegate, lapsed training, loads and a
derived project dataset for the owners' usage reports; privacy budgets on every granted dataset and a
differentially private table spent from one. The demo's own user is an analyst in every mission project, so
each mission notebook can load what its project was granted; an output request waits for the checkers.
"""

from __future__ import annotations

ACCREDITED_UNTIL = "2028-03-31"
TRAINING = ("safe-researcher", "2025-09-15")
# someone whose training has lapsed: their loads are refused with the reason and who can fix it
LAPSED = ("oliver.bennett", "safe-researcher", "2022-03-01", "2025-03-01")
DELEGATES = (("ons.population_estimates", "sophie.turner"),)

LFS_COLUMNS = ["case_id", "interview_date", "dob", "sex", "la_code", "region", "age", "ilo_status",
               "inactivity_reason", "long_term_health_condition", "health_condition_limits_activity",
               "survey_weight"]
# what the owners let the linkage read (never handed to the project) for the Mission 1 LFS–HES linkage
LFS_LINKAGE = ["first_name", "last_name", "dob", "sex", "postcode"]
# the project's person id from the workbench's person index: Mission 1 joins the LFS to HES on it, Mission 5
# counts patients by it. Asked for only where the catalogue entry shows it (the dataset is in the index)
PERSON_ID = "person_id"

# (project, requester, dataset, columns or None for all, justification, decision)
# decision: None (pending), ("refuse", reason) or ("approve", {columns, identifiers, conditions, reason})
REQUESTS: tuple[tuple, ...] = (
    ("m1-economic-inactivity", "sanjay.patel", "ons.lfs",
     [*LFS_COLUMNS, PERSON_ID, *LFS_LINKAGE[:2], LFS_LINKAGE[4]],
     "Economic status, inactivity reason and health condition of working-age respondents, by area, to "
     "estimate inactivity due to ill health; the person id to join hospital episodes; names and postcode only "
     "for linkage to hospital episodes.",
     ("approve", {"columns": [*LFS_COLUMNS, PERSON_ID], "linkage": LFS_LINKAGE,
                  "conditions": "Outputs at region level or above; survey weights must be applied."})),
    ("m1-economic-inactivity", "sanjay.patel", "dhsc.hes_apc", None,
     "Emergency admissions in the year before leaving work, linked to LFS respondents.",
     ("approve", {"columns": ["episode_id", "dob", "sex", "la_code", "age_at_admission", "admission_date",
                              "admission_method", "primary_diagnosis_chapter", PERSON_ID],
                  "linkage": ["forename", "surname", "dob", "sex", "postcode"],
                  "reason": "Direct identifiers are not available under the research power (the linkage may read "
                            "them); length of stay and provider are not needed for this question."})),
    ("m1-economic-inactivity", "amelia.hughes", "ons.population_estimates", None,
     "Denominators for inactivity rates by local authority.", ("approve", {})),
    ("m1-economic-inactivity", "sanjay.patel", "dwp.benefit_claims",
     ["claim_id", "dob", "sex", "la_code", "benefit", "claim_start", "claim_end", "health_related", PERSON_ID],
     "Health-related benefit receipt of inactive respondents, joined to them by person id.", None),
    ("m2-heating-demand", "emily.carter", "desnz.domestic_energy", None,
     "Gas and electricity use per meter by local authority.", ("approve", {})),
    ("m2-heating-demand", "emily.carter", "desnz.emissions_by_area", None,
     "Domestic and transport emissions by area.", ("approve", {})),
    ("m2-heating-demand", "oliver.bennett", "metoffice.weather_by_area", None,
     "Heating degree days to weather-adjust consumption.", ("approve", {})),
    ("m2-heating-demand", "emily.carter", "dft.road_traffic", None,
     "Vehicle miles to add road transport to the picture.", None),
    ("m3-reoffending-pathways", "kwame.mensah", "moj.offender_records", None,
     "First offences and proven reoffending of young people.", None),
    ("m3-reoffending-pathways", "chloe.robinson", "dfe.npd_pupils", None,
     "Absence, SEN and free school meals of pupils who later offend.",
     ("refuse", "Ask again for the minimum columns: attainment and school are not needed for this question, "
                "and direct identifiers are not available under the research power.")),
    ("m3-reoffending-pathways", "kwame.mensah", "ho.recorded_crime", None,
     "Local recorded crime as context for reoffending rates.", ("approve", {})),
    ("m3-reoffending-pathways", "kwame.mensah", "dft.road_traffic", None,
     "Vehicle miles by area and month: how much people move through a place, as the denominator for its "
     "recorded crime.", ("approve", {})),
    ("m4-fsm-attainment", "chloe.robinson", "dfe.npd_pupils",
     ["pupil_id", "dob", "sex", "la_code", "school_urn", "year_group", "fsm_eligible", "sen_status",
      "absence_rate", "ks4_attainment8"],
     "Attainment 8 by free school meal eligibility and absence.",
     ("approve", {"conditions": "No school-level outputs."})),
    ("m4-fsm-attainment", "chloe.robinson", "dfe.school_workforce",
     ["school_urn", "role", "fte", "subject"], "Teacher supply by school.",
     ("approve", {"conditions": "No school-level outputs."})),
    ("m4-fsm-attainment", "chloe.robinson", "dfe.teacher_vacancies",
     ["school_urn", "advertised_on", "subject", "filled", "days_to_fill"],
     "Teacher shortage by school: adverts per teacher and the share left unfilled.",
     ("approve", {"conditions": "No school-level outputs."})),
    ("m4-fsm-attainment", "sanjay.patel", "dwp.benefit_claims",
     ["claim_id", "dob", "sex", "la_code", "benefit", "claim_start", "claim_end"],
     "Universal Credit receipt of pupils' households, to test free school meal eligibility as a measure of "
     "disadvantage.", None),
    ("m5-emergency-admissions", "james.wilson", "dhsc.hes_apc",
     ["episode_id", "nhs_number", "dob", "sex", "la_code", "age_at_admission", "admission_date", "discharge_date",
      "length_of_stay", "admission_method", "primary_diagnosis_chapter", PERSON_ID],
     "Emergency admissions by age and area; NHS number as a pseudonymised key and the person id to count "
     "patients, not episodes.",
     ("approve", {"identifiers": ["nhs_number"],
                  "conditions": "The NHS number is released only as this project's pseudonym."})),
    ("m5-emergency-admissions", "james.wilson", "nhse.rtt_waiting", None,
     "Waiting lists by area and month.", ("approve", {})),
    ("m5-emergency-admissions", "james.wilson", "ons.local_authorities", None,
     "Deprivation of each local authority, as an area risk factor for emergency admissions.", ("approve", {})),
    ("m5-emergency-admissions", "james.wilson", "metoffice.weather_by_area", None,
     "Monthly temperature by area, to relate admissions to cold weather.", ("approve", {})),
    ("m5-emergency-admissions", "laura.mitchell", "ons.population_estimates", None,
     "Denominators for admission rates.", None),
)

# (project, person, dataset) loads, then a derived frame saved from the first
LOADS = (("m1-economic-inactivity", "sanjay.patel", "ons.lfs"),
         ("m5-emergency-admissions", "james.wilson", "dhsc.hes_apc"))

# an output request of the Mission 1 project waiting for the output checkers: (title, index, columns, context)
OUTPUT_REQUEST = ("Economic activity by long-term health condition", "ilo_status", "long_term_health_condition",
                  {"shown": "LFS respondents by ILO economic activity status and whether they report a long-term "
                            "health condition (counts)",
                   "population": "Labour Force Survey respondents aged 16 and over, 2025/26, England and Wales",
                   "purpose": "Mission 1 interim report: how far ill health goes with economic inactivity",
                   "differences": "First release from this project"})

# differential privacy: every dataset granted to a project gets a budget across all projects and one per project
DP_BUDGET_ALL_PROJECTS, DP_BUDGET_PER_PROJECT = 10.0, 3.0
# (project, person, dataset, index, columns, epsilon): a DP count crosstab charged to the budget
DP_QUERIES = (("m1-economic-inactivity", "sanjay.patel", "ons.lfs", "region", "ilo_status", 0.5),)
