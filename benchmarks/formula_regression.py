"""Regression formulas without evaluation, against the statsmodels formula path they replace: the workbench's own
parser and design-matrix builder (``workbench.disclosure.formula``) against ``patsy.dmatrices`` on the same frame
and formula, and the whole disclosure-checked ``sdc.ols(formula=...)`` against ``smf.ols(...).fit()``.

The frame: numeric columns, a text column of 12 levels, a boolean and a pandas Categorical, with 1% missing
values; the formula has main effects, a categorical with a chosen reference and an interaction. patsy does the same
work (parse, NA dropping, treatment coding, the design matrix); it also evaluates terms as Python, which is why
it is not used. ``smf.ols().fit()`` fits the model only; ``sdc.ols`` also runs a regression's disclosure checks
(``docs/disclosure.md``), so that baseline does less work. Each timing is the median of
interleaved, warm repeats; peak memory per side is printed too.

    python benchmarks/formula_regression.py [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse

from _machine import describe, interleaved, memory_line, peak_memory

FORMULA = "income ~ age + hours + C(region, R00) + employed + sector + age:employed"


def make_data(rows: int, seed: int = 11):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    region = np.array([f"R{i:02d}" for i in range(12)], dtype=object)[rng.integers(0, 12, rows)]
    frame = pd.DataFrame({
        "age": rng.integers(16, 90, rows).astype(float),
        "hours": rng.normal(35, 8, rows),
        "region": region,
        "employed": rng.random(rows) < 0.7,
        "sector": pd.Categorical(rng.choice(["public", "private", "third"], rows),
                                 categories=["public", "private", "third"]),
    })
    frame["income"] = 20_000 + 300 * frame["age"] + 150 * frame["hours"] + rng.normal(0, 5_000, rows)
    missing = rng.random(rows) < 0.01
    frame.loc[missing, "hours"] = np.nan
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    import patsy
    import statsmodels.formula.api as smf

    from workbench import disclosure as sdc
    from workbench.disclosure.formula import design

    data = make_data(args.rows)
    patsy_formula = FORMULA.replace("C(region, R00)", "C(region, Treatment('R00'))")
    ours, theirs = design(FORMULA, data), patsy.dmatrices(patsy_formula, data, return_type="dataframe")
    assert np.allclose(ours.exog, theirs[1].to_numpy()), "the design matrices differ"
    runs = {
        "patsy.dmatrices": lambda: patsy.dmatrices(patsy_formula, data, return_type="dataframe"),
        "workbench design": lambda: design(FORMULA, data),
        "smf.ols().fit()": lambda: smf.ols(patsy_formula, data, missing="drop").fit(),
        "sdc.ols(formula=)": lambda: sdc.ols(formula=FORMULA, data=data),
    }
    times, _ = interleaved(runs, args.repeats)
    memory = peak_memory(runs)
    print(f"{args.rows:,} rows, {ours.exog.shape[1]} design columns; {describe()}")
    for label, seconds in times.items():
        print(f"  {label:<20} {seconds * 1000:9.1f} ms")
    for label, peak in memory.items():
        print(memory_line(label, peak))
    print(f"design matrix: workbench / patsy = {times['workbench design'] / times['patsy.dmatrices']:.2f}")
    print(f"checked model: sdc.ols / smf.ols = {times['sdc.ols(formula=)'] / times['smf.ols().fit()']:.2f}")


if __name__ == "__main__":
    main()
