"""The person index service: registration links person-level datasets, incrementally; a failed update leaves the
previous index; only admins and linkers read the index, a dataset's owner its quality; nothing reaches a project."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from factories import FORENAMES, SURNAMES, record
from helpers import ADMIN, ANALYST, DEMO_USER, OTHER_OWNER, OWNER, events, grant
from sqlalchemy import select

from workbench import operations
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, InvalidInput
from workbench.person_index import store
from workbench.person_index.service import new_index_ids

pytestmark = pytest.mark.db

LINKER = "lin.linker"
COLUMNS = [
    {"name": "ref", "type": "string", "role": "record_identifier", "description": "Random record id"},
    {"name": "nhs_number", "type": "string", "role": "direct_identifier", "description": "NHS number"},
    {"name": "forename", "type": "string", "role": "direct_identifier", "description": "Given name"},
    {"name": "surname", "type": "string", "role": "direct_identifier", "description": "Family name"},
    {"name": "dob", "type": "date", "role": "quasi_identifier", "description": "Date of birth"},
    {"name": "postcode", "type": "string", "role": "direct_identifier", "description": "Home postcode"},
    {"name": "cost", "type": "float", "role": "sensitive", "description": "Cost in pounds"},
]


def people(count: int = 120, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "nhs_number": [f"{9100000000 + i}" for i in range(count)],
        "forename": rng.choice(FORENAMES, count), "surname": rng.choice(SURNAMES, count),
        "dob": pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 25000, count), unit="D"),
        "postcode": [f"LS{rng.integers(1, 30)} {rng.integers(1, 10)}{'ABDEFGHJ'[rng.integers(0, 8)]}"
                     f"{'LNPQRSTU'[rng.integers(0, 8)]}" for _ in range(count)],
    })


def episodes(population: pd.DataFrame, per_person: int = 2) -> pd.DataFrame:
    """Several records per person (as hospital episodes), each its own ref."""
    frame = pd.concat([population] * per_person, ignore_index=True)
    frame.insert(0, "ref", [f"E{i:05d}" for i in range(len(frame))])
    frame["cost"] = np.arange(len(frame), dtype=float)
    return frame


def hospital_record(**overrides: Any) -> dict[str, Any]:
    return record(**{"localId": "dhsc.episodes", "identifier": "https://data.example.invalid/dataset/episodes-pi",
                     "title": "Episodes", "columns": copy.deepcopy(COLUMNS), "personKey": "nhs_number",
                     **overrides})


def survey_record() -> dict[str, Any]:
    columns = [c for c in copy.deepcopy(COLUMNS) if c["name"] != "nhs_number"]
    columns[1]["name"] = "first_name"
    return record(localId="ons.survey", identifier="https://data.example.invalid/dataset/survey-pi",
                  title="Survey", publisher="office-for-national-statistics",
                  creator=["office-for-national-statistics"], department="office-for-national-statistics",
                  legalGateway=["dea-2017-research"], columns=columns)


def survey(population: pd.DataFrame) -> pd.DataFrame:
    part = population.iloc[::2].reset_index(drop=True).drop(columns=["nhs_number"])
    part = part.rename(columns={"forename": "first_name"})
    part.insert(0, "ref", [f"S{i:05d}" for i in range(len(part))])
    part["cost"] = 1.0
    return part


@pytest.fixture
def indexed(staffed):
    """The owner's hospital episodes (two per person) registered with data, and a linker."""
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    population = people()
    staffed(OWNER).catalogue.register(hospital_record(), episodes(population))
    return staffed, population


def latest_update(ws, dataset_id: str) -> dict[str, Any]:
    frame = ws.person_index.updates(dataset_id)
    return frame.iloc[-1].to_dict()


def test_registering_a_person_level_dataset_links_it(indexed) -> None:
    connect, population = indexed
    owner, linker = connect(OWNER), connect(LINKER)
    quality = owner.person_index.quality("dhsc.episodes")
    assert quality["records"] == 240 and quality["compared"] == 240 and quality["unchanged"] == 0
    assert quality["new_persons"] == 120  # two episodes per person, deduplicated within the dataset
    assert quality["coverage"] == 1.0
    assert quality["estimated_precision"] is None  # a patient's episodes are alike: no pair of them to judge
    assert quality["fields"] == {"given_name": "forename", "surname": "surname", "dob": "dob",
                                 "postcode": "postcode", "nhs_number": "nhs_number"}
    status = linker.person_index.status()
    assert status["persons"] == 120 and status["datasets"] == ["dhsc.episodes"]
    ids = store.index_ids(owner._ctx.vault.root, "dhsc.episodes", owner._ctx.vault.dataset_path("dhsc.episodes"))
    assert ids is not None and all(i.startswith("wbp_") and len(i) == 20 for i in ids.to_pylist())
    assert ids.to_pylist()[:120] == ids.to_pylist()[120:]  # one person's two episodes share an index id
    assert any(e["action"] == "index.update" and e["actor"] == OWNER for e in events(owner))
    # a second dataset links to the index's persons instead of making new ones
    connect(OTHER_OWNER).catalogue.register(survey_record(), survey(population))
    second = linker.person_index.quality("ons.survey")
    assert second["records"] == 60 and second["linked"] >= 57 and second["new_persons"] <= 3
    assert second["match_rate"] >= 0.95 and 0.9 < second["estimated_precision"] <= 1.0
    assert 0.9 < second["estimated_recall"] <= 1.0


