"""Record identifiers (episode ids, household serials...) reach projects only as the project's pseudonyms, on
SQLite and PostgreSQL: stable within a project (joins inside it work), different across projects (their extracts
cannot be joined), granted without the identifiers permission, never grouped or aggregated by DP, never listed
in an output."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import episode_record, episodes, household_record, households
from helpers import ANALYST, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput

EPISODES, HOUSEHOLDS = "dhsc.episodes", "dhsc.households"
KEYS = ["episode_id", "household_serial", "serial_no"]


def approve(connect, project: str, dataset: str, **decision) -> dict:
    request = connect(ANALYST).project(project).request_access(dataset, justification="Episodes by household")
    return connect(OWNER).owner.decide(request["id"], "approve", **decision)


@pytest.fixture
def keyed(governed):
    """Episodes and households registered by OWNER and granted whole to both projects (PROJECT's gateway does
    not permit identifiable data)."""
    owner = governed(OWNER)
    owner.catalogue.register(episode_record(), episodes())
    owner.catalogue.register(household_record(), households())
    for project in (PROJECT, OTHER_PROJECT):
        for dataset in (EPISODES, HOUSEHOLDS):
            approve(governed, project, dataset)
    return governed


def test_record_identifiers_are_granted_without_the_identifiers_permission(keyed) -> None:
    grants = keyed(ANALYST).project(PROJECT).grants()
    mine = grants[grants["dataset_id"] == EPISODES].iloc[0]
    assert set(KEYS) <= set(mine["columns"]) and list(mine["identifiers"]) == []


def test_ticking_a_record_identifier_as_a_direct_identifier_is_refused(governed) -> None:
    governed(OWNER).catalogue.register(episode_record(), episodes())
    request = governed(ANALYST).project(OTHER_PROJECT).request_access(EPISODES, justification="Episodes")
    owner = governed(OWNER)
    before = snapshot(owner)
    with pytest.raises(InvalidInput, match="episode_id are not requested direct identifiers"):
        owner.owner.decide(request["id"], "approve", identifiers=["episode_id"])
    assert snapshot(owner) == before


def test_loads_carry_the_projects_pseudonyms_never_the_raw_keys(keyed) -> None:
    raw = episodes()
    frame = keyed(ANALYST).project(PROJECT).load(EPISODES)
    for column in KEYS:
        assert frame[column].str.fullmatch(r"[0-9a-f]{20}").all(), column
        assert not set(frame[column]) & set(map(str, raw[column])), column
    # one pseudonym per value: row structure (households of three episodes) survives
    assert frame["episode_id"].is_unique and frame["household_serial"].value_counts().max() == 3
    assert sorted(frame["cost"]) == sorted(raw["cost"])  # other columns as they are (rows in the project's order)
    with keyed(ANALYST)._ctx.db.read() as conn:
        event = conn.execute(select(audit_events).where(audit_events.c.action == "data.load")
                             .order_by(audit_events.c.seq.desc())).mappings().first()
    assert event["detail"]["pseudonymised"] == KEYS


def test_two_projects_see_different_values_and_one_project_the_same_on_every_load(keyed) -> None:
    first = keyed(ANALYST).project(PROJECT).load(EPISODES)
    again = keyed(ANALYST).project(PROJECT).load(EPISODES)
    other = keyed(SECOND_ANALYST).project(OTHER_PROJECT).load(EPISODES)
    pd.testing.assert_frame_equal(first, again)
    for column in KEYS:
        assert not set(first[column]) & set(other[column]), column
    # the attack: join the two projects' extracts on the record key — nothing matches
    for column in KEYS:
        assert first.merge(other, on=column).empty, column
    # the same rows, in each project's own order: neither the keys nor the position of a row join them
    rest = [c for c in first.columns if c not in KEYS]
    pd.testing.assert_frame_equal(first[rest].sort_values(rest, ignore_index=True),
                                  other[rest].sort_values(rest, ignore_index=True))
    assert not first[rest].equals(other[rest])


def test_within_a_project_the_same_key_links_its_datasets(keyed) -> None:
    project = keyed(ANALYST).project(PROJECT)
    joined = project.load(EPISODES).merge(project.load(HOUSEHOLDS), on="household_serial", validate="many_to_one")
    assert len(joined) == len(episodes())
    expected = episodes().merge(households(), on="household_serial")
    assert list(joined.sort_values("cost")["tenure"]) == list(expected.sort_values("cost")["tenure"])


def test_a_saved_frame_keeps_the_pseudonyms(keyed) -> None:
    project = keyed(ANALYST).project(PROJECT)
    frame = project.load(EPISODES)
    project.save(frame, "episodes_copy", derived_from=[EPISODES])
    pd.testing.assert_frame_equal(project.read("episodes_copy"), frame, check_dtype=False)


@pytest.mark.parametrize(("call", "column"), [
    (lambda dp: dp.crosstab(EPISODES, "household_serial", epsilon=0.1), "household_serial"),
    (lambda dp: dp.sum(EPISODES, "serial_no", bounds=(0, 100), epsilon=0.1), "serial_no"),
    (lambda dp: dp.count(EPISODES, where={"episode_id": "E000001"}, epsilon=0.1), "episode_id"),
])
def test_dp_never_groups_filters_or_aggregates_record_identifiers(keyed, call, column) -> None:
    keyed(OWNER).dp.set_budget(EPISODES, 3.0)
    analyst = keyed(ANALYST)
    before = snapshot(analyst)
    with pytest.raises(InvalidInput, match=f"'{column}' is a record identifier of {EPISODES}"):
        call(analyst.project(PROJECT).dp)
    assert snapshot(analyst) == before
    with analyst._ctx.db.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first()
    assert (last["action"], last["outcome"]) == ("dp.query", "refused")


def test_an_output_cut_by_a_record_identifier_is_refused_before_checking(keyed) -> None:
    from workbench.errors import InvalidInput

    project = keyed(ANALYST).project(PROJECT)
    frame = pd.DataFrame({"household_serial": ["H1"] * 12 + ["H2"] * 12, "age_band": ["0-17", "65+"] * 12})
    before = snapshot(keyed(OWNER))
    with pytest.raises(InvalidInput, match=r"'household_serial' is a record identifier"):  # refused as it is made
        project.tables.crosstab(frame, "household_serial", "age_band", derived_from=[EPISODES])
    assert snapshot(keyed(OWNER)) == before
