"""The audit log is a hash chain: every change and every refusal is there, and tampering shows."""

from __future__ import annotations

import itertools

import pytest
from conftest import ADMIN, ANALYST, OWNER
from factories import record
from sqlalchemy import select, text, update

from workbench import audit
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied


def events(ws) -> list:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).order_by(audit_events.c.seq)).all()


def test_changes_and_refusals_are_chained(staffed) -> None:
    staffed(OWNER).catalogue.register(record())
    analyst = staffed(ANALYST)
    with pytest.raises(AccessDenied):
        analyst.catalogue.register(record(title="Not mine"))
    log = events(analyst)
    assert [e.action for e in log][:2] == ["people.add", "departments.add"]
    assert log[-1].actor == ANALYST and log[-1].outcome == "denied" and log[-1].action == "catalogue.update"
    assert "dataset's data owner" in log[-1].detail["reason"]
    assert log[-2].action == "catalogue.register" and log[-2].actor == OWNER
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(log))
    assert log[0].prev_hash == audit.GENESIS
    assert staffed(ADMIN).verify_audit().ok


@pytest.mark.parametrize("tamper", ["edit", "delete", "rehash_one"])
def test_tampering_is_detected(staffed, tamper) -> None:
    admin = staffed(ADMIN)
    log = events(admin)
    victim = log[3]
    with admin._ctx.db.write() as conn:
        if tamper == "edit":
            conn.execute(update(audit_events).where(audit_events.c.seq == victim.seq).values(actor="mallory"))
        elif tamper == "delete":
            conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": victim.seq})
        else:  # recompute the edited event's own hash: the next link still breaks
            forged = audit._digest(victim.prev_hash, victim.at, "mallory", victim.action, victim.resource,
                                   victim.outcome, victim.detail)
            conn.execute(update(audit_events).where(audit_events.c.seq == victim.seq)
                         .values(actor="mallory", hash=forged))
    check = admin.verify_audit()
    assert not check.ok
    assert check.first_broken == (victim.seq if tamper == "edit" else log[4].seq)


def test_only_admins_verify_the_chain(staffed) -> None:
    with pytest.raises(AccessDenied):
        staffed(ANALYST).verify_audit()
