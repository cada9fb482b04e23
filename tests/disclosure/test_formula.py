"""Regression formulas: the workbench's own grammar (nothing in a formula is evaluated), its canonical form, and
design matrices equal to patsy's for every formula of the grammar, so that fitted models are unchanged."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.formula.api as smf

from workbench import disclosure as sdc
from workbench.disclosure.formula import GRAMMAR, MAX_COLUMNS, MAX_LENGTH, design, parse
from workbench.errors import InvalidInput


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """Numbers, text, booleans, a pandas Categorical (with an unused category) and missing values."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "income": rng.gamma(2, 1000, n),
        "children": rng.integers(0, 4, n),
        "sex": rng.choice(["F", "M"], n).astype(object),
        "region": rng.choice(["North", "South", "East", "Wales"], n).astype(object),
        "smoker": rng.random(n) < 0.3,
        "year": rng.choice([2019, 2020, 2021], n),
        "band": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high", "none"]),
        "odd name": rng.normal(size=n),
    })
    frame["y"] = 10 + 0.1 * frame.age + 0.001 * frame.income + 2 * frame.smoker + rng.normal(0, 1, n)
    frame["employed"] = (rng.random(n) < 1 / (1 + np.exp(-(frame.age - 45) / 10))).astype(float)
    frame.loc[[3, 7, 40], "age"] = np.nan
    frame.loc[[5, 60], "region"] = None
    frame.loc[[9], "band"] = np.nan
    frame.loc[[11], "y"] = np.nan
    return frame


# formulas of the grammar that patsy reads the same way (back-quoted names and C(x, level) have no patsy spelling)
SAME_AS_PATSY = [
    "y ~ age", "y ~ age + income", "y ~ age + C(sex)", "y ~ age*C(sex)", "y ~ C(sex):age", "y ~ 0 + C(region)",
    "y ~ region + sex", "y ~ region:sex", "y ~ 0 + region:sex", "y ~ region*sex", "y ~ age + income + age:income",
    "y ~ C(year) + smoker", "y ~ band + age:band", "y ~ age:region + income:region + region", "y ~ -1 + age + sex",
    "y ~ (age + income)*sex - income", "y ~ age:income:sex + sex", "y ~ 1", "y ~ sex*region*smoker",
    "y ~ age - 1 + 1", "y ~ children + C(children)", "y ~ region:age:sex", "y ~ income:sex + age:sex + sex:region",
    "y ~ age + 0", "y ~ 0 + age - 0", "y ~ age + region - region", "y ~ (region + sex):(age + smoker)",
    "y ~ C(band) + band", "y ~ smoker:band", "y ~ age*income*sex", "employed ~ age + C(region) + smoker",
    "y~age+C(sex)", "y ~ ((age)) + (sex)",
]


@pytest.mark.parametrize("formula", SAME_AS_PATSY)
def test_design_matrix_equals_patsys(mixed, formula) -> None:
    ours = design(formula, mixed)
    outcome, exog = patsy.dmatrices(formula, mixed, return_type="dataframe", NA_action="drop")
    assert list(ours.exog.columns) == list(exog.columns)
    np.testing.assert_array_equal(ours.exog.to_numpy(), exog.to_numpy())
    assert list(ours.exog.index) == list(exog.index)
    np.testing.assert_array_equal(ours.endog.to_numpy(), outcome.iloc[:, 0].to_numpy())
    again = parse(parse(formula).text)  # the canonical form means the same model
    assert again == parse(formula)
    assert list(design(again, mixed).exog.columns) == list(exog.columns)


@pytest.mark.parametrize("formula", ["y ~ age + C(sex) + region", "y ~ age*C(sex) + smoker", "y ~ band + income",
                                     "y ~ 0 + region:sex + age"])
def test_ols_coefficients_equal_the_statsmodels_formula_path(mixed, formula) -> None:
    out = sdc.ols(formula=formula, data=mixed)
    before = smf.ols(formula, data=mixed, missing="drop").fit()
    assert list(out.table.index) == list(before.params.index)
    np.testing.assert_allclose(out.table["coef"].to_numpy(), before.params.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.table["std err"].to_numpy(), before.bse.to_numpy(), rtol=1e-9)
    assert out.properties["nobs"] == before.nobs and out.properties["dof"] == before.df_resid


