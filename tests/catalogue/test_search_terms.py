"""The catalogue's abbreviations and synonyms: who may keep them, what is refused, what is audited, how search uses
them at once; search text that cannot be searched; and upgrading a catalogue indexed before terms were stored."""

from __future__ import annotations

import pytest
from factories import record
from helpers import ADMIN, ANALYST, OWNER, Unchanged, events
from sqlalchemy import select

from workbench.db.schema import dataset_terms
from workbench.errors import AccessDenied, InvalidInput, NotFound

pytestmark = pytest.mark.db


@pytest.fixture
def catalogue(staffed):
    admin = staffed(ADMIN)
    admin.catalogue.register({"dataOwner": OWNER, **record(  # "Hospital admissions by trust"
        description="Admissions through accident and emergency departments and planned ones, by trust.")})
    admin.catalogue.register({"dataOwner": OWNER, **record(
        localId="dhsc.ae_attendances", identifier="https://data.example.invalid/ae", title="A&E attendances",
        summary="Attendances at A&E.", keyword=["urgent care"], columns=None,
        description="Every attendance at a type 1 A&E department, with arrival and departure times.")})
    return staffed


def test_owners_add_terms_and_search_uses_them_both_ways_at_once(catalogue) -> None:
    owner = catalogue(OWNER)
    assert catalogue(ANALYST).catalogue.search("accident")["id"].tolist() == ["dhsc.admissions"]
    assert owner.catalogue.terms.add("A&E", "Accident and   Emergency") == {
        "term": "A&E", "meaning": "Accident and Emergency", "action": "added"}
    search = catalogue(ANALYST).catalogue.search
    assert set(search("A&E")["id"]) == {"dhsc.ae_attendances", "dhsc.admissions"}
    assert search("A&E")["id"].iloc[0] == "dhsc.ae_attendances"  # in its title
    assert set(search("accident and emergency")["id"]) == {"dhsc.ae_attendances", "dhsc.admissions"}
    assert catalogue(ADMIN).catalogue.terms.add("a & e", "Accident and Emergency")["action"] == "updated"
    listed = catalogue(ANALYST).catalogue.terms.list()
    assert listed[["term", "meaning", "added_by"]].values.tolist() == [["a & e", "Accident and Emergency", ADMIN]]
    assert [e["detail"]["action"] for e in events(owner) if e["action"] == "catalogue.search_term"] == [
        "added", "updated"]
    assert owner.catalogue.terms.remove("A&E") == 1
    assert search("A&E")["id"].tolist() == ["dhsc.ae_attendances"]
    assert events(owner)[-1]["detail"]["action"] == "removed"


def test_analysts_may_not_change_terms_and_the_refusal_is_audited(catalogue) -> None:
    analyst = catalogue(ANALYST)
    unchanged = Unchanged(analyst)
    with pytest.raises(AccessDenied, match="may not change search term"):
        analyst.catalogue.terms.add("HES", "Hospital Episode Statistics")
    with pytest.raises(AccessDenied):
        analyst.catalogue.terms.remove("HES")
    unchanged.check()
    assert [e["outcome"] for e in events(analyst)[-2:]] == ["denied", "denied"]


@pytest.mark.parametrize(("term", "meaning", "field", "hint"), [
    ("", "accident and emergency", "term", "e.g. 'A&E'"),
    ("&&", "accident and emergency", "term", "no letters or digits"),
    (42, "accident and emergency", "term", "not int"),
    ("x" * 101, "accident and emergency", "term", "at most 100"),
    ("A&E", "", "meaning", "what the term stands for"),
    ("A&E", "and of the", "meaning", "spell it out"),
    ("A&E", "a & e", "meaning", "no word to search for"),
    ("HES", "hes", "meaning", "the term itself"),
    ("A&E", "y" * 301, "meaning", "at most 300"),
    ("A&E", None, "meaning", "what the term stands for"),
])
def test_bad_terms_are_refused_saying_how_to_fix_them(catalogue, term, meaning, field, hint) -> None:
    owner = catalogue(OWNER)
    unchanged = Unchanged(owner)
    with pytest.raises(InvalidInput, match=hint) as caught:
        owner.catalogue.terms.add(term, meaning)
    assert caught.value.field == field
    unchanged.check()


