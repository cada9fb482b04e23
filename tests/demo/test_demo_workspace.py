"""``workbench demo``: the synthetic public sector registered through the real services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DEMO_PERSONS, DEMO_USER

from workbench.demo import build_demo
from workbench.errors import AccessDenied, Conflict, InvalidInput


def test_demo_contents(demo_as) -> None:
    ws = demo_as(DEMO_USER)
    assert set(ws.roles) == {"admin", "analyst", "trainer"}
    entries = ws.catalogue.list()
    assert len(entries) >= 12 and len(set(entries["department"])) >= 7
    for mission in range(1, 6):
        assert not ws.catalogue.search(mission=mission).empty, f"no dataset for mission {mission}"
    people = ws.people.list()
    roles = {role for roles in people["roles"] for role in roles}
    assert {"analyst", "output_checker", "data_owner", "trainer", "admin"} <= roles
    projects = ws.projects()
    assert len(projects) == 5 and sorted(projects["mission"]) == [1, 2, 3, 4, 5]
    assert set(projects["status"]) == {"active"}
    assert ws.verify_audit().ok


def test_every_governed_access_path_is_reachable(demo_as) -> None:
    """Grants (fewer columns than asked, a ticked identifier), pending requests, a refusal, a delegate, lapsed
    training, loads and a derived dataset: each owner has something to decide or to watch."""
    ws = demo_as(DEMO_USER)
    requests = ws.owner.requests(status=None)  # the admin sees every request
    assert {"approved", "pending", "refused"} <= set(requests["status"])
    owners = ws.people.list().set_index("username")
    hes_owner = ws.catalogue["dhsc.hes_apc"].owner
    owner = demo_as(hes_owner)
    usage = owner.owner.usage("dhsc.hes_apc")
    grants = usage.grants.set_index("project_id")
    assert grants.loc["m5-emergency-admissions", "identifiers"] == ["nhs_number"]
    assert "nhs_number" not in grants.loc["m1-economic-inactivity", "columns"]  # research gateway: withheld
    assert set(usage.loads["project_id"]) == {"m5-emergency-admissions"}
    lfs = demo_as(ws.catalogue["ons.lfs"].owner).owner.usage("ons.lfs")
    assert list(lfs.derived["name"]) == ["weighted_status_by_region"]
    waiting = {o: demo_as(o).owner.requests() for o in owners.index if "data_owner" in owners.loc[o, "roles"]}
    assert sum(len(w) for w in waiting.values()) >= 5
    assert not demo_as("sophie.turner").owner.requests(status=None).empty  # a delegate
    # the lead of the health project loads pseudonymised NHS numbers; the lapsed analyst is told why not
    m5 = demo_as("james.wilson").project("m5-emergency-admissions")
    episodes = m5.load("dhsc.hes_apc")
    assert episodes["nhs_number"].str.fullmatch(r"[0-9a-f]{20}").all()
    assert "forename" not in episodes.columns
    with pytest.raises(AccessDenied, match="no current training record for safe-researcher"):
        demo_as("oliver.bennett").project("m2-heating-demand").load("desnz.domestic_energy")
    # the demo's own user is an accredited, trained analyst in the first project (and in every other)
    assert not ws.project("m1-economic-inactivity").load("ons.lfs", ["region", "ilo_status"]).empty
    assert ws.verify_audit().ok


def test_no_demo_decision_was_made_from_inside_the_project(demo_as) -> None:
    """Separation of duties: every scripted decision was made by an owner or delegate outside the requesting
    project; the demo's own user, an admin and an analyst in every mission project, decided none."""
    ws = demo_as(DEMO_USER)
    decided = ws.owner.requests(status=None).dropna(subset=["decided_by"])
    assert len(decided) >= 10
    for row in decided.itertuples():
        members = ws.project(row.project_id).to_dict()["members"]
        assert row.decided_by not in members, (row.id, row.decided_by, row.project_id)
    assert DEMO_USER not in set(decided["decided_by"])


# what each mission notebook (notebooks/missions) loads, and what it shows waiting for its owner
MISSION_DATA = {
    "m1-economic-inactivity": ({"ons.lfs", "dhsc.hes_apc"}, "dwp.benefit_claims"),
    "m2-heating-demand": ({"desnz.emissions_by_area", "metoffice.weather_by_area"}, "dft.road_traffic"),
    "m3-reoffending-pathways": ({"ho.recorded_crime", "dft.road_traffic"}, "moj.offender_records"),
    "m4-fsm-attainment": ({"dfe.npd_pupils", "dfe.school_workforce"}, "dwp.benefit_claims"),
    "m5-emergency-admissions": ({"dhsc.hes_apc", "ons.local_authorities", "metoffice.weather_by_area"},
                                "ons.population_estimates"),
}


