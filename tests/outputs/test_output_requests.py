"""Output requests through the real services: the whole state machine, independence of reviews, blind reviews,
the comment rule, reset on change and automatic refusals."""

from __future__ import annotations

import pandas as pd
import pytest
from checking import CONTEXT, record_table, submitted
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, OWNER, PROJECT, SECOND_ANALYST, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events, output_request_items
from workbench.errors import AccessDenied, Conflict, DisclosureRisk, InvalidInput, NotFound
from workbench.outputs.requests import STATUSES, TRANSITIONS, next_status
from workbench.outputs.review import comment_required

pytestmark = pytest.mark.db  # also on PostgreSQL


EVENTS = ("edit", "submit", "review", "approve", "return", "reject", "release", "withdraw")


def actions(ws) -> list[str]:
    with ws._ctx.db.read() as conn:
        return [r.action for r in conn.execute(select(audit_events).order_by(audit_events.c.seq))]


# -- the state machine ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("event", [*EVENTS, "reset"])
def test_transition_table(status: str, event: str) -> None:
    if status in TRANSITIONS[event]:
        assert next_status(status, event) in (*STATUSES, "progress")
    else:
        with pytest.raises(Conflict, match=f"A {status.replace('_', ' ')} request cannot be"):
            next_status(status, event)


def in_state(connect, status: str, output):
    """A request of ``output`` brought to ``status`` through the services (reviews by CHECKER2 and CHECKER3)."""
    project = connect(ANALYST).project(PROJECT)
    request = project.output_requests.create("Admissions", context=CONTEXT, outputs=[output])
    if status == "draft":
        return request
    if status == "withdrawn":
        return request.withdraw("Not needed")
    request.submit()
    output_id = request.outputs[0]
    if status == "submitted":
        return request
    connect(CHECKER2).review.decide(request.id, output_id, "approve", "Safe")
    if status == "partially_reviewed":
        return request.refresh()
    connect(CHECKER3).review.decide(request.id, output_id, "approve", "Safe")
    if status == "reviewed":
        return request.refresh()
    outcome = {"approved": "approve", "released": "approve", "returned": "return", "rejected": "reject"}[status]
    connect(CHECKER3).review.conclude(request.id, outcome, "Concluded")
    if status == "released":
        connect(CHECKER3).review.release(request.id)
    return request.refresh()


EXPECTED_AFTER = {"edit": None, "submit": "submitted", "approve": "approved", "return": "returned",
                  "reject": "rejected", "release": "released", "withdraw": "withdrawn"}


@pytest.mark.parametrize("status", STATUSES)
def test_every_transition_through_the_services(desk, status: str) -> None:
    output = record_table(desk)
    for event in EVENTS:
        request = in_state(desk, status, output)
        assert request.status == status
        analyst, checker = desk(ANALYST).project(PROJECT).output_requests.get(request.id), desk(CHECKER).review
        operation = {
            "edit": lambda r=analyst: r.update(title="Retitled"),
            "submit": lambda r=analyst: r.submit(),
            "review": lambda r=request, c=checker: c.decide(r.id, r.outputs[0], "approve", "Safe"),
            "approve": lambda r=request, c=checker: c.conclude(r.id, "approve"),
            "return": lambda r=request, c=checker: c.conclude(r.id, "return", "Fix it"),
            "reject": lambda r=request, c=checker: c.conclude(r.id, "reject", "Unsafe"),
            "release": lambda r=request, c=checker: c.release(r.id),
            "withdraw": lambda r=analyst: r.withdraw(),
        }[event]
        if status == "released" and event == "release":  # idempotent: the package as it was written
            assert operation()["problems"] == [] and request.refresh().status == "released"
        elif status in TRANSITIONS[event]:
            operation()
            after = request.refresh().status
            expected = EXPECTED_AFTER.get(event) or status
            if event == "review":
                expected = "partially_reviewed" if status == "submitted" else "reviewed"
            assert after == expected, (status, event)
        else:
            state = snapshot(desk(ADMIN))
            with pytest.raises(Conflict, match="request cannot be"):
                operation()
            assert snapshot(desk(ADMIN)) == state, (status, event)
            assert request.refresh().status == status


