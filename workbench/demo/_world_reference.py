"""Reference facts behind the synthetic public sector: places, organisations, code lists, name variants.

Kept apart from the simulation so the facts (real GSS codes, postcode districts, NHS trusts, code lists) can be
read and corrected without touching the generator. Numbers are plausible approximations for a demo, not
official statistics.
"""

from __future__ import annotations

from typing import NamedTuple

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

LOCAL_AUTHORITIES: tuple[LocalAuthority, ...] = (
    LocalAuthority("E06000002", "Middlesbrough", "North East", 40.5, URBAN, "TS1 TS2 TS3 TS4 TS5 TS7 TS8",
                   144, 54.57, -1.23, 0, "806", "RTR", "Cleveland Police", None, 0.93, 3.0, 0.1),
    LocalAuthority("E06000009", "Blackpool", "North West", 45.0, URBAN, "FY1 FY2 FY3 FY4",
                   141, 53.82, -3.05, 0, "890", "RXL", "Lancashire Constabulary", None, 0.92, 0.5, 0.05),
    LocalAuthority("E06000010", "Kingston upon Hull, City of", "Yorkshire and The Humber", 40.6, URBAN,
                   "HU1 HU2 HU3 HU4 HU5 HU6 HU7 HU8 HU9", 268, 53.74, -0.33, 0, "810", "RWA",
                   "Humberside Police", None, 0.93, 2.0, 0.1),
    LocalAuthority("E06000014", "York", "Yorkshire and The Humber", 12.7, URBAN,
                   "YO1 YO10 YO23 YO24 YO26 YO30 YO31 YO32", 204, 53.96, -1.08, 0, "816", "RCB",
                   "North Yorkshire Police", "student", 0.90, 0.6, 0.5),
    LocalAuthority("E06000016", "Leicester", "East Midlands", 30.9, URBAN, "LE1 LE2 LE3 LE4 LE5",
                   373, 52.64, -1.13, 0, "856", "RWE", "Leicestershire Police", "student", 0.93, 0.8, 0.05),
    LocalAuthority("E06000018", "Nottingham", "East Midlands", 34.9, URBAN, "NG1 NG2 NG3 NG5 NG6 NG7 NG8 NG11",
                   328, 52.95, -1.15, 0, "892", "RX1", "Nottinghamshire Police", "student", 0.92, 0.7, 0.05),
    LocalAuthority("E06000021", "Stoke-on-Trent", "West Midlands", 34.5, URBAN, "ST1 ST2 ST3 ST4 ST6",
                   259, 53.00, -2.18, 1, "861", "RJE", "Staffordshire Police", None, 0.93, 1.5, 0.1),
    LocalAuthority("E06000023", "Bristol, City of", "South West", 24.6, URBAN,
                   "BS1 BS2 BS3 BS4 BS5 BS6 BS7 BS8 BS9 BS10 BS11 BS13 BS14 BS15 BS16", 479, 51.45, -2.59, 0,
                   "801", "RA7", "Avon and Somerset Constabulary", "student", 0.90, 0.8, 0.05),
    LocalAuthority("E06000026", "Plymouth", "South West", 26.1, URBAN, "PL1 PL2 PL3 PL4 PL5 PL6 PL7 PL9",
                   266, 50.37, -4.14, 0, "879", "RK9", "Devon and Cornwall Police", None, 0.88, 0.8, 0.1),
    LocalAuthority("E06000041", "Wokingham", "South East", 5.8, MIXED, "RG5 RG6 RG10 RG40 RG41",
                   180, 51.41, -0.83, 0, "872", "RHW", "Thames Valley Police", None, 0.87, 0.5, 0.6),
    LocalAuthority("E06000043", "Brighton and Hove", "South East", 21.7, URBAN, "BN1 BN2 BN3 BN41",
                   277, 50.82, -0.14, 0, "846", "RYR", "Sussex Police", "student", 0.90, 0.3, 0.1),
    LocalAuthority("E06000047", "County Durham", "North East", 26.8, MIXED,
                   "DH1 DH2 DH3 DH6 DH7 DH8 DH9 DL4 DL5 DL12 DL14 DL15 DL16 DL17", 526, 54.70, -1.70, 1,
                   "840", "RXP", "Durham Constabulary", "older", 0.85, 1.2, 1.5),
    LocalAuthority("E06000052", "Cornwall", "South West", 23.3, RURAL,
                   "TR1 TR7 TR11 TR14 TR15 TR16 TR18 PL14 PL15 PL25 PL26 PL31", 575, 50.30, -5.00, 0,
                   "908", "REF", "Devon and Cornwall Police", "older", 0.55, 0.5, 3.0),
    LocalAuthority("E06000054", "Wiltshire", "South West", 13.9, RURAL,
                   "SN8 SN10 SN12 SN14 SN15 SP1 SP2 SP4 BA12 BA13 BA14", 515, 51.30, -1.90, 1, "865", "RNZ",
                   "Wiltshire Police", "older", 0.70, 0.8, 2.5),
    LocalAuthority("E06000057", "Northumberland", "North East", 21.6, RURAL,
                   "NE22 NE23 NE24 NE46 NE61 NE63 NE65 NE66 TD15", 323, 55.20, -2.00, 1, "929", "RTF",
                   "Northumbria Police", "older", 0.72, 0.9, 3.0),
    LocalAuthority("E08000003", "Manchester", "North West", 40.0, URBAN,
                   "M1 M4 M8 M9 M11 M12 M13 M14 M15 M16 M19 M20 M21 M22 M23 M40", 568, 53.48, -2.24, 0,
                   "352", "R0A", "Greater Manchester Police", "student", 0.91, 0.7, 0.02),
    LocalAuthority("E08000009", "Trafford", "North West", 15.0, URBAN, "M16 M32 M33 M41 WA14 WA15",
                   236, 53.42, -2.35, 0, "358", "R0A", "Greater Manchester Police", None, 0.92, 1.5, 0.2),
    LocalAuthority("E08000011", "Knowsley", "North West", 43.0, URBAN, "L14 L28 L32 L33 L34 L35 L36",
                   155, 53.45, -2.85, 0, "340", "RBN", "Merseyside Police", None, 0.93, 1.4, 0.2),
    LocalAuthority("E08000012", "Liverpool", "North West", 42.4, URBAN,
                   "L1 L3 L4 L5 L6 L7 L8 L9 L11 L12 L13 L15 L17 L18 L19 L24 L25", 496, 53.41, -2.98, 0,
                   "341", "REM", "Merseyside Police", "student", 0.92, 0.7, 0.02),
    LocalAuthority("E08000019", "Sheffield", "Yorkshire and The Humber", 27.6, URBAN,
                   "S1 S2 S3 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14 S17 S20 S35", 564, 53.38, -1.47, 1, "373",
                   "RHQ", "South Yorkshire Police", "student", 0.90, 1.0, 0.3),
    LocalAuthority("E08000021", "Newcastle upon Tyne", "North East", 29.6, URBAN,
                   "NE1 NE2 NE3 NE4 NE5 NE6 NE7 NE12 NE13 NE15", 307, 54.98, -1.61, 0, "391", "RTD",
                   "Northumbria Police", "student", 0.90, 0.5, 0.1),
    LocalAuthority("E08000024", "Sunderland", "North East", 30.6, URBAN, "SR1 SR2 SR3 SR4 SR5 SR6 DH4 NE37 NE38",
                   277, 54.90, -1.38, 0, "394", "R0B", "Northumbria Police", None, 0.92, 1.5, 0.1),
    LocalAuthority("E08000025", "Birmingham", "West Midlands", 38.1, URBAN,
                   "B1 B5 B6 B7 B8 B9 B10 B11 B12 B13 B14 B15 B16 B17 B18 B19 B20 B21 B23 B24 B26 B27 B28 "
                   "B29 B30 B31 B32 B33 B34 B35 B36 B38 B42 B44", 1157, 52.49, -1.89, 0, "330", "RRK",
                   "West Midlands Police", None, 0.92, 0.8, 0.02),
    LocalAuthority("E08000026", "Coventry", "West Midlands", 26.4, URBAN, "CV1 CV2 CV3 CV4 CV5 CV6",
                   355, 52.41, -1.51, 0, "331", "RKB", "West Midlands Police", "student", 0.92, 1.0, 0.1),
    LocalAuthority("E08000032", "Bradford", "Yorkshire and The Humber", 33.6, URBAN,
                   "BD1 BD2 BD3 BD4 BD5 BD6 BD7 BD8 BD9 BD10 BD13 BD15 BD16 BD18 BD20 BD21 BD22", 552, 53.79,
                   -1.75, 1, "380", "RAE", "West Yorkshire Police", None, 0.90, 1.0, 0.5),
    LocalAuthority("E08000035", "Leeds", "Yorkshire and The Humber", 27.3, URBAN,
                   "LS1 LS2 LS3 LS4 LS5 LS6 LS7 LS8 LS9 LS10 LS11 LS12 LS13 LS14 LS15 LS16 LS17 LS25 LS26 "
                   "LS27 LS28", 822, 53.80, -1.55, 0, "383", "RR8", "West Yorkshire Police", "student", 0.90,
                   1.0, 0.3),
    LocalAuthority("E09000007", "Camden", "London", 20.5, URBAN, "NW1 NW3 NW5 NW6 WC1H WC1N WC1X",
                   218, 51.54, -0.14, 0, "202", "RAL", "Metropolitan Police Service", "student", 0.85, 0.3, 0.0),
    LocalAuthority("E09000008", "Croydon", "London", 21.9, URBAN, "CR0 CR2 CR5 CR7 CR8 SE25",
                   393, 51.37, -0.10, 0, "306", "RJ6", "Metropolitan Police Service", None, 0.90, 0.4, 0.02),
    LocalAuthority("E09000012", "Hackney", "London", 32.8, URBAN, "E2 E5 E8 E9 N1 N16",
                   261, 51.55, -0.06, 0, "204", "RQX", "Metropolitan Police Service", "student", 0.85, 0.3, 0.0),
    LocalAuthority("E09000027", "Richmond upon Thames", "London", 9.4, URBAN,
                   "TW1 TW2 TW9 TW10 TW11 TW12 SW13 SW14", 195, 51.44, -0.33, 0, "318", "RAX",
                   "Metropolitan Police Service", None, 0.90, 0.2, 0.02),
    LocalAuthority("E09000030", "Tower Hamlets", "London", 27.9, URBAN, "E1 E1W E2 E3 E14",
                   325, 51.52, -0.03, 0, "211", "R1H", "Metropolitan Police Service", "student", 0.80, 0.5, 0.0),
    LocalAuthority("E09000033", "Westminster", "London", 20.7, URBAN, "NW8 SW1P SW1V SW1W W1G W1H W1U W2 W9",
                   205, 51.50, -0.14, 0, "213", "RYJ", "Metropolitan Police Service", "student", 0.85, 0.6, 0.0),
    LocalAuthority("E07000008", "Cambridge", "East of England", 13.7, URBAN, "CB1 CB2 CB3 CB4 CB5",
                   146, 52.20, 0.12, 0, "873", "RGT", "Cambridgeshire Constabulary", "student", 0.88, 0.4, 0.1),
    LocalAuthority("E07000178", "Oxford", "South East", 17.6, URBAN, "OX1 OX2 OX3 OX4",
                   163, 51.75, -1.26, 0, "931", "RTH", "Thames Valley Police", "student", 0.88, 0.5, 0.05),
    LocalAuthority("E07000148", "Norwich", "East of England", 28.4, URBAN, "NR1 NR2 NR3 NR4 NR5 NR6 NR7",
                   145, 52.63, 1.30, 0, "926", "RM1", "Norfolk Constabulary", "student", 0.88, 0.4, 0.05),
    LocalAuthority("E07000079", "Cotswold", "South West", 9.9, RURAL, "GL7 GL54 GL55 GL56",
                   91, 51.80, -1.80, 1, "916", "RTE", "Gloucestershire Constabulary", "older", 0.55, 0.4, 3.5),
    LocalAuthority("W06000015", "Cardiff", "Wales", 24.0, URBAN, "CF3 CF5 CF10 CF11 CF14 CF23 CF24",
                   372, 51.48, -3.18, 0, None, None, "South Wales Police", "student", 0.90, 0.7, 0.05),
    LocalAuthority("W06000011", "Swansea", "Wales", 24.3, URBAN, "SA1 SA2 SA3 SA4 SA5 SA6 SA7",
                   241, 51.62, -3.94, 0, None, None, "South Wales Police", None, 0.88, 1.2, 0.3),
    LocalAuthority("W06000018", "Caerphilly", "Wales", 26.5, MIXED, "CF81 CF82 CF83 NP11 NP12",
                   176, 51.60, -3.20, 1, None, None, "Gwent Police", None, 0.88, 1.0, 0.5),
    LocalAuthority("W06000023", "Powys", "Wales", 15.2, RURAL, "LD1 LD3 SY16 SY21 NP8",
                   134, 52.30, -3.40, 1, None, None, "Dyfed-Powys Police", "older", 0.45, 0.4, 4.0),
)

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
