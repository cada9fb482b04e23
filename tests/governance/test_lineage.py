"""Lineage computed, not declared: a saved frame or analyst-supplied output inherits every dataset its maker
loaded and every saved frame they read in the project; a declaration may add sources, never remove them, and
never names a dataset the project never held; linkage results are workbench-made with exact lineage; the
upgrade to the provenance schema widens frames saved before it."""

from __future__ import annotations

import pytest
from factories import admissions, record
from helpers import ADMIN, ANALYST, DATASET, OTHER_OWNER, OTHER_PROJECT, OWNER, PROJECT, events, snapshot
from sqlalchemy import select, update

from workbench.db.schema import outputs, project_datasets, saved_reads
from workbench.errors import InvalidInput, NotFound

pytestmark = pytest.mark.db  # also on PostgreSQL

SURVEY = "ons.survey"


def register_survey(connect, project: str | None = PROJECT) -> None:
    """OTHER_OWNER's second dataset, granted to ``project`` (unless None)."""
    connect(OTHER_OWNER).catalogue.register(record(
        localId=SURVEY, identifier="https://data.example.invalid/dataset/survey", title="Labour survey",
        creator=["office-for-national-statistics"], publisher="office-for-national-statistics",
        department="office-for-national-statistics"), admissions(60, seed=2))
    if project is not None:
        asked = connect(ANALYST).project(project).request_access(SURVEY, justification="Comparison")
        connect(OTHER_OWNER).owner.decide(asked["id"], "approve")


def sources_of(ws, name: str) -> list[list[str]]:
    with ws._ctx.db.read() as conn:
        return [list(s) for s in conn.execute(select(project_datasets.c.sources).where(
            (project_datasets.c.project_id == PROJECT) & (project_datasets.c.name == name))
            .order_by(project_datasets.c.version)).scalars()]


def test_laundering_a_declared_lineage_keeps_what_was_loaded(desk) -> None:
    register_survey(desk)
    project = desk(ANALYST).project(PROJECT)
    rows = project.load(DATASET)
    saved = project.save(rows, "looks_like_survey", derived_from=[SURVEY])
    assert saved["sources"] == sorted([DATASET, SURVEY])  # the declaration adds; the load stays
    listed = project.datasets().set_index("name").loc["looks_like_survey"]
    assert listed["made_by"] == "analyst" and listed["person_key"] is None
    out = project.tables.crosstab(rows, "age_band", "length_of_stay", name="table", derived_from=[SURVEY])
    assert sorted(project.outputs.list().set_index("name").loc["table", "sources"]) == sorted([DATASET, SURVEY])
    assert out.uid.endswith("_1")
    assert "looks_like_survey" in desk(OWNER).owner.usage(DATASET).derived["name"].tolist()  # the owner sees it


def test_reading_a_saved_frame_is_recorded_and_inherited(desk) -> None:
    register_survey(desk)
    analyst = desk(ANALYST).project(PROJECT)
    analyst.save(analyst.load(DATASET).head(20), "patients_sample", derived_from=[DATASET])
    # another member who never loaded the dataset reads the frame, then saves something "from the survey"
    admin = desk(ADMIN)
    admin.project(PROJECT).add_member("bea.analyst", "analyst")
    other = desk("bea.analyst").project(PROJECT)
    copied = other.read("patients_sample")
    with desk(ADMIN)._ctx.db.read() as conn:
        reads = conn.execute(select(saved_reads)).mappings().all()
    assert [(r["name"], r["version"], r["username"]) for r in reads] == [("patients_sample", 1, "bea.analyst")]
    saved = other.save(copied, "survey_extract", derived_from=[SURVEY])
    assert saved["sources"] == sorted([DATASET, SURVEY])
    assert sources_of(desk(ADMIN), "survey_extract") == [sorted([DATASET, SURVEY])]


def test_taint_is_per_project(desk) -> None:
    register_survey(desk, project=OTHER_PROJECT)
    desk(ANALYST).project(PROJECT).load(DATASET)
    other = desk(ANALYST).project(OTHER_PROJECT)
    saved = other.save(other.load(SURVEY), "survey_only", derived_from=[SURVEY])
    assert saved["sources"] == [SURVEY]  # the load in the other project does not follow


def test_a_lineage_naming_a_dataset_never_held_is_refused_audited_and_changes_nothing(desk) -> None:
    register_survey(desk, project=None)  # in the catalogue, never granted to PROJECT
    project = desk(ANALYST).project(PROJECT)
    rows = project.load(DATASET)
    before = snapshot(desk(ADMIN))
    with pytest.raises(InvalidInput, match="neither a dataset granted") as refused:
        project.save(rows, "elsewhere", derived_from=[SURVEY])
    assert refused.value.field == "derived_from"
    assert snapshot(desk(ADMIN)) == before
    last = events(desk(ADMIN))[-1]
    assert last["action"] == "data.save" and last["outcome"] == "refused" and SURVEY in last["detail"]["reason"]


