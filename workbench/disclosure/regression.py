"""Regressions with disclosure control: ``ols``, ``logit`` and ``probit`` (statsmodels).

A model fitted with too few residual degrees of freedom nearly reproduces its data, so it fails the ``dof`` rule.
Each parameter is also reported with its support: for an indicator (two-valued) regressor, the number of
records in its smaller group. A coefficient estimated from fewer records than the threshold describes those
few people, so its row fails ``threshold``. Models are not mitigated automatically: refit instead.

A formula is parsed by the workbench's own grammar (``workbench.disclosure.formula``), never evaluated: the
design matrix is built from the data's columns and statsmodels gets arrays. What is stored with the output is
the canonical formula rebuilt from the parsed terms, not the text the analyst typed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.disclosure.formula import MAX_CELLS, MAX_WORK, Formula, design, parse
from workbench.disclosure.output import Output
from workbench.disclosure.settings import DisclosureSettings, resolve
from workbench.errors import InvalidInput


def _support(exog: np.ndarray) -> np.ndarray:
    """Records behind each parameter: the smaller group of a two-valued regressor, else every record."""
    n = exog.shape[0]
    support = np.full(exog.shape[1], n, dtype=np.int64)
    for j in range(exog.shape[1]):
        distinct, counts = np.unique(exog[:, j], return_counts=True)
        if len(distinct) == 2:
            support[j] = counts.min()
    return support


def _fit(method: str, endog: Any, exog: Any, formula: Formula | None, data: pd.DataFrame | None) -> Any:
    import statsmodels.api as sm

    model_class = {"ols": sm.OLS, "logit": sm.Logit, "probit": sm.Probit}[method]
    if formula is not None:
        built = design(formula, data)
        try:
            return model_class(built.endog, built.exog)
        except ValueError as exc:  # e.g. a logit outcome outside 0..1
            raise InvalidInput(f"The model cannot be made: {exc} (outcome {formula.outcome}).",
                               field="formula") from None
    if endog is None or exog is None:
        raise InvalidInput("Give endog and exog (the outcome and the regressors), or formula= and data=.",
                           field="endog")
    if len(endog) == 0:
        raise InvalidInput("endog: there are no rows, so there is no model to check.", field="endog")
    if len(endog) != len(exog):
        raise InvalidInput(f"endog has {len(endog)} rows but exog has {len(exog)}; pass columns of one "
                           "DataFrame.", field="exog")
    frame = exog if isinstance(exog, pd.DataFrame) else pd.DataFrame(exog)
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
    if bad or not pd.api.types.is_numeric_dtype(pd.Series(endog).dtype):
        which = ", ".join(map(repr, bad)) if bad else "endog"
        raise InvalidInput(f"The regression needs numbers; {which} is not numeric. Convert it, or make "
                           "indicator columns with pd.get_dummies(..., dtype=float).", field="exog")
    cells, work = len(frame) * frame.shape[1], len(frame) * frame.shape[1] ** 2
    if cells > MAX_CELLS or work > MAX_WORK:
        raise InvalidInput(f"exog: {len(frame):,} rows × {frame.shape[1]:,} columns is more than one model may take "
                           f"(at most {MAX_CELLS:,} cells and rows × columns² at most {MAX_WORK:,}); use fewer "
                           "columns or a sample of the rows.", field="exog")
    return model_class(endog, frame, missing="drop")


def _regression(method: str, endog: Any, exog: Any, formula: str | None, data: pd.DataFrame | None,
                settings: DisclosureSettings | None) -> Output:
    settings = resolve(settings)
    parsed = parse(formula) if formula is not None else None
    model = _fit(method, endog, exog, parsed, data)
    try:
        result = model.fit(disp=0) if method != "ols" else model.fit()
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise InvalidInput(f"The model could not be fitted: {exc}. Check for constant or collinear regressors "
                           "and for an outcome that one regressor predicts perfectly.") from exc
    except Exception as exc:  # statsmodels raises its own errors (e.g. perfect separation)
        if type(exc).__module__.startswith("statsmodels"):
            raise InvalidInput(f"The model could not be fitted: {exc}.") from exc
        raise
    stat = "t" if method == "ols" else "z"
    conf = result.conf_int()
    table = pd.DataFrame({"coef": result.params, "std err": result.bse, stat: result.tvalues,
                          f"P>|{stat}|": result.pvalues, "[0.025": conf.iloc[:, 0], "0.975]": conf.iloc[:, 1]})
    table.index.name = "parameter"
    dof = float(result.df_resid)
    support = _support(np.asarray(model.exog, dtype=float))
    shape = table.shape
    dof_flags = np.full(shape, dof < settings.dof)
    threshold_rows = (support > 0) & (support < settings.threshold)
    threshold_flags = np.repeat(threshold_rows[:, None], shape[1], axis=1)
    flags = {"dof": dof_flags, "threshold": threshold_flags}
    measures = {"dof": np.where(dof_flags, dof, np.nan),
                "threshold": np.where(threshold_flags, support[:, None].astype(float), np.nan)}
    failing = dof_flags | threshold_flags
    status = "fail" if failing.any() else "pass"
    safe = table.mask(failing)
    properties = {"method": method, "dof": dof, "nobs": int(result.nobs),
                  "parameters": {str(name): {"support": int(s)} for name, s in zip(table.index, support, strict=True)}}
    if parsed is not None:
        properties["formula"] = parsed.text
    mitigation: dict[str, Any] = {"method": "none"}
    if failing.any():
        mitigation["note"] = ("models are not mitigated automatically; refit with more records or fewer "
                              "parameters, or request an exception")
    command = (f"sdc.{method}(formula={parsed.text!r}, data=data)" if parsed is not None
               else f"sdc.{method}(endog, exog)")
    index, columns = table.index, table.columns
    return Output(kind="regression", method=method, table=table,
                  flags={n: pd.DataFrame(f, index=index, columns=columns) for n, f in flags.items()},
                  measures={n: pd.DataFrame(m, index=index, columns=columns) for n, m in measures.items()},
                  status=status, safe_table=safe, settings=settings, mitigation=mitigation,
                  properties=properties, command=command)


def ols(endog: Any = None, exog: Any = None, *, formula: str | None = None, data: pd.DataFrame | None = None,
        settings: DisclosureSettings | None = None) -> Output:
    """Ordinary least squares (``statsmodels`` OLS; add a constant to exog yourself, or use a formula).

    ``formula`` follows the grammar of ``workbench.disclosure.formula`` (e.g. ``"income ~ age + C(region)"``)."""
    return _regression("ols", endog, exog, formula, data, settings)


def logit(endog: Any = None, exog: Any = None, *, formula: str | None = None, data: pd.DataFrame | None = None,
          settings: DisclosureSettings | None = None) -> Output:
    """Logistic regression of a 0/1 outcome (``statsmodels`` Logit)."""
    return _regression("logit", endog, exog, formula, data, settings)


def probit(endog: Any = None, exog: Any = None, *, formula: str | None = None, data: pd.DataFrame | None = None,
           settings: DisclosureSettings | None = None) -> Output:
    """Probit regression of a 0/1 outcome (``statsmodels`` Probit)."""
    return _regression("probit", endog, exog, formula, data, settings)


__all__ = ["logit", "ols", "probit"]
