"""Governed linkage through the services, on SQLite and PostgreSQL: the project receives a link key, weights
and only what it was granted; identifiers granted for linkage never reach it; runs are recorded and audited;
refusals are audited and change nothing."""

from __future__ import annotations

import pytest
from factories import linkable_people, people_records
from helpers import ADMIN, ANALYST, OTHER_OWNER, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events, linkage_runs
from workbench.errors import AccessDenied, InvalidInput, NotFound

LEFT, RIGHT = "dhsc.people", "ons.people"
IDENTIFYING = {"forename", "first_name", "surname", "dob", "postcode"}


@pytest.fixture
def people(governed):
    """Both people datasets registered (DHSC's by OWNER, ONS's by OTHER_OWNER); returns (connect, data)."""
    left_record, right_record = people_records()
    left, right, truth = linkable_people()
    governed(OWNER).catalogue.register(left_record, left)
    governed(OTHER_OWNER).catalogue.register(right_record, right)
    return governed, (left, right, truth)


def approve(connect, project: str, dataset: str, owner: str, *, columns: list[str], linkage: list[str] = (),
            **options) -> dict:
    analyst = connect(ANALYST)
    wanted = list(dict.fromkeys([*columns, *linkage]))
    request = analyst.project(project).request_access(dataset, wanted, justification="Linkage study")
    return connect(owner).owner.decide(request["id"], "approve", columns=columns, linkage=list(linkage), **options)


@pytest.fixture
def linkable(people):
    """PROJECT holds grants for both datasets: the reference and one attribute each, identifiers for linkage."""
    connect, data = people
    approve(connect, PROJECT, LEFT, OWNER, columns=["ref", "diagnosis"],
            linkage=["forename", "surname", "dob", "postcode"])
    approve(connect, PROJECT, RIGHT, OTHER_OWNER, columns=["ref", "status"],
            linkage=["first_name", "surname", "dob", "postcode"])
    return connect, data


def events(ws, action: str) -> list:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).where(audit_events.c.action == action)
                            .order_by(audit_events.c.seq)).mappings().all()


def test_the_project_receives_link_key_weights_and_granted_columns_only(linkable) -> None:
    connect, (left, right, truth) = linkable
    project = connect(ANALYST).project(PROJECT)
    linked = project.link(LEFT, RIGHT)
    frame = linked.frame
    assert list(frame.columns) == ["link_key", "match_weight", "match_probability", "ref_dhsc_people", "diagnosis",
                                   "ref_ons_people", "status"]
    assert not IDENTIFYING & set(frame.columns)
    raw_values = {str(v) for col in ("forename", "surname", "postcode") for v in left[col]} | \
                 {str(v) for col in ("first_name", "surname", "postcode") for v in right[col]}
    assert not raw_values & {str(v) for col in frame.columns for v in frame[col]}  # not even as values
    assert frame["link_key"].str.fullmatch(r"[0-9a-f]{20}").all() and frame["link_key"].is_unique
    # the link is right: compare against the truth through the record references the project was granted
    found = set(zip(frame["ref_dhsc_people"], frame["ref_ons_people"], strict=True))
    true = set(zip(truth["left_id"], truth["right_id"], strict=True))
    assert len(found & true) / len(true) >= 0.97 and len(found & true) / len(found) >= 0.97
    run = project.linkage_run(linked.run_id)
    assert run["engine"] == "recordlinkage" and run["counts"]["matches"] == len(frame)
    assert run["spec"]["fields"][0]["left"] == "forename" and run["params"]["fields"]
    shown = run._repr_html_()  # in a notebook: what was linked and how well, labelled
    assert f"Linkage run {linked.run_id}: {LEFT} and {RIGHT}" in shown and ">Left dataset</th>" in shown
    assert f"Matches: {len(frame):,}" in shown and "left_dataset" not in shown and "created_at" not in shown
    assert project.linkage_runs()["id"].tolist() == [linked.run_id]
    [event] = events(project, "data.link")
    assert event["outcome"] == "ok" and event["detail"]["columns"] == list(frame.columns)
    assert event["detail"]["read_for_linkage"][LEFT] == ["forename", "surname", "dob", "postcode"]


