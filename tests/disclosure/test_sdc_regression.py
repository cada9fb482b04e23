"""Regressions: the residual degrees of freedom rule, and each parameter's support reported and checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.errors import InvalidInput


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    n = 200
    frame = pd.DataFrame({"age": rng.integers(18, 80, n).astype(float),
                          "rare": (np.arange(n) < 4).astype(float),  # four people have the trait
                          "female": rng.integers(0, 2, n).astype(float)})
    frame["income"] = 1000 + 30 * frame.age + 500 * frame.female + rng.normal(0, 200, n)
    frame["employed"] = (rng.random(n) < 1 / (1 + np.exp(-(frame.age - 45) / 10))).astype(float)
    return frame


def test_ols_matches_statsmodels_and_passes_with_enough_data(people) -> None:
    exog = sm.add_constant(people[["age", "female"]])
    out = sdc.ols(people.income, exog)
    fitted = sm.OLS(people.income, exog).fit()
    assert out.kind == "regression" and out.status == "pass"
    pd.testing.assert_series_equal(out.table["coef"], fitted.params, check_names=False)
    assert list(out.table.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    assert out.properties["dof"] == 197 and out.properties["nobs"] == 200
    assert out.properties["parameters"]["female"]["support"] == min(people.female.sum(), 200 - people.female.sum())
    assert out.properties["parameters"]["age"]["support"] == 200
    pd.testing.assert_frame_equal(out.safe_table, out.table)


def test_too_few_degrees_of_freedom_fail_the_whole_model(people) -> None:
    small = people.iloc[:12]
    out = sdc.ols(small.income, sm.add_constant(small[["age", "female"]]))
    assert out.properties["dof"] == 9
    assert out.status == "fail" and out.flags["dof"].to_numpy().all()
    assert out.safe_table.isna().all().all()
    assert "the whole model: 9 residual degrees of freedom, fewer than 10" in out.explain()
    assert "refit" in out.mitigation["note"]
    relaxed = sdc.ols(small.income, sm.add_constant(small[["age", "female"]]), settings=DisclosureSettings(dof=5))
    assert not relaxed.flags["dof"].to_numpy().any()


def test_a_parameter_estimated_from_few_people_is_flagged(people) -> None:
    out = sdc.ols(formula="income ~ age + rare", data=people)
    assert out.flags["threshold"].loc["rare"].all()
    assert not out.flags["threshold"].loc[["Intercept", "age"]].to_numpy().any()
    assert out.status == "fail"
    assert out.safe_table.loc["rare"].isna().all() and out.safe_table.loc["age"].notna().all()
    assert "threshold — cells with fewer than 10 records: 1 parameter\n  rare: 4 records, fewer than 10" \
        in out.explain()


@pytest.mark.parametrize("method", ["logit", "probit"])
def test_binary_models(people, method) -> None:
    out = getattr(sdc, method)(formula="employed ~ age + female", data=people)
    assert out.method == method and out.status == "pass"
    assert list(out.table.columns)[2:4] == ["z", "P>|z|"]
    fitted = getattr(sm, method.capitalize())(people.employed, sm.add_constant(people[["age", "female"]])).fit(disp=0)
    assert np.allclose(out.table["coef"].to_numpy(), fitted.params.to_numpy())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "Give endog and exog"),
    ({"endog": [], "exog": pd.DataFrame({"x": []})}, "no rows"),
    ({"endog": [1.0, 2.0, 3.0], "exog": pd.DataFrame({"x": [1.0, 2.0]})}, "3 rows but exog has 2"),
    ({"endog": [1.0, 2.0], "exog": pd.DataFrame({"x": ["a", "b"]})}, "'x' is not numeric"),
    ({"formula": "income", "data": pd.DataFrame({"income": [1.0]})}, "formula"),
    ({"formula": "y ~ x", "data": pd.DataFrame()}, "data"),
])
def test_bad_models_are_refused(kwargs, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        sdc.ols(**kwargs)
