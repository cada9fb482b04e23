"""Concurrent spenders for the ledger test: threads in this process or in another one (importable by name, so
a spawned process can run it)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor


def spend(home: str, url: str | None, user: str, project: str, dataset: str, epsilon: float,
          threads: int, start_at: float | None = None) -> list[str]:
    """``threads`` queries at once, each asking for ``epsilon``: "ok", "refused" (BudgetExceeded) or the error."""
    import time

    import workbench
    from workbench.errors import BudgetExceeded

    os.environ["WORKBENCH_USER"] = user
    ws = workbench.connect(home, database_url=url, create=False)
    gate = threading.Barrier(threads)

    def one(_: int) -> str:
        gate.wait()
        try:
            ws.project(project).dp.count(dataset, epsilon=epsilon)
            return "ok"
        except BudgetExceeded:
            return "refused"
        except Exception as error:  # reported, and the test fails on it
            return f"error: {type(error).__name__}: {error}"

    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, range(threads)))
    finally:
        ws.close()