def test_index_ids_are_random_and_distinct() -> None:
    ids = new_index_ids(5000)
    assert len(set(ids)) == 5000 and all(len(i) == 20 and i.startswith("wbp_") for i in ids)
    assert sorted(ids) != ids  # not in issue order
    assert not set(new_index_ids(10, set(ids))) & set(ids)


def test_reregistering_compares_only_changed_records(indexed) -> None:
    connect, population = indexed
    owner = connect(OWNER)
    path = owner._ctx.vault.dataset_path("dhsc.episodes")
    before = store.index_ids(owner._ctx.vault.root, "dhsc.episodes", path).to_pylist()
    frame = episodes(population)
    frame.loc[[3, 7, 11], "surname"] = ["Zyzzyva", "Quaxley", "Vormund"]  # three records changed
    extra = episodes(people(2, seed=99), per_person=1)
    extra["ref"] = ["N00001", "N00002"]
    extra["nhs_number"] = ["9199999998", "9199999999"]
    owner.catalogue.register(hospital_record(), pd.concat([frame, extra], ignore_index=True))
    update = latest_update(connect(LINKER), "dhsc.episodes")
    assert update["counts"]["records"] == 242
    assert update["counts"]["compared"] == 5 and update["counts"]["unchanged"] == 237
    assert update["relinked"] == 0
    after = store.index_ids(owner._ctx.vault.root, "dhsc.episodes", path).to_pylist()
    unchanged = [i for i in range(240) if i not in (3, 7, 11)]
    assert [after[i] for i in unchanged] == [before[i] for i in unchanged]
    # a changed surname still links through NHS number, date of birth and postcode
    assert [after[i] for i in (3, 7, 11)] == [before[i] for i in (3, 7, 11)]
    assert after[240] not in before and after[241] not in before


def test_a_changed_schema_links_the_dataset_again(indexed) -> None:
    connect, population = indexed
    owner = connect(OWNER)
    entry = hospital_record()
    entry["columns"] = [c for c in entry["columns"] if c["name"] != "postcode"]
    owner.catalogue.register(entry, episodes(population).drop(columns=["postcode"]))
    update = latest_update(connect(LINKER), "dhsc.episodes")
    assert update["relinked"] == 1 and update["counts"]["compared"] == 240
    assert "postcode" not in update["fields"]


