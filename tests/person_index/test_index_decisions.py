"""Clerical review decisions on the person index: a linker decides an uncertain pair, it leaves the queue, the next
update applies it (a non-match splits, a match merges), the quality record counts them; wrong pairs, decisions and
people are refused and audited."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import ADMIN, ANALYST, OTHER_OWNER, OWNER, events
from sqlalchemy import select
from test_index_service import LINKER, episodes, hospital_record, people, survey, survey_record

from workbench.db.schema import person_index_decisions
from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound
from workbench.person_index import decisions, store
from workbench.person_index.decisions import Pending
from workbench.person_index.service import agreement, new_index_ids, normalise

pytestmark = pytest.mark.db


@pytest.fixture
def uncertain(staffed):
    """Hospital episodes (one per person) and a survey of half of them, two of whose records moved house: one
    survey record's best candidate person is uncertain (in the review band), and was accepted."""
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    population = people()
    staffed(OWNER).catalogue.register(hospital_record(), episodes(population, per_person=1))
    frame = survey(population)
    frame.loc[[0, 1, 2, 3], "surname"] = ["Xavierson", "Quill", "Brook", "Marsh"]
    frame.loc[[0, 1, 4, 5], "postcode"] = "ZZ9 9ZZ"
    staffed(OTHER_OWNER).catalogue.register(survey_record(), frame)
    return staffed


def ids_of(ws, dataset_id: str) -> list[str | None]:
    vault = ws._ctx.vault
    return store.index_ids(vault.root, dataset_id, vault.dataset_path(dataset_id)).to_pylist()


def test_a_non_match_splits_the_record_off_at_the_next_update(uncertain) -> None:
    linker = uncertain(LINKER)
    pairs = linker.person_index.review_pairs("ons.survey")
    assert len(pairs) == 1 and pairs.loc[0, "kind"] == "person" and bool(pairs.loc[0, "accepted"])
    pair = pairs.iloc[0]
    row, candidate = int(pair["row"]), pair["candidate"]
    assert ids_of(linker, "ons.survey")[row] == candidate  # linked to the candidate person
    persons = linker.person_index.status()["persons"]
    made = linker.person_index.decide("ons.survey", pair, "non-match", note="Different middle initial on the form")
    assert made["decision"] == "non-match" and made["row"] == row and made["kind"] == "person"
    assert made["status"].startswith("pending")
    # the pair leaves the queue at once; the quality record counts it as pending
    assert linker.person_index.review_pairs("ons.survey").empty
    quality = uncertain(OTHER_OWNER).person_index.quality("ons.survey")
    assert quality["review_pending"] == 1 and quality["review_decided"] == 0
    assert ids_of(linker, "ons.survey")[row] == candidate  # nothing changes before the update
    event = [e for e in events(linker) if e["action"] == "index.decide"][-1]
    assert event["actor"] == LINKER and event["outcome"] == "ok" and event["detail"]["decision"] == "non-match"
    # deciding it again is refused: it is no longer in the queue, and it was decided
    with pytest.raises(Conflict, match="decided already"):
        linker.person_index.decide("ons.survey", (row, candidate), "match")
    # the next update applies it: the record becomes a person of its own, the pair is gone for good
    result = linker.person_index.refresh()
    assert "ons.survey" in result["datasets"]
    after = ids_of(linker, "ons.survey")
    assert after[row] != candidate and after[row].startswith("wbp_")
    assert after[row] not in ids_of(linker, "dhsc.episodes")
    assert linker.person_index.status()["persons"] == persons + 1
    quality = uncertain(OTHER_OWNER).person_index.quality("ons.survey")
    assert quality["review_decided"] == 1 and quality["review_pending"] == 0 and quality["review_held"] == 0
    assert quality["decisions_applied"] == 1
    assert store.review(linker._ctx.vault.root, "ons.survey") is None
    with linker._ctx.db.read() as conn:
        stored = conn.execute(select(person_index_decisions)).mappings().one()
    assert stored["outcome"] == "split" and stored["applied_in"] == quality["update"]
    assert stored["note"] == "Different middle initial on the form" and stored["decided_by"] == LINKER
    # a later update keeps them apart: the record is unchanged, so it keeps its own person
    linker.person_index.build("ons.survey")
    assert ids_of(linker, "ons.survey")[row] == after[row]


