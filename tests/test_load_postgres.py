"""PostgreSQL under load, bounded: 20 simulated analysts (threads in two processes, each with its own workspace)
search, load, query with differential privacy and submit outputs for about ten seconds through the real
services (on a slow machine, until each has been refused by the budget, for at most two minutes more); then no
update is lost, no budget overspent, every refusal was clean and the audit chain verifies.
The full run with latencies is ``benchmarks/load_postgres.py`` (docs/benchmarks.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import PG_SKIP, PG_URL

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow  # twenty analysts for ten seconds
@pytest.mark.postgresql
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_twenty_analysts_for_ten_seconds_lose_nothing_and_overspend_nothing(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # spawned processes import the runner by name from here
    sys.modules.pop("load_postgres", None)
    import load_postgres

    outcome = load_postgres.run(PG_URL, users=20, seconds=10, processes=2, until_refused=120)
    failed = [f"{name}: {detail}" for name, passed, detail in outcome["checks"] if not passed]
    assert failed == []
    names = [name for name, _, _ in outcome["checks"]]
    assert any(n.startswith("no lost update") for n in names) and "audit chain valid" in names
    assert any(n.startswith("every BudgetExceeded was clean") for n in names)
    results = outcome["results"]
    assert len(results) == 20 and all(r["requests"] for r in results)  # every analyst got work done
    assert sum(r["dp_refused"] for r in results) > 0  # the budget ran out during the run


@pytest.mark.slow
@pytest.mark.postgresql
@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_twenty_kernels_through_the_service_lose_nothing_and_overspend_nothing(monkeypatch) -> None:
    """The same run with every analyst a kernel in service mode: one ``workbench serve`` process, a token each."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    sys.modules.pop("load_postgres", None)
    import load_postgres

    outcome = load_postgres.run(PG_URL, users=20, seconds=10, processes=2, via="service", until_refused=120)
    failed = [f"{name}: {detail}" for name, passed, detail in outcome["checks"] if not passed]
    assert failed == []
    results = outcome["results"]
    assert len(results) == 20 and all(r["requests"] for r in results)
    assert sum(r["dp_refused"] for r in results) > 0
