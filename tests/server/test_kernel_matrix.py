"""Role × operation through the kernel route (``POST /workbench/api/kernel/{operation}``): every operation a remote
kernel may ask for, called over HTTP by one person of each role, allowed or denied as the policy says. A denial
is a 403 ``AccessDenied`` that changes nothing and is audited; an allowed call answers 200 and, for a write, the
change is visible through the embedded workspace.

Each test arranges its own state on the embedded workspace, then calls the route once per person: those refused
first (on the untouched state), then those allowed, with arguments that do not collide. Besides one person of each
role, an analyst of another project and a stranger (signed in to Jupyter, unknown to the workspace) ask too.
``MORE_CASES`` adds cases whose answer depends on more than the role; ``MALFORMED`` lists values that must be
refused, never answered with a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pytest
from factories import admissions, linkable_people, patient_record, people_records, record
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
    TEST_USER_HEADER,
    TRAINER,
    grant,
    snapshot,
)
from sqlalchemy import func, select
from tornado.httpclient import HTTPClientError

from workbench import wire
from workbench.db.schema import audit_events
from workbench.server.kernel import OPERATIONS

ALL = {"admin", "data_owner", "analyst", "output_checker", "trainer"}
STRANGER = "walk.in"  # signed in to Jupyter, unknown to the workspace
PEOPLE = (ADMIN, OWNER, ANALYST, CHECKER, TRAINER, SECOND_ANALYST, STRANGER)
CONTEXT = {"shown": "Admissions by age band and length of stay", "population": "Test patients, 2025",
           "purpose": "Published in the evaluation report", "differences": "First release"}

# kernel operation → roles allowed to perform it (ANALYST leads PROJECT and OTHER_PROJECT; OWNER owns DATASET;
# CHECKER belongs to no project)
KERNEL_EXPECTED: dict[str, set[str]] = {
    "whoami": ALL,
    "catalogue.search": ALL,
    "catalogue.get": ALL,
    "catalogue.twin": ALL,
    "catalogue.list": ALL,
    "catalogue.export": ALL,
    "catalogue.departments": ALL,
    "catalogue.search_page": ALL,
    "catalogue.facets": ALL,
    "catalogue.coverage": ALL,
    "catalogue.register": {"admin", "data_owner"},
    "catalogue.import_text": {"admin", "data_owner"},
    "people.get": ALL,
    "people.list": ALL,
    "people.training": ALL,
    "projects.list": ALL,
    "projects.get": ALL,
    "project.update": {"admin"},
    "project.add_member": {"admin"},
    "project.remove_member": {"admin"},
    "project.request_access": {"analyst"},
    "project.requests": ALL,
    "project.grants": ALL,
    "project.load": {"analyst"},
    "project.batch": {"analyst"},
    "project.save": {"analyst"},
    "project.derive": {"analyst"},
    "project.datasets": {"analyst"},
    "project.read": {"analyst"},
    "project.save_linked": {"analyst"},
    "project.link": {"analyst"},
    "project.linkage_runs": {"analyst"},
    "project.linkage_run": {"analyst"},
    "tables.make": {"analyst"},
    "outputs.list": {"analyst"},
    "outputs.get": {"analyst"},
    "outputs.change": {"analyst"},
    "requests.create": {"analyst"},
    "requests.list": {"analyst"},
    "requests.get": {"analyst"},
    "requests.change": {"analyst"},
    "requests.submit": {"analyst"},
    "requests.withdraw": {"analyst"},
    "requests.reviews": {"analyst"},
    "dp.query": {"analyst"},
    "dp.budget": {"analyst"},
    "access.mine": ALL,
    "access.settings": ALL,
    "owner.requests": {"admin", "data_owner"},
    "owner.decide": {"data_owner"},
    "owner.grants": ALL,
    "owner.revoke": {"admin", "data_owner"},
    "owner.pin": {"admin", "data_owner"},
    "owner.delegate": {"admin", "data_owner"},
    "owner.usage": {"admin", "data_owner"},
    "owner.datasets": ALL,
    "budgets.set": {"admin", "data_owner"},
    "budgets.list": {"admin", "data_owner"},
    "budgets.set_twin": {"admin", "data_owner"},
    "review.queue": {"output_checker"},
    "review.history": {"output_checker"},
    "review.show": {"output_checker"},
    "review.decide": {"output_checker"},
    "review.conclude": {"output_checker"},
    "review.release": {"output_checker"},
    "review.manifest": {"output_checker"},
    "review.settings": ALL,
    "review.update_settings": {"admin"},
    "disclosure.settings": ALL,
    "audit.verify": {"admin"},
    "my_outputs.requests": ALL,
    "my_outputs.package": {"analyst", "data_owner"},  # a member; the owner of its dataset
    "my_outputs.file": {"analyst", "data_owner"},
}



def may(user: str, operation: str, roles: set[str]) -> bool:
    """Whether ``user`` may perform ``operation`` (allowed to ``roles``) as the matrix's cases call it. Besides one
    person of each role: SECOND_ANALYST, an analyst of OTHER_PROJECT only, may do what every role may but nothing
    an analyst does in PROJECT; a stranger may only ask who they are."""
    if user == STRANGER:
        return operation == "whoami"
    if user == SECOND_ANALYST:
        return roles == ALL
    return ROLE_OF[user] in roles


def roles_of(user: str) -> list[str]:
    return {**{u: [r] for u, r in ROLE_OF.items()}, STRANGER: [], SECOND_ANALYST: ["analyst"]}[user]


# kernel operation → the same service operation in helpers.SERVICE_EXPECTED (tests/test_security_matrix.py)
SERVICE_NAME = {
    "catalogue.search": "search catalogue", "catalogue.get": "read entry", "catalogue.export": "export catalogue",
    "catalogue.register": "register own dataset", "catalogue.import_text": "import distribution",
    "catalogue.twin": "read synthetic twin", "catalogue.facets": "catalogue filters",
    "catalogue.coverage": "catalogue coverage", "people.list": "list people",
    "people.training": "read training records", "projects.list": "list projects", "project.update": "change project",
    "project.add_member": "add project member", "project.remove_member": "remove project member",
    "project.request_access": "request access", "project.requests": "list project requests",
    "project.grants": "list project grants", "project.load": "load granted data",
    "project.batch": "load granted data", "project.save": "save to project",
    "project.derive": "derive a frame",
    "project.datasets": "list saved data", "project.read": "read saved data", "project.link": "link datasets",
    "project.linkage_runs": "list linkage runs", "tables.make": "record output", "outputs.list": "list outputs",
    "requests.create": "create output request", "requests.list": "list output requests",
    "requests.submit": "submit output request", "requests.withdraw": "withdraw output request",
    "dp.query": "run dp query", "dp.budget": "read project privacy budget", "access.mine": "list my requests",
    "access.settings": "read access settings", "owner.requests": "list requests to decide",
    "owner.decide": "decide request", "owner.revoke": "revoke grant", "owner.delegate": "name delegate",
    "owner.pin": "pin grant to a version",
    "owner.usage": "owner usage report", "owner.datasets": "list my datasets", "budgets.set": "set privacy budget",
    "budgets.list": "list privacy budgets",
    "budgets.set_twin": "set twin budget",
    "review.queue": "output-checking queue", "review.history": "output-checking history",
    "review.show": "show request for review",
    "review.decide": "review an output", "review.conclude": "conclude output request",
    "review.release": "release output request", "review.manifest": "read release manifest",
    "review.settings": "read output-checking settings", "review.update_settings": "change output-checking settings",
    "disclosure.settings": "read disclosure settings", "audit.verify": "verify audit",
    "my_outputs.package": "download release package", "my_outputs.file": "download a released file",
}

Connect = Callable[[str], Any]
State = dict[str, Any]


# -- arrangements: made on the embedded workspace, as an admin would on the service host ----------------------
def nothing(_s: Connect) -> State:
    return {}


def twin_made(s: Connect) -> State:
    """DATASET's synthetic twin made (and charged) once: reading it after is free, a read like any other."""
    s(OWNER).catalogue.twin(DATASET)
    return {}