@pytest.mark.parametrize("method", ["logit", "probit"])
def test_binary_models_equal_the_statsmodels_formula_path(mixed, method) -> None:
    formula = "employed ~ age + C(sex) + smoker"
    out = getattr(sdc, method)(formula=formula, data=mixed)
    before = getattr(smf, method)(formula, data=mixed, missing="drop").fit(disp=0)
    assert list(out.table.index) == list(before.params.index)
    np.testing.assert_allclose(out.table["coef"].to_numpy(), before.params.to_numpy(), rtol=1e-7, atol=1e-9)


def test_a_reference_level_is_coded_as_patsys_treatment_reference(mixed) -> None:
    ours = design("y ~ C(region, South) + C(year, 2020)", mixed)
    _, exog = patsy.dmatrices("y ~ C(region, Treatment('South')) + C(year, Treatment(2020))", mixed,
                              return_type="dataframe")
    assert list(ours.exog.columns) == ["Intercept", "C(region, South)[T.East]", "C(region, South)[T.North]",
                                       "C(region, South)[T.Wales]", "C(year, 2020)[T.2019]", "C(year, 2020)[T.2021]"]
    np.testing.assert_array_equal(ours.exog.to_numpy(), exog.to_numpy())
    with pytest.raises(InvalidInput, match=r"'Midlands' in C\(region, Midlands\) is not one of the 4 levels of "
                                           r"region \('East', 'North', 'South', 'Wales'\)"):
        design("y ~ C(region, Midlands)", mixed)


def test_back_quoted_names(mixed) -> None:
    frame = mixed.rename(columns={"y": "pay (£)", "sex": "sex`code"})
    ours = design("`pay (£)` ~ `odd name` + C(`sex``code`, M)", frame)
    assert list(ours.exog.columns) == ["Intercept", "C(`sex``code`, M)[T.F]", "`odd name`"]
    assert parse("`pay (£)` ~ `odd name` + C(`sex``code`, `M`)").text == "`pay (£)` ~ `odd name` + C(`sex``code`, M)"
    np.testing.assert_array_equal(ours.exog["`odd name`"].to_numpy(), frame.loc[ours.exog.index, "odd name"])


def test_a_boolean_outcome_is_zero_or_one_and_text_is_refused(mixed) -> None:
    frame = mixed.assign(flag=mixed.employed.astype(bool))
    np.testing.assert_array_equal(design("flag ~ age", frame).endog.to_numpy(),
                                  design("employed ~ age", frame).endog.to_numpy())
    with pytest.raises(InvalidInput, match="the outcome sex is not numeric or boolean"):
        design("sex ~ age", mixed)


@pytest.mark.parametrize(("written", "canonical"), [
    ("y~x", "y ~ x"),
    ("y ~ a*b - a", "y ~ b + a:b"),
    ("y ~ x - 1", "y ~ 0 + x"),
    ("y ~ -1 + x", "y ~ 0 + x"),
    ("y ~ x + 0", "y ~ 0 + x"),
    ("y ~ 0 + x - 0", "y ~ x"),
    ("y ~ (a + b):c", "y ~ a:c + b:c"),
    ("y ~ b:a + a:b + a:a", "y ~ b:a + a"),
    ("y ~ C( region ,North )", "y ~ C(region, North)"),
    ("y ~ C(year, 2020) + C(r, `North East`) + C(r, `1.5`)", "y ~ C(year, 2020) + C(r, `North East`) + C(r, 1.5)"),
    ("`odd name` ~ `x` + `x y`", "`odd name` ~ x + `x y`"),
    ("y ~ 1", "y ~ 1"),
    ("y ~ x - z", "y ~ x"),
    ("y ~ +x\n  + z", "y ~ x + z"),
])
def test_canonical_formula(written, canonical) -> None:
    assert parse(written).text == canonical
    assert parse(canonical).text == canonical


