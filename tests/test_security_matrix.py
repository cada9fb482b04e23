"""Role × action through the real services: each operation on governed data allowed or denied as the policy
says, and each denial leaves the state unchanged and is audited."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import admissions, linkable_people, patients, people_records, record
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    CHECKER2,
    CHECKER3,
    DATASET,
    OTHER_OWNER,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    ROLE_OF,
    SECOND_ANALYST,
    SERVICE_EXPECTED,
    TRAINER,
    grant,
    snapshot,
)
from sqlalchemy import func, select

from workbench.db.schema import audit_events
from workbench.errors import AccessDenied
from workbench.person_index import store

GAMMA = "p-gamma"
THEIR_DISTRIBUTION = ("identifier: https://data.example.invalid/priya.csv\ntype: dcat:Distribution\ntitle: {title}\n"
                      "licence: OGL\nmediaType: text/csv\n")



def operations(ws, user: str, state: dict) -> dict:
    tag = user.split(".")[0]
    other = ANALYST if user != ANALYST else OWNER
    tokens = ws.tokens
    return {
        "search catalogue": lambda: ws.catalogue.search("hospital"),
        "read entry": lambda: ws.catalogue["dhsc.admissions"],
        "export catalogue": lambda: ws.catalogue.export(),
        "register own dataset": lambda: ws.catalogue.register(record(
            localId=f"dhsc.{tag}", identifier=f"https://data.example.invalid/{tag}",
            dataOwner=user if ROLE_OF[user] == "data_owner" else OWNER)),
        "change another owner's dataset": lambda: ws.catalogue.register(record(title="Changed")),
        # the lab's owner/draft and owner/register routes call these two
        "draft entry from a file": lambda: ws.catalogue.draft(state["csv"]),
        "register own dataset from a file": lambda: ws.catalogue.register(record(
            localId=f"dhsc.{tag}_file", identifier=f"https://data.example.invalid/{tag}-file",
            dataOwner=user if ROLE_OF[user] == "data_owner" else OWNER), data=state["csv"]),
        "import distribution": lambda: ws.catalogue.import_text(
            f"identifier: https://data.example.invalid/{tag}.csv\ntype: dcat:Distribution\ntitle: T\n"
            "licence: OGL\nmediaType: text/csv\n"),
        "overwrite another owner's distribution": lambda: ws.catalogue.import_text(
            THEIR_DISTRIBUTION.format(title=f"Changed by {tag}")),
        "list people": lambda: ws.people.list(),
        "add person": lambda: ws.people.add(f"new.{tag}", "New Person", roles=["analyst"]),
        "add department": lambda: ws.departments.add(f"agency-{tag}", "Agency"),
        "create project": lambda: ws.create_project(
            f"p-{tag}", "Title", "Purpose", mission=1, legal_gateway="dea-2017-research", lead=ANALYST,
            start="2026-01-01", end="2026-12-31"),
        "list projects": lambda: ws.projects(),
        "read linkage truth": lambda: ws.demo.truth("dhsc.admissions"),
        "build person index": lambda: ws.person_index.build(),
        "read person index status": lambda: ws.person_index.status(),
        "read person-index quality": lambda: ws.person_index.quality(DATASET),
        "read person-index review pairs": lambda: ws.person_index.review_pairs("dhsc.people"),
        "decide person-index review pair": lambda: ws.person_index.decide("dhsc.people", state["index_pair"], "match"),
        "verify audit": lambda: ws.verify_audit(),
        "set roles": lambda: ws.people.set_roles(CHECKER, ["output_checker", "analyst"]),
        "accredit person": lambda: ws.people.accredit(CHECKER, until="2099-01-01"),
        "record training": lambda: ws.people.record_training(CHECKER, f"course-{tag}", completed="2026-01-01"),
        "change project": lambda: ws.project(OTHER_PROJECT).update(end="2099-06-30"),
        "add project member": lambda: ws.project(OTHER_PROJECT).add_member(CHECKER, "reviewer"),
        "remove project member": lambda: ws.project(OTHER_PROJECT).remove_member(CHECKER),
        "read training records": lambda: ws.people.training(ANALYST),
        "list project requests": lambda: ws.project(OTHER_PROJECT).requests(),
        "request access": lambda: ws.project(PROJECT).request_access(DATASET, ["cost"], justification="Costs"),
        "list my requests": lambda: ws.access.mine(),
        "list project grants": lambda: ws.project(PROJECT).grants(),
        "list requests to decide": lambda: ws.owner.requests(),
        "decide request": lambda: ws.owner.decide(state["pending"], "refuse", reason="Not now"),
        "decide request of a project one is a member of": lambda: ws.owner.decide(state["member_pending"], "approve"),
        "name delegate": lambda: ws.owner.delegate(DATASET, TRAINER if user != TRAINER else CHECKER),
        "name oneself a delegate": lambda: ws.owner.delegate(DATASET, user),
        "load granted data": lambda: ws.project(PROJECT).load(DATASET),
        "derive a frame": lambda: ws.project(PROJECT).derive(DATASET, columns=["age_band"], new_name=f"d-{tag}"),
        "table by spec": lambda: ws.project(PROJECT).tables.groupby_agg(DATASET, by="age_band", values="cost"),
        "save to project": lambda: ws.project(PROJECT).save(pd.DataFrame({"n": [1]}), "counts",
                                                            derived_from=[DATASET]),
        "list saved data": lambda: ws.project(PROJECT).datasets(),
        "read saved data": lambda: ws.project(PROJECT).read("kept"),
        "owner usage report": lambda: ws.owner.usage(DATASET),
        "list my datasets": lambda: ws.owner.datasets(),
        "read synthetic twin": lambda: ws.catalogue.twin(DATASET),
        "read access settings": lambda: ws.access.settings(),
        "change access settings": lambda: ws.access.update_settings(twin_min_count=5),
        "record output": lambda: ws.project(PROJECT).tables.crosstab(
            patients(), "age_band", "length_of_stay", derived_from=[DATASET]),
        "list outputs": lambda: ws.project(PROJECT).outputs.list(),
        "export outputs": lambda: ws.project(PROJECT).outputs.to_results_json(state["tmp"] / f"results-{tag}"),
        "read disclosure settings": lambda: ws.disclosure.settings(),
        "change disclosure settings": lambda: ws.disclosure.update_settings(threshold=5),
        "pin grant to a version": lambda: ws.owner.pin(state["grant"], 1),
        "revoke grant": lambda: ws.owner.revoke(state["grant"], reason="Review"),
        "create output request": lambda: ws.project(PROJECT).output_requests.create(f"Request {tag}", outputs=[1]),
        "list output requests": lambda: ws.project(PROJECT).output_requests.list(),
        "submit output request": lambda: ws.project(PROJECT).output_requests.submit(state["draft"]),
        "withdraw output request": lambda: ws.project(PROJECT).output_requests.withdraw(state["draft"]),
        "output-checking queue": lambda: ws.review.queue(),
        "output-checking history": lambda: ws.review.history(),
        "show request for review": lambda: ws.review.show(state["submitted"]),
        "review an output": lambda: ws.review.decide(state["submitted"], 1, "approve", "Safe"),
        "conclude output request": lambda: ws.review.conclude(state["reviewed"], "approve"),
        "release output request": lambda: ws.review.release(state["approved"]),
        "read release manifest": lambda: ws.review.manifest(state["approved"]),  # released just before
        "download release package": lambda: ws.my_outputs.package(state["released"]),
        "download a released file": lambda: ws.my_outputs.file(state["released"], "results.json"),
        "read output-checking settings": lambda: ws.review.settings(),
        "change output-checking settings": lambda: ws.review.update_settings(reviews_required=3),
        "set privacy budget": lambda: ws.dp.set_budget(DATASET, 5.0, project=PROJECT),
        "list privacy budgets": lambda: ws.dp.budgets(DATASET),
        "set twin budget": lambda: ws.dp.set_twin_budget(DATASET, 2.0, per_twin=0.5),
        "read project privacy budget": lambda: ws.project(PROJECT).dp.budget(),
        "preview dp query": lambda: ws.project(PROJECT).dp.count(DATASET, epsilon=0.1, preview=True),
        "run dp query": lambda: ws.project(PROJECT).dp.crosstab(DATASET, "age_band", epsilon=0.1),
        "catalogue filters": lambda: ws.catalogue.facets(),
        "catalogue coverage": lambda: ws.catalogue.coverage(),
        "open catalogue browser": lambda: ws.catalogue.browse(),
        "explore dp accuracy": lambda: ws.project(PROJECT).dp.explore("count", DATASET, epsilon=0.1),
        "attempt exercise": lambda: ws.training.exercise("dp-1").check(1),
        "create training cohort": lambda: ws.training.create_cohort(f"c-{tag}", "Cohort", members=[ANALYST]),
        "read training progress": lambda: ws.training.progress("c-world"),
        "read exercise solution": lambda: ws.training.exercise("dp-1").solution(),
        "link datasets": lambda: ws.project(PROJECT).link("dhsc.people", "ons.people"),
        "list linkage runs": lambda: ws.project(PROJECT).linkage_runs(),
        "create own API token": lambda: tokens.create(user, label=f"{tag} kernel"),
        "create another's API token": lambda: tokens.create(other, label=f"from {tag}"),
        "list own API tokens": lambda: tokens.list(),
        "list another's API tokens": lambda: tokens.list(other),
        "revoke own API token": lambda: tokens.revoke(state["tokens"][user], reason="Done"),
        "revoke another's API token": lambda: tokens.revoke(state["tokens"][other], reason="Left"),
    }


@pytest.fixture
def world(governed, tmp_path):
    """``governed`` plus another owner's dataset with demo truth, a grant, a pending request and a saved frame;
    returns the connect function and the ids the operations need."""
    staffed, state = governed, {"tmp": tmp_path, "csv": tmp_path / "admissions.csv"}
    admissions(30).to_csv(state["csv"], index=False)
    staffed(OTHER_OWNER).catalogue.register(record(localId="dhsc.admissions"))
    state["grant"] = grant(staffed)["grant_id"]
    staffed(OWNER).dp.set_budget(DATASET, 10.0)
    staffed(TRAINER).training.create_cohort("c-world", "World", members=[ANALYST])
    analyst = staffed(ANALYST)
    state["pending"] = analyst.project(OTHER_PROJECT).request_access(DATASET, justification="Planning")["id"]
    analyst.project(PROJECT).save(pd.DataFrame({"n": [1]}), "kept", derived_from=[DATASET])
    analyst.project(PROJECT).tables.crosstab(patients(), "age_band", "length_of_stay",
                                             derived_from=[DATASET])
    left_record, right_record = people_records()
    left, right, _ = linkable_people(rows=60)
    for owner, entry, frame in ((OWNER, left_record, left), (OTHER_OWNER, right_record, right)):
        staffed(owner).catalogue.register(entry, frame)
        request = analyst.project(PROJECT).request_access(entry["localId"], justification="Linkage")
        staffed(owner).owner.decide(request["id"], "approve", columns=["ref"],
                                    linkage=[c["name"] for c in entry["columns"][1:5]])
    admin = staffed(ADMIN)
    admin.create_project(GAMMA, "Gamma", "Decisions audit", mission=5, legal_gateway="dea-2017-research",
                         lead=SECOND_ANALYST, start="2026-01-01", end="2099-12-31", status="active",
                         members={OWNER: "analyst", ADMIN: "analyst"})
    state["member_pending"] = staffed(SECOND_ANALYST).project(GAMMA).request_access(
        DATASET, ["cost"], justification="Audit")["id"]
    staffed(OTHER_OWNER).catalogue.import_text(THEIR_DISTRIBUTION.format(title="Priya's"))
    context = {"shown": "Stays by age", "population": "Patients", "purpose": "Report", "differences": "First"}
    requests = analyst.project(PROJECT).output_requests
    state["draft"] = requests.create("Draft", context=context, outputs=[1]).id
    for name in ("submitted", "reviewed", "approved", "released"):
        state[name] = requests.create(name.title(), context=context, outputs=[1], submit=True).id
    for user in (CHECKER2, CHECKER3):
        admin.people.add(user, user.title(), roles=["output_checker"], department="DHSC")
        for name in ("reviewed", "approved", "released"):
            staffed(user).review.decide(state[name], 1, "approve", "Safe")
    for name in ("approved", "released"):
        staffed(CHECKER3).review.conclude(state[name], "approve")
    staffed(CHECKER3).review.release(state["released"])
    state["tokens"] = {person: admin.tokens.create(person, label="matrix")["id"] for person in ROLE_OF}
    vault = admin._ctx.vault
    # an uncertain pair in dhsc.people's clerical review queue: its first record against its second's person
    members = store.members(vault.root, "dhsc.people")
    state["index_pair"] = (0, members.loc[1, "index_id"])
    store.write_review(vault.root, "dhsc.people", pd.DataFrame({
        "kind": ["person"], "row": [0], "candidate": [state["index_pair"][1]], "match_weight": [0.5],
        "match_probability": [0.6], "accepted": [False]}))
    vault.write(vault.restricted_path("truth", "dhsc.admissions"),
                pd.DataFrame({"admission_id": ["A1"], "person_id": [1]}))
    return staffed, state


def denied_count(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)
                            .where(audit_events.c.outcome == "denied")).scalar_one()


@pytest.mark.parametrize("user", [ADMIN, OWNER, ANALYST, CHECKER, TRAINER])
def test_matrix(world, user: str) -> None:
    connect, ids = world
    ws = connect(user)
    role = ROLE_OF[user]
    for name, operation in operations(ws, user, ids).items():
        before = denied_count(ws)
        if role in SERVICE_EXPECTED[name]:
            operation()
            assert denied_count(ws) == before, name
        else:
            state = snapshot(ws)
            with pytest.raises(AccessDenied):
                operation()
            assert denied_count(ws) == before + 1, f"{name}: the refusal was not audited"
            assert snapshot(ws) == state, f"{name}: a refusal changed something"


def test_strangers_are_refused_everything(world) -> None:
    connect, ids = world
    ws = connect("walk.in")
    for _name, operation in operations(ws, ANALYST, ids).items():
        with pytest.raises(AccessDenied):
            operation()
    assert denied_count(ws) == len(SERVICE_EXPECTED)


def test_separation_of_duties_refusals_say_why(world) -> None:
    connect, ids = world
    owner = connect(OWNER)
    with pytest.raises(AccessDenied, match=f"you are a member of project {GAMMA} \\(analyst\\)"):
        owner.owner.decide(ids["member_pending"], "approve")
    with pytest.raises(AccessDenied, match="you own this dataset and decide its requests already"):
        owner.owner.delegate(DATASET, OWNER)
    with pytest.raises(AccessDenied, match="nobody may name themselves a delegate"):
        connect(ADMIN).owner.delegate(DATASET, ADMIN)
    with pytest.raises(AccessDenied, match=f"it belongs to {OTHER_OWNER}, who registered it"):
        owner.catalogue.import_text(THEIR_DISTRIBUTION.format(title="Mine now"))


# who decides GAMMA's request (OWNER and ADMIN are analysts in it) or OTHER_PROJECT's (neither is in it):
# name → (delegates OWNER names first, member GAMMA gains first, decider, request, refusal or None if allowed)
DECISIONS = {
    "the owner, a member of the requesting project": ((), None, OWNER, "member_pending",
                                                      f"you are a member of project {GAMMA} \\(analyst\\)"),
    "an admin named a delegate, a member of the requesting project": (
        (ADMIN,), None, ADMIN, "member_pending", f"you are a member of project {GAMMA} \\(analyst\\)"),
    "an admin not named a delegate": ((), None, ADMIN, "pending", "only the dataset's data owner"),
    "a delegate who is a member of the requesting project": (
        (CHECKER,), CHECKER, CHECKER, "member_pending", f"you are a member of project {GAMMA} \\(reviewer\\)"),
    "a delegate outside the project": ((CHECKER,), None, CHECKER, "member_pending", None),
    "an admin named a delegate, outside the project": ((ADMIN,), None, ADMIN, "pending", None),
    "the owner outside the project": ((), None, OWNER, "pending", None),
}


@pytest.mark.parametrize("name", list(DECISIONS))
def test_separation_of_duties_in_decisions(world, name: str) -> None:
    connect, ids = world
    delegates, joins, decider, request, refusal = DECISIONS[name]
    for delegate in delegates:
        connect(OWNER).owner.delegate(DATASET, delegate)
    if joins:
        connect(ADMIN).project(GAMMA).add_member(joins, "reviewer")
    ws = connect(decider)
    before = denied_count(ws)
    if refusal is None:
        assert ws.owner.decide(ids[request], "refuse", reason="Not now")["decided_by"] == decider
        assert denied_count(ws) == before
        return
    state = snapshot(ws)
    with pytest.raises(AccessDenied, match=refusal):
        ws.owner.decide(ids[request], "approve")
    assert snapshot(ws) == state and denied_count(ws) == before + 1