def granted(s: Connect) -> State:
    """DATASET granted to PROJECT."""
    return {"grant": grant(s)["grant_id"]}


def two_grants(s: Connect) -> State:
    return {"grant": grant(s)["grant_id"], "other_grant": grant(s, OTHER_PROJECT)["grant_id"]}


def pending(s: Connect) -> State:
    """ANALYST's pending request for DATASET in PROJECT."""
    request = s(ANALYST).project(PROJECT).request_access(DATASET, ["age_band", "cost"], justification="Costs")
    return {"pending": request["id"]}


def budgeted(s: Connect) -> State:
    state = granted(s)
    s(OWNER).dp.set_budget(DATASET, 10.0)
    return state


def loaded(s: Connect) -> State:
    state = granted(s)
    s(ANALYST).project(PROJECT).load(DATASET)
    return state


def saved(s: Connect) -> State:
    state = granted(s)
    s(ANALYST).project(PROJECT).save(pd.DataFrame({"n": [1, 2]}), "kept", derived_from=[DATASET])
    return state


def recorded(s: Connect) -> State:
    """A crosstab of the loaded DATASET recorded in PROJECT (output 1)."""
    state = granted(s)
    project = s(ANALYST).project(PROJECT)
    project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay")
    return state


def requested(stage: str) -> Callable[[Connect], State]:
    """An output request of output 1 that has reached ``stage``: draft, submitted, reviewed (by CHECKER2 and
    CHECKER3), approved (concluded by CHECKER3) or released (by CHECKER3)."""
    def arrange(s: Connect) -> State:
        state = recorded(s)
        requests = s(ANALYST).project(PROJECT).output_requests
        state["request"] = rid = requests.create("Stays by age", context=CONTEXT, outputs=[1],
                                                 submit=stage != "draft").id
        if stage in ("reviewed", "approved", "released"):
            admin = s(ADMIN)
            for user in (CHECKER2, CHECKER3):
                admin.people.add(user, user.replace(".", " ").title(), roles=["output_checker"], department="DHSC")
                s(user).review.decide(rid, 1, "approve", "Safe")
        if stage in ("approved", "released"):
            s(CHECKER3).review.conclude(rid, "approve")
        if stage == "released":
            s(CHECKER3).review.release(rid)
        return state
    return arrange


def linkable(s: Connect) -> State:
    """Two owners' people datasets granted to PROJECT with identifiers for linkage."""
    left_record, right_record = people_records()
    left, right, _ = linkable_people(rows=60)
    analyst = s(ANALYST)
    for owner, entry, frame in ((OWNER, left_record, left), (OTHER_OWNER, right_record, right)):
        s(owner).catalogue.register(entry, frame)
        request = analyst.project(PROJECT).request_access(entry["localId"], justification="Linkage")
        s(owner).owner.decide(request["id"], "approve", columns=["ref"],
                              linkage=[c["name"] for c in entry["columns"][1:5]])
    return {}


def linked(s: Connect) -> State:
    state = linkable(s)
    state["run"] = s(ANALYST).project(PROJECT).link("dhsc.people", "ons.people").run_id
    return state


# -- what an allowed call must show --------------------------------------------------------------------------
def request_status(s: Connect, request_id: int) -> str:
    return s(ANALYST).project(PROJECT).output_requests.get(request_id).status


def has_rows(answer: Any) -> None:
    assert isinstance(answer, pd.DataFrame) and len(answer) > 0, answer


