"""Findings of a hostile analyst's re-run of the service's trust-boundary attacks, each kept as a regression test
against the embedded workspace and a real ``workbench serve`` (the ``kernel`` fixture).

- A histogram's ``bins`` was handed to numpy unbounded: ``bins=10**9`` made the service allocate tens of GB and be
  killed by the operating system, taking every other person's session with it.
- Separation of duties, one admin alone: an admin who is an analyst in a project made themselves the owner of a
  dataset (admins may change any entry), left the project, approved its pending request as owner, joined again and
  loaded the data. Nobody now makes themselves a dataset's owner, and nobody joins a project whose current grants
  they approved.
"""

from __future__ import annotations

import pytest
from conftest import ADMIN, ANALYST, DATASET, OTHER_PROJECT, OWNER, PROJECT, SECOND_ANALYST, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, InvalidInput


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def refused(ws, action: str, actor: str = ANALYST, outcome: str = "refused") -> list[dict]:
    with ws._ctx.db.read() as conn:
        rows = conn.execute(select(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == outcome)
            & (audit_events.c.actor == actor)).order_by(audit_events.c.seq)).mappings().all()
    return [dict(r) for r in rows]


@pytest.mark.parametrize(("bins", "message"), [
    (10**9, "bins: 1000000000 is not a number of bins from 1 to 10,000"),
    (0, "bins: 0 is not a number of bins from 1 to 10,000"),
    ("fd", "bins: give a number of bins .* not str"),
    (list(range(20_000)), "bins: 20,000 edges; give from 2 to 10,001"),
])
def test_a_histogram_with_too_many_bins_is_refused_before_numpy_allocates_them(kernel, desk, bins, message) -> None:
    host = desk(ADMIN)
    project = kernel(ANALYST).project(PROJECT)
    data = project.load(DATASET)
    before, audited = state(host), len(refused(host, "outputs.create"))
    with pytest.raises(InvalidInput, match=message):
        project.tables.histogram(data, "cost", bins=bins)
    assert state(host) == before
    assert len(refused(host, "outputs.create")) == audited + 1
    assert project.tables.histogram(data, "cost", bins=12).kind == "histogram"  # the service is still there


def test_an_admin_cannot_make_themselves_the_owner_of_a_dataset(kernel, desk) -> None:
    host = desk(ADMIN)
    admin = kernel(ADMIN)
    record = dict(admin.catalogue.get(DATASET).record)
    record["dataOwner"] = ADMIN
    before, denied = state(host), len(refused(host, "catalogue.update", ADMIN, "denied"))
    with pytest.raises(AccessDenied, match=f"{ADMIN} may not change dataset {DATASET}: nobody makes themselves the "
                                           f"owner of a dataset another person owns \\({OWNER}\\)"):
        admin.catalogue.register(record)
    assert state(host) == before
    assert host.catalogue.get(DATASET).owner == OWNER
    assert len(refused(host, "catalogue.update", ADMIN, "denied")) == denied + 1
    record["dataOwner"] = "priya.owner"  # handing it to another data owner is still an admin's to do
    admin.catalogue.register(record)
    assert host.catalogue.get(DATASET).owner == "priya.owner"


def test_nobody_joins_a_project_whose_current_grant_they_approved(kernel, desk) -> None:
    """ADMIN, a delegate outside OTHER_PROJECT, approves its request (allowed), then tries to join it."""
    host = desk(ADMIN)
    host.people.set_roles(ADMIN, ["admin", "analyst"])
    desk(OWNER).owner.delegate(DATASET, ADMIN)
    request = desk(SECOND_ANALYST).project(OTHER_PROJECT).request_access(DATASET, ["age_band", "cost"],
                                                                         justification="Service planning")
    admin = kernel(ADMIN)
    grant = admin.owner.decide(request["id"], "approve")["grant_id"]
    before, denied = state(host), len(refused(host, "projects.manage", ADMIN, "denied"))
    with pytest.raises(AccessDenied, match=f"{ADMIN} approved the project's current grant\\(s\\) {grant}, and nobody "
                                           "works in a project whose access they decided"):
        admin.project(OTHER_PROJECT).add_member(ADMIN, "analyst")
    assert state(host) == before
    assert len(refused(host, "projects.manage", ADMIN, "denied")) == denied + 1
    admin.project(OTHER_PROJECT).add_member("chris.checker", "reviewer")  # adding others is unchanged
    host.access.revoke(grant, reason="decided by a future member")
    admin.project(OTHER_PROJECT).add_member(ADMIN, "analyst")  # once the grant is revoked, they may join
