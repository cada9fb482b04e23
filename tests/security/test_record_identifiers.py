"""Attack: two projects' analysts load the same dataset and join their extracts on a record-level key (episode
id, household serial, running number). Per-project pseudonyms of direct identifiers are useless if a record key
comes out identical in every project. Record keys are catalogued as ``record_identifier`` and every load hands
them out as the loading project's pseudonyms, so the join finds nothing — embedded and through a real
``workbench serve`` (the ``kernel`` fixture) — while each load is audited with the columns it pseudonymised. The
demo's LFS and HES keys are record identifiers too."""

from __future__ import annotations

import pytest
from factories import episode_record, episodes
from helpers import ANALYST, DATASET, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput

EPISODES = "dhsc.episodes"
KEYS = ["episode_id", "household_serial", "serial_no"]


def governed_state(ws) -> dict:
    """Every table but the audit log and the service's tokens (whose last use a remote call records)."""
    state = snapshot(ws)
    state.pop("api_tokens", None)
    return state


def loads(ws) -> list[dict]:
    with ws._ctx.db.read() as conn:
        return [dict(r) for r in conn.execute(select(audit_events).where(audit_events.c.action == "data.load")
                                              .order_by(audit_events.c.seq)).mappings()]


@pytest.fixture
def episodes_in_two_projects(desk):
    """Episodes registered by OWNER and granted whole to PROJECT (ANALYST) and OTHER_PROJECT (SECOND_ANALYST)."""
    desk(OWNER).catalogue.register(episode_record(), episodes())
    for project in (PROJECT, OTHER_PROJECT):
        request = desk(ANALYST).project(project).request_access(EPISODES, justification="Episodes")
        desk(OWNER).owner.decide(request["id"], "approve")
    return desk


def test_two_projects_extracts_cannot_be_joined_on_a_record_key(kernel, episodes_in_two_projects) -> None:
    desk = episodes_in_two_projects
    raw = episodes()
    mine = kernel(ANALYST).project(PROJECT).load(EPISODES)
    theirs = kernel(SECOND_ANALYST).project(OTHER_PROJECT).load(EPISODES)
    for key in KEYS:
        assert mine.merge(theirs, on=key).empty, key  # the attack finds nothing
        assert not (set(mine[key]) | set(theirs[key])) & set(map(str, raw[key])), key  # no raw key read
        assert mine[key].str.fullmatch(r"[0-9a-f]{20}").all() and theirs[key].str.fullmatch(r"[0-9a-f]{20}").all()
    # within a project the key is stable, so the project's own work still joins
    again = kernel(ANALYST).project(PROJECT).load(EPISODES, ["episode_id", "cost"])
    assert list(again["episode_id"]) == list(mine["episode_id"])
    events = loads(desk(OWNER))[-3:]
    assert [(e["actor"], e["outcome"], e["detail"]["pseudonymised"]) for e in events] == [
        (ANALYST, "ok", KEYS), (SECOND_ANALYST, "ok", KEYS), (ANALYST, "ok", ["episode_id"])]


def test_row_order_is_no_record_key_across_projects(kernel, episodes_in_two_projects) -> None:
    """The same attack by position: were rows handed out in the vault's order, row i (and its index) would be the
    same record in every project's extract. Each project gets the rows in its own keyed order, stable on every
    load of that project."""
    mine = kernel(ANALYST).project(PROJECT).load(EPISODES)
    theirs = kernel(SECOND_ANALYST).project(OTHER_PROJECT).load(EPISODES)
    raw = episodes()
    assert (mine["cost"].to_numpy() == theirs["cost"].to_numpy()).mean() < 0.2  # row i: mostly another record
    assert (mine["cost"].to_numpy() == raw["cost"].to_numpy()).mean() < 0.2  # nor the vault's order
    assert sorted(mine["cost"]) == sorted(theirs["cost"]) == sorted(raw["cost"])  # the same rows, all of them
    assert list(mine.index) == list(range(len(raw)))  # the index says nothing of where a row was
    again = kernel(ANALYST).project(PROJECT).load(EPISODES)
    assert list(again["cost"]) == list(mine["cost"])  # a project's own order is stable


def test_an_id_column_left_as_other_is_flagged_to_every_reader(kernel) -> None:
    """The desk's dataset keeps a unique ``admission_id`` with role 'other': not refused, but every reader is told."""
    entry = kernel(ANALYST).catalogue[DATASET]
    [warning] = entry.warnings
    assert warning.startswith("column 'admission_id' has role 'other' but differs on every row")
    assert "1 warning" in repr(entry)


def test_the_twin_shows_no_record_key(kernel, episodes_in_two_projects) -> None:
    twin = kernel(ANALYST).catalogue.twin(EPISODES)
    raw = episodes()
    for key in KEYS:
        assert not set(map(str, twin[key].dropna())) & set(map(str, raw[key])), key


def test_dp_refuses_to_group_by_a_record_key_and_spends_nothing(kernel, episodes_in_two_projects) -> None:
    desk = episodes_in_two_projects
    desk(OWNER).dp.set_budget(EPISODES, 3.0)
    analyst = kernel(ANALYST)
    before = governed_state(desk(OWNER))
    with pytest.raises(InvalidInput, match=r"'household_serial' is a record identifier of dhsc\.episodes"):
        analyst.project(PROJECT).dp.crosstab(EPISODES, "household_serial", epsilon=0.5)
    assert governed_state(desk(OWNER)) == before
    with desk(OWNER)._ctx.db.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first()
    assert (last["actor"], last["action"], last["outcome"]) == (ANALYST, "dp.query", "refused")


def test_the_demo_keeps_lfs_and_hes_keys_per_project(demo_as) -> None:
    """The demo's own user is an analyst in every mission project; Missions 1 and 5 both hold HES episodes."""
    from helpers import DEMO_USER

    ws = demo_as(DEMO_USER)
    for dataset_id, keys in (("ons.lfs", ["case_id", "household_serial"]), ("dhsc.hes_apc", ["episode_id"])):
        roles = dict(zip(ws.catalogue[dataset_id].schema["name"], ws.catalogue[dataset_id].schema["role"],
                         strict=True))
        assert {k: roles[k] for k in keys} == dict.fromkeys(keys, "record_identifier")
    raw = ws._ctx.vault.read_dataset("dhsc.hes_apc")
    m1 = ws.project("m1-economic-inactivity").load("dhsc.hes_apc", ["episode_id", "sex"])
    m5 = ws.project("m5-emergency-admissions").load("dhsc.hes_apc", ["episode_id", "sex"])
    assert m1.merge(m5, on="episode_id").empty
    assert not set(m1["episode_id"]) & set(raw["episode_id"]) and len(m1) == len(raw)
    lfs_raw = ws._ctx.vault.read_dataset("ons.lfs")
    lfs = ws.project("m1-economic-inactivity").load("ons.lfs", ["case_id"])
    assert not set(lfs["case_id"]) & set(lfs_raw["case_id"]) and lfs["case_id"].is_unique
    # every record key of the demo is catalogued as one: no entry warns
    warned = {d: ws.catalogue[d].warnings for d in ws.catalogue.search(limit=None)["id"]}
    assert {d: w for d, w in warned.items() if w} == {}