@dataclass(frozen=True)
class Case:
    """How to call one operation: its arrangement, the arguments each person sends (a dict, or a function of
    the person and the arranged state), and what an allowed answer must show (for a write: the change, seen
    through the embedded workspace)."""

    arguments: dict[str, Any] | Callable[[str, State], dict[str, Any]]
    arrange: Callable[[Connect], State] = nothing
    check: Callable[[Connect, str, Any, State], None] | None = None
    writes: bool = False

    def arguments_for(self, user: str, state: State) -> dict[str, Any]:
        return self.arguments(user, state) if callable(self.arguments) else self.arguments


def tag(user: str) -> str:
    return user.split(".")[0]


def _register(user: str, _state: State) -> dict[str, Any]:
    owner = user if ROLE_OF.get(user) == "data_owner" else OWNER
    return {"record": record(localId=f"dhsc.{tag(user)}", identifier=f"https://data.example.invalid/{tag(user)}",
                             dataOwner=owner), "data": admissions(20)}


def _registered(s: Connect, user: str, answer: Any, _state: State) -> None:
    entry = s(ADMIN).catalogue.get(f"dhsc.{tag(user)}")
    assert entry.owner == (user if ROLE_OF.get(user) == "data_owner" else OWNER) and answer.owner == entry.owner
    assert len(s(ADMIN).catalogue.twin(f"dhsc.{tag(user)}")) > 0


def _import(user: str, _state: State) -> dict[str, Any]:
    return {"text": f"identifier: https://data.example.invalid/{tag(user)}.csv\ntype: dcat:Distribution\ntitle: T\n"
                    "licence: OGL\nmediaType: text/csv\n"}


def _project_ended(s: Connect, _user: str, answer: Any, _state: State) -> None:
    assert s(ADMIN).project(OTHER_PROJECT).to_dict()["end"] == date(2099, 6, 30) == answer["end"]


def _owner_decides(s: Connect, _user: str, answer: Any, state: State) -> None:
    grants = s(ADMIN).project(PROJECT).grants()
    assert answer["status"] == "approved" and list(grants["request_id"]) == [state["pending"]]
    assert list(grants["state"]) == ["current"] and sorted(grants["columns"].iloc[0]) == ["age_band", "cost"]


def _loaded(s: Connect, _user: str, answer: Any, _state: State) -> None:
    assert len(answer) == 100 and "nhs_number" not in answer.columns  # a pseudonymised key instead
    assert list(s(OWNER).owner.usage(DATASET).loads["rows"]) == [100]  # the owner sees the load


def _batch_loaded(s: Connect, _user: str, answer: Any, _state: State) -> None:
    assert len(answer) == 30 and "nhs_number" not in answer.columns
    assert list(s(OWNER).owner.usage(DATASET).loads["rows"]) == [30]  # the owner sees the batch


def _linked(s: Connect, _user: str, answer: Any, _state: State) -> None:
    assert list(s(ANALYST).project(PROJECT).linkage_runs()["id"]) == [answer["run_id"]]
    # the identifiers granted for linkage only are read by the service, never sent to the kernel
    assert len(answer["frame"]) > 0
    leaked = {"forename", "first_name", "surname", "dob", "postcode"} & set(answer["frame"].columns)
    assert not leaked, f"linkage-only identifiers sent to the kernel: {leaked}"


def _revoke(user: str, state: State) -> dict[str, Any]:
    return {"grant_id": state["other_grant"] if user == ADMIN else state["grant"], "reason": "Review"}


def _revoked(s: Connect, user: str, _answer: Any, state: State) -> None:
    grants = s(ADMIN).owner.grants(DATASET).set_index("id")["state"]
    assert grants[_revoke(user, state)["grant_id"]] == "revoked"


def _pin(user: str, state: State) -> dict[str, Any]:
    return {"grant_id": state["other_grant"] if user == ADMIN else state["grant"], "version": 1}


def _pinned(s: Connect, user: str, _answer: Any, state: State) -> None:
    assert s(ADMIN).owner.grants(DATASET).set_index("id").loc[_pin(user, state)["grant_id"], "version"] == 1


def _delegate(user: str, _state: State) -> dict[str, Any]:
    # an allowed person names someone else; a refused one tries to make themselves a delegate
    named = {OWNER: TRAINER, ADMIN: CHECKER}.get(user, user)
    return {"dataset_id": DATASET, "username": named}


def _delegated(s: Connect, user: str, answer: Any, _state: State) -> None:
    named = _delegate(user, {})["username"]
    assert named in answer
    assert isinstance(s(named).owner.requests(), pd.DataFrame)  # a delegate now sees the requests to decide


def _budget(user: str, _state: State) -> dict[str, Any]:
    return {"dataset": DATASET, "epsilon": 6.0 if user == ADMIN else 5.0, "project": PROJECT}


def _budget_set(s: Connect, user: str, _answer: Any, _state: State) -> None:
    budgets = s(ADMIN).dp.budgets(DATASET)
    row = budgets[budgets["scope"] == PROJECT]
    assert list(row["epsilon"]) == [_budget(user, {})["epsilon"]]


def _twin_budget(user: str, _state: State) -> dict[str, Any]:
    return {"dataset": DATASET, "epsilon": 3.0 if user == ADMIN else 2.0, "per_twin": 0.5}


def _twin_budget_set(s: Connect, user: str, _answer: Any, _state: State) -> None:
    budgets = s(ADMIN).dp.budgets(DATASET).set_index("scope")
    assert budgets.loc["synthetic twins", "epsilon"] == _twin_budget(user, {})["epsilon"]