def test_a_match_on_an_accepted_pair_changes_nothing(uncertain) -> None:
    linker = uncertain(ADMIN)  # admins decide as linkers do
    pair = linker.person_index.review_pairs("ons.survey").iloc[0]
    before = ids_of(linker, "ons.survey")
    linker.person_index.decide("ons.survey", {"row": int(pair["row"]), "candidate": pair["candidate"]}, "match")
    linker.person_index.build("ons.survey")
    assert ids_of(linker, "ons.survey") == before
    with linker._ctx.db.read() as conn:
        assert conn.execute(select(person_index_decisions.c.outcome)).scalar_one() == "unchanged"


def test_review_pairs_show_the_normalised_fields_side_by_side(uncertain) -> None:
    linker = uncertain(LINKER)
    vault = linker._ctx.vault
    before = len([e for e in events(linker) if e["action"] == "index.review"])
    pair = linker.person_index.review_pairs("ons.survey").iloc[0]
    reviews = [e for e in events(linker) if e["action"] == "index.review"]
    assert len(reviews) == before + 1  # one audit event per call
    fields = linker.person_index.quality("ons.survey")["fields"]
    assert reviews[-1]["detail"] == {"pairs": 1, "fields": list(fields)}
    stored = normalise(pd.read_parquet(vault.dataset_path("ons.survey")), fields)
    person = store.persons(vault.root).set_index("index_id").loc[pair["candidate"]]
    shown = pair["fields"]
    assert [f["field"] for f in shown] == list(fields) == ["given_name", "surname", "dob", "postcode"]
    for f in shown:
        mine, theirs = stored.loc[int(pair["row"]), f["field"]], person[f["field"]]
        assert (f["record"], f["candidate"], f["agreement"]) == (mine, theirs, agreement(mine, theirs))
    words = {f["field"]: f["agreement"] for f in shown}
    assert "differs" in (words["surname"], words["postcode"])  # the record moved house or changed its surname
    assert words["given_name"] == words["dob"] == "same"
    assert next(f["record"] for f in shown if f["field"] == "dob").isdigit()  # normalised: YYYYMMDD
    # a pair of two records of the dataset: both rows' fields, read from the stored file
    store.write_review(vault.root, "ons.survey", pd.DataFrame({
        "kind": ["record"], "row": [3], "candidate": ["40"], "match_weight": [0.1], "match_probability": [0.5],
        "accepted": [False]}))
    shown = linker.person_index.review_pairs("ons.survey").loc[0, "fields"]
    assert [f["record"] for f in shown] == [stored.loc[3, f] for f in fields]
    assert [f["candidate"] for f in shown] == [stored.loc[40, f] for f in fields]
    # a dataset file other than the one the index was built from: its rows may be other records, so no fields
    path = vault.dataset_path("ons.survey")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert linker.person_index.review_pairs("ons.survey").loc[0, "fields"] is None
    # owners and analysts get no fields: refused before anything is read, and audited
    for person in (ANALYST, OTHER_OWNER, OWNER):
        with pytest.raises(AccessDenied, match="review pairs"):
            uncertain(person).person_index.review_pairs("ons.survey")
    denied = [e for e in events(linker) if e["action"] == "index.read" and e["outcome"] == "denied"]
    assert {e["actor"] for e in denied} >= {ANALYST, OTHER_OWNER, OWNER}
    assert all("fields" not in (e["detail"] or {}) for e in denied)