# -- independence and blindness ---------------------------------------------------------------------------------
def test_self_review_and_same_project_review_are_refused(desk) -> None:
    admin = desk(ADMIN)
    admin.project(PROJECT).add_member(SECOND_ANALYST, "analyst")
    mine = desk(SECOND_ANALYST).project(PROJECT)
    authored = mine.tables.crosstab(mine.load(DATASET), "age_band", "length_of_stay", name="by the second analyst")
    request = submitted(desk, outputs=[authored, record_table(desk)])
    admin.project(PROJECT).remove_member(SECOND_ANALYST)
    admin.people.set_roles(SECOND_ANALYST, ["analyst", "output_checker"])
    admin.project(PROJECT).add_member(CHECKER, "reviewer")
    before = snapshot(admin)
    with pytest.raises(AccessDenied, match="nobody reviews an output they authored"):
        desk(SECOND_ANALYST).review.decide(request.id, request.outputs[0], "approve", "Mine is fine")
    desk(SECOND_ANALYST).review.decide(request.id, request.outputs[1], "approve", "Safe")  # someone else's output
    before = snapshot(admin)
    with pytest.raises(AccessDenied, match="you are a member of project p-alpha"):
        desk(CHECKER).review.decide(request.id, request.outputs[1], "approve", "Ok")
    with pytest.raises(AccessDenied, match="member of project"):
        desk(CHECKER).review.show(request.id)
    with pytest.raises(AccessDenied, match="only output checkers"):
        desk(OWNER).review.decide(request.id, request.outputs[1], "approve", "Ok")
    with pytest.raises(AccessDenied, match="only output checkers"):
        desk(ANALYST).review.decide(request.id, request.outputs[1], "approve", "Ok")
    assert snapshot(admin) == before
    assert request.id not in set(desk(CHECKER).review.queue()["id"])  # not offered to a project member
    assert request.id in set(desk(CHECKER2).review.queue()["id"])
    with pytest.raises(AccessDenied, match="authored"):  # concluding or releasing a request with one's own output
        desk(SECOND_ANALYST).review.release(request.id)
    denied = [a for a in actions(admin)[-12:] if a.startswith("review.")]
    assert denied.count("review.decide") >= 4 and "review.read" in denied


def test_reviews_stay_blind_until_all_are_in(desk) -> None:
    request = submitted(desk)
    output_id = request.outputs[0]
    desk(CHECKER).review.decide(request.id, output_id, "changes", "Merge the 20+ nights columns")
    seen_by_second = desk(CHECKER2).review.show(request.id)["outputs"][0]
    assert seen_by_second["reviews"] == [] and seen_by_second["reviews_in"] == 1 and seen_by_second["can_review"]
    assert "hidden until all are in" in desk(CHECKER2).review.show(request.id)._repr_html_()
    own = desk(CHECKER).review.show(request.id)["outputs"][0]
    assert [r["reviewer"] for r in own["reviews"]] == [CHECKER] and own["why_not"] == "you reviewed it"
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).reviews().empty
    desk(CHECKER2).review.decide(request.id, output_id, "approve", "Looks safe to me")
    both = desk(CHECKER3).review.show(request.id)["outputs"][0]["reviews"]
    assert {(r["reviewer"], r["decision"]) for r in both} == {(CHECKER, "changes"), (CHECKER2, "approve")}
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).reviews().empty  # not yet concluded
    with pytest.raises(Conflict, match="Not every review approves"):
        desk(CHECKER3).review.conclude(request.id, "approve")
    desk(CHECKER3).review.conclude(request.id, "return", "Merge the long-stay columns, as the first review says")
    returned = desk(ANALYST).project(PROJECT).output_requests.get(request.id)
    assert returned.status == "returned" and "Merge the long-stay" in returned.to_dict()["conclusion"]
    assert set(returned.reviews()["comment"]) == {"Merge the 20+ nights columns", "Looks safe to me"}
    with pytest.raises(Conflict, match=r"already reviewed|returned request cannot be reviewed"):
        desk(CHECKER).review.decide(request.id, output_id, "approve", "x")
    returned.update(differences="Long stays merged").submit()  # a new round: everyone reviews afresh
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).status == "submitted"
    assert desk(CHECKER).review.show(request.id)["outputs"][0]["round"] == 2
    desk(CHECKER).review.decide(request.id, output_id, "approve", "Fixed")
    assert len(desk(ANALYST).project(PROJECT).output_requests.get(request.id).reviews()) == 2  # round 1 only