def _my_requests(s: Connect, user: str, answer: Any, state: State) -> None:
    """Everyone may ask; the request is listed, with its files, to PROJECT's members only."""
    mine = [r["id"] for r in answer]
    assert mine == ([state["request"]] if user == ANALYST else []), (user, answer)
    if user == ANALYST:
        assert "results.json" in [f["name"] for f in answer[0]["files"]]


def _zip_of_the_package(s: Connect, user: str, answer: Any, state: State) -> None:
    import io
    import zipfile

    name, content = answer
    assert name == f"{PROJECT}-request-{state['request']}.zip" and isinstance(content, bytes), answer
    assert f"{PROJECT}-request-{state['request']}/results.json" in zipfile.ZipFile(io.BytesIO(content)).namelist()


def _released_file(s: Connect, user: str, answer: Any, state: State) -> None:
    name, content = answer
    assert name == "results.json" and json.loads(content), answer
    assert content == s(user).my_outputs.file(state["request"], "results.json")[1]  # as embedded


CASES: dict[str, Case] = {
    "whoami": Case({}, check=lambda s, u, a, st: a == {"user": u, "roles": roles_of(u)} or pytest.fail(a)),
    "catalogue.search": Case({"text": "hospital"}, check=lambda s, u, a, st: list(a["id"]) == [DATASET]
                             or pytest.fail(a)),
    "catalogue.get": Case({"dataset_id": DATASET}, check=lambda s, u, a, st: a.owner == OWNER or pytest.fail(a)),
    "catalogue.twin": Case({"dataset_id": DATASET}, arrange=twin_made, check=lambda s, u, a, st: has_rows(a)),
    "catalogue.list": Case({}, check=lambda s, u, a, st: has_rows(a)),
    "catalogue.export": Case({"dataset_id": DATASET}, check=lambda s, u, a, st: "Hospital admissions" in a
                             or pytest.fail(a)),
    "catalogue.departments": Case({}, check=lambda s, u, a, st: has_rows(a)),
    "catalogue.search_page": Case({"text": "hospital"}, check=lambda s, u, a, st: isinstance(a, dict)
                                  or pytest.fail(a)),
    "catalogue.facets": Case({}, check=lambda s, u, a, st: isinstance(a, dict) or pytest.fail(a)),
    "catalogue.coverage": Case({}, check=lambda s, u, a, st: isinstance(a, pd.DataFrame) or pytest.fail(a)),
    "catalogue.register": Case(_register, check=_registered, writes=True),
    "catalogue.import_text": Case(_import, writes=True, check=lambda s, u, a, st: (
        f"https://data.example.invalid/{tag(u)}.csv" in s(ADMIN).catalogue.export() or pytest.fail(a))),
    "people.get": Case({"username": ANALYST}, check=lambda s, u, a, st: a["username"] == ANALYST or pytest.fail(a)),
    "people.list": Case({}, check=lambda s, u, a, st: ANALYST in set(a["username"]) or pytest.fail(a)),
    "people.training": Case({"username": ANALYST}, check=lambda s, u, a, st: has_rows(a)),
    "projects.list": Case({}, check=lambda s, u, a, st: {PROJECT, OTHER_PROJECT} <= set(a["id"]) or pytest.fail(a)),
    "projects.get": Case({"project": PROJECT}, check=lambda s, u, a, st: a["id"] == PROJECT or pytest.fail(a)),
    "project.update": Case({"project": OTHER_PROJECT, "end": "2099-06-30"}, check=_project_ended, writes=True),
    "project.add_member": Case({"project": OTHER_PROJECT, "username": CHECKER, "role": "reviewer"}, writes=True,
                               check=lambda s, u, a, st: s(ADMIN).project(OTHER_PROJECT).members.get(CHECKER)
                               == "reviewer" or pytest.fail(a)),
    "project.remove_member": Case(
        {"project": OTHER_PROJECT, "username": CHECKER}, writes=True,
        arrange=lambda s: {"member": s(ADMIN).project(OTHER_PROJECT).add_member(CHECKER, "reviewer")},
        check=lambda s, u, a, st: CHECKER not in s(ADMIN).project(OTHER_PROJECT).members or pytest.fail(a)),
    "project.request_access": Case(
        {"project": PROJECT, "dataset_id": DATASET, "columns": ["cost"], "justification": "Costs"}, writes=True,
        check=lambda s, u, a, st: list(s(ADMIN).project(PROJECT).requests()["status"]) == ["pending"]
        or pytest.fail(a)),
    "project.requests": Case({"project": PROJECT}, arrange=pending, check=lambda s, u, a, st: has_rows(a)),
    "project.grants": Case({"project": PROJECT}, arrange=granted, check=lambda s, u, a, st: has_rows(a)),
    "project.load": Case({"project": PROJECT, "dataset_id": DATASET}, arrange=granted, writes=True,  # the load
                         check=_loaded),
    "project.batch": Case({"project": PROJECT, "dataset_id": DATASET, "where": {"age_band": ["0-17", "18-64", "65+"]},
                           "rows": 30, "number": 1}, arrange=granted, writes=True, check=_batch_loaded),
    "project.save": Case({"project": PROJECT, "frame": pd.DataFrame({"n": [1, 2]}), "name": "counts",
                          "derived_from": [DATASET]}, arrange=granted, writes=True,
                         check=lambda s, u, a, st: list(s(ANALYST).project(PROJECT).read("counts")["n"]) == [1, 2]
                         or pytest.fail(a)),
    "project.derive": Case({"project": PROJECT, "source": DATASET, "columns": ["age_band", "cost"],
                            "where": {"age_band": "65+"}, "new_name": "older"}, arrange=granted, writes=True,
                           check=lambda s, u, a, st: set(s(ANALYST).project(PROJECT).read("older")["age_band"])
                           == {"65+"} or pytest.fail(a)),
    "project.datasets": Case({"project": PROJECT}, arrange=saved, check=lambda s, u, a, st: has_rows(a)),
    "project.read": Case({"project": PROJECT, "name": "kept"}, arrange=saved, writes=True,  # the read is recorded
                         check=lambda s, u, a, st: list(a["n"]) == [1, 2] or pytest.fail(a)),
    "project.save_linked": Case(lambda u, st: {"project": PROJECT, "run_id": st["run"], "name": "linked"},
                                arrange=linked, writes=True,
                                check=lambda s, u, a, st: s(ANALYST).project(PROJECT).datasets().set_index("name")
                                .loc["linked", "made_by"] == "workbench" or pytest.fail(a)),
    "project.link": Case({"project": PROJECT, "left": "dhsc.people", "right": "ons.people"}, arrange=linkable,
                         writes=True, check=_linked),
    "project.linkage_runs": Case({"project": PROJECT}, arrange=linked, check=lambda s, u, a, st: has_rows(a)),
    "project.linkage_run": Case(lambda u, st: {"project": PROJECT, "run_id": st["run"]}, arrange=linked,
                                check=lambda s, u, a, st: isinstance(a, dict) or pytest.fail(a)),
    "tables.make": Case(
        lambda u, st: {"project": PROJECT, "method": "crosstab", "data": st["frame"], "index": "age_band",
                       "columns": "length_of_stay"},
        arrange=lambda s: {**granted(s), "frame": s(ANALYST).project(PROJECT).load(DATASET)}, writes=True,
        check=lambda s, u, a, st: list(s(ANALYST).project(PROJECT).outputs.list()["sources"]) == [[DATASET]]
        or pytest.fail(a)),
    "outputs.list": Case({"project": PROJECT}, arrange=recorded, check=lambda s, u, a, st: has_rows(a)),
    "outputs.get": Case({"project": PROJECT, "output_id": 1}, arrange=recorded,
                        check=lambda s, u, a, st: a.method == "crosstab" or pytest.fail(a)),
    "outputs.change": Case({"project": PROJECT, "output_id": 1, "what": "comment", "text": "Counts of stays"},
                           arrange=recorded, writes=True,
                           check=lambda s, u, a, st: s(ANALYST).project(PROJECT).outputs.get(1).comments
                           == ["Counts of stays"] or pytest.fail(a)),
    "requests.create": Case({"project": PROJECT, "title": "Stays", "context": CONTEXT, "outputs": [1]},
                            arrange=recorded, writes=True,
                            check=lambda s, u, a, st: request_status(s, a["id"]) == "draft" or pytest.fail(a)),
    "requests.list": Case({"project": PROJECT}, arrange=requested("draft"), check=lambda s, u, a, st: has_rows(a)),
    "requests.get": Case(lambda u, st: {"project": PROJECT, "request_id": st["request"]}, arrange=requested("draft"),
                         check=lambda s, u, a, st: a["id"] == st["request"] or pytest.fail(a)),
    "requests.change": Case(lambda u, st: {"project": PROJECT, "request_id": st["request"], "title": "Renamed"},
                            arrange=requested("draft"), writes=True,
                            check=lambda s, u, a, st: s(ANALYST).project(PROJECT).output_requests.get(
                                st["request"]).to_dict()["title"] == "Renamed" or pytest.fail(a)),
    "requests.submit": Case(lambda u, st: {"project": PROJECT, "request_id": st["request"]},
                            arrange=requested("draft"), writes=True,
                            check=lambda s, u, a, st: request_status(s, st["request"]) == "submitted"
                            or pytest.fail(a)),
    "requests.withdraw": Case(lambda u, st: {"project": PROJECT, "request_id": st["request"], "reason": "Later"},
                              arrange=requested("submitted"), writes=True,
                              check=lambda s, u, a, st: request_status(s, st["request"]) == "withdrawn"
                              or pytest.fail(a)),
    "requests.reviews": Case(lambda u, st: {"project": PROJECT, "request_id": st["request"]},
                             arrange=requested("approved"),
                             check=lambda s, u, a, st: len(a) == 2 or pytest.fail(a)),
    "dp.query": Case({"project": PROJECT, "method": "count", "dataset": DATASET, "epsilon": 0.5}, arrange=budgeted,
                     writes=True, check=lambda s, u, a, st: list(s(ANALYST).project(PROJECT).outputs.list()["kind"])
                     == ["dp"] or pytest.fail(a)),
    "dp.budget": Case({"project": PROJECT}, arrange=budgeted, check=lambda s, u, a, st: has_rows(a)),
    "access.mine": Case({}, arrange=pending, check=lambda s, u, a, st: isinstance(a, pd.DataFrame)
                        or pytest.fail(a)),
    "access.settings": Case({}, check=lambda s, u, a, st: isinstance(a, dict) or pytest.fail(a)),
    "owner.requests": Case({}, arrange=pending, check=lambda s, u, a, st: list(a["id"]) == [st["pending"]]
                           or pytest.fail(a)),
    "owner.decide": Case(lambda u, st: {"request_id": st["pending"], "decision": "approve"}, arrange=pending,
                         writes=True, check=_owner_decides),
    "owner.grants": Case({"dataset_id": DATASET}, arrange=granted, check=lambda s, u, a, st: has_rows(a)),
    "owner.revoke": Case(_revoke, arrange=two_grants, writes=True, check=_revoked),
    "owner.pin": Case(_pin, arrange=two_grants, writes=True, check=_pinned),
    "owner.delegate": Case(_delegate, writes=True, check=_delegated),
    "owner.usage": Case({"dataset_id": DATASET}, arrange=loaded,
                        check=lambda s, u, a, st: type(a).__name__ == "UsageReport" or pytest.fail(a)),
    "owner.datasets": Case({}, check=lambda s, u, a, st: (list(a.columns) == ["id", "title", "role"]
                           and (DATASET in set(a["id"])) == (u == OWNER)) or pytest.fail(a)),
    "budgets.set": Case(_budget, arrange=granted, writes=True, check=_budget_set),
    "budgets.list": Case({"dataset": DATASET}, arrange=budgeted, check=lambda s, u, a, st: has_rows(a)),
    "budgets.set_twin": Case(_twin_budget, arrange=granted, writes=True, check=_twin_budget_set),
    "review.queue": Case({}, arrange=requested("submitted"),
                         check=lambda s, u, a, st: list(a["id"]) == [st["request"]] or pytest.fail(a)),
    "review.history": Case({}, arrange=requested("released"),
                           check=lambda s, u, a, st: list(a["id"]) == [st["request"]] or pytest.fail(a)),
    "review.show": Case(lambda u, st: {"request_id": st["request"]}, arrange=requested("submitted"),
                        check=lambda s, u, a, st: a["request"]["id"] == st["request"] or pytest.fail(a)),
    "review.decide": Case(lambda u, st: {"request_id": st["request"], "output_id": 1, "decision": "approve",
                                         "comment": "Safe"}, arrange=requested("submitted"), writes=True,
                          check=lambda s, u, a, st: request_status(s, st["request"]) == "partially_reviewed"
                          or pytest.fail(a)),
    "review.conclude": Case(lambda u, st: {"request_id": st["request"], "outcome": "approve"},
                            arrange=requested("reviewed"), writes=True,
                            check=lambda s, u, a, st: request_status(s, st["request"]) == "approved"
                            or pytest.fail(a)),
    "review.release": Case(lambda u, st: {"request_id": st["request"]}, arrange=requested("approved"), writes=True,
                           check=lambda s, u, a, st: request_status(s, st["request"]) == "released"
                           or pytest.fail(a)),
    "review.manifest": Case(lambda u, st: {"request_id": st["request"]}, arrange=requested("released"),
                            check=lambda s, u, a, st: a["manifest"] is not None or pytest.fail(a)),
    "review.settings": Case({}, check=lambda s, u, a, st: a["reviews_required"] == 2 or pytest.fail(a)),
    "review.update_settings": Case({"reviews_required": 3}, writes=True,
                                   check=lambda s, u, a, st: s(ADMIN).review.settings()["reviews_required"] == 3
                                   or pytest.fail(a)),
    "disclosure.settings": Case({}, check=lambda s, u, a, st: "threshold" in (a if isinstance(a, dict) else vars(a))
                                or pytest.fail(a)),
    "audit.verify": Case({}, check=lambda s, u, a, st: a.ok or pytest.fail(a)),
    "my_outputs.requests": Case({}, arrange=requested("released"), check=_my_requests),
    "my_outputs.package": Case(lambda u, st: {"request_id": st["request"]}, arrange=requested("released"),
                               check=_zip_of_the_package),
    "my_outputs.file": Case(lambda u, st: {"request_id": st["request"], "name": "results.json"},
                            arrange=requested("released"), check=_released_file),
}