def test_agreement_in_words() -> None:
    assert agreement("ann", "ann") == "same" and agreement("ann", "anne") == "differs"
    assert agreement(None, "ann") == agreement("ann", None) == agreement(None, None) == "missing"


def test_refusals_are_clear_and_audited(uncertain) -> None:
    linker = uncertain(LINKER)
    pair = linker.person_index.review_pairs("ons.survey").iloc[0]
    row, candidate = int(pair["row"]), pair["candidate"]
    wrong: list[tuple[Any, ...]] = [
        (("ons.survey", pair, "maybe"), InvalidInput, "'match'.*'non-match'"),
        (("ons.survey", pair, None), InvalidInput, "is not a decision"),
        (("ons.survey", (row + 1, candidate), "match"), NotFound, "not in the clerical review queue"),
        (("ons.survey", (row, "wbp_0000000000000000"), "match"), NotFound, "review_pairs"),
        (("ons.survey", {"row": row}, "match"), InvalidInput, "no 'row' and 'candidate'"),
        (("ons.survey", (True, candidate), "match"), InvalidInput, "not a record's row"),
        (("ons.survey", (row, "Robert Smith"), "match"), InvalidInput, "neither an index id"),
        (("ons.survey", "row 3", "match"), InvalidInput, "not a review pair"),
        (("dhsc.nothing", pair, "match"), NotFound, "dhsc.nothing"),
        (("Not An Id", pair, "match"), InvalidInput, "dataset_id"),
    ]
    for args, error, message in wrong:
        with pytest.raises(error, match=message):
            linker.person_index.decide(*args)
    with pytest.raises(InvalidInput, match="too long"):
        linker.person_index.decide("ons.survey", pair, "match", note="x" * 3000)
    refused = [e for e in events(linker) if e["action"] == "index.decide" and e["outcome"] == "refused"]
    # each refusal is audited (and the long note), but for an id that is no dataset id: refused before anything
    assert len(refused) == len(wrong) - 1 + 1
    for person in (ANALYST, OWNER, OTHER_OWNER):  # owners see their quality record but do not review
        with pytest.raises(AccessDenied, match="decide the clerical review pairs"):
            uncertain(person).person_index.decide("ons.survey", pair, "match")
    with linker._ctx.db.read() as conn:
        assert conn.execute(select(person_index_decisions)).first() is None
    assert len(linker.person_index.review_pairs("ons.survey")) == 1


# -- applying, on the members and persons an update holds (no database) -------------------------------------------
class Item:
    def __init__(self, members: pd.DataFrame, norm: pd.DataFrame, review: pd.DataFrame | None) -> None:
        self.members, self.norm, self.review, self.quality = members, norm, review, {}