def test_granted_identifiers_come_back_as_the_projects_pseudonyms(people) -> None:
    connect, (left, _right, _truth) = people
    approve(connect, OTHER_PROJECT, LEFT, OWNER, columns=["ref", "surname", "diagnosis"], identifiers=["surname"],
            linkage=["forename", "surname", "dob", "postcode"])
    approve(connect, OTHER_PROJECT, RIGHT, OTHER_OWNER, columns=["status"],
            linkage=["first_name", "surname", "dob", "postcode"])
    project = connect(ANALYST).project(OTHER_PROJECT)
    frame = project.link(LEFT, RIGHT).frame
    loaded = project.load(LEFT)
    assert set(frame["surname"]) <= set(loaded["surname"])  # the same pseudonyms as a load gives
    assert not set(frame["surname"]) & set(left["surname"])
    assert "forename" not in frame and "postcode" not in frame


def test_record_identifiers_come_back_as_the_projects_pseudonyms(governed) -> None:
    left_record, right_record = people_records()
    for entry in (left_record, right_record):
        entry["columns"][0]["role"] = "record_identifier"  # ref: the record key
    left, right, _truth = linkable_people()
    governed(OWNER).catalogue.register(left_record, left)
    governed(OTHER_OWNER).catalogue.register(right_record, right)
    approve(governed, PROJECT, LEFT, OWNER, columns=["ref", "diagnosis"],
            linkage=["forename", "surname", "dob", "postcode"])
    approve(governed, PROJECT, RIGHT, OTHER_OWNER, columns=["ref", "status"],
            linkage=["first_name", "surname", "dob", "postcode"])
    project = governed(ANALYST).project(PROJECT)
    frame = project.link(LEFT, RIGHT).frame
    assert not set(frame["ref_dhsc_people"]) & set(left["ref"])
    assert frame["ref_dhsc_people"].str.fullmatch(r"[0-9a-f]{20}").all()
    assert set(frame["ref_dhsc_people"]) <= set(project.load(LEFT)["ref"])  # the project's own pseudonyms
    assert set(frame["ref_ons_people"]) <= set(project.load(RIGHT)["ref"])


def test_the_linked_frame_is_saved_with_lineage_to_both_sources(linkable) -> None:
    connect, _ = linkable
    project = connect(ANALYST).project(PROJECT)
    saved = project.link(LEFT, RIGHT, engine="recordlinkage").save("linked_people")
    assert saved["sources"] == [LEFT, RIGHT]
    usage = connect(OWNER).owner.usage(LEFT)
    assert "linked_people" in str(usage)


def test_splink_engine_in_the_workbench(linkable) -> None:
    connect, (_left, _right, truth) = linkable
    linked = connect(ANALYST).project(PROJECT).link(LEFT, RIGHT, engine="splink")
    assert linked.quality["engine"] == "splink" and len(linked) >= 0.9 * len(truth)
    assert linked.histogram().layout.shapes[0].x0 == linked.threshold


def test_spark_engine_without_pyspark_is_refused_audited_and_changes_nothing(linkable, monkeypatch) -> None:
    import sys

    connect, _ = linkable
    ws = connect(ANALYST)
    before = snapshot(ws)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(InvalidInput, match=r'engine "splink-spark" needs pyspark'):
        ws.project(PROJECT).link(LEFT, RIGHT, engine="splink-spark")
    assert snapshot(ws) == before
    assert events(ws, "data.link")[-1]["outcome"] == "refused"


def test_no_columns_granted_for_linkage_is_refused_audited_and_changes_nothing(people) -> None:
    connect, _ = people
    approve(connect, PROJECT, LEFT, OWNER, columns=["ref", "diagnosis"], linkage=["surname", "dob"])
    approve(connect, PROJECT, RIGHT, OTHER_OWNER, columns=["ref", "status"])  # no linkage columns
    ws = connect(ANALYST)
    before = snapshot(ws)
    with pytest.raises(AccessDenied, match=r"owner of ons.people \(priya.owner\) has granted project p-alpha no "
                                           "columns for linkage"):
        ws.project(PROJECT).link(LEFT, RIGHT)
    assert snapshot(ws) == before
    assert events(ws, "data.link")[-1]["outcome"] == "denied"