# -- calling the route -----------------------------------------------------------------------------------------
async def kernel_call(jp_fetch: Any, user: str, operation: str, arguments: dict[str, Any]) -> tuple[int, Any]:
    """(status, decoded answer) of one kernel call as ``user``."""
    try:
        response = await jp_fetch("workbench", "api", "kernel", operation, method="POST",
                                  body=wire.dumps(arguments), headers={TEST_USER_HEADER: user})
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body) if error.response else None
    if response.headers.get("Content-Type") == wire.ARROW:
        return response.code, wire.arrow_to_frame(response.body)
    return response.code, wire.loads(response.body)


def denials_of(ws: Any, user: str) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events).where(
            (audit_events.c.actor == user) & (audit_events.c.outcome == "denied"))).scalar_one()


def files_of(ws: Any) -> list[tuple[str, int]]:
    """The workspace folder's files (the vault, outputs, packages) but the SQLite database's own."""
    home = ws.home
    return sorted((p.relative_to(home).as_posix(), p.stat().st_size) for p in home.rglob("*")
                  if p.is_file() and ".db" not in p.name)


def test_every_kernel_operation_is_in_the_matrix() -> None:
    assert set(KERNEL_EXPECTED) == set(OPERATIONS) == set(CASES)
    assert all(roles <= ALL and roles for roles in KERNEL_EXPECTED.values())


