"""Findings of a hostile analyst's re-run of the service's trust-boundary attacks, each kept as a regression test
against the embedded workspace and a real ``workbench serve`` (the ``kernel`` fixture).

- A histogram's ``bins`` was handed to numpy unbounded: ``bins=10**9`` made the service allocate tens of GB and be
  killed by the operating system, taking every other person's session with it.
"""

from __future__ import annotations

import pytest
from conftest import ADMIN, ANALYST, DATASET, PROJECT, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput


def state(ws) -> dict:
    """Every table but the audit log and the service's own token bookkeeping (last use of a token)."""
    tables = snapshot(ws)
    tables.pop("api_tokens")
    return tables


def refused(ws, action: str, actor: str = ANALYST) -> list[dict]:
    with ws._ctx.db.read() as conn:
        rows = conn.execute(select(audit_events).where(
            (audit_events.c.action == action) & (audit_events.c.outcome == "refused")
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