ATTACKS = {
    "C(__import__('os').system('touch /tmp/x'))": "strings are not part of a formula",
    "__import__('os')": "strings are not part of a formula",
    "I(x)": r"'I' at position 5 is a function call; the only function is C",
    "x + I(x ** 2)": r"'\*\*' at position 13 is not allowed",
    "np.log(x)": r"'\.' at position 7 is not allowed: there is no attribute access",
    "x.__class__": r"'\.' at position 6 is not allowed",
    '"str"': "strings are not part of a formula",
    "'a'": "strings are not part of a formula",
    "x - I(\"secret\")": r"'\"' at position 11 is not allowed: strings are not part of a formula",
    "x - I(secret)": r"'I' at position 9 is a function call",
    "lambda x: x": r"expected '\+', '-', ':', '\*' or the end of the formula but found 'x' at position 12",
    "x**2": r"'\*\*' at position 6",
    "x[0]": r"'\[' at position 6 is not allowed: there is no indexing",
    "x @ z": r"'@' at position 7 is not allowed",
    "x / z": r"nesting \(/\) is not supported",
    "x | z": r"'\|' at position 7",
    "x; import os": r"';' at position 6 is not allowed",
    "x # comment": r"'#' at position 7",
    "{x}": r"'\{' at position 5",
    "C(x, Treatment('a'))": "strings are not part of a formula",
    "C(x, Treatment(a))": r"expected '\)' to close C\( but found '\(' at position 19",
    "C(x, levels=z)": r"'=' at position 16",
    "C(C(x))": r"'C' at position 7 is a function call",
    "Q(x)": r"'Q' at position 5 is a function call",
    "exec(x)": r"'exec' at position 5 is a function call",
    "x + 2": r"'2' at position 9 is a number; the only numbers in a formula are 0 and 1",
    "x + 1.5": r"'1.5' at position 9 is a number",
    "2x": r"'2x' at position 5 is not a number or a name",
    "x + -1": r"'-' at position 9 follows '\+' at position 7: a sign can only start",
    "-x": r"'-' at position 5 can only remove the intercept",
    "1:x": r"the intercept \(0 or 1\) cannot take part in ':' at position 6",
    "(x - 1)*z": "the intercept",
    "(x": r"expected '\)' to close the '\(' at position 5 but found the end of the formula",
    "x)": r"found '\)' at position 6",
    "": r"expected a column name, C\(name\), 0, 1 or '\(' but found the end of the formula",
    "0": "the model has no terms and no intercept",
    "x - 1 - x": "the model has no terms and no intercept",
    "ｘ": r"'ｘ' at position 5 is not allowed: it is character U\+FF58",  # fullwidth x
    "аge": r"'а' at position 5 is not allowed: it is character U\+0430",  # Cyrillic a
    "a\u200bge": r"U\+200B",  # zero-width space
    "x\u00a0+ z": r"U\+00A0",  # no-break space
    "`x\u202e`": r"U\+202E at position 7 \(inside a back-quoted name\) is an invisible or control character",
    "`x": "the back-quoted name at position 5 is not closed",
    "``": "the back-quoted name at position 5 is empty",
    "(" * 25 + "x" + ")" * 25: "parentheses are nested more than 20 deep",
    "(a+b+c+d+e+f+g+h+i+j+k+l+m+n+o)*(a+b+c+d+e+f+g+h+i+j+k+l+m+n+o)": "it expands to more than 200 terms",
    "a:b:c:d:e:f:g:h:i": "an interaction has more than 8 columns",
}


@pytest.mark.parametrize("rhs", list(ATTACKS))
def test_anything_outside_the_grammar_is_refused_naming_the_token(rhs) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(f"y ~ {rhs}")
    message = str(refused.value)
    assert refused.value.field == "formula"
    assert re.search(ATTACKS[rhs], message), message
    assert message.endswith(GRAMMAR)