def test_apply_merges_splits_and_voids(tmp_path) -> None:
    norm = pd.DataFrame({"given_name": ["ann", "ann", "bob", "cat", "dan"], "surname": ["lee"] * 5})
    members = pd.DataFrame({"row": np.arange(5), "index_id": ["wbp_q", "wbp_q", "wbp_b", "wbp_b", "wbp_d"],
                            "fingerprint": ["f0", "f1", "f2", "f3", "f4"]})
    # rows 0 and 1 are look-alikes (same fields) of person q; rows 2 and 3 are one person b; 4 is d
    persons = pd.DataFrame({"index_id": ["wbp_p", "wbp_q", "wbp_b", "wbp_d"],
                            "given_name": ["ann", "ann", "bob", "dan"], "surname": ["lee"] * 4})
    review = pd.DataFrame({"kind": ["person", "record", "person", "person"], "row": [0, 3, 4, 2],
                           "candidate": ["wbp_p", "2", "wbp_gone", "wbp_p"], "match_weight": [1.0] * 4,
                           "match_probability": [0.5] * 4, "accepted": [False, True, False, False]})
    item = Item(members, norm, review)
    waiting = {"d.x": [
        Pending(1, "person", 0, "wbp_p", "f0", None, "match"),       # q's records join p: q is left empty
        Pending(2, "record", 3, "2", "f3", "f2", "non-match"),       # 3 leaves b for a person of its own
        Pending(3, "person", 4, "wbp_gone", "f4", None, "match"),    # the candidate person is gone: void
        Pending(4, "person", 2, "wbp_p", "f2", None, "non-match"),   # apart already: unchanged
        Pending(5, "person", 1, "wbp_p", "f-changed", None, "match"),  # the record changed since: void
    ]}
    after, applied = decisions.apply(waiting, {"d.x": item}, persons, tmp_path, new_index_ids, kept=object())
    assert applied == {"d.x": [(1, "merged"), (2, "split"), (3, "void"), (4, "unchanged"), (5, "void")]}
    ids = list(item.members["index_id"])
    assert ids[:3] == ["wbp_p", "wbp_p", "wbp_b"] and ids[4] == "wbp_d"
    assert ids[3] not in ("wbp_b", "wbp_p", "wbp_q") and ids[3].startswith("wbp_")
    assert set(after["index_id"]) == {"wbp_p", "wbp_b", "wbp_d", ids[3]}  # q dropped, 3's person added
    assert after.set_index("index_id").loc[ids[3], "given_name"] == "cat"
    # the decided pairs leave the review (a void one stays where its records were compared afresh)
    assert list(item.review["candidate"]) == ["wbp_gone"]
    assert item.quality == {"review_held": 1, "decisions_applied": 5}


@pytest.fixture
def single(staffed):
    """One episode per person in the owner's dataset, a linker, and a review pair written into its queue: its
    first record against the person of its second record (a pair the model might have been unsure of)."""
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    population = people(40)
    staffed(OWNER).catalogue.register(hospital_record(), episodes(population, per_person=1))
    linker = staffed(LINKER)
    ids = ids_of(linker, "dhsc.episodes")
    store.write_review(linker._ctx.vault.root, "dhsc.episodes", pd.DataFrame({
        "kind": ["person"], "row": [0], "candidate": [ids[1]], "match_weight": [0.1], "match_probability": [0.52],
        "accepted": [False]}))
    return staffed, population, ids


def test_a_match_merges_the_record_into_the_candidate_and_drops_the_empty_person(single) -> None:
    staffed, _population, ids = single
    linker = staffed(LINKER)
    persons = linker.person_index.status()["persons"]
    linker.person_index.decide("dhsc.episodes", (0, ids[1]), "match")
    linker.person_index.build("dhsc.episodes")
    after = ids_of(linker, "dhsc.episodes")
    assert after[0] == after[1] == ids[1] and after[2:] == ids[2:]
    held = set(store.persons(linker._ctx.vault.root, ["index_id"])["index_id"])
    assert ids[0] not in held and linker.person_index.status()["persons"] == persons - 1
    with linker._ctx.db.read() as conn:
        assert conn.execute(select(person_index_decisions.c.outcome)).scalar_one() == "merged"
    assert staffed(OWNER).person_index.quality("dhsc.episodes")["review_decided"] == 1


def test_a_decision_on_a_record_that_changed_since_is_void(single) -> None:
    staffed, population, ids = single
    linker = staffed(LINKER)
    linker.person_index.decide("dhsc.episodes", (0, ids[1]), "match")
    frame = episodes(population, per_person=1)
    frame.loc[0, "postcode"] = "ZZ1 1ZZ"  # the record was corrected: compared afresh at the update it triggers
    staffed(OWNER).catalogue.register(hospital_record(), frame)
    assert ids_of(linker, "dhsc.episodes")[0] == ids[0]  # still its own person: NHS number, name and birth agree
    with linker._ctx.db.read() as conn:
        decided = conn.execute(select(person_index_decisions)).mappings().one()
    assert decided["outcome"] == "void" and decided["applied_in"] is not None
    quality = staffed(OWNER).person_index.quality("dhsc.episodes")
    assert quality["review_pending"] == 0 and quality["review_decided"] == 1
