"""Role × action through the real services: each operation on governed data allowed or denied as the policy
says, and each denial leaves the state unchanged and is audited."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ADMIN, ANALYST, CHECKER, OTHER_OWNER, OWNER, ROLE_OF, TRAINER
from factories import record
from sqlalchemy import func, select

from workbench.db.schema import audit_events, metadata
from workbench.errors import AccessDenied

# operation name → roles allowed to perform it
EXPECTED = {
    "search catalogue": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read entry": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "export catalogue": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "register own dataset": {"admin", "data_owner"},
    "change another owner's dataset": {"admin"},
    "import distribution": {"admin", "data_owner"},
    "list people": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "add person": {"admin"},
    "add department": {"admin"},
    "create project": {"admin"},
    "list projects": {"admin", "data_owner", "analyst", "output_checker", "trainer"},
    "read linkage truth": {"admin", "trainer"},
    "verify audit": {"admin"},
}


def operations(ws, user: str) -> dict:
    tag = user.split(".")[0]
    return {
        "search catalogue": lambda: ws.catalogue.search("hospital"),
        "read entry": lambda: ws.catalogue["dhsc.admissions"],
        "export catalogue": lambda: ws.catalogue.export(),
        "register own dataset": lambda: ws.catalogue.register(record(
            localId=f"dhsc.{tag}", identifier=f"https://data.example.invalid/{tag}",
            dataOwner=user if ROLE_OF[user] == "data_owner" else OWNER)),
        "change another owner's dataset": lambda: ws.catalogue.register(record(title="Changed")),
        "import distribution": lambda: ws.catalogue.import_text(
            f"identifier: https://data.example.invalid/{tag}.csv\ntype: dcat:Distribution\ntitle: T\n"
            "licence: OGL\nmediaType: text/csv\n"),
        "list people": lambda: ws.people.list(),
        "add person": lambda: ws.people.add(f"new.{tag}", "New Person", roles=["analyst"]),
        "add department": lambda: ws.departments.add(f"agency-{tag}", "Agency"),
        "create project": lambda: ws.create_project(
            f"p-{tag}", "Title", "Purpose", mission=1, legal_gateway="dea-2017-research", lead=ANALYST,
            start="2026-01-01", end="2026-12-31"),
        "list projects": lambda: ws.projects(),
        "read linkage truth": lambda: ws.demo.truth("dhsc.admissions"),
        "verify audit": lambda: ws.verify_audit(),
    }


@pytest.fixture
def world(staffed):
    staffed(OTHER_OWNER).catalogue.register(record(localId="dhsc.admissions"))
    admin = staffed(ADMIN)
    vault = admin._ctx.vault
    vault.write(vault.restricted_path("truth", "dhsc.admissions"),
                pd.DataFrame({"admission_id": ["A1"], "person_id": [1]}))
    return staffed


def snapshot(ws) -> dict:
    """Every row of every table but the audit log."""
    with ws._ctx.db.read() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all()))
                for t in metadata.sorted_tables if t.name != "audit_events"}


def denied_count(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)
                            .where(audit_events.c.outcome == "denied")).scalar_one()


@pytest.mark.parametrize("user", [ADMIN, OWNER, ANALYST, CHECKER, TRAINER])
def test_matrix(world, user: str) -> None:
    ws = world(user)
    role = ROLE_OF[user]
    for name, operation in operations(ws, user).items():
        before = denied_count(ws)
        if role in EXPECTED[name]:
            operation()
            assert denied_count(ws) == before, name
        else:
            state = snapshot(ws)
            with pytest.raises(AccessDenied):
                operation()
            assert denied_count(ws) == before + 1, f"{name}: the refusal was not audited"
            assert snapshot(ws) == state, f"{name}: a refusal changed something"


def test_strangers_are_refused_everything(world, connect_as) -> None:
    ws = connect_as("walk.in")
    for _name, operation in operations(ws, ANALYST).items():
        with pytest.raises(AccessDenied):
            operation()
    assert denied_count(ws) == len(EXPECTED)
