"""People, departments and projects: who can be registered, and refusals that change nothing."""

from __future__ import annotations

import pytest
from helpers import ADMIN, ANALYST, OWNER

from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.db  # also on PostgreSQL


def test_the_first_person_is_the_acting_user_as_admin(connect_as) -> None:
    ws = connect_as(ADMIN)
    with pytest.raises(InvalidInput, match="must be you"):
        ws.people.add("someone.else", "Someone", roles=["admin"])
    with pytest.raises(InvalidInput, match="must be you"):
        ws.people.add(ADMIN, "Ada", roles=["analyst"])
    person = ws.people.add(ADMIN, "Ada Admin", roles=["admin"], email="ada@example.invalid")
    assert person["roles"] == ["admin"] and ws.roles == ["admin"]
    stranger = connect_as("late.comer")
    with pytest.raises(AccessDenied, match=r"late\.comer may not add person late\.comer"):
        stranger.people.add("late.comer", "Late", roles=["admin"])


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"username": "Bad Name"}, InvalidInput, "username"),
    ({"username": "../x"}, InvalidInput, "username"),
    ({"name": " "}, InvalidInput, "full name"),
    ({"roles": ["wizard"]}, InvalidInput, "unknown role"),
    ({"email": "nope"}, InvalidInput, "email"),
    ({"department": "XYZ"}, InvalidInput, "not a department"),
    ({"username": ANALYST}, Conflict, "already registered"),
])
def test_bad_people_are_refused(staffed, kwargs, error, message) -> None:
    ws = staffed(ADMIN)
    before = len(ws.people.list())
    arguments = {"username": "new.person", "name": "New Person", "roles": ["analyst"], **kwargs}
    username, name = arguments.pop("username"), arguments.pop("name")
    with pytest.raises(error, match=message):
        ws.people.add(username, name, **arguments)
    assert len(ws.people.list()) == before


def test_people_and_departments_listing(staffed) -> None:
    ws = staffed(ANALYST)
    people = ws.people.list()
    assert people.columns[0] == "username" and len(people) == 6
    assert people.set_index("username").loc[OWNER, "roles"] == ["data_owner"]
    assert ws.people.get(OWNER)["department"] == "department-of-health-and-social-care"
    with pytest.raises(NotFound):
        ws.people.get("no.body")
    assert set(ws.departments.list()["abbreviation"]) == {"DHSC", "ONS"}
    admin = staffed(ADMIN)
    with pytest.raises(Conflict):
        admin.departments.add("home-office", "Home Office", "DHSC")
    with pytest.raises(InvalidInput, match="slug"):
        admin.departments.add("Home Office", "Home Office")


def test_projects(staffed) -> None:
    admin = staffed(ADMIN)
    project = admin.create_project(
        "m1-inactivity", "Economic inactivity", "Why people leave work.", mission=1,
        legal_gateway="dea-2017-research", lead=ANALYST, start="2026-04-01", end="2027-03-31",
        members={OWNER: "reviewer"}, status="active")
    assert project.members == {ANALYST: "lead", OWNER: "reviewer"}
    assert "Economic inactivity" in project._repr_html_()
    frame = staffed(ANALYST).projects()
    assert frame.columns[0] == "id" and list(frame["id"]) == ["m1-inactivity"]
    assert staffed(ANALYST).project("m1-inactivity").lead == ANALYST
    with pytest.raises(NotFound, match=r"ws\.projects"):
        admin.project("m9-nothing")


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"id": "M1 Bad"}, InvalidInput, "project id"),
    ({"mission": 6}, InvalidInput, "mission"),
    ({"legal_gateway": "because"}, InvalidInput, "known gateway"),
    ({"lead": "no.body"}, InvalidInput, "not registered"),
    ({"members": {ANALYST: "boss"}}, InvalidInput, "project role"),
    ({"start": "2027-01-01", "end": "2026-01-01"}, InvalidInput, "before it starts"),
    ({"start": "soon"}, InvalidInput, "not a date"),
    ({"status": "done"}, InvalidInput, "status"),
    ({"intended_datasets": ["dhsc.nothing"]}, InvalidInput, "not in the catalogue"),
])
def test_bad_projects_are_refused(staffed, kwargs, error, message) -> None:
    admin = staffed(ADMIN)
    arguments = {"id": "m1-project", "title": "T", "purpose": "P", "mission": 1,
                 "legal_gateway": "dea-2017-research", "lead": ANALYST, "start": "2026-01-01",
                 "end": "2026-12-31", **kwargs}
    with pytest.raises(error, match=message):
        admin.create_project(arguments.pop("id"), arguments.pop("title"), arguments.pop("purpose"), **arguments)
    assert admin.projects().empty
