"""Disclosure-checked crosstab against pandas: ``sdc.crosstab(aggfunc="mean")`` with every default check, against
``pd.crosstab`` on the same data in the same run, for text (object) and categorical dimensions, with checks only
and with suppression (primary + secondary, safe against the totals); also margins=True, where pandas builds the
table and the checks are placed on it.

1,000,000 rows; 20 × 50 dimensions whose level frequencies fall off as 1/k^1.5 (many small cells); lognormal
values. Each timing is the median of interleaved repeats. Goals: <= 2x pandas with checks only and with
suppression (each failing cell protected to its upper and lower protection levels, singletons apart); also with
``persons=`` (300,000 people, about 3 rows each: the rules count distinct persons and their summed contributions).

    python benchmarks/sdc_crosstab.py [--rows 1000000] [--repeats 7]
"""

from __future__ import annotations

import argparse

from _machine import describe, interleaved


def make_data(rows: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def skewed(levels: int, prefix: str) -> np.ndarray:
        weights = 1.0 / np.arange(1, levels + 1) ** 1.5
        names = np.array([f"{prefix}_{i:02d}" for i in range(levels)], dtype=object)
        return names[rng.choice(levels, size=rows, p=weights / weights.sum())]

    return pd.DataFrame({"area": skewed(20, "area"), "occupation": skewed(50, "occupation"),
                         "income": rng.lognormal(10, 1, rows), "person": rng.integers(0, rows * 3 // 10, rows)})


def contenders(area, occupation, income, person, checks_only, suppress) -> dict:
    """pandas and the workbench on the same columns (checks only; suppression; counting persons; margins)."""
    import pandas as pd

    from workbench import disclosure as sdc

    return {
        "pandas": lambda: pd.crosstab(area, occupation, values=income, aggfunc="mean"),
        "checks": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", settings=checks_only),
        "suppression": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", settings=suppress),
        "persons": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", persons=person,
                                        settings=suppress),
        "pandas+margins": lambda: pd.crosstab(area, occupation, values=income, aggfunc="mean", margins=True),
        "margins": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", margins=True,
                                        settings=suppress),
    }


def main() -> None:
    import pandas as pd

    from workbench import disclosure as sdc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = make_data(args.rows)
    checks_only = sdc.DisclosureSettings(mitigation="none")
    suppress = sdc.DisclosureSettings()  # the defaults: suppression
    print(f"machine: {describe()}")
    print(f"{args.rows:,} rows, 20 x 50 cells, aggfunc='mean', median of {args.repeats} interleaved repeats")
    results = []
    for kind in ("object", "categorical"):
        area = data.area.astype("category") if kind == "categorical" else data.area
        occupation = data.occupation.astype("category") if kind == "categorical" else data.occupation
        timings, _ = interleaved(contenders(area, occupation, data.income, data.person, checks_only, suppress),
                                 args.repeats)
        out = sdc.crosstab(area, occupation, values=data.income, aggfunc="mean", settings=suppress)
        pd.testing.assert_frame_equal(out.table, pd.crosstab(area, occupation, values=data.income, aggfunc="mean"))
        failing = {name: int(flag.to_numpy().sum()) for name, flag in out.flags.items() if flag.to_numpy().any()}
        print(f"\n{kind} dimensions: {out.table.size} cells; failing {failing}; suppressed "
              f"{out.mitigation.get('primary', 0)} + {out.mitigation.get('secondary', 0)} secondary")
        for label in ("pandas", "checks", "suppression", "persons"):
            print(f"  {label:<12} {timings[label] * 1000:8.1f} ms   {timings[label] / timings['pandas']:5.2f}x pandas")
        print(f"  margins=True, pandas {timings['pandas+margins'] * 1000:.1f} ms, with suppression "
              f"{timings['margins'] * 1000:.1f} ms ({timings['margins'] / timings['pandas+margins']:.2f}x; pandas "
              "builds this table, the checks place their statistics on it)")
        results.append((kind, timings["checks"] / timings["pandas"], timings["suppression"] / timings["pandas"]))
    print()
    for kind, checks, suppressed in results:
        print(f"{kind}: checks {checks:.2f}x (goal <= 2x: {'met' if checks <= 2 else 'NOT met'}), "
              f"with suppression {suppressed:.2f}x (goal <= 2x: {'met' if suppressed <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