def test_the_demo_user_can_work_every_mission_notebook(demo_as) -> None:
    """An analyst member of every mission project, whose grants cover each notebook's data, with a request
    still waiting for its owner in each, and privacy budget to spend."""
    ws = demo_as(DEMO_USER)
    for project_id, (loads, waiting) in MISSION_DATA.items():
        project = ws.project(project_id)
        assert project.to_dict()["members"][DEMO_USER] == "analyst", project_id
        current = project.grants().query("state == 'current'")
        assert loads <= set(current["dataset_id"]), project_id
        requests = project.requests()
        assert "pending" in set(requests.loc[requests["dataset_id"] == waiting, "status"]), project_id
        budget = project.dp.budget()
        assert (budget.loc[budget["scope"] == project_id, "remaining"] >= 1).all(), project_id
        assert project.dp.crosstab(sorted(loads)[0], _some_category(ws, sorted(loads)[0]), epsilon=0.1,
                                   preview=True) is not None


def _some_category(ws, dataset_id: str) -> str:
    return next(c["name"] for c in ws.catalogue[dataset_id].record["columns"]
                if c["type"] == "category" and c["role"] != "direct_identifier")


def test_an_output_request_waits_for_independent_checkers(demo_as) -> None:
    project = demo_as("sanjay.patel").project("m1-economic-inactivity")
    requests = project.output_requests.list()
    assert "submitted" in set(requests["status"])
    request_id = int(requests.loc[requests["status"] == "submitted", "id"].iloc[0])
    assert request_id in set(demo_as("nadia.rahman").review.queue()["id"])
    with pytest.raises(AccessDenied, match="member of project"):
        demo_as("ruth.sinclair").review.show(request_id)


def test_every_entry_has_its_data_owner_and_computed_quality(demo_as) -> None:
    ws = demo_as(DEMO_USER)
    people = ws.people.list().set_index("username")
    for dataset_id in ws.catalogue.list()["id"]:
        entry = ws.catalogue[dataset_id]
        assert entry.has_data and entry.row_count and entry.row_count > 0
        assert set(entry.record["completeness"]) == {c["name"] for c in entry.record["columns"]}
        assert "data_owner" in people.loc[entry.owner, "roles"]
        assert people.loc[entry.owner, "department"] == entry.department
        stored = ws._ctx.vault.read_dataset(dataset_id)
        assert len(stored) == entry.row_count
        assert "person_id" not in stored.columns


def test_hospital_search_finds_hospital_episodes_first(demo_as) -> None:
    ws = demo_as(DEMO_USER)
    assert ws.catalogue.search("hospital")["id"].iloc[0] == "dhsc.hes_apc"


def test_truth_is_for_admins_and_trainers_only(demo_as) -> None:
    ws = demo_as(DEMO_USER)
    people = ws.people.list()
    truth = ws.demo.truth("dhsc.hes_apc")
    assert "person_id" in truth.columns and len(truth) == ws.catalogue["dhsc.hes_apc"].row_count
    with pytest.raises(InvalidInput, match="no linkage truth"):
        ws.demo.truth("ho.recorded_crime")
    for role in ("analyst", "output_checker", "data_owner"):
        user = next(u for u, r in zip(people["username"], people["roles"], strict=True) if r == [role])
        with pytest.raises(AccessDenied):
            demo_as(user).demo.truth("dhsc.hes_apc")
    trainer = next(u for u, r in zip(people["username"], people["roles"], strict=True) if r == ["trainer"])
    assert len(demo_as(trainer).demo.truth("dhsc.hes_apc")) == len(truth)


def test_rebuilding_is_idempotent_and_never_touches_other_workspaces(demo_home: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", DEMO_USER)
    assert "already built" in build_demo(demo_home, persons=DEMO_PERSONS, seed=11)
    with pytest.raises(Conflict, match="--force"):
        build_demo(demo_home, persons=DEMO_PERSONS, seed=12)
    import workbench

    other = tmp_path / "real"
    with workbench.connect(other) as ws:
        ws.people.add(DEMO_USER, "Someone", roles=["admin"])
    with pytest.raises(Conflict, match="not a demo"):
        build_demo(other, persons=DEMO_PERSONS, force=True)
    assert (other / "workbench.db").exists()


def test_bad_demo_arguments_change_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", DEMO_USER)
    with pytest.raises(InvalidInput, match="persons"):
        build_demo(tmp_path / "ws", persons=10)
    assert not (tmp_path / "ws").exists()


def test_cli_demo_then_search_shows_hospital_episodes_first(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / "ws"), "WORKBENCH_USER": "cli.user"}
    env.pop("WORKBENCH_DATABASE_URL", None)
    exe = [sys.executable, "-m", "workbench.cli"]
    built = subprocess.run([*exe, "demo", "--scale", "2000", "--quiet"], env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert "Built the demo workspace" in built.stdout
    found = subprocess.run([*exe, "catalogue", "search", "hospital"], env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    first = found.stdout.splitlines()[1].split()[0]
    assert first == "dhsc.hes_apc"
    again = subprocess.run([*exe, "demo", "--scale", "2000", "--quiet"], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "already built" in again.stdout


def test_force_rebuild_refuses_an_external_database(demo_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", DEMO_USER)
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{demo_home / 'workbench.db'}")
    with pytest.raises(Conflict, match="only embedded"):
        build_demo(demo_home, persons=DEMO_PERSONS, seed=11, force=True)
    assert (demo_home / "workbench.db").exists()
