"""Catalogue search in the database's full-text index: ranking, filters, hostile text."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import record
from helpers import ADMIN, ANALYST, OTHER_OWNER, OWNER

from workbench.errors import AccessDenied, InvalidInput

pytestmark = pytest.mark.db  # the same results on SQLite and PostgreSQL

HEALTH = "https://www.data.gov.uk/search?filters%5Btopic%5D=Health"
CRIME = "https://www.data.gov.uk/search?filters%5Btopic%5D=Crime%20and%20justice"


@pytest.fixture
def catalogue(staffed):
    admin = staffed(ADMIN)
    entries = [
        record(),  # "Hospital admissions by trust", DHSC, mission 5, INTERNAL
        record(localId="dhsc.gp_visits", identifier="https://data.example.invalid/gp", title="GP appointments",
               summary="Appointments in general practice.", keyword=["primary care"],
               description="Appointments booked in GP surgeries; patients later admitted to hospital are "
                           "flagged.", columns=None, temporalCoverage=None),
        record(localId="ons.crime_survey", identifier="https://data.example.invalid/csew", title="Crime survey",
               summary="Victimisation survey.", keyword=["crime", "victims"], theme=[CRIME], mission=[3],
               description="Household survey of experiences of crime.", department="office-for-national-statistics",
               publisher="office-for-national-statistics", creator=["office-for-national-statistics"],
               dataOwner=OTHER_OWNER, accessRights="OPEN", legalGateway=["open-government-licence"],
               columns=[{"name": "victim_of_burglary", "type": "boolean", "role": "sensitive"}]),
    ]
    for entry in entries:
        admin.catalogue.register({"dataOwner": OWNER, **entry})
    return staffed(ANALYST).catalogue


def test_title_matches_rank_first_and_results_are_a_frame(catalogue) -> None:
    found = catalogue.search("hospital")
    assert isinstance(found, pd.DataFrame) and found.columns[0] == "id"
    assert list(found["id"]) == ["dhsc.admissions", "dhsc.gp_visits"]  # title beats a mention in passing
    assert found["score"].is_monotonic_decreasing
    top = found.iloc[0]
    assert top["department"] == "DHSC" and top["missions"] == [5] and top["themes"] == ["Health"]
    assert top["owner"] == OWNER and top["access_rights"] == "INTERNAL"


def test_stemming_prefix_keywords_and_column_names(catalogue) -> None:
    assert catalogue.search("hospitals")["id"].iloc[0] == "dhsc.admissions"
    assert list(catalogue.search("appoint")["id"]) == ["dhsc.gp_visits"]  # search as you type
    assert list(catalogue.search("victims")["id"]) == ["ons.crime_survey"]  # keyword
    assert list(catalogue.search("burglary")["id"]) == ["ons.crime_survey"]  # column name
    assert catalogue.search("zebra crossings").empty


def test_filters(catalogue) -> None:
    assert set(catalogue.search(department="DHSC")["id"]) == {"dhsc.admissions", "dhsc.gp_visits"}
    assert set(catalogue.search(department="office-for-national-statistics")["id"]) == {"ons.crime_survey"}
    assert list(catalogue.search("hospital", department="ons")["id"]) == []
    assert list(catalogue.search(mission=3)["id"]) == ["ons.crime_survey"]
    assert list(catalogue.search(theme="crime and justice")["id"]) == ["ons.crime_survey"]
    assert list(catalogue.search(theme=CRIME)["id"]) == ["ons.crime_survey"]
    assert list(catalogue.search(access_rights="OPEN")["id"]) == ["ons.crime_survey"]
    assert len(catalogue.search(security_classification="OFFICIAL")) == 3
    assert list(catalogue.search("appointments", mission=5, department="DHSC", theme="Health")["id"]) == [
        "dhsc.gp_visits"]
    assert list(catalogue.search()["title"]) == ["Crime survey", "GP appointments", "Hospital admissions by trust"]
    assert len(catalogue.search(limit=1)) == 1 and len(catalogue.list()) == 3


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"department": "Ministry of Magic"}, "department"),
    ({"mission": 9}, "mission"),
    ({"mission": True}, "mission"),
    ({"security_classification": "official"}, "security_classification"),
    ({"access_rights": "PUBLIC"}, "access_rights"),
    ({"limit": 0}, "limit"),
    ({"limit": "10"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": "10"}, "offset"),
    ({"offset": 1.5}, "offset"),
    ({"offset": True}, "offset"),
    ({"offset": None}, "offset"),
    ({"offset": 10**12}, "offset"),
    ({"text": "x" * 501}, "text"),
    ({"text": 42}, "text"),
])
def test_bad_search_arguments_are_refused(catalogue, kwargs, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        catalogue.search(**kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize("text", [
    "hospital'; DROP TABLE datasets; --",
    'hospital" OR 1=1 --',
    "hospital) OR (title",
    "NEAR(hospital admissions)",
    "hospital* AND NOT crime",
    "hospital:* | !crime & ''",
    "hospital\\' \x00",
    "hospital _ __init__ ünïcode 9",
])
def test_sql_and_query_syntax_in_search_text_is_only_text(catalogue, text) -> None:
    found = catalogue.search(text)
    assert "dhsc.admissions" in set(found["id"])  # operators are just words (here OR'ed)
    assert len(catalogue.list()) == 3  # nothing dropped


@pytest.fixture
def many(staffed):
    """Fourteen entries: twelve about waiting lists (ranked differently, some tied), two not."""
    admin = staffed(ADMIN)
    for i in range(14):
        topical = i < 12
        admin.catalogue.register({"dataOwner": OWNER, **record(
            localId=f"dhsc.set_{i:02d}", identifier=f"https://data.example.invalid/set/{i}",
            title=f"{'Waiting' if topical and i % 3 == 0 else 'Register'} set {i:02d}",
            summary="Lists." if topical else "Other things.", keyword=["set"], columns=None,
            description=("Waiting " * (1 + i % 4) if topical else "Nothing relevant ") + "by trust.",
            mission=[5 if i % 2 else 3])})
    return staffed(ANALYST).catalogue


def test_pages_split_the_ranking_without_gaps_or_repeats(many) -> None:
    whole = list(many.search("waiting", limit=None)["id"])
    assert len(whole) == 12
    pages = [list(many.search("waiting", limit=5, offset=offset)["id"]) for offset in (0, 5, 10, 15)]
    assert [len(p) for p in pages] == [5, 5, 2, 0]
    assert [i for page in pages for i in page] == whole  # the same order: a page boundary never reorders ties
    assert list(many.search("waiting", limit=None, offset=10)["id"]) == whole[10:]
    filtered = list(many.search("waiting", mission=5, limit=None)["id"])
    assert [i for o in range(0, 8, 2) for i in many.search("waiting", mission=5, limit=2, offset=o)["id"]] == filtered
    titles = list(many.search(limit=None)["id"])
    assert list(many.search(limit=4, offset=4)["id"]) == titles[4:8]


def test_a_page_counts_every_match(many) -> None:
    page = many.search_page("waiting", limit=5, offset=5)
    assert (page["total"], page["offset"], page["limit"]) == (12, 5, 5)
    assert list(page["results"]["id"]) == list(many.search("waiting", limit=5, offset=5)["id"])
    assert many.search_page("waiting", limit=50)["total"] == 12  # one short page: counted from the page
    assert many.search_page("waiting", limit=5, offset=100)["total"] == 12  # past the end: empty, still counted
    assert many.search_page("waiting", mission=5, limit=1)["total"] == 6
    assert many.search_page(limit=3)["total"] == 14
    assert many.search_page(mission=3, limit=3, offset=3)["total"] == 7
    assert many.search_page("zebra")["total"] == 0
    with pytest.raises(InvalidInput) as caught:
        many.search_page("waiting", limit=None)
    assert caught.value.field == "limit"
    with pytest.raises(InvalidInput, match="offset") as caught:
        many.search_page("waiting", offset=-5)
    assert "0 for the first page" in str(caught.value)


def test_unregistered_people_cannot_search(connect_as, staffed) -> None:
    stranger = connect_as("someone.else")
    with pytest.raises(AccessDenied, match="not a registered person"):
        stranger.catalogue.search("hospital")
