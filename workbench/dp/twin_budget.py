"""The privacy budget of a dataset's synthetic twins, and the record of every twin made — in the database.

A twin is published to every catalogue reader, so it is charged to its own budget, apart from the project budgets
DP queries spend: a dataset-wide total (ε over every twin ever made) and the ε each new twin spends, both set by
the data owner (absent: ``DEFAULT_EPSILON`` and ``DEFAULT_PER_TWIN``). A twin is charged once, when it is made from
a data version; reading it again costs nothing; a remade twin (new data, a changed schema) is charged again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, insert, select, update

from workbench import audit
from workbench.db.schema import twin_budgets, twin_spends
from workbench.errors import BudgetExceeded, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

DEFAULT_EPSILON = 1.0  # in total, until the owner sets another
DEFAULT_PER_TWIN = 0.25  # each twin made
MAX_EPSILON = 100.0  # a total above this is no protection at all; refused as a slip
TOLERANCE = 1e-9  # ε sums are floats; a charge that lands exactly on the budget must pass
SPEND_COLUMNS = ["dataset_id", "epsilon", "version", "made_by", "made_at", "columns"]


def budget(conn: Connection, dataset_id: str, *, lock: bool = False) -> dict[str, Any]:
    """The twin budget of ``dataset_id``: total ε, ε per twin, spent, remaining, twins made, who set it."""
    query = select(twin_budgets).where(twin_budgets.c.dataset_id == dataset_id)
    if lock:
        query = query.with_for_update()  # row locks on PostgreSQL; SQLite already holds its write lock
    row = conn.execute(query).mappings().first()
    used, count = spent(conn, dataset_id)
    total = row["epsilon"] if row else DEFAULT_EPSILON
    return {"dataset_id": dataset_id, "epsilon": float(total),
            "per_twin": float(row["per_twin"]) if row else DEFAULT_PER_TWIN, "spent": used,
            "remaining": max(total - used, 0.0), "twins": count, "set_by": row["set_by"] if row else None,
            "set_at": row["set_at"] if row else None}


def spent(conn: Connection, dataset_id: str) -> tuple[float, int]:
    """(ε spent, twins made) on the dataset's twins."""
    total, count = conn.execute(select(func.coalesce(func.sum(twin_spends.c.epsilon), 0.0), func.count())
                                .where(twin_spends.c.dataset_id == dataset_id)).one()
    return float(total), int(count)


def check_available(conn: Connection, dataset_id: str, epsilon: float, *, lock: bool = False) -> dict[str, Any]:
    """The budget, if a twin of ``epsilon`` fits in it; ``BudgetExceeded`` (nothing charged) if not."""
    current = budget(conn, dataset_id, lock=lock)
    if epsilon > current["remaining"] + TOLERANCE:
        raise BudgetExceeded(
            f"A new synthetic twin of {dataset_id} needs ε = {epsilon:g}, but its twin budget has ε = "
            f"{current['remaining']:.4g} remaining (of {current['epsilon']:g}; {current['spent']:.4g} spent on "
            f"{current['twins']} twin{'s' if current['twins'] != 1 else ''}). No twin was made and nothing was "
            "charged. The data owner or an admin can raise it.",
            notebook=f"(ws.dp.set_twin_budget({dataset_id!r}, epsilon=...))")
    return current


def charge(conn: Connection, *, username: str, dataset_id: str, version: str, epsilon: float,
           columns: list[dict[str, Any]]) -> dict[str, Any]:
    """Record a twin made (charging its ε), or refuse and record nothing. Call inside a write transaction."""
    current = check_available(conn, dataset_id, epsilon, lock=True)
    now = datetime.now(UTC)
    conn.execute(insert(twin_spends).values(dataset_id=dataset_id, version=version, username=username,
                                            epsilon=epsilon, columns=columns, at=now))
    remaining = max(current["remaining"] - epsilon, 0.0)
    audit.append(conn, username, "catalogue.twin", f"twin of dataset {dataset_id}",
                 detail={"epsilon": epsilon, "remaining": remaining, "version": version})
    return {"epsilon": epsilon, "made_at": now, "remaining": remaining}


def set_budget(conn: Connection, *, username: str, dataset_id: str, epsilon: Any,
               per_twin: Any = None) -> dict[str, Any]:
    """Set the total (and, given, the per-twin) ε; refuses a total below what twins already spent."""
    current = budget(conn, dataset_id, lock=True)
    epsilon = check_total(epsilon)
    per = current["per_twin"] if per_twin is None else check_per_twin(per_twin)
    if epsilon + TOLERANCE < current["spent"]:
        raise InvalidInput(f"epsilon: {epsilon:g} is below the ε = {current['spent']:.4g} its twins already spent; "
                           f"spent privacy cannot be taken back. Set at least {current['spent']:.4g} (exactly "
                           "that stops new twins).", field="epsilon")
    if per > MAX_EPSILON:
        raise InvalidInput(f"per_twin: {per!r} is more than {MAX_EPSILON:g}.", field="per_twin")
    now = datetime.now(UTC)
    values = {"epsilon": epsilon, "per_twin": per, "set_by": username, "set_at": now}
    if current["set_by"] is None:
        conn.execute(insert(twin_budgets).values(dataset_id=dataset_id, **values))
    else:
        conn.execute(update(twin_budgets).where(twin_budgets.c.dataset_id == dataset_id).values(**values))
    return budget(conn, dataset_id)


def check_total(value: Any, field: str = "epsilon") -> float:
    """A total twin budget: a finite number from 0 (no new twins) to ``MAX_EPSILON``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_EPSILON
    if not ok:
        raise InvalidInput(f"{field}: {value!r} is not a number from 0 to {MAX_EPSILON:g}; a twin budget is a small "
                           f"total privacy loss such as {DEFAULT_EPSILON:g} (0 stops new twins).", field=field)
    return float(value)


def check_per_twin(value: Any) -> float:
    """What one twin spends (``workbench.catalogue.twin`` draws it: from 1e-6 to its ``MAX_EPSILON``)."""
    from workbench.catalogue.twin import check_twin_epsilon  # numpy and pyarrow: loaded when a budget is set

    return check_twin_epsilon(value, "per_twin")


def latest(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """The most recent twin made of ``dataset_id``: ε, when, by whom, from which version, and how."""
    row = conn.execute(select(twin_spends).where(twin_spends.c.dataset_id == dataset_id)
                       .order_by(twin_spends.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return {"epsilon": row["epsilon"], "made_at": row["at"], "made_by": row["username"], "version": row["version"],
            "columns": row["columns"]}


def spend_frame(conn: Connection, dataset_id: str) -> pd.DataFrame:
    """Every twin made of ``dataset_id``, oldest first."""
    rows = conn.execute(select(twin_spends).where(twin_spends.c.dataset_id == dataset_id)
                        .order_by(twin_spends.c.id)).mappings().all()
    return pd.DataFrame([{"dataset_id": r["dataset_id"], "epsilon": r["epsilon"], "version": r["version"],
                          "made_by": r["username"], "made_at": r["at"], "columns": r["columns"]} for r in rows],
                        columns=SPEND_COLUMNS)