def test_a_linkage_result_is_saved_as_the_workbench_made_it(kernel, desk) -> None:
    from factories import linkable_people, people_records

    left_record, right_record = people_records()
    left, right, _ = linkable_people()
    desk(OWNER).catalogue.register(left_record, left)
    desk(OTHER_OWNER).catalogue.register(right_record, right)
    for dataset, owner, columns, linkage in (
            ("dhsc.people", OWNER, ["ref", "diagnosis"], ["forename", "surname", "dob", "postcode"]),
            ("ons.people", OTHER_OWNER, ["ref", "status"], ["first_name", "surname", "dob", "postcode"])):
        asked = desk(ANALYST).project(PROJECT).request_access(dataset, [*columns, *linkage],
                                                              justification="Linkage study")
        desk(owner).owner.decide(asked["id"], "approve", columns=columns, linkage=linkage)
    project = kernel(ANALYST).project(PROJECT)
    linked = project.link("dhsc.people", "ons.people")
    linked.frame.loc[:, "diagnosis"] = "forged"  # the kernel's copy changes; the saved rows are the service's
    saved = linked.save("linked_people")
    assert saved["sources"] == ["dhsc.people", "ons.people"]  # exact: nothing else was loaded
    row = project.datasets().set_index("name").loc["linked_people"]
    assert row["made_by"] == "workbench" and row["person_key"] == "link_key"
    back = project.read("linked_people")
    assert "forged" not in set(back["diagnosis"]) and len(back) == len(linked)
    with desk(ADMIN)._ctx.db.read() as conn:
        spec = conn.execute(select(project_datasets.c.spec).where(project_datasets.c.name == "linked_people")
                            ).scalar_one()
    assert spec["method"] == "link" and spec["linkage_run"] == linked.run_id
    # a run whose result the service no longer keeps (made before results were kept) cannot be saved: nothing
    # a kernel holds stands in for it
    (desk(ADMIN)._ctx.vault.project_root(PROJECT) / "linkage" / f"run-{linked.run_id}.parquet").unlink()
    state, seen = snapshot(desk(ADMIN)), len(events(desk(ADMIN)))
    with pytest.raises(NotFound, match="link the datasets again"):
        linked.save("linked_again")
    assert snapshot(desk(ADMIN)) == state
    assert [e["outcome"] for e in events(desk(ADMIN))[seen:]] == ["refused"]


def test_upgrading_widens_frames_saved_under_declared_lineage(desk) -> None:
    from alembic import command

    from workbench.db import current_revision, head_revision, migrations_config

    register_survey(desk)
    project = desk(ANALYST).project(PROJECT)
    project.save(project.load(DATASET), "declared_survey", derived_from=[SURVEY])
    project.save(project.read("declared_survey"), "copy_of_it", derived_from=["declared_survey"])
    project.tables.crosstab(project.read("copy_of_it"), "age_band", "length_of_stay", derived_from=["copy_of_it"])
    ws = desk(ADMIN)
    config = migrations_config()
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")
    with ws._ctx.db.write() as conn:  # as saved before lineage was computed: what was declared, nothing more
        conn.execute(update(project_datasets).where(project_datasets.c.name == "declared_survey")
                     .values(sources=[SURVEY]))
        conn.execute(update(project_datasets).where(project_datasets.c.name == "copy_of_it").values(sources=[SURVEY]))
        conn.execute(update(outputs).values(sources=[SURVEY]))
    assert current_revision(ws._ctx.db) == "0008"
    with ws._ctx.db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert current_revision(ws._ctx.db) == head_revision()
    assert sources_of(ws, "declared_survey") == [sorted([DATASET, SURVEY])]
    assert sources_of(ws, "copy_of_it") == [sorted([DATASET, SURVEY])]
    listed = desk(ANALYST).project(PROJECT).outputs.list()
    assert list(listed["sources"]) == [sorted([DATASET, SURVEY])] and list(listed["provenance"]) == ["analyst-supplied"]
    with ws._ctx.db.read() as conn:
        assert conn.execute(select(outputs.c.origin)).scalar_one() == {"lineage": sorted([DATASET, SURVEY]),
                                                                       "declared": ["copy_of_it"]}
    assert [e["resource"] for e in events(ws) if e["action"] == "outputs.lineage_widened"] == [
        f"output 1 in project {PROJECT}"]
    widened = [e for e in events(ws) if e["action"] == "data.lineage_widened"]
    assert {e["resource"] for e in widened} == {f"declared_survey v1 in project {PROJECT}",
                                               f"copy_of_it v1 in project {PROJECT}"}
    assert widened[0]["actor"] == "workbench" and widened[0]["detail"]["before"] == [SURVEY]
    assert ws.verify_audit().ok


# -- the policy: whatever descends from a dataset without a current grant ---------------------------------------
MEMBER = {"project": "p", "project_status": "active", "project_ended": False, "member_role": "analyst",
          "accreditation": "accredited", "accredited_until": "2099-01-01", "today": "2026-06-01",
          "training_missing": []}
CHECKING = {"project": "p", "member_role": None, "project_status": "active", "authored": False}
LAPSED = [{"dataset": "d", "owner": "o", "why": "was revoked on 2026-05-01", "held_by": "saved frame f v1"}]


@pytest.mark.parametrize(("action", "facts", "who"), [
    *[(a, MEMBER, "analyst") for a in ("data.read_saved", "outputs.create", "requests.create", "requests.update")],
    *[(f"review.{a}", CHECKING, "output_checker") for a in ("decide", "conclude", "release")]])
def test_the_policy_refuses_what_descends_from_a_lapsed_grant(action: str, facts: dict, who: str) -> None:
    from workbench.governance.policy import Actor, decide

    actor = Actor("me", frozenset({who}), registered=True)
    assert decide(actor, action, facts) and decide(actor, action, {**facts, "lineage_lapsed": []})
    refused = decide(actor, action, {**facts, "lineage_lapsed": LAPSED})
    assert not refused
    assert refused.reason == ("saved frame f v1 descends from d, and project p's grant for d was revoked on "
                              "2026-05-01; its owner (o) can renew it (request access with "
                              "project.request_access('d', ...))")
    assert refused.detail == {"lineage_lapsed": ["d"], "project": "p"}


def test_a_checker_still_reads_a_blocked_request() -> None:
    from workbench.governance.policy import FACTS

    assert "lineage_lapsed" not in FACTS["review.read"]  # to see why it is blocked
