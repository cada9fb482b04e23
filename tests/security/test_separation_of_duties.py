"""Separation of duties, tried as a hostile insider would, embedded and against a real ``workbench serve``.

Nobody decides an access request of a project they are a member of (admins included, in any project role, at
decision time), nobody names themselves a delegate, and a distribution or contact point belongs to the owner who
registered it. Each refusal is an ``AccessDenied`` naming why, changes nothing, and is audited as denied; the
allowed paths (an owner or delegate outside the project) still work.
"""

from __future__ import annotations

import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    DATASET,
    OTHER_OWNER,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    snapshot,
)
from sqlalchemy import func, select

from workbench.db.schema import audit_events, contact_points, distributions
from workbench.errors import AccessDenied

SHARED = "https://data.example.invalid/files/shared.csv"
DISTRIBUTION = (f"identifier: {SHARED}\ntype: dcat:Distribution\ntitle: {{title}}\nlicence: OGL\n"
                "mediaType: text/csv\n")
CONTACT = "contactName: {title}\nemail: data-team@example.invalid\n"


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def events(ws, action: str, outcome: str, actor: str) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == outcome)
            & (audit_events.c.actor == actor))).scalar_one()


def refused(desk, attempt, action: str, actor: str, message: str) -> AccessDenied:
    """``attempt`` is refused with ``message``, writes nothing, and one denial of ``action`` is audited."""
    host = desk(ADMIN)  # the workspace as the service host sees it
    before, denials = state(host), events(host, action, "denied", actor)
    with pytest.raises(AccessDenied, match=message) as refusal:
        attempt()
    assert state(host) == before, "a refusal changed something"
    assert events(host, action, "denied", actor) == denials + 1, "the refusal was not audited"
    return refusal.value


@pytest.fixture
def insider(desk):
    """ADMIN is also an accredited, trained analyst in OTHER_PROJECT (as the demo's own user is in every mission
    project); SECOND_ANALYST, an analyst there too, has asked for DATASET for it. Returns the pending request."""
    admin = desk(ADMIN)
    admin.people.set_roles(ADMIN, ["admin", "analyst"])
    admin.people.accredit(ADMIN, until="2099-12-31")
    admin.people.record_training(ADMIN, "safe-researcher", completed="2026-01-05")
    admin.project(OTHER_PROJECT).add_member(ADMIN, "analyst")
    return desk(SECOND_ANALYST).project(OTHER_PROJECT).request_access(DATASET, ["age_band", "cost"],
                                                                      justification="Service planning")["id"]


def test_nobody_names_themselves_a_delegate(kernel, desk, insider) -> None:
    admin = kernel(ADMIN)
    refused(desk, lambda: admin.owner.delegate(DATASET, ADMIN), "access.delegate", ADMIN,
            f"{ADMIN} may not name delegates for dataset {DATASET}: nobody may name themselves a delegate; the "
            f"dataset's data owner \\({OWNER}\\) or another admin must name you")
    owner = kernel(OWNER)
    refused(desk, lambda: owner.owner.delegate(DATASET, OWNER), "access.delegate", OWNER,
            "you own this dataset and decide its requests already")
    # the owner and an admin name others; an admin named by the owner may step down
    assert owner.owner.delegate(DATASET, CHECKER) == [CHECKER]
    assert admin.owner.delegate(DATASET, SECOND_ANALYST) == [SECOND_ANALYST, CHECKER]
    desk(OWNER).owner.delegate(DATASET, ADMIN)
    assert admin.owner.delegate(DATASET, ADMIN, remove=True) == [SECOND_ANALYST, CHECKER]


def test_an_admin_in_the_project_cannot_approve_its_request_and_nothing_loads(kernel, desk, insider) -> None:
    admin = kernel(ADMIN)
    # not a delegate: admin is no shortcut to deciding
    refused(desk, lambda: admin.owner.decide(insider, "approve"), "access.decide", ADMIN,
            f"only the dataset's data owner \\({OWNER}\\) or a delegate may decide")
    # named a delegate by the owner, still a member of the requesting project
    desk(OWNER).owner.delegate(DATASET, ADMIN)
    refusal = refused(desk, lambda: admin.owner.decide(insider, "approve"), "access.decide", ADMIN,
                      f"you are a member of project {OTHER_PROJECT} \\(analyst\\) and nobody decides access for a "
                      f"project they work in; the dataset's data owner \\({OWNER}\\) or a delegate who is not in "
                      "the project must decide")
    assert str(refusal).startswith(f"{ADMIN} may not decide request {insider}: dataset {DATASET} for project "
                                   f"{OTHER_PROJECT}: ")
    refused(desk, lambda: admin.owner.decide(insider, "refuse", reason="Not now"), "access.decide", ADMIN,
            f"you are a member of project {OTHER_PROJECT}")
    # the load afterwards finds no grant, for the admin and for the requester
    for user in (ADMIN, SECOND_ANALYST):
        project = kernel(user).project(OTHER_PROJECT)
        refused(desk, lambda project=project: project.load(DATASET), "data.load", user,
                f"project {OTHER_PROJECT} holds no grant for {DATASET}")
    assert list(desk(ADMIN).access.for_project(OTHER_PROJECT)["status"]) == ["pending"]


