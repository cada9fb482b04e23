"""Disclosure-checked crosstab against pandas and against a lean NumPy baseline doing the same counting:
``sdc.crosstab(aggfunc="mean")`` with every default check, for text (object) and categorical dimensions, with checks
only and with suppression (primary + secondary, safe against the totals); also margins=True, where pandas builds the
table and the checks are placed on it.

Baselines, in the same run (warm, interleaved, medians):

- **lean checks** (the fair one): the cheapest correct NumPy a competent engineer would write for the same table
  and rule statistics — integer codes of the two keys (categories' codes, or ``pd.factorize``), one cell number
  per row, ``np.bincount`` for each cell's rows, valid values, total and negatives, ``np.maximum.at`` for the
  largest value and (masking one occurrence of it) the second, ``np.minimum.at`` for the smallest; then the rules
  on the 1,000 cells (threshold, empty cells, dominance 2/90%, p% 10%, all values the same, negatives) and the mean
  table as a labelled DataFrame. No margins, no suppression, no result object.
- **lean persons**: the same with ``persons=``: each person's contribution summed within its cell (a hash group-by
  on cell and person), then distinct persons per cell and the two largest per-person sums.
- ``pd.crosstab`` (the earlier headline): the mean table alone, no rule statistics.

1,000,000 rows; 20 × 50 dimensions whose level frequencies fall off as 1/k^1.5 (many small cells); lognormal
values. Goals: <= 3x the lean checks with checks only (and <= 2x ``pd.crosstab``, the earlier goal); also with
``persons=`` (300,000 people, about 3 rows each) against the lean persons baseline. Peak memory is printed too.

    python benchmarks/sdc_crosstab.py [--rows 1000000] [--repeats 7]
"""

from __future__ import annotations

import argparse

from _machine import describe, interleaved, memory_line, peak_memory


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


def _codes(key):
    import numpy as np
    import pandas as pd

    if isinstance(key.dtype, pd.CategoricalDtype):
        return key.cat.codes.to_numpy().astype(np.int64), key.cat.categories
    found, labels = pd.factorize(key, sort=True)
    return found, pd.Index(labels)


def lean_checks(area, occupation, income, persons=None, threshold=10, k=0.9, p=0.1):
    """The rule statistics of every cell and the rules on them, in plain NumPy (see the module's docstring)."""
    import numpy as np
    import pandas as pd

    a, a_labels = _codes(area)
    o, o_labels = _codes(occupation)
    n = len(a_labels) * len(o_labels)
    gid = a * len(o_labels) + o
    values = income.to_numpy(dtype=float)
    keep = (a >= 0) & (o >= 0)
    if not keep.all():
        gid, values = gid[keep], values[keep]
    valid = ~np.isnan(values)
    clean = np.where(valid, values, 0.0)
    rows = np.bincount(gid, minlength=n)
    n_valid = np.bincount(gid, weights=valid, minlength=n)
    total = np.bincount(gid, weights=clean, minlength=n)
    negatives = np.bincount(gid, weights=clean < 0, minlength=n)
    smallest = np.full(n, np.inf)
    np.minimum.at(smallest, gid[valid], values[valid])
    if persons is None:
        count, target, contribution = rows, gid[valid], values[valid]
    else:  # each person's sum within the cell: the contributions the rules judge
        person = persons.to_numpy()
        size = int(person.max()) + 1
        pair = gid * size + (person if keep.all() else person[keep])
        sums = pd.Series(clean).groupby(pair, sort=False).sum()
        target = sums.index.to_numpy() // size
        contribution = sums.to_numpy()
        count = np.bincount(target, minlength=n)
    first = np.full(n, -np.inf)
    np.maximum.at(first, target, contribution)
    is_first = contribution == first[target]
    ties = np.bincount(target, weights=is_first, minlength=n)
    second = np.full(n, -np.inf)
    np.maximum.at(second, target, np.where(is_first, -np.inf, contribution))
    second = np.where(ties >= 2, first, second)
    first, second = np.maximum(first, 0), np.maximum(second, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n_valid
        flags = {
            "threshold": (count > 0) & (count < threshold),
            "zeros": count == 0,
            "dominance": (count > 0) & (first + second >= k * total),
            "p_percent": (count > 0) & (total - first - second < p * first),
            "all_same": (n_valid > 1) & (smallest == first),
            "negative": negatives > 0,
        }
    shape = (len(a_labels), len(o_labels))
    table = pd.DataFrame(mean.reshape(shape), index=a_labels.rename(area.name),
                         columns=o_labels.rename(occupation.name))
    return table, {name: flag.reshape(shape) for name, flag in flags.items()}, rows


def contenders(area, occupation, income, person, checks_only, suppress) -> dict:
    """pandas and the workbench on the same columns (checks only; suppression; counting persons; margins)."""
    import pandas as pd

    from workbench import disclosure as sdc

    return {
        "pandas": lambda: pd.crosstab(area, occupation, values=income, aggfunc="mean"),
        "lean checks": lambda: lean_checks(area, occupation, income),
        "lean persons": lambda: lean_checks(area, occupation, income, person),
        "checks": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", settings=checks_only),
        "suppression": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", settings=suppress),
        "persons": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", persons=person,
                                        settings=suppress),
        "pandas+margins": lambda: pd.crosstab(area, occupation, values=income, aggfunc="mean", margins=True),
        "margins": lambda: sdc.crosstab(area, occupation, values=income, aggfunc="mean", margins=True,
                                        settings=suppress),
    }


