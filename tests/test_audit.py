"""The audit log is a hash chain: every change and every refusal is there, and tampering shows."""

from __future__ import annotations

import itertools

import pytest
from factories import record
from helpers import ADMIN, ANALYST, OWNER
from sqlalchemy import select, text, update

from workbench import audit
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied

pytestmark = pytest.mark.db  # also on PostgreSQL


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


@pytest.mark.parametrize("tamper", ["edit", "delete", "rehash_one", "reorder", "cut_tail", "reforge_tail"])
def test_tampering_is_detected(staffed, tamper) -> None:
    admin = staffed(ADMIN)
    log = events(admin)
    victim = log[3]
    with admin._ctx.db.write() as conn:
        if tamper == "edit":
            conn.execute(update(audit_events).where(audit_events.c.seq == victim.seq).values(actor="mallory"))
        elif tamper == "delete":
            conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": victim.seq})
        elif tamper == "rehash_one":  # recompute the edited event's own hash: the next link still breaks
            forged = audit._digest(victim.prev_hash, victim.at, "mallory", victim.action, victim.resource,
                                   victim.outcome, victim.detail)
            conn.execute(update(audit_events).where(audit_events.c.seq == victim.seq)
                         .values(actor="mallory", hash=forged))
        elif tamper == "reorder":  # swap two events' places in the sequence
            for seq, to in ((victim.seq, -1), (log[4].seq, victim.seq), (-1, log[4].seq)):
                conn.execute(update(audit_events).where(audit_events.c.seq == seq).values(seq=to))
        elif tamper == "cut_tail":  # drop the newest events: every remaining link is intact
            conn.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": victim.seq})
        else:  # rewrite the newest event and its hash, a chain valid in itself
            last = log[-1]
            forged = audit._digest(last.prev_hash, last.at, "mallory", last.action, last.resource, last.outcome,
                                   last.detail)
            conn.execute(update(audit_events).where(audit_events.c.seq == last.seq)
                         .values(actor="mallory", hash=forged))
    check = admin.verify_audit()
    assert not check.ok
    expected = {"edit": victim.seq, "reorder": victim.seq, "cut_tail": log[-1].seq, "reforge_tail": log[-1].seq}
    assert check.first_broken == expected.get(tamper, log[4].seq), check.reason


def test_concurrent_writers_keep_one_chain(staffed, connect_as, tmp_path) -> None:
    """Writers in several threads, each with its own connection pool, append to one unbroken chain."""
    import threading

    from workbench.context import Context

    admin = staffed(ADMIN)
    start = len(events(admin))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            ws = connect_as(ANALYST)
            ctx: Context = ws._ctx
            for i in range(15):
                with ctx.write() as conn:
                    audit.append(conn, ctx.actor.username, "test.append", f"writer {n} event {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(events(admin)) == start + 60
    assert admin.verify_audit().ok


def test_audit_verify_command(staffed, tmp_path, capsys, monkeypatch) -> None:
    from workbench.cli import main

    admin = staffed(ADMIN)
    home = str(admin.home)
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    if admin._ctx.db.dialect == "postgresql":
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", admin._ctx.db.url)
    assert main(["--home", home, "audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    with admin._ctx.db.write() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 2).values(actor="mallory"))
    assert main(["--home", home, "audit", "verify"]) == 1
    assert "broken at event 2" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_USER", ANALYST)
    assert main(["--home", home, "audit", "verify"]) == 1
    assert "may not verify" in capsys.readouterr().err


def test_only_admins_verify_the_chain(staffed) -> None:
    with pytest.raises(AccessDenied):
        staffed(ANALYST).verify_audit()