def test_the_kernel_route_allows_what_the_services_allow() -> None:
    differ = {k: (KERNEL_EXPECTED[k], SERVICE_EXPECTED[v]) for k, v in SERVICE_NAME.items()
              if KERNEL_EXPECTED[k] != SERVICE_EXPECTED[v]}
    assert differ == {}


THEIR_DISTRIBUTION = ("identifier: https://data.example.invalid/priya.csv\ntype: dcat:Distribution\n"
                      "title: {title}\nlicence: OGL\nmediaType: text/csv\n")


def members_decide(s: Connect) -> State:
    """SECOND_ANALYST's request for DATASET in OTHER_PROJECT, where ADMIN (named a delegate by OWNER) and OWNER
    are analysts too: nobody may decide it."""
    admin = s(ADMIN)
    for user in (ADMIN, OWNER):
        admin.project(OTHER_PROJECT).add_member(user, "analyst")
    s(OWNER).owner.delegate(DATASET, ADMIN)
    request = s(SECOND_ANALYST).project(OTHER_PROJECT).request_access(DATASET, ["cost"], justification="Costs")
    return {"pending": request["id"]}


def _distribution_of(s: Connect) -> tuple[str, str]:
    from workbench.db.schema import distributions

    with s(ADMIN)._ctx.db.read() as conn:
        return tuple(conn.execute(select(distributions.c.title, distributions.c.registered_by)
                                  .where(distributions.c.identifier.like("%priya.csv"))).one())