def test_removing_an_unknown_term_is_refused_and_audited(catalogue) -> None:
    owner = catalogue(OWNER)
    owner.catalogue.terms.add("HES", "Hospital Episode Statistics")
    with pytest.raises(NotFound, match="known terms: HES"):
        owner.catalogue.terms.remove("NPD")
    with pytest.raises(NotFound):
        owner.catalogue.terms.remove("HES", "Health Education Statistics")
    with pytest.raises(InvalidInput, match="give the term"):
        owner.catalogue.terms.remove("--")
    assert events(owner)[-1]["outcome"] == "refused"
    assert owner.catalogue.terms.list()["term"].tolist() == ["HES"]


@pytest.mark.parametrize("text", ["%", "'; --", "&&& ...", "!", "the of and", "a e i"])
def test_text_with_nothing_to_search_for_finds_nothing(catalogue, text) -> None:
    page = catalogue(ANALYST).catalogue.search_page(text)
    assert page["results"].empty and page["total"] == 0 and page["suggestion"] is None


def test_control_characters_separate_words(catalogue) -> None:
    search = catalogue(ANALYST).catalogue.search
    assert search("hospital\x00admissions\tby\ntrust\x1b")["id"].tolist()[0] == "dhsc.admissions"
    assert search("\x00\x07")["id"].tolist() == []


def test_too_long_text_is_refused_with_the_limit(catalogue) -> None:
    with pytest.raises(InvalidInput, match="501 characters long; use at most 500") as caught:
        catalogue(ANALYST).catalogue.search("hospital " * 55 + "x" * 6)
    assert caught.value.field == "text"
    assert catalogue(ANALYST).catalogue.search(("hospital " * 56)[:500])["id"].iloc[0] == "dhsc.admissions"


def test_a_changed_entry_is_found_by_its_new_words_only(catalogue) -> None:
    admin = catalogue(ADMIN)
    admin.catalogue.register({"dataOwner": OWNER, **record(
        localId="dhsc.ae_attendances", identifier="https://data.example.invalid/ae", title="Ambulance handovers",
        summary="Handovers.", keyword=["ambulance"], columns=None, description="Ambulance handover delays.")})
    search = catalogue(ANALYST).catalogue.search
    assert search("handover")["id"].tolist() == ["dhsc.ae_attendances"]
    assert search("attendances")["id"].tolist() == []
    with admin._ctx.db.read() as conn:
        held = set(conn.execute(select(dataset_terms.c.term).where(
            dataset_terms.c.dataset_id == "dhsc.ae_attendances")).scalars())
    assert {"ambul", "ambulance", "handov", "handovers"} <= held and "attend" not in held


def test_upgrading_indexes_the_entries_already_catalogued(catalogue) -> None:
    from alembic import command

    from workbench.db import current_revision, head_revision, migrations_config

    ws = catalogue(ADMIN)
    before = ws.catalogue.search("department")
    config = migrations_config()
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    assert current_revision(ws._ctx.db) == "0009"
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert current_revision(ws._ctx.db) == head_revision()
    after = catalogue(ANALYST).catalogue.search("department")
    assert after[["id", "score"]].values.tolist() == before[["id", "score"]].values.tolist()
    assert len(after) == 2


@pytest.mark.slow
def test_a_bulk_import_refreshes_the_planner_statistics(catalogue) -> None:
    import yaml
    from sqlalchemy import text

    admin = catalogue(ADMIN)
    records = [{"dataOwner": OWNER, **record(
        localId=f"dhsc.bulk_{i:03d}", identifier=f"https://data.example.invalid/bulk/{i}", title=f"Bulk entry {i}",
        columns=None, description="Waiting lists by trust." if i % 10 == 0 else "Other things by trust.")}
        for i in range(100)]
    admin.catalogue.import_text(yaml.safe_dump_all(records), source="bulk.yaml")
    assert len(catalogue(ANALYST).catalogue.search("waiting lists", limit=None)) == 10
    if admin._ctx.db.dialect == "postgresql":
        with admin._ctx.db.read() as conn:
            analysed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables "
                                         "WHERE relname = 'dataset_terms' AND schemaname = current_schema()")).scalar()
        assert analysed is not None