def test_no_grant_at_all_is_refused(people) -> None:
    connect, _ = people
    ws = connect(ANALYST)
    with pytest.raises(AccessDenied, match=r"holds no grant for dhsc\.people"):
        ws.project(PROJECT).link(LEFT, RIGHT)
    assert events(ws, "data.link")[-1]["outcome"] == "denied"


def test_a_spec_reading_columns_not_granted_is_refused(linkable) -> None:
    connect, _ = linkable
    ws = connect(ANALYST)
    before = snapshot(ws)
    spec = {"fields": [{"name": "dx", "kind": "exact", "left": "diagnosis", "right": "status"},
                       {"name": "nhs", "kind": "identifier", "left": "nhs_number", "right": "ref"}],
            "blocking": [["dx"]]}
    with pytest.raises(InvalidInput, match=r"nhs_number of dhsc\.people not granted to project p-alpha"):
        ws.project(PROJECT).link(LEFT, RIGHT, spec=spec)
    assert snapshot(ws) == before
    assert events(ws, "data.link")[-1]["outcome"] == "refused"


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda p: p.link(LEFT, "ons.nothing"), NotFound, "No dataset 'ons.nothing'"),
    (lambda p: p.link(LEFT, LEFT), InvalidInput, "link two different datasets"),
    (lambda p: p.link(LEFT, RIGHT, engine="spark"), InvalidInput, "engine: 'spark'"),
])
def test_bad_requests_are_refused_and_audited(linkable, call, error, message: str) -> None:
    connect, _ = linkable
    ws = connect(ANALYST)
    before = snapshot(ws)
    with pytest.raises(error, match=message):
        call(ws.project(PROJECT))
    assert snapshot(ws) == before
    assert events(ws, "data.link")[-1]["outcome"] == "refused"


def test_people_outside_the_project_may_not_link_or_read_runs(linkable) -> None:
    connect, _ = linkable
    connect(ANALYST).project(PROJECT).link(LEFT, RIGHT)
    for user in (ADMIN, OWNER, SECOND_ANALYST):
        ws = connect(user)
        with pytest.raises(AccessDenied):
            ws.project(PROJECT).link(LEFT, RIGHT)
        with pytest.raises(AccessDenied):
            ws.project(PROJECT).linkage_runs()
    with connect(ADMIN)._ctx.db.read() as conn:
        assert len(conn.execute(select(linkage_runs)).all()) == 1


def test_owners_list_linkage_columns_only_from_the_request(people) -> None:
    connect, _ = people
    analyst = connect(ANALYST)
    request = analyst.project(PROJECT).request_access(LEFT, ["ref", "diagnosis"], justification="Linkage")
    owner = connect(OWNER)
    before = snapshot(owner)
    with pytest.raises(InvalidInput, match="linkage: surname were not requested"):
        owner.owner.decide(request["id"], "approve", linkage=["surname"])
    assert snapshot(owner) == before
    granted = owner.owner.decide(request["id"], "approve")
    assert owner.owner.grants(LEFT).set_index("id").loc[granted["grant_id"], "linkage"] == []


def test_truth_quality_when_the_caller_may_read_the_truth(demo_as) -> None:
    from helpers import DEMO_USER

    ws = demo_as(DEMO_USER)  # admin and trainer, and an analyst in every mission project
    linked = ws.project("m1-economic-inactivity").link("ons.lfs", "dhsc.hes_apc")
    truth = linked.quality["truth"]
    assert truth["f1"] >= 0.95 and truth["precision"] >= 0.97, truth
    assert {"first_name", "last_name", "forename", "postcode"}.isdisjoint(linked.frame.columns)
    assert any(e["action"] == "demo.truth.read" for e in events(ws, "demo.truth.read"))