@pytest.mark.parametrize(("delegate", "requester", "role"), [(SECOND_ANALYST, ANALYST, "analyst"),
                                                              (ANALYST, SECOND_ANALYST, "lead")])
def test_a_delegate_in_the_requesting_project_cannot_decide(kernel, desk, delegate, requester, role) -> None:
    request = desk(requester).project(OTHER_PROJECT).request_access(DATASET, ["cost"], justification="Costs")["id"]
    desk(OWNER).owner.delegate(DATASET, delegate)
    ws = kernel(delegate)
    refused(desk, lambda: ws.owner.decide(request, "approve"), "access.decide", delegate,
            f"you are a member of project {OTHER_PROJECT} \\({role}\\)")


def test_membership_is_judged_at_decision_time(kernel, desk) -> None:
    request = desk(ANALYST).project(OTHER_PROJECT).request_access(DATASET, ["cost"], justification="Costs")["id"]
    admin = desk(ADMIN)
    desk(OWNER).owner.delegate(DATASET, CHECKER)
    admin.project(OTHER_PROJECT).add_member(CHECKER, "reviewer")  # joined after the request was made
    checker = kernel(CHECKER)
    refused(desk, lambda: checker.owner.decide(request, "approve"), "access.decide", CHECKER,
            f"you are a member of project {OTHER_PROJECT} \\(reviewer\\)")
    admin.project(OTHER_PROJECT).remove_member(CHECKER)  # left before deciding: may decide now
    assert checker.owner.decide(request, "approve")["status"] == "approved"
    assert events(admin, "access.grant", "ok", CHECKER) == 1


def test_owners_and_delegates_outside_the_project_still_decide(kernel, desk, insider) -> None:
    # the admin who is a member of OTHER_PROJECT, named a delegate, decides for PROJECT, which they are not in
    desk(OWNER).owner.delegate(DATASET, ADMIN)
    request = desk(ANALYST).project(PROJECT).request_access(DATASET, ["cost"], justification="Costs")["id"]
    decided = kernel(ADMIN).owner.decide(request, "refuse", reason="Use the grant you hold")
    assert decided["status"] == "refused" and decided["decided_by"] == ADMIN
    # the owner, outside OTHER_PROJECT, decides its request; then its analysts load
    approved = kernel(OWNER).owner.decide(insider, "approve")
    assert approved["status"] == "approved" and approved["decided_by"] == OWNER
    assert events(desk(ADMIN), "access.grant", "ok", OWNER) == 2  # the desk's grant, and this one
    frame = kernel(SECOND_ANALYST).project(OTHER_PROJECT).load(DATASET)
    assert sorted(frame.columns) == ["age_band", "cost"] and len(frame) > 0


def reference_rows(ws) -> dict[str, list[tuple]]:
    with ws._ctx.db.read() as conn:
        return {"distribution": sorted(conn.execute(select(distributions.c.title, distributions.c.registered_by,
                                                           distributions.c.record)).all(), key=repr),
                "contact point": sorted(conn.execute(select(contact_points.c.name, contact_points.c.registered_by,
                                                            contact_points.c.record)).all(), key=repr)}


@pytest.mark.parametrize("kind", ["distribution", "contact point"])
def test_another_owner_cannot_overwrite_a_registered_reference(kernel, desk, kind) -> None:
    template = DISTRIBUTION if kind == "distribution" else CONTACT
    desk(OTHER_OWNER).catalogue.import_text(template.format(title="Priya's"))
    before = reference_rows(desk(ADMIN))
    owner = kernel(OWNER)
    for text in (template.format(title="Hijacked"),  # alone, and behind a new record of the owner's own
                 DISTRIBUTION.replace("shared", "olu").format(title="Olu's") + "---\n" + template.format(title="X")):
        refused(desk, lambda text=text: owner.catalogue.import_text(text), "catalogue.register_reference", OWNER,
                f"{OWNER} may not register {kind} .*: it belongs to {OTHER_OWNER}, who registered it; only "
                f"{OTHER_OWNER} or an admin may change it")
    assert reference_rows(desk(ADMIN)) == before
    # an admin may correct it; it stays the registered owner's
    assert kernel(ADMIN).catalogue.import_text(template.format(title="Corrected"))[0]["action"] == "updated"
    assert [row[:2] for row in reference_rows(desk(ADMIN))[kind]] == [("Corrected", OTHER_OWNER)]


def test_another_owner_cannot_overwrite_a_distribution_through_dcat(kernel, desk) -> None:
    from workbench.catalogue.dcat import to_jsonld

    desk(OTHER_OWNER).catalogue.import_text(DISTRIBUTION.format(title="Priya's"))
    text = to_jsonld([], [{"identifier": SHARED, "type": "dcat:Distribution", "title": "Hijacked", "licence": "OGL",
                           "mediaType": "text/csv"}])
    before = reference_rows(desk(ADMIN))
    owner = kernel(OWNER)
    refused(desk, lambda: owner.catalogue.import_text(text, format="jsonld"), "catalogue.register_reference",
            OWNER, f"it belongs to {OTHER_OWNER}")
    assert reference_rows(desk(ADMIN)) == before