def main() -> None:
    import numpy as np
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
        runs = contenders(area, occupation, data.income, data.person, checks_only, suppress)
        timings, _ = interleaved(runs, args.repeats)
        memory = peak_memory(runs)
        out = sdc.crosstab(area, occupation, values=data.income, aggfunc="mean", settings=checks_only)
        pd.testing.assert_frame_equal(out.table, pd.crosstab(area, occupation, values=data.income, aggfunc="mean"))
        table, flags, _ = lean_checks(area, occupation, data.income)
        np.testing.assert_allclose(table.loc[list(out.table.index), list(out.table.columns)].to_numpy(),
                                   out.table.to_numpy(dtype=float))  # the same means
        for name in flags:  # the lean rules flag the same cells
            assert (flags[name][:out.table.shape[0], :out.table.shape[1]]
                    == out.flags[name].to_numpy(dtype=bool)).all(), name
        failing = {name: int(flag.to_numpy().sum()) for name, flag in out.flags.items() if flag.to_numpy().any()}
        suppressed = sdc.crosstab(area, occupation, values=data.income, aggfunc="mean", settings=suppress)
        print(f"\n{kind} dimensions: {out.table.size} cells; failing {failing}; suppressed "
              f"{suppressed.mitigation.get('primary', 0)} + {suppressed.mitigation.get('secondary', 0)} secondary")
        for label in ("lean checks", "pandas", "checks", "suppression", "lean persons", "persons"):
            base = "lean persons" if label == "persons" else "lean checks"
            print(f"  {label:<13} {timings[label] * 1000:8.1f} ms   {timings[label] / timings[base]:5.2f}x {base}"
                  f"   {timings[label] / timings['pandas']:5.2f}x pandas")
        print(f"  margins=True, pandas {timings['pandas+margins'] * 1000:.1f} ms, with suppression "
              f"{timings['margins'] * 1000:.1f} ms ({timings['margins'] / timings['pandas+margins']:.2f}x; pandas "
              "builds this table, the checks place their statistics on it)")
        for label, peak in memory.items():
            print(memory_line(label, peak))
        results.append((kind, {label: timings[label] / timings["lean checks"] for label in ("checks", "suppression")},
                        timings["persons"] / timings["lean persons"], timings["checks"] / timings["pandas"]))
    print()
    for kind, fair, persons, old in results:
        print(f"{kind}: old headline checks / pandas {old:.2f}x; fair: checks / lean checks {fair['checks']:.2f}x "
              f"(goal <= 3x: {'met' if fair['checks'] <= 3 else 'NOT met'}), suppression / lean checks "
              f"{fair['suppression']:.2f}x, persons / lean persons {persons:.2f}x "
              f"(goal <= 3x: {'met' if persons <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