def test_each_checker_reviews_once_and_only_n_reviews_count(desk) -> None:
    request = submitted(desk)
    output_id = request.outputs[0]
    desk(CHECKER).review.decide(request.id, output_id, "approve")
    with pytest.raises(Conflict, match="already reviewed"):
        desk(CHECKER).review.decide(request.id, output_id, "reject", "Changed my mind")
    desk(ADMIN).review.update_settings(reviews_required=1)
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).status == "reviewed"
    with pytest.raises(Conflict, match="reviewed request cannot be reviewed"):
        desk(CHECKER2).review.decide(request.id, output_id, "approve")
    desk(ADMIN).review.update_settings(reviews_required=2)
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).status == "partially_reviewed"
    assert desk(CHECKER3).review.queue().set_index("id").loc[request.id, "awaiting_me"] == 1
    desk(CHECKER2).review.decide(request.id, output_id, "approve")
    assert desk(CHECKER3).review.queue().set_index("id").loc[request.id, "awaiting_me"] == 0
    with pytest.raises(NotFound, match="holds no output 99"):
        desk(CHECKER3).review.decide(request.id, 99, "approve")
    with pytest.raises(InvalidInput, match="decision"):
        desk(CHECKER3).review.decide(request.id, output_id, "maybe")
    with pytest.raises(NotFound, match="No output request 42"):
        desk(CHECKER3).review.show(42)


# -- the comment rule -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("decision", "status", "needed"), [
    ("approve", "pass", False), ("approve", "review", False), ("approve", "fail", True),
    ("reject", "pass", True), ("reject", "review", False), ("reject", "fail", False),
    ("changes", "pass", True), ("changes", "review", True), ("changes", "fail", True)])
def test_comment_rule_table(decision: str, status: str, needed: bool) -> None:
    assert (comment_required(decision, status) is not None) == needed


def test_comment_required_against_the_automatic_status(desk) -> None:
    admin = desk(ADMIN)
    admin.disclosure.update_settings(mitigation="none")
    failing = record_table(desk, name="failing")
    project = desk(ANALYST).project(PROJECT)  # a frame without its person key makes tables `review`: a model
    passing = project.tables.ols(project.load(DATASET), "cost ~ length_of_stay", name="passing")
    assert (failing.status, passing.status) == ("fail", "pass")
    failing.request_exception("Counts of admissions are published weekly at this level.")
    request = submitted(desk, outputs=[failing, passing])
    checker = desk(CHECKER).review
    before = snapshot(admin)
    with pytest.raises(InvalidInput, match="approving an output that failed"):
        checker.decide(request.id, request.outputs[0], "approve")
    with pytest.raises(InvalidInput, match="passed its automatic check needs a comment"):
        checker.decide(request.id, request.outputs[1], "reject", "  ")
    with pytest.raises(InvalidInput, match="what to change"):
        desk(CHECKER2).review.decide(request.id, request.outputs[0], "changes")
    assert snapshot(admin) == before
    checker.decide(request.id, request.outputs[0], "approve", "Published figures: exception accepted")
    checker.decide(request.id, request.outputs[1], "approve")
    with pytest.raises(InvalidInput, match="say why the request is returned"):
        desk(CHECKER3).review.conclude(request.id, "return")


# -- reset on change --------------------------------------------------------------------------------------------
def test_changing_an_output_resets_its_reviews(desk) -> None:
    table = record_table(desk)
    other = record_table(desk, name="second")
    request = submitted(desk, outputs=[table, other])
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            desk(checker).review.decide(request.id, output_id, "approve", "Safe")
    desk(CHECKER3).review.conclude(request.id, "approve")
    assert request.refresh().status == "approved"
    table.add_comment("Row totals added to the caption.")  # the analyst changes an approved output
    assert request.refresh().status == "partially_reviewed"  # the other output keeps its reviews
    detail = desk(CHECKER3).review.show(request.id)["outputs"]
    assert [(o["round"], o["reviews_in"], o["can_review"]) for o in detail] == [(2, 0, True), (1, 2, False)]
    assert detail[0]["comments"] == ["Row totals added to the caption."]
    with pytest.raises(Conflict, match="partially reviewed request cannot be released"):
        desk(CHECKER3).review.release(request.id)
    assert "review.reset" in actions(desk(ADMIN))
    for checker in (CHECKER, CHECKER2):
        desk(checker).review.decide(request.id, request.outputs[0], "approve", "Still safe")
    assert request.refresh().status == "reviewed"
    with desk(ADMIN)._ctx.db.read() as conn:
        rounds = dict(conn.execute(select(output_request_items.c.output_id, output_request_items.c.round)).all())
    assert rounds == {request.outputs[0]: 2, request.outputs[1]: 1}


