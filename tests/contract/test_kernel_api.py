"""One contract for the kernel API, embedded and remote: the same calls give the same answers, types and
refusals (class, message and field), and a refusal changes nothing and is audited by the workspace."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    CHECKER2,
    CHECKER3,
    DATASET,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    snapshot,
)
from sqlalchemy import func, select

from workbench.catalogue.entry import Entry
from workbench.db.schema import audit_events
from workbench.disclosure.output import Output
from workbench.dp.queries import Accuracy
from workbench.errors import AccessDenied, BudgetExceeded, InvalidInput, NotFound
from workbench.governance.access import UsageReport
from workbench.outputs.requests import OutputRequest

CONTEXT = {"shown": "Admissions by age band and length of stay", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def audited(ws, action: str, outcome: str) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == outcome))).scalar_one()


def test_the_kernel_acts_as_the_person_it_was_given(kernel) -> None:
    ws = kernel(ANALYST)
    assert ws.user == ANALYST and ws.roles == ["analyst"]
    assert kernel(OWNER).roles == ["data_owner"]


def test_catalogue_search_entry_and_twin(kernel, desk) -> None:
    ws = kernel(ANALYST)
    found = ws.catalogue.search("hospital")
    assert isinstance(found, pd.DataFrame) and list(found["id"]) == [DATASET]
    assert found["missions"].iloc[0] == [5] and isinstance(found["missions"].iloc[0], list)
    entry = ws.catalogue[DATASET]
    assert isinstance(entry, Entry) and entry.title == "Hospital admissions by trust" and entry.owner == OWNER
    assert entry.record == desk(ANALYST).catalogue[DATASET].record
    pd.testing.assert_frame_equal(entry.schema, desk(ANALYST).catalogue[DATASET].schema)
    twin = ws.catalogue.twin(DATASET)
    assert list(twin.columns) == list(desk(ANALYST).catalogue.twin(DATASET).columns) and len(twin) > 0
    assert "Hospital admissions by trust" in ws.catalogue.export(DATASET)
    with pytest.raises(NotFound, match=r"No dataset 'dhsc\.nothing' in the catalogue"):
        ws.catalogue["dhsc.nothing"]
    with pytest.raises(InvalidInput) as refused:
        ws.catalogue.search("x", mission=9)
    assert refused.value.field == "mission"


def test_projects_and_a_project_record(kernel, desk) -> None:
    ws = kernel(ANALYST)
    pd.testing.assert_frame_equal(ws.projects(), desk(ANALYST).projects())
    project = ws.project(PROJECT)
    assert project.to_dict() == desk(ANALYST).project(PROJECT).to_dict()
    assert repr(project) == repr(desk(ANALYST).project(PROJECT))
    assert project.open and project.members == {ANALYST: "lead"}
    assert "Grants" in project._repr_html_() and DATASET in project._repr_html_()
    with pytest.raises(NotFound, match="No project 'p-nothing'"):
        ws.project("p-nothing")


def test_load_gives_the_same_minimised_pseudonymised_frame(kernel, desk) -> None:
    remote = kernel(ANALYST).project(PROJECT).load(DATASET)
    local = desk(ANALYST).project(PROJECT).load(DATASET)
    pd.testing.assert_frame_equal(remote, local)
    assert remote.attrs == local.attrs and remote.attrs
    assert audited(desk(ADMIN), "data.load", "ok") == 2


def test_a_load_without_a_grant_is_refused_audited_and_changes_nothing(kernel, desk) -> None:
    outsider, lead = kernel(SECOND_ANALYST).project(PROJECT), kernel(ANALYST).project(PROJECT)
    before = state(desk(ADMIN))
    denied = audited(desk(ADMIN), "data.load", "denied")
    with pytest.raises(AccessDenied, match=f"{SECOND_ANALYST} may not load"):
        outsider.load(DATASET)
    assert audited(desk(ADMIN), "data.load", "denied") == denied + 1
    with pytest.raises(InvalidInput) as bad:
        lead.load(DATASET, columns="age_band")
    assert bad.value.field == "columns"
    assert state(desk(ADMIN)) == before


def test_save_list_and_read_back_derived_data(kernel) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    summary = data.groupby("age_band", observed=True)["cost"].mean().reset_index()
    saved = project.save(summary, "cost_by_age", derived_from=[DATASET])
    assert saved["name"] == "cost_by_age" and saved["version"] == 1
    assert list(project.datasets()["name"]) == ["cost_by_age"]
    back = project.read("cost_by_age")
    pd.testing.assert_frame_equal(back.reset_index(drop=True), summary, check_dtype=False)
    with pytest.raises(InvalidInput) as bad:
        project.save(summary, "", derived_from=[DATASET])
    assert bad.value.field == "name"


def test_tables_are_checked_recorded_and_an_exception_request_is_kept(kernel, desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    out = project.tables.crosstab(data, "age_band", "length_of_stay", name="by age and stay")
    assert isinstance(out, Output) and out.kind == "table" and out.uid == f"{PROJECT}_output_1"
    local = desk(ANALYST).project(PROJECT).outputs.get(1)
    pd.testing.assert_frame_equal(out.table, local.table)
    assert out.status == local.status and "<table" in out._repr_html_()
    out.request_exception("The small cells are published counts")
    assert desk(ANALYST).project(PROJECT).outputs.get(1).exception == "The small cells are published counts"
    listed = project.outputs.list()
    assert list(listed["name"]) == ["by age and stay"]
    with pytest.raises(InvalidInput) as bad:
        project.tables.crosstab(data, "no_such_column", "length_of_stay")
    assert "no_such_column" in str(bad.value)
    with pytest.raises(AccessDenied):
        kernel(CHECKER).project(PROJECT).tables.crosstab(data, "age_band", "length_of_stay")


def test_dp_preview_query_budget_and_overspend(kernel, desk) -> None:
    owner = kernel(OWNER)
    owner.dp.set_budget(DATASET, 2.0)
    owner.dp.set_budget(DATASET, 1.0, project=PROJECT)
    budgets = owner.dp.budgets(DATASET)
    assert list(budgets["epsilon"]) == [2.0, 1.0, 1.0] and budgets["scope"].iloc[-1] == "synthetic twins"
    dp = kernel(ANALYST).project(PROJECT).dp
    accuracy = dp.crosstab(DATASET, "age_band", epsilon=0.5, preview=True)
    assert isinstance(accuracy, Accuracy) and accuracy.remaining == {DATASET: 1.0}
    result = dp.crosstab(DATASET, "age_band", epsilon=0.5)
    assert isinstance(result, Output) and result.kind == "dp"
    assert list(result.table.index) == ["0-17", "18-64", "65+"]
    budget = dp.budget()
    assert budget.set_index("scope").loc[PROJECT, "spent"] == pytest.approx(0.5)
    before = state(desk(ADMIN))
    with pytest.raises(BudgetExceeded, match="remain"):
        dp.count(DATASET, epsilon=0.9)
    assert state(desk(ADMIN)) == before
    with pytest.raises(InvalidInput) as bad:
        dp.sum(DATASET, "cost", epsilon=0.1)
    assert bad.value.field == "bounds"


def test_output_request_review_and_release(kernel, desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    table = project.tables.crosstab(data, "age_band", "length_of_stay", name="by age and stay")
    request = project.outputs.submit([table], title="Admissions", context=CONTEXT)
    assert isinstance(request, OutputRequest) and request.status == "submitted" and request.outputs == [1]
    assert list(project.output_requests.list()["id"]) == [request.id]
    queue = kernel(CHECKER).review.queue()
    assert list(queue["id"]) == [request.id]
    shown = kernel(CHECKER).review.show(request.id)
    assert shown["request"]["id"] == request.id and "<h3>" in shown._repr_html_()
    assert shown["outputs"][0]["provenance"]["class"] == "analyst-supplied"  # a frame the kernel sent
    assert "Analyst-supplied frame" in shown._repr_html_() and shown["outputs"][0]["released_table"]["rows"]
    for checker in (CHECKER, CHECKER2):
        kernel(checker).review.request(request.id).approve(1, comment="Cells are safe")
    concluded = kernel(CHECKER3).review.conclude(request.id, "approve")
    assert concluded["status"] == "approved"
    released = kernel(CHECKER3).review.release(request.id)
    assert released["status"] == "released"
    assert kernel(CHECKER3).review.manifest(request.id)["manifest"]["request"]["id"] == request.id
    assert project.output_requests.get(request.id).refresh().status == "released"
    with pytest.raises(AccessDenied):
        kernel(ANALYST).review.queue()
    mine = kernel(ANALYST).my_outputs  # the analyst follows the request and collects the package, remote too
    listed = mine.requests()
    assert [r["id"] for r in listed] == [request.id] and listed[0]["status"] == "released"
    assert "results.json" in [f["name"] for f in listed[0]["files"]]
    name, content = mine.package(request.id)
    assert name == f"{PROJECT}-request-{request.id}.zip" and content[:2] == b"PK"
    assert mine.file(request.id, "results.json") == desk(ANALYST).my_outputs.file(request.id, "results.json")
    with pytest.raises(InvalidInput, match="not the name of a file of a release package"):
        mine.file(request.id, "../workbench.db")
    with pytest.raises(NotFound, match=r"has no file 'secret\.csv'"):
        mine.file(request.id, "secret.csv")
    with pytest.raises(AccessDenied):
        kernel(SECOND_ANALYST).my_outputs.package(request.id)  # not a member, took no part
    assert kernel(SECOND_ANALYST).my_outputs.requests() == []


def test_a_draft_request_changes_through_its_object(kernel) -> None:
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    first = project.tables.crosstab(data, "age_band", "length_of_stay", name="first")
    second = project.tables.histogram(data, "cost", bins=3, range=(0, 100_000), name="second")
    draft = project.output_requests.create("Draft", context={"shown": "Costs"}, outputs=[first])
    draft.add(second).update(title="Two tables")
    assert draft.outputs == [1, 2] and draft.title == "Two tables" and draft.status == "draft"
    draft.remove(1)
    assert draft.outputs == [2]
    with pytest.raises(InvalidInput):
        draft.submit()  # the context is not complete
    assert draft.withdraw("Not needed").status == "withdrawn"


def test_the_owner_desk_decides_and_reports_usage(kernel, desk) -> None:
    analyst = kernel(ANALYST)
    asked = analyst.project(OTHER_PROJECT).request_access(DATASET, ["age_band", "cost"], justification="Planning")
    assert asked["status"] == "pending"
    assert asked["id"] in list(analyst.access.mine()["id"])
    owner = kernel(OWNER)
    assert list(owner.owner.requests()["id"]) == [asked["id"]]
    decided = owner.owner.decide(asked["id"], "approve", columns=["age_band"], conditions="No linkage")
    assert decided["status"] == "approved"
    analyst.project(OTHER_PROJECT).load(DATASET)
    usage = owner.owner.usage(DATASET)
    assert isinstance(usage, UsageReport) and set(usage.grants["project_id"]) == {PROJECT, OTHER_PROJECT}
    assert "Usage of" in usage._repr_html_()
    assert list(usage.outputs["provenance"]) == [] and "provenance" in usage.outputs.columns  # none made yet
    with pytest.raises(AccessDenied):
        analyst.owner.usage(DATASET)
    with pytest.raises(InvalidInput) as bad:
        owner.owner.decide(asked["id"], "maybe")
    assert bad.value.field == "decision"


def test_admins_verify_the_audit_chain_and_others_may_not(kernel) -> None:
    assert kernel(ADMIN).verify_audit().ok is True
    with pytest.raises(AccessDenied, match="may not verify"):
        kernel(ANALYST).verify_audit()


def test_a_wrong_call_fails_as_it_would_embedded(kernel) -> None:
    project = kernel(ANALYST).project(PROJECT)
    with pytest.raises(TypeError):
        project.load(DATASET, colums=["age_band"])
    with pytest.raises(TypeError):
        project.load()