# further cases of operations whose answer depends on more than the role: name → (operation, roles allowed, case)
MORE_CASES: dict[str, tuple[str, set[str], Case]] = {
    "catalogue.register hands DATASET to another owner": (
        "catalogue.register", {"admin"},
        Case({"record": patient_record(dataOwner=OTHER_OWNER)}, writes=True,
             check=lambda s, u, a, st: s(ADMIN).catalogue.get(DATASET).owner == OTHER_OWNER or pytest.fail(a))),
    "catalogue.register changes DATASET's title": (
        "catalogue.register", {"admin", "data_owner"},
        Case(lambda u, st: {"record": patient_record(title=f"Patients ({tag(u)})")}, writes=True,
             check=lambda s, u, a, st: s(ADMIN).catalogue.get(DATASET).title == f"Patients ({tag(u)})"
             or pytest.fail(a))),
    "owner.decide refuses": (
        "owner.decide", {"data_owner"},
        Case(lambda u, st: {"request_id": st["pending"], "decision": "refuse", "reason": "Not now"}, arrange=pending,
             writes=True, check=lambda s, u, a, st: list(s(ADMIN).owner.requests(None)["status"]) == ["refused"]
             or pytest.fail(a))),
    "owner.decide grants direct identifiers the project's gateway forbids": (
        "owner.decide", set(),
        Case(lambda u, st: {"request_id": st["pending"], "decision": "approve", "identifiers": ["nhs_number"]},
             arrange=lambda s: {"pending": s(ANALYST).project(PROJECT).request_access(
                 DATASET, ["nhs_number", "age_band"], justification="Linking")["id"]})),
    "project.load of columns outside the grant": (
        "project.load", set(),
        Case({"project": PROJECT, "dataset_id": DATASET, "columns": ["cost"]},
             arrange=lambda s: {"grant": s(OWNER).owner.decide(pending(s)["pending"], "approve",
                                                               columns=["age_band"])["grant_id"]})),
    "project.load filtered on a column outside the grant": (
        "project.load", set(),
        Case({"project": PROJECT, "dataset_id": DATASET, "columns": ["age_band"], "where": {"cost": {">": 100}}},
             arrange=lambda s: {"grant": s(OWNER).owner.decide(pending(s)["pending"], "approve",
                                                               columns=["age_band"])["grant_id"]})),
    "project.load after the grant was revoked": (
        "project.load", set(),
        Case({"project": PROJECT, "dataset_id": DATASET},
             arrange=lambda s: {"revoked": s(OWNER).owner.revoke(granted(s)["grant"], reason="Ended")})),
    "dp.query preview spends nothing": (
        "dp.query", {"analyst"},
        Case({"project": PROJECT, "method": "crosstab", "dataset": DATASET, "index": "age_band", "epsilon": 0.5,
              "preview": True}, arrange=budgeted,
             check=lambda s, u, a, st: type(a).__name__ == "Accuracy" or pytest.fail(a))),
    "dp.query in a project without a grant": (
        "dp.query", set(),
        Case({"project": OTHER_PROJECT, "method": "count", "dataset": DATASET, "epsilon": 0.5}, arrange=budgeted)),
    "tables.make an ols model": (
        "tables.make", {"analyst"},
        Case(lambda u, st: {"project": PROJECT, "method": "ols", "data": st["frame"],
                            "formula": "cost ~ length_of_stay"},
             arrange=lambda s: {**granted(s), "frame": s(ANALYST).project(PROJECT).load(DATASET)}, writes=True,
             check=lambda s, u, a, st: list(s(ANALYST).project(PROJECT).outputs.list()["method"]) == ["ols"]
             or pytest.fail(a))),
    "tables.make by spec from a named source": (
        "tables.make", {"analyst"},
        Case({"project": PROJECT, "method": "groupby_agg", "data": DATASET, "by": "age_band", "values": "cost",
              "where": {"cost": {">=": 0}}}, arrange=granted, writes=True,
             check=lambda s, u, a, st: list(s(ANALYST).project(PROJECT).outputs.list()["provenance"])
             == ["computed"] or pytest.fail(a))),
    "outputs.change asks for an exception": (
        "outputs.change", {"analyst"},
        Case({"project": PROJECT, "output_id": 1, "what": "exception", "text": "Published counts"},
             arrange=recorded, writes=True,
             check=lambda s, u, a, st: s(ANALYST).project(PROJECT).outputs.get(1).exception == "Published counts"
             or pytest.fail(a))),
    "owner.decide by a delegate or owner who is a member of the requesting project": (
        "owner.decide", set(),
        Case(lambda u, st: {"request_id": st["pending"], "decision": "approve"}, arrange=members_decide)),
    "owner.delegate naming oneself": (
        "owner.delegate", set(), Case(lambda u, st: {"dataset_id": DATASET, "username": u})),
    "catalogue.import_text overwrites another owner's distribution": (
        "catalogue.import_text", {"admin"},
        Case(lambda u, st: {"text": THEIR_DISTRIBUTION.format(title=f"Changed by {tag(u)}")},
             arrange=lambda s: {"imported": s(OTHER_OWNER).catalogue.import_text(
                 THEIR_DISTRIBUTION.format(title="Priya's"))}, writes=True,
             check=lambda s, u, a, st: _distribution_of(s) == (f"Changed by {tag(u)}", OTHER_OWNER)
             or pytest.fail(a))),
    "owner.delegate removes a delegate": (
        "owner.delegate", {"admin", "data_owner"},
        Case(lambda u, st: {"dataset_id": DATASET, "username": CHECKER if u == ADMIN else TRAINER, "remove": True},
             arrange=lambda s: {"delegates": [s(OWNER).owner.delegate(DATASET, who) for who in (TRAINER, CHECKER)]},
             writes=True, check=lambda s, u, a, st: (CHECKER if u == ADMIN else TRAINER) not in a
             or pytest.fail(a))),
}