# -- drafting, context, automatic refusals ----------------------------------------------------------------------
def test_drafts_context_and_refusals(desk, tmp_path) -> None:
    project = desk(ANALYST).project(PROJECT)
    table = record_table(desk)
    draft = project.output_requests.create("Admissions", context={"shown": "Admissions"})
    with pytest.raises(InvalidInput, match="population: the population"):
        draft.submit()
    with pytest.raises(InvalidInput, match="has no outputs"):
        project.output_requests.create("Nothing", context=CONTEXT, submit=True)
    draft.add(table)
    with pytest.raises(Conflict, match="already in output request"):
        draft.add(table)
    with pytest.raises(InvalidInput, match="not a context field"):
        draft.update(audience="Everyone")
    with pytest.raises(InvalidInput, match="title"):
        project.output_requests.create(" ")
    with pytest.raises(NotFound, match="has no output 77"):
        draft.add(77)
    draft.update(**{k: v for k, v in CONTEXT.items() if k != "shown"}).submit()
    assert draft.status == "submitted" and draft.context == {**CONTEXT, "shown": "Admissions"}
    with pytest.raises(AccessDenied, match="not a member"):
        desk(SECOND_ANALYST).project(PROJECT).output_requests.list()
    listed = project.output_requests.list()
    assert list(listed["id"]) == [draft.id] and listed.loc[0, "outputs"] == 1


def test_automatic_refusals_before_a_checker_sees_anything(desk, tmp_path) -> None:
    project = desk(ANALYST).project(PROJECT)
    people = pd.DataFrame({"nhs_number": ["9000000001"] * 12 + ["9000000002"] * 12, "sex": ["F", "M"] * 12})
    with pytest.raises(InvalidInput, match=r"direct identifier of dhsc\.patients"):  # refused as it is made
        project.tables.crosstab(people, "nhs_number", "sex", derived_from=[DATASET])
    pseudonyms = pd.DataFrame({"person": ["0123456789abcdef0123"] * 12 + ["fedcba98765432100123"] * 12,
                               "sex": ["F", "M"] * 12})
    by_pseudonym = project.tables.crosstab(pseudonyms, "person", "sex", derived_from=[DATASET])
    requests = project.output_requests
    before = snapshot(desk(ADMIN))
    with pytest.raises(DisclosureRisk, match="pseudonymised identifier"):
        requests.create("People", outputs=[by_pseudonym])
    assert snapshot(desk(ADMIN)) == before  # nothing half-made
    table = record_table(desk)
    draft = requests.create("Admissions", context=CONTEXT, outputs=[table])
    desk(ADMIN).review.update_settings(max_table_rows=2)
    with pytest.raises(DisclosureRisk, match="more than the 2 a table may have: that is microdata"):
        draft.submit()  # the settings in force at submission
    desk(ADMIN).review.update_settings(max_table_rows=5000, max_file_bytes=64)
    report = tmp_path / "notes.txt"
    report.write_text("x" * 100)
    with pytest.raises(DisclosureRisk, match="over the 64-byte limit"):
        project.outputs.add_file(report, description="Notes", derived_from=[DATASET])
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ")
    with pytest.raises(DisclosureRisk, match=r"files of type \.exe are not released"):
        project.outputs.add_file(program, description="A tool", derived_from=[DATASET])
    report.write_text("Short notes")
    custom = project.outputs.add_file(report, description="Method notes", derived_from=[DATASET])
    assert custom.status == "review" and custom.kind == "file"
    draft.add(custom).submit()
    assert draft.status == "submitted"
    with desk(ADMIN)._ctx.db.read() as conn:
        refused = [r.action for r in conn.execute(select(audit_events).where(audit_events.c.outcome == "refused"))]
    assert refused.count("requests.create") == 1 and "requests.submit" in refused  # refusals are audited
    assert "outputs.create" in refused  # the table grouped by an identifier, refused as it was made
    with pytest.raises(InvalidInput, match="reviews_required"):
        desk(ADMIN).review.update_settings(reviews_required=0)
    with pytest.raises(InvalidInput, match="not an output-checking setting"):
        desk(ADMIN).review.update_settings(reviewers=2)
    with pytest.raises(AccessDenied):
        desk(ANALYST).review.update_settings(reviews_required=1)
    assert desk(ANALYST).review.settings()["reviews_required"] == 2


def test_differencing_warning_for_the_same_dimensions(desk) -> None:
    first = submitted(desk)
    for checker in (CHECKER, CHECKER2):
        desk(checker).review.decide(first.id, first.outputs[0], "approve", "Safe")
    desk(CHECKER3).review.conclude(first.id, "approve")
    desk(CHECKER3).review.release(first.id)
    project = desk(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    similar = project.tables.crosstab(data[data["cost"] > 500], "age_band", "length_of_stay", name="costly")
    different = project.tables.groupby_agg(data, "age_band", "cost", "sum", name="cost by age")
    second = submitted(desk, outputs=[similar, different])
    shown = desk(CHECKER).review.show(second.id)["outputs"]
    assert len(shown[0]["warnings"]) == 1 and f"release {first.id}" in shown[0]["warnings"][0]
    assert "age_band × length_of_stay" in shown[0]["warnings"][0]
    assert shown[1]["warnings"] == []