def test_a_failed_update_leaves_the_previous_index(indexed, monkeypatch: pytest.MonkeyPatch) -> None:
    connect, population = indexed
    owner = connect(OWNER)
    root = owner._ctx.vault.root
    live = store.current(root)
    members = store.members(root, "dhsc.episodes")
    updates = len(connect(LINKER).person_index.updates())
    real_commit = store.commit

    def crash_at_the_switch(*args: Any, **kwargs: Any) -> str:
        """Write the whole new version, then fail as the live pointer is replaced (a crash before the switch)."""
        with monkeypatch.context() as patch:
            patch.setattr(store.os, "replace", lambda *_a, **_k: (_ for _ in ()).throw(OSError("disk gone")))
            return real_commit(*args, **kwargs)

    monkeypatch.setattr(store, "commit", crash_at_the_switch)
    frame = episodes(population)
    frame.loc[0, "surname"] = "Changed"
    with pytest.raises(OSError):
        owner.catalogue.register(hospital_record(), frame)
    assert store.current(root) == live
    pd.testing.assert_frame_equal(store.members(root, "dhsc.episodes"), members)
    assert len(connect(LINKER).person_index.updates()) == updates  # no record of an update that did not happen
    assert not [p for p in store.root(root).iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(store, "commit", real_commit)
    result = connect(LINKER).person_index.refresh()  # the data changed: refresh links it now
    assert result["datasets"]["dhsc.episodes"]["compared"] == 1


def test_analysts_cannot_read_the_index(indexed) -> None:
    connect, _ = indexed
    analyst = connect(ANALYST)
    for attempt in (analyst.person_index.status, analyst.person_index.build, analyst.person_index.refresh,
                    lambda: analyst.person_index.quality("dhsc.episodes"),
                    lambda: analyst.person_index.review_pairs("dhsc.episodes"),
                    lambda: analyst.person_index.updates(),
                    lambda: analyst.person_index.link_registered("dhsc.episodes")):  # what registration calls
        with pytest.raises(AccessDenied):
            attempt()
    with analyst._ctx.db.read() as conn:
        denied = conn.execute(select(audit_events.c.action).where((audit_events.c.actor == ANALYST)
                                                                  & (audit_events.c.outcome == "denied"))).scalars()
        assert {"index.read", "index.build", "index.quality", "catalogue.update"} <= set(denied)
    assert analyst.catalogue.get("dhsc.episodes").person_index is None
    # a remote workspace never offers the index
    assert "workspace.person_index" in operations.LOCAL_ONLY


def test_quality_is_the_owners_and_not_another_owners(indexed) -> None:
    connect, _ = indexed
    owner, other = connect(OWNER), connect(OTHER_OWNER)
    assert owner.person_index.quality("dhsc.episodes")["records"] == 240
    assert owner.owner.usage("dhsc.episodes").person_index["records"] == 240
    assert owner.catalogue.get("dhsc.episodes").person_index["records"] == 240
    with pytest.raises(AccessDenied, match="person-index quality"):
        other.person_index.quality("dhsc.episodes")
    assert other.catalogue.get("dhsc.episodes").person_index is None
    with pytest.raises(AccessDenied):
        owner.person_index.status()  # an owner sees their dataset's numbers, not the index


def test_conflicting_nhs_numbers_are_warned(staffed) -> None:
    population = people(80)
    frame = episodes(population, per_person=1)
    twin = frame.iloc[[0, 1]].copy()
    twin["ref"] = ["X00001", "X00002"]
    twin["nhs_number"] = ["9188888881", "9188888882"]  # the same people under other NHS numbers
    staffed(OWNER).catalogue.register(hospital_record(), pd.concat([frame, twin], ignore_index=True))
    quality = staffed(OWNER).person_index.quality("dhsc.episodes")
    assert any("conflicting identities" in w and "NHS numbers" in w for w in quality["warnings"])


def test_a_dataset_without_linkable_fields(staffed) -> None:
    staffed(ADMIN).people.add(LINKER, "Lin Linker", roles=["linker"], department="DHSC")
    columns = [COLUMNS[0], {"name": "full_name", "type": "string", "role": "direct_identifier",
                            "description": "Name as written"}, COLUMNS[-1]]
    entry = hospital_record(columns=columns)
    entry.pop("personKey", None)
    data = pd.DataFrame({"ref": ["A", "B"], "full_name": ["Ann Smith", "Bob Jones"], "cost": [1.0, 2.0]})
    staffed(OWNER).catalogue.register(entry, data)  # registered, with a warning in its quality record
    quality = staffed(OWNER).person_index.quality("dhsc.episodes")
    assert any("no linkable fields" in w for w in quality["warnings"]) and quality["coverage"] == 0.0
    with pytest.raises(InvalidInput, match="no linkable fields"):
        staffed(LINKER).person_index.build("dhsc.episodes")
    # a person key that is not a column is refused at registration
    with pytest.raises(InvalidInput, match="personKey"):
        staffed(OWNER).catalogue.register(hospital_record(personKey="nobody"), episodes(people(5)))


def test_nothing_in_a_projects_reach_holds_index_ids(governed) -> None:
    connect = governed
    admin = connect(ADMIN)
    root = admin._ctx.vault.root
    held = store.persons(root, ["index_id"])
    assert held is not None and len(held)  # dhsc.patients (NHS number, surname) was linked when registered
    ids = set(held["index_id"])
    grant(connect)
    frame = connect(ANALYST).project("p-alpha").load("dhsc.patients")
    for column in frame.columns:
        values = set(frame[column].astype(str))
        assert not values & ids and not any(v.startswith("wbp_") for v in values), column
    # the index lives in the vault's restricted area, apart from anything a load or a project reads
    assert store.root(root).parent == root / "restricted"


def test_the_demo_builds_and_measures_the_index(demo_as) -> None:
    admin = demo_as(DEMO_USER)
    status = admin.person_index.status()
    person_level = ["dfe.npd_pupils", "dfe.school_workforce", "dhsc.hes_apc", "dwp.benefit_claims",
                    "moj.offender_records", "ons.lfs"]
    assert status["datasets"] == person_level and status["persons"] > 0
    owner = admin.catalogue.get("dhsc.hes_apc").owner
    quality = demo_as(owner).owner.usage("dhsc.hes_apc").person_index
    assert quality["coverage"] > 0.99 and quality["measured"]["f1"] > 0.95  # against the demo's truth
    assert quality["estimated_precision"] is not None  # carried from the registration that compared the records
