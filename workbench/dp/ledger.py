"""Privacy budgets and the ledger that spends them, atomically, in the workspace database.

A dataset has a budget across all projects and may have one per project; a query is charged to every budget that
applies, and refused (``BudgetExceeded``, nothing charged) if any would be overspent or none is set. The charge is
made in one write transaction — ``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL (inside the workspace's
serialised write) — before any noise is drawn, so concurrent queries can never overspend.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, insert, select, update

from workbench import audit
from workbench.db.schema import dp_budgets, dp_spends
from workbench.errors import BudgetExceeded, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection

    from workbench import records

TOLERANCE = 1e-9  # ε sums are floats; a spend that lands exactly on the budget must pass
MIN_QUERY_EPSILON = 1e-6  # a query's privacy loss; below it the noise overflows the integers it is drawn in
MAX_QUERY_EPSILON = 100.0  # above it the noise of a count is zero in all but ~e^-100 of draws: no privacy at all
BUDGET_COLUMNS = ["dataset_id", "scope", "epsilon", "spent", "remaining", "queries", "set_by", "set_at"]


def check_epsilon(value: Any, field: str = "epsilon", *, allow_zero: bool = False) -> float:
    """A finite positive number (or zero, for a budget that stops all queries); a query's from
    ``MIN_QUERY_EPSILON`` to ``MAX_QUERY_EPSILON``."""
    accepted = ("zero or more" if allow_zero
                else f"from {MIN_QUERY_EPSILON:g} to {MAX_QUERY_EPSILON:g}")
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(f"{field}: {value!r} is not a finite number {accepted}; privacy loss is a positive "
                           "number such as 0.5 or 1 (smaller: more noise, less budget spent).", field=field)
    if not allow_zero and value < MIN_QUERY_EPSILON:
        raise InvalidInput(f"{field}: {value!r} is below {MIN_QUERY_EPSILON:g}; at so small a privacy loss the noise "
                           "is larger than any number the answer could hold, so the query would say nothing. Use "
                           f"an epsilon {accepted}, such as 0.1.", field=field)
    if not allow_zero and value > MAX_QUERY_EPSILON:
        raise InvalidInput(f"{field}: {value!r} is above {MAX_QUERY_EPSILON:g}; at so large a privacy loss the noise "
                           "vanishes (the answer would be exact, protecting nobody). Use an epsilon "
                           f"{accepted}, such as 1.", field=field)
    return float(value)


def budget_rows(conn: Connection, dataset_id: str, project_id: str | None, *, lock: bool = False) -> list[dict]:
    """The dataset-wide budget and, with ``project_id``, the project's (each if set), locked when ``lock``."""
    scope: ColumnElement[bool] = dp_budgets.c.project_id.is_(None)
    if project_id is not None:
        scope = scope | (dp_budgets.c.project_id == project_id)
    query = select(dp_budgets).where((dp_budgets.c.dataset_id == dataset_id) & scope).order_by(dp_budgets.c.id)
    if lock:
        query = query.with_for_update()  # row locks on PostgreSQL; SQLite already holds its write lock
    return [dict(row) for row in conn.execute(query).mappings()]


def spent(conn: Connection, dataset_id: str, project_id: str | None) -> tuple[float, int]:
    """(ε spent, queries) on the dataset, by ``project_id`` or (None) by every project."""
    where = dp_spends.c.dataset_id == dataset_id
    if project_id is not None:
        where &= dp_spends.c.project_id == project_id
    total, count = conn.execute(select(func.coalesce(func.sum(dp_spends.c.epsilon), 0.0), func.count())
                                .where(where)).one()
    return float(total), int(count)


def _scope(row: dict) -> str:
    return f"project {row['project_id']}" if row["project_id"] else "all projects"


def reserve(conn: Connection, *, username: str, project_id: str, datasets: list[str], method: str,
            query: dict[str, Any], epsilon: float, delta: float = 0.0) -> tuple[str, list[int], dict[str, float]]:
    """Charge ``epsilon`` to every budget of every dataset, or refuse and charge nothing.

    Returns (query id, ledger entry ids, ε remaining per dataset after the charge: the tightest budget).
    Call inside a write transaction; the caller commits it before drawing noise.
    """
    remaining = check_available(conn, project_id=project_id, datasets=datasets, epsilon=epsilon, delta=delta,
                                lock=True)
    query_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    ids = [conn.execute(insert(dp_spends).values(  # type: ignore[index]  # an INSERT's result holds the new key
        query_id=query_id, project_id=project_id, dataset_id=dataset_id, username=username, method=method,
        query=query, epsilon=epsilon, delta=delta, at=now)).inserted_primary_key[0] for dataset_id in datasets]
    audit.append(conn, username, "dp.spend", f"{', '.join(datasets)} in project {project_id}",
                 detail={"query_id": query_id, "method": method, "epsilon": epsilon, "delta": delta,
                         "ledger": ids, "remaining": remaining})
    return query_id, ids, remaining