@pytest.mark.parametrize(("formula", "message"), [
    (5, "give the formula as text"),
    (None, "give the formula as text"),
    ("y + x", "there is no '~'"),
    ("~ x", "give the outcome column before '~'"),
    ("y x ~ z", r"expected '~' after the outcome .* but found 'x' at position 3"),
    ("C(y) ~ x", r"'C' at position 1 is a function call"),
    ("y ~ x ~ z", r"found '~' at position 7"),
    ("y ~ x + " + "x + " * 600, "a formula has at most 2,000"),
])
def test_malformed_formulas_are_refused(formula, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse(formula)


def test_a_missing_column_is_named_with_the_data_columns(mixed) -> None:
    with pytest.raises(InvalidInput, match=r"'salary' is not a column of the data \(its columns: age, income, "
                                           r"children, sex, region, smoker, year, band, `odd name`, y, employed\)"):
        sdc.ols(formula="y ~ age + salary", data=mixed)
    with pytest.raises(InvalidInput, match="'removed' is not a column"):  # a removed term must exist too
        design("y ~ age - removed", mixed)
    with pytest.raises(InvalidInput, match="'Age' is not a column"):  # names are exact
        design("y ~ Age", mixed)


def test_the_design_is_capped(mixed) -> None:
    wide = pd.DataFrame({"y": np.arange(1500.0), "id": [f"r{i}" for i in range(1500)]})
    with pytest.raises(InvalidInput, match=f"has more than {MAX_COLUMNS + 1:,} levels"):
        design("y ~ id", wide)
    with pytest.raises(InvalidInput, match="the model would have 1,001 columns; at most 1,000"):
        design("y ~ id", wide.iloc[:1001])
    with pytest.raises(InvalidInput, match="no row has a value in every column"):
        design("y ~ age", mixed.assign(age=np.nan))
    with pytest.raises(InvalidInput, match="infinite values"):
        design("y ~ age", mixed.assign(age=np.inf))
    with pytest.raises(InvalidInput, match="holds values that cannot be categories"):
        design("y ~ C(age)", mixed.assign(age=[[1]] * len(mixed)))
    with pytest.raises(InvalidInput, match="The model cannot be made: endog must be in the unit interval"):
        sdc.logit(formula="y ~ age", data=mixed)
    long = "y ~ " + "x + " * 498 + "x"
    assert len(long) <= MAX_LENGTH and parse(long).text == "y ~ x"


def test_the_stored_formula_and_command_are_the_canonical_ones(mixed) -> None:
    out = sdc.ols(formula="y ~ age*C(sex) - age:C(sex) + income-income", data=mixed)
    assert out.properties["formula"] == "y ~ age + C(sex)"
    assert out.command == "sdc.ols(formula='y ~ age + C(sex)', data=data)"
    assert list(out.table.index) == ["Intercept", "C(sex)[T.M]", "age"]


def test_models_on_the_demo_equal_the_statsmodels_formula_path(demo_as) -> None:
    """The Labour Force Survey of the demo, as an analyst of mission 1 loads it, fitted through the project."""
    project = demo_as("sanjay.patel").project("m1-economic-inactivity")
    lfs = project.load("ons.lfs")
    formula = "age ~ C(sex) + region + long_term_health_condition"
    out = project.tables.ols(lfs, formula, name="age by sex, region and health (formula test)")
    before = smf.ols(formula, data=lfs, missing="drop").fit()
    assert list(out.table.index) == list(before.params.index)
    np.testing.assert_allclose(out.table["coef"].to_numpy(), before.params.to_numpy(), rtol=1e-9)
    assert out.properties["formula"] == formula and out.properties["nobs"] == before.nobs
    frame = lfs.assign(limited=lfs["health_condition_limits_activity"].astype(float))
    for method in ("logit", "probit"):
        fitted = getattr(sdc, method)(formula="limited ~ age + C(sex)", data=frame)
        old = getattr(smf, method)("limited ~ age + C(sex)", data=frame, missing="drop").fit(disp=0)
        np.testing.assert_allclose(fitted.table["coef"].to_numpy(), old.params.to_numpy(), rtol=1e-6)
