"""Statistical disclosure control: tables and models checked cell by cell, mitigated, ready for output checking.

    from workbench import disclosure as sdc
    out = sdc.crosstab(df.region, df.sex, values=df.income, aggfunc="mean")
    out.status        # "pass" | "fail" | "review"
    out.flags         # {rule: boolean DataFrame aligned with out.table}
    out.safe_table    # after suppression (safe against the totals) or rounding
    sdc.to_results_json([out], "outputs/")   # ACRO/SACRO results.json for an output checker

Every function takes ``settings=`` (``DisclosureSettings``; default: the standard rules). In a workspace, use
``ws.disclosure.settings()`` so outputs meet the rules the workspace's admins set. pandas, numpy and statsmodels
load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from workbench.disclosure.settings import DisclosureSettings

if TYPE_CHECKING:
    from workbench.disclosure.output import Output
    from workbench.disclosure.regression import logit, ols, probit
    from workbench.disclosure.results_json import read_results_json, to_results_json
    from workbench.disclosure.tables import crosstab, groupby_agg, histogram, pivot_table

_LAZY = {
    "Output": "workbench.disclosure.output",
    "crosstab": "workbench.disclosure.tables",
    "pivot_table": "workbench.disclosure.tables",
    "groupby_agg": "workbench.disclosure.tables",
    "histogram": "workbench.disclosure.tables",
    "ols": "workbench.disclosure.regression",
    "logit": "workbench.disclosure.regression",
    "probit": "workbench.disclosure.regression",
    "to_results_json": "workbench.disclosure.results_json",
    "read_results_json": "workbench.disclosure.results_json",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench.disclosure' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = ["DisclosureSettings", "Output", "crosstab", "groupby_agg", "histogram", "logit", "ols", "pivot_table",
           "probit", "read_results_json", "to_results_json"]