# operations the route gets wrong today: operation → what happens


@pytest.mark.parametrize("operation", sorted(KERNEL_EXPECTED))
async def test_role_by_operation(jp_fetch, served, operation: str) -> None:
    await run_matrix(jp_fetch, served, operation, KERNEL_EXPECTED[operation], CASES[operation])


@pytest.mark.parametrize("name", sorted(MORE_CASES))
async def test_role_by_operation_more_cases(jp_fetch, served, name: str) -> None:
    operation, roles, case = MORE_CASES[name]
    await run_matrix(jp_fetch, served, operation, roles, case)


async def run_matrix(jp_fetch: Any, served: Connect, operation: str, roles: set[str], case: Case) -> None:
    """Arrange, then call ``operation`` once per person: the refused first, on the untouched state."""
    state = case.arrange(served)
    admin = served(ADMIN)
    for user in sorted(PEOPLE, key=lambda user: may(user, operation, roles)):
        arguments = case.arguments_for(user, state)
        before, files, denials = snapshot(admin), files_of(admin), denials_of(admin, user)
        status, answer = await kernel_call(jp_fetch, user, operation, arguments)
        if may(user, operation, roles):
            assert status == 200, f"{operation} as {user}: {status} {answer}"
            assert denials_of(admin, user) == denials, f"{operation} as {user}: a denial was audited"
            if not case.writes:
                assert snapshot(admin) == before, f"{operation} as {user}: a read changed something"
            if case.check is not None:
                case.check(served, user, answer, state)
        else:
            assert (status, answer.get("error")) == (403, "AccessDenied"), f"{operation} as {user}: {answer}"
            assert snapshot(admin) == before, f"{operation} as {user}: the refusal changed something"
            assert files_of(admin) == files, f"{operation} as {user}: the refusal changed files"
            assert denials_of(admin, user) == denials + 1, f"{operation} as {user}: the refusal was not audited"


# Values of the wrong type or out of range, sent by a person allowed the operation or by one refused it: the
# answer must be a refusal (400 InvalidInput, 403 AccessDenied or 404 NotFound), never a 500, and nothing may
# change. Each case's last item says how it once failed (a 500, or a refusal before the policy was asked).
HUGE = 10**30  # beyond a 64-bit integer column
MALFORMED = {
    "import text that is not text": ("catalogue.import_text", ADMIN, nothing, {"text": None},
                                     "TypeError: a string or stream input is required (the YAML parser)"),
    "import by a refused analyst, text not text": (
        "catalogue.import_text", ANALYST, nothing, {"text": 1},
        "TypeError in the YAML parser before the policy is asked: the refused attempt is not audited"),
    "a person named by an object": ("people.get", ADMIN, nothing, {"username": {"k": 1}},
                                    "ProgrammingError: the database driver cannot bind a dict (People.get)"),
    "a member named by an object": ("project.add_member", ADMIN, nothing,
                                    {"project": OTHER_PROJECT, "username": {"k": 1}, "role": "reviewer"},
                                    "ProgrammingError: the database driver cannot bind a dict (Projects.set_member)"),
    "provenance that is a number": ("project.save", ANALYST, granted,
                                    {"project": PROJECT, "frame": pd.DataFrame({"n": [1]}), "name": "counts",
                                     "derived_from": 1.5}, "TypeError: 'float' object is not iterable"),
    "a table option the table function does not take": (
        "tables.make", ANALYST, granted,
        {"project": PROJECT, "method": "crosstab", "data": admissions(20), "index": "age_band",
         "columns": "length_of_stay", "derived_from": [DATASET], "settings": {"threshold": 0}},
        "TypeError: got multiple values for keyword argument 'settings' (options go to the table function as they "
        "are; no bypass of the workspace's settings, but a 500)"),
    "columns that are a flag": ("project.request_access", ANALYST, nothing,
                                {"project": PROJECT, "dataset_id": DATASET, "columns": True,
                                 "justification": "Costs"}, "TypeError: 'bool' object is not iterable"),
    "an output request number too big": ("requests.get", ANALYST, nothing, {"project": PROJECT, "request_id": HUGE},
                                         "OverflowError (SQLite) / NumericValueOutOfRange (PostgreSQL) binding the id"),
    "an output number too big": ("outputs.get", ANALYST, nothing, {"project": PROJECT, "output_id": HUGE},
                                 "OverflowError (SQLite) / NumericValueOutOfRange (PostgreSQL) binding the id"),
    "a linkage run number too big": ("project.linkage_run", ANALYST, nothing, {"project": PROJECT, "run_id": HUGE},
                                     "OverflowError (SQLite) / NumericValueOutOfRange (PostgreSQL) binding the id"),
    "review by a refused admin, request number too big": (
        "review.show", ADMIN, nothing, {"request_id": HUGE},
        "OverflowError / NumericValueOutOfRange before the policy is asked: the refused attempt is not audited"),
    "revoke by a refused analyst, grant number too big": (
        "owner.revoke", ANALYST, nothing, {"grant_id": HUGE, "reason": "Review"},
        "OverflowError / NumericValueOutOfRange before the policy is asked: the refused attempt is not audited"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_values_are_refused_not_a_500(jp_fetch, served, case: str) -> None:
    operation, user, arrange, arguments, _why = MALFORMED[case]
    arrange(served)
    admin = served(ADMIN)
    before = snapshot(admin)
    status, answer = await kernel_call(jp_fetch, user, operation, arguments)
    assert snapshot(admin) == before
    assert status in (400, 403, 404) and answer["error"] in ("InvalidInput", "AccessDenied", "NotFound"), answer
