"""The budget is spent atomically: 50 concurrent spenders (threads in this process and in four others) against
one small budget never overspend it, on SQLite and PostgreSQL; every refusal is a clean ``BudgetExceeded``."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
from helpers import ANALYST, DATASET, OWNER, PROJECT, grant
from spenders import spend
from sqlalchemy import func, select

from workbench.db.schema import audit_events, dp_spends, outputs

pytestmark = pytest.mark.db  # also on PostgreSQL


BUDGET, COST, PROCESSES, THREADS = 1.0, 0.1, 4, 10


@pytest.mark.slow  # fifty spenders in four processes, for seconds
def test_fifty_concurrent_spenders_never_overspend(governed, tmp_path, database_url) -> None:
    grant(governed, columns=["age_band"])
    owner = governed(OWNER)
    owner.dp.set_budget(DATASET, BUDGET)
    owner.dp.set_budget(DATASET, BUDGET, project=PROJECT)
    home = str(tmp_path / "ws")
    start_at = time.time() + 8  # the other processes need a few seconds to import the workbench
    args = (home, database_url, ANALYST, PROJECT, DATASET, COST, THREADS)
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = [pool.submit(spend, *args, start_at) for _ in range(PROCESSES)]
        here = spend(*args, start_at)
        outcomes = here + [result for future in remote for result in future.result()]
    assert len(outcomes) == (PROCESSES + 1) * THREADS == 50
    assert [o for o in outcomes if o not in ("ok", "refused")] == []
    ws = governed(ANALYST)
    with ws._ctx.db.read() as conn:
        total = conn.execute(select(func.sum(dp_spends.c.epsilon))).scalar_one()
        entries = conn.execute(select(func.count()).select_from(dp_spends)).scalar_one()
        recorded = conn.execute(select(func.count()).select_from(outputs)).scalar_one()
        spend_events = conn.execute(select(func.count()).select_from(audit_events)
                                    .where(audit_events.c.action == "dp.spend")).scalar_one()
    assert total <= BUDGET + 1e-9
    assert outcomes.count("ok") == entries == recorded == spend_events == round(BUDGET / COST)
    assert outcomes.count("refused") == 50 - entries
    assert ws.project(PROJECT).dp.budget().set_index("scope").loc[PROJECT, "remaining"] < COST
    assert governed("ada.admin").verify_audit().ok
