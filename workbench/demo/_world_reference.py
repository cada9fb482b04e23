"""Reference facts behind the synthetic public sector: places, organisations, code lists, name variants.

Kept apart from the simulation so the facts (real GSS codes, postcode districts, NHS trusts, code lists) can be
read and corrected without touching the generator. Numbers are plausible approximations for a demo, not
official statistics.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import yaml

#: Ages, statuses and "current" claims are as at this date; the extracts cover periods ending here.
REFERENCE_DATE = "2026-03-31"


class LocalAuthority(NamedTuple):
    """One local authority as the simulation needs it."""

    code: str            # real GSS code
    name: str
    region: str
    imd: float           # IMD 2019 average score (England); a comparable estimate for Welsh authorities
    urban_rural: str
    districts: str       # real postcode districts in the authority, space separated
    population_k: int    # mid-2022 population, thousands (approximate)
    lat: float
    lon: float
    upland: int          # 1 where much of the area is high ground (colder)
    dfe_code: str | None  # DfE local authority number (education authority); None outside England
    trust: str | None    # ODS code of the main acute NHS trust; None outside England
    police: str          # police force area
    profile: str | None  # "student" (young, shared houses) or "older" (retirement areas) or None
    gas_share: float     # share of homes on mains gas
    industry: float      # industrial emissions intensity relative to an average area
    farming: float       # agricultural intensity relative to an average area


URBAN = "Predominantly urban"
MIXED = "Urban with significant rural"
RURAL = "Predominantly rural"


def _local_authorities() -> tuple[LocalAuthority, ...]:
    """The authorities, kept as data in local_authorities.yaml beside this module."""
    with (Path(__file__).parent / "local_authorities.yaml").open(encoding="utf-8") as handle:
        return tuple(LocalAuthority(**row) for row in yaml.safe_load(handle))


LOCAL_AUTHORITIES = _local_authorities()

REGIONS = ("North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West", "Wales")
URBAN_RURAL = (URBAN, MIXED, RURAL)

#: Main acute trusts (ODS code -> name) used as providers in hospital episodes.
NHS_TRUSTS: dict[str, str] = {
    "RTR": "South Tees Hospitals NHS Foundation Trust",
    "RXL": "Blackpool Teaching Hospitals NHS Foundation Trust",
    "RWA": "Hull University Teaching Hospitals NHS Trust",
    "RCB": "York and Scarborough Teaching Hospitals NHS Foundation Trust",
    "RWE": "University Hospitals of Leicester NHS Trust",
    "RX1": "Nottingham University Hospitals NHS Trust",
    "RJE": "University Hospitals of North Midlands NHS Trust",
    "RA7": "University Hospitals Bristol and Weston NHS Foundation Trust",
    "RK9": "University Hospitals Plymouth NHS Trust",
    "RHW": "Royal Berkshire NHS Foundation Trust",
    "RYR": "University Hospitals Sussex NHS Foundation Trust",
    "RXP": "County Durham and Darlington NHS Foundation Trust",
    "REF": "Royal Cornwall Hospitals NHS Trust",
    "RNZ": "Salisbury NHS Foundation Trust",
    "RTF": "Northumbria Healthcare NHS Foundation Trust",
    "R0A": "Manchester University NHS Foundation Trust",
    "RBN": "Mersey and West Lancashire Teaching Hospitals NHS Trust",
    "REM": "Liverpool University Hospitals NHS Foundation Trust",
    "RHQ": "Sheffield Teaching Hospitals NHS Foundation Trust",
    "RTD": "The Newcastle upon Tyne Hospitals NHS Foundation Trust",
    "R0B": "South Tyneside and Sunderland NHS Foundation Trust",
    "RRK": "University Hospitals Birmingham NHS Foundation Trust",
    "RKB": "University Hospitals Coventry and Warwickshire NHS Trust",
    "RAE": "Bradford Teaching Hospitals NHS Foundation Trust",
    "RR8": "Leeds Teaching Hospitals NHS Trust",
    "RAL": "Royal Free London NHS Foundation Trust",
    "RJ6": "Croydon Health Services NHS Trust",
    "RQX": "Homerton Healthcare NHS Foundation Trust",
    "RAX": "Kingston and Richmond NHS Foundation Trust",
    "R1H": "Barts Health NHS Trust",
    "RYJ": "Imperial College Healthcare NHS Trust",
    "RGT": "Cambridge University Hospitals NHS Foundation Trust",
    "RTH": "Oxford University Hospitals NHS Foundation Trust",
    "RM1": "Norfolk and Norwich University Hospitals NHS Foundation Trust",
    "RTE": "Gloucestershire Hospitals NHS Foundation Trust",
}

# --- Code lists (public metadata: every permissible value of a category column) -------------------------

SEX = ("F", "M")

ILO_STATUS = ("Employed", "Unemployed", "Economically inactive")
INACTIVITY_REASONS = ("Student", "Long-term sick or disabled", "Looking after family or home", "Retired",
                      "Temporary sick or injured", "Discouraged worker", "Other")

SOC_MAJOR_GROUPS = (
    "1 Managers, directors and senior officials",
    "2 Professional occupations",
    "3 Associate professional occupations",
    "4 Administrative and secretarial occupations",
    "5 Skilled trades occupations",
    "6 Caring, leisure and other service occupations",
    "7 Sales and customer service occupations",
    "8 Process, plant and machine operatives",
    "9 Elementary occupations",
)
#: share of employment and median full-time gross weekly pay (GBP) by SOC major group
SOC_SHARE = (0.11, 0.26, 0.15, 0.09, 0.09, 0.08, 0.06, 0.06, 0.10)
SOC_MEDIAN_PAY = (1050.0, 900.0, 720.0, 560.0, 620.0, 480.0, 470.0, 600.0, 470.0)

ICD10_CHAPTERS = (
    "I Certain infectious and parasitic diseases",
    "II Neoplasms",
    "III Diseases of the blood and immune mechanism",
    "IV Endocrine, nutritional and metabolic diseases",
    "V Mental and behavioural disorders",
    "VI Diseases of the nervous system",
    "VII Diseases of the eye and adnexa",
    "VIII Diseases of the ear and mastoid process",
    "IX Diseases of the circulatory system",
    "X Diseases of the respiratory system",
    "XI Diseases of the digestive system",
    "XII Diseases of the skin and subcutaneous tissue",
    "XIII Diseases of the musculoskeletal system and connective tissue",
    "XIV Diseases of the genitourinary system",
    "XV Pregnancy, childbirth and the puerperium",
    "XVI Certain conditions originating in the perinatal period",
    "XVII Congenital malformations and chromosomal abnormalities",
    "XVIII Symptoms, signs and abnormal findings not elsewhere classified",
    "XIX Injury, poisoning and other consequences of external causes",
    "XXI Factors influencing health status and contact with health services",
    "XXII Codes for special purposes",
)
ADMISSION_METHODS = ("Elective", "Emergency", "Maternity", "Other")

BENEFITS = ("Universal Credit", "Personal Independence Payment", "Employment and Support Allowance",
            "State Pension", "Carer's Allowance")

SEN_STATUS = ("No SEN", "SEN support", "EHC plan")
TEACHER_ROLES = ("Head teacher", "Deputy head teacher", "Assistant head teacher", "Classroom teacher")
TEACHER_SUBJECTS = ("Primary (all subjects)", "English", "Mathematics", "Science", "History", "Geography",
                    "Modern foreign languages", "Art and design", "Physical education", "Computing",
                    "Religious education", "Music", "Design and technology", "Drama")

OFFENCE_GROUPS = ("Violence against the person", "Sexual offences", "Robbery", "Theft offences", "Burglary",
                  "Criminal damage and arson", "Drug offences", "Possession of weapons",
                  "Public order offences", "Fraud offences", "Summary motoring", "Summary non-motoring")
#: rough seriousness used to pick a sentence (higher = more likely custody)
OFFENCE_SEVERITY = (1.2, 2.2, 2.0, 0.0, 1.5, 0.0, 0.4, 1.4, 0.3, 0.6, -1.5, -1.2)
SENTENCE_TYPES = ("Caution", "Fine", "Conditional discharge", "Community order", "Suspended sentence order",
                  "Immediate custody", "Referral order", "Youth rehabilitation order")

CRIME_GROUPS = ("Violence against the person", "Sexual offences", "Robbery", "Burglary", "Vehicle offences",
                "Theft from the person", "Shoplifting", "Other theft offences", "Criminal damage and arson",
                "Drug offences", "Possession of weapons offences", "Public order offences",
                "Miscellaneous crimes against society")
#: offences per 1,000 residents per year in an average area
CRIME_RATES = (34.0, 3.2, 1.3, 4.5, 6.5, 1.9, 7.0, 11.0, 8.5, 3.2, 0.9, 9.0, 1.5)

VEHICLE_TYPES = ("Cars and taxis", "Light goods vehicles", "Heavy goods vehicles", "Buses and coaches",
                 "Pedal cycles")
EMISSION_SECTORS = ("Industry", "Commercial", "Public sector", "Domestic", "Transport", "Agriculture",
                    "Waste management", "Land use, land use change and forestry")
FUELS = ("Gas", "Electricity")
TREATMENT_FUNCTIONS = ("Trauma and orthopaedics", "Ophthalmology", "Ear, nose and throat", "General surgery",
                       "Gynaecology", "Dermatology", "Gastroenterology", "Cardiology", "Urology",
                       "Other specialties")
TREATMENT_SHARES = (0.12, 0.09, 0.07, 0.07, 0.08, 0.06, 0.05, 0.04, 0.04, 0.38)

AGE_BANDS = ("0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
             "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+")
#: UK population share (%) by the age bands above, around 2022
AGE_BAND_SHARES = (5.4, 6.0, 6.1, 5.7, 6.1, 6.6, 6.9, 6.7, 6.3, 6.4, 6.9, 6.8, 5.9, 5.1, 4.9, 3.7, 2.4, 1.5, 0.8)

# --- Name variants used by the identifier corruption --------------------------------------------------------

#: formal first name -> informal forms people give or clerks record
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"), "Robert": ("Bob", "Rob", "Bobby"), "Richard": ("Rich", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"), "John": ("Jack", "Johnny"), "Thomas": ("Tom", "Tommy"),
    "Michael": ("Mike", "Mick"), "Christopher": ("Chris",), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"), "Anthony": ("Tony", "Ant"), "Benjamin": ("Ben",), "Samuel": ("Sam",),
    "Joseph": ("Joe",), "Jonathan": ("Jon",), "Nicholas": ("Nick",), "Stephen": ("Steve",),
    "Steven": ("Steve",), "Peter": ("Pete",), "Edward": ("Ed", "Ted", "Eddie"), "Alexander": ("Alex",),
    "Timothy": ("Tim",), "Kenneth": ("Ken",), "Raymond": ("Ray",), "Philip": ("Phil",), "David": ("Dave",),
    "Gregory": ("Greg",), "Frederick": ("Fred",), "Leonard": ("Len",), "Charles": ("Charlie",),
    "Joshua": ("Josh",), "Jacob": ("Jake",), "Nathan": ("Nate",), "Douglas": ("Doug",), "Gerald": ("Gerry",),
    "Terence": ("Terry",), "Donald": ("Don",), "Ronald": ("Ron",), "Henry": ("Harry",),
    "Patrick": ("Pat", "Paddy"), "Elizabeth": ("Liz", "Beth", "Lizzie"), "Margaret": ("Maggie", "Peggy"),
    "Patricia": ("Pat", "Trish"), "Jennifer": ("Jen", "Jenny"), "Katherine": ("Kate", "Kathy"),
    "Catherine": ("Cathy", "Kate"), "Rebecca": ("Becky", "Becca"), "Samantha": ("Sam",),
    "Victoria": ("Vicky",), "Jacqueline": ("Jackie",), "Deborah": ("Debbie",), "Susan": ("Sue",),
    "Christine": ("Chris", "Tina"), "Charlotte": ("Charlie", "Lottie"), "Abigail": ("Abbie", "Abby"),
    "Alexandra": ("Alex", "Lexi"), "Pamela": ("Pam",), "Dorothy": ("Dot",), "Joanne": ("Jo",),
    "Nicola": ("Nicky",), "Amanda": ("Mandy",), "Sandra": ("Sandy",), "Kimberley": ("Kim",),
    "Stephanie": ("Steph",), "Josephine": ("Jo", "Josie"), "Frances": ("Fran",), "Jessica": ("Jess",),
    "Eleanor": ("Ellie", "Nell"), "Judith": ("Judy",), "Valerie": ("Val",), "Gillian": ("Gill",),
    "Natalie": ("Nat",), "Georgina": ("Gina",), "Bethany": ("Beth",),
}

#: UK QWERTY neighbours, for keyboard slips
KEYBOARD_NEIGHBOURS: dict[str, str] = {
    "q": "wa", "w": "qeas", "e": "wrsd", "r": "etdf", "t": "ryfg", "y": "tugh", "u": "yihj", "i": "uojk",
    "o": "ipkl", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop", "z": "asx", "x": "zsdc", "c": "xdfv",
    "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}

#: letters allowed in the last two positions of a postcode
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
