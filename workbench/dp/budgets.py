"""``ws.dp``: the privacy budgets of datasets, set by their data owners (or delegates) and admins.

A budget across all projects caps what the dataset can ever give away; a budget per project shares it out. Both
are charged by every query (``workbench.dp.ledger``); lowering a budget below what was spent stops further queries.
The twin budget (``workbench.dp.twin_budget``) is apart: what the synthetic twins every catalogue reader sees spend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import audit
from workbench.dp import ledger, twin_budget
from workbench.errors import InvalidInput, NotFound
from workbench.governance.conditions import dataset_row, project_row

if TYPE_CHECKING:
    from workbench import records
    from workbench.context import Context


class Budgets:
    """Set and read privacy budgets (ε, and δ for mechanisms that use it)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def set_budget(self, dataset: str, epsilon: float, *, project: str | None = None,
                   delta: float = 0.0) -> records.Budget:
        """Set the ε budget of ``dataset`` for ``project`` (or, without it, across all projects)."""
        scope = f" in project {project}" if project is not None else " across all projects"
        resource = f"privacy budget of {dataset}{scope}"
        with self._ctx.write(audit_refusals_as=("dp.budget.set", resource)) as conn:
            row = dataset_row(conn, dataset)
            self._ctx.check("dp.budget.set", resource, owner=row["owner"], delegates=row["delegates"])
            epsilon = ledger.check_epsilon(epsilon, allow_zero=True)
            ok = (isinstance(delta, int | float) and not isinstance(delta, bool) and 0 <= delta < 1)
            if not ok:
                raise InvalidInput(f"delta: {delta!r} is not a number from 0 up to (not including) 1; the "
                                   "workbench's mechanisms use δ = 0.", field="delta")
            if project is not None:
                project_row(conn, project)
            result = ledger.set_budget(conn, username=self._ctx.actor.username, dataset_id=dataset,
                                       project_id=project, epsilon=epsilon, delta=float(delta))
            audit.append(conn, self._ctx.actor.username, "dp.budget.set", resource,
                         detail={"epsilon": epsilon, "delta": float(delta), "spent": result["spent"]})
        return result

    def set_twin_budget(self, dataset: str, epsilon: float, *, per_twin: float | None = None) -> dict[str, Any]:
        """Set the ε the synthetic twins of ``dataset`` may spend in total (0 stops new twins), and (given) what
        each new twin spends. A total below what twins already spent is refused: that privacy is gone."""
        resource = f"twin budget of {dataset}"
        with self._ctx.write(audit_refusals_as=("dp.twin_budget.set", resource)) as conn:
            row = dataset_row(conn, dataset)
            self._ctx.check("dp.twin_budget.set", resource, owner=row["owner"], delegates=row["delegates"])
            result = twin_budget.set_budget(conn, username=self._ctx.actor.username, dataset_id=dataset,
                                            epsilon=epsilon, per_twin=per_twin)
            audit.append(conn, self._ctx.actor.username, "dp.twin_budget.set", resource,
                         detail={"epsilon": result["epsilon"], "per_twin": result["per_twin"],
                                 "spent": result["spent"]})
        return result

    def budgets(self, dataset: str) -> pd.DataFrame:
        """Every budget of ``dataset`` with ε spent and remaining (owner, delegates, admins); the last row, scope
        'synthetic twins', is the twin budget (``queries``: twins made)."""
        resource = f"privacy budgets of {dataset}"
        try:
            with self._ctx.db.read() as conn:
                row = dataset_row(conn, dataset)
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("owner.usage", resource, error) from None
        self._ctx.require("owner.usage", resource, owner=row["owner"], delegates=row["delegates"])
        with self._ctx.db.read() as conn:
            frame = ledger.budget_frame(conn, [dataset])
            twins = twin_budget.budget(conn, dataset)
        row = {"dataset_id": dataset, "scope": "synthetic twins", "epsilon": twins["epsilon"],
               "spent": twins["spent"], "remaining": twins["remaining"], "queries": twins["twins"],
               "set_by": twins["set_by"], "set_at": twins["set_at"]}
        return pd.DataFrame([*frame.to_dict("records"), row], columns=frame.columns)