def check_available(conn: Connection, *, project_id: str, datasets: list[str], epsilon: float, delta: float = 0.0,
                    lock: bool = False) -> dict[str, float]:
    """ε left per dataset after a charge of ``epsilon`` (the tightest budget), or ``BudgetExceeded``.

    Without ``lock`` it is a cheap early answer (a query refuses before reading any data); ``reserve`` asks again
    under lock, which is the answer that counts."""
    remaining: dict[str, float] = {}
    for dataset_id in datasets:
        rows = budget_rows(conn, dataset_id, project_id, lock=lock)
        if not rows:
            raise BudgetExceeded(
                f"No privacy budget is set for {dataset_id}, so no differentially private query may use it (ε "
                f"remaining: 0). Its data owner or an admin sets one.",
                notebook=f"(ws.dp.set_budget({dataset_id!r}, epsilon=..., project={project_id!r}))")
        left = []
        for row in rows:
            used, _ = spent(conn, dataset_id, row["project_id"])
            available = row["epsilon"] - used
            if epsilon > available + TOLERANCE:
                raise BudgetExceeded(
                    f"This query needs ε = {epsilon:g} of {dataset_id}, but its budget for {_scope(row)} has "
                    f"ε = {max(available, 0.0):.4g} remaining (of {row['epsilon']:g}; {used:.4g} spent). Nothing was "
                    "charged: use a smaller epsilon (see preview=True for the accuracy it gives), or ask the data "
                    "owner for more budget.")
            if delta > row["delta"] + TOLERANCE:
                raise BudgetExceeded(f"This query needs δ = {delta:g} but the budget for {dataset_id} in "
                                     f"{_scope(row)} allows δ = {row['delta']:g}. Nothing was charged.")
            left.append(available - epsilon)
        remaining[dataset_id] = max(min(left), 0.0)
    return remaining


def set_budget(conn: Connection, *, username: str, dataset_id: str, project_id: str | None, epsilon: float,
               delta: float) -> records.Budget:
    """Create or replace the budget of one scope (the dataset across projects, or one project)."""
    now = datetime.now(UTC)
    existing = [r for r in budget_rows(conn, dataset_id, project_id, lock=True) if r["project_id"] == project_id]
    values = {"epsilon": epsilon, "delta": delta, "set_by": username, "set_at": now}
    if existing:
        conn.execute(update(dp_budgets).where(dp_budgets.c.id == existing[0]["id"]).values(**values))
    else:
        conn.execute(insert(dp_budgets).values(dataset_id=dataset_id, project_id=project_id, **values))
    used, _ = spent(conn, dataset_id, project_id)
    return {"dataset_id": dataset_id, "scope": project_id or "all projects", "epsilon": epsilon, "delta": delta,
            "spent": used, "remaining": max(epsilon - used, 0.0)}


def budget_frame(conn: Connection, dataset_ids: list[str], project_id: str | None = None) -> pd.DataFrame:
    """One row per budget of the datasets (limited to ``project_id``'s and the dataset-wide ones when given)."""
    query = select(dp_budgets).where(dp_budgets.c.dataset_id.in_(dataset_ids))
    if project_id is not None:
        query = query.where(dp_budgets.c.project_id.is_(None) | (dp_budgets.c.project_id == project_id))
    rows = []
    for row in conn.execute(query.order_by(dp_budgets.c.dataset_id, dp_budgets.c.id)).mappings():
        used, count = spent(conn, row["dataset_id"], row["project_id"])
        rows.append({"dataset_id": row["dataset_id"], "scope": row["project_id"] or "all projects",
                     "epsilon": row["epsilon"], "spent": used, "remaining": max(row["epsilon"] - used, 0.0),
                     "queries": count, "set_by": row["set_by"], "set_at": row["set_at"]})
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)
