"""Suppression to the standard, proved by linear programming attacks on random small tables.

The attacker knows every published cell and total, that the table adds up, and that values are not negative; for
the p% rule also the second-largest contribution (its owner), and for singletons the value of another
single-contributor cell (its owner). For every cell that fails a rule, the least and greatest values consistent
with that knowledge must reach the cell's lower and upper protection levels:

* p%: the second-largest contributor's upper bound on the largest contribution (the interval's top minus its own
  value) is at least (1 + p) × the largest; the bottom is at least p × the largest below the cell's value;
* dominance (n, k): the interval reaches (sum of the n largest) / k, and as far below the cell's value;
* threshold and zeros: a count's interval holds both 0 and the threshold (a total's reaches the threshold: it
  cannot reach 0, its row or column being listed because someone is in it);
* min/max (and other non-additive) tables: no published margin equals the value of a withheld cell it covers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import grid_equations
from scipy.optimize import linprog

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.disclosure.suppression import extreme_margins, magnitude_levels, secondary

TOL = 1e-6


def intervals(grid: np.ndarray, unknown: np.ndarray, targets: list[tuple[int, int]]
              ) -> dict[tuple[int, int], tuple[float, float]]:
    """Least and greatest value of each target cell, given every cell not ``unknown`` (the grid's last row and
    column are totals), that every row and column adds up, and that values are >= 0."""
    cells, a_eq, b_eq = grid_equations(grid, unknown)
    var = {cell: k for k, cell in enumerate(cells)}
    found = {}
    for cell in targets:
        if cell not in var:
            found[cell] = (grid[cell], grid[cell])
            continue
        objective = np.zeros(len(cells))
        objective[var[cell]] = 1.0
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        found[cell] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return found


def grid_of(out) -> np.ndarray:
    """The table with margins as a grid (empty cells of a sum table are 0)."""
    return out.table.fillna(0).to_numpy(dtype=float)


def contributions(a: pd.Series, b: pd.Series, values: pd.Series, out) -> dict[tuple[int, int], np.ndarray]:
    """Each grid cell's contributions, largest first (margins: all contributions of the row, column, table)."""
    rows, cols = list(out.table.index[:-1]), list(out.table.columns[:-1])
    n_rows, n_cols = len(rows), len(cols)
    frame = pd.DataFrame({"a": a, "b": b, "v": values})
    found: dict[tuple[int, int], np.ndarray] = {}
    for (ra, cb), part in frame.groupby(["a", "b"]):
        found[(rows.index(ra), cols.index(cb))] = np.sort(part.v.to_numpy())[::-1]
    for ra, part in frame.groupby("a"):
        found[(rows.index(ra), n_cols)] = np.sort(part.v.to_numpy())[::-1]
    for cb, part in frame.groupby("b"):
        found[(n_rows, cols.index(cb))] = np.sort(part.v.to_numpy())[::-1]
    found[(n_rows, n_cols)] = np.sort(frame.v.to_numpy())[::-1]
    return found


def random_sum_table(rng: np.random.Generator, settings: DisclosureSettings | None = None):
    n_rows, n_cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    n = int(rng.integers(40, 160))
    a = pd.Series(rng.choice(n_rows, n, p=rng.dirichlet(np.ones(n_rows))), name="a")
    b = pd.Series(rng.choice(n_cols, n, p=rng.dirichlet(np.ones(n_cols))), name="b")
    values = pd.Series(rng.pareto(0.8, n) * 10 + rng.random(n), name="v")  # heavy tails: dominant contributors
    out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True, settings=settings)
    return a, b, values, out


@pytest.mark.slow
def test_p_percent_cells_are_protected_on_both_sides_against_the_second_largest_contributor() -> None:
    rng = np.random.default_rng(20)
    p = DisclosureSettings().p_percent
    checked = 0
    for _ in range(60):
        a, b, values, out = random_sum_table(rng)
        failing = out.flags["p_percent"].to_numpy()
        if not failing.any():
            continue
        grid = grid_of(out)
        parts = contributions(a, b, values, out)
        targets = [tuple(int(v) for v in c) for c in np.argwhere(failing)]
        for cell, (low, high) in intervals(grid, out.suppressed.to_numpy(), targets).items():
            x = parts[cell]
            x1, x2 = x[0], (x[1] if len(x) > 1 else 0.0)
            checked += 1
            # the second-largest contributor subtracts its own value from the interval's top
            assert high - x2 >= (1 + p) * x1 - TOL, (cell, x1, x2, grid[cell], high)
            # and knowing every other contribution, the bottom still leaves p × the largest below
            assert low - (grid[cell] - x1) <= (1 - p) * x1 + TOL, (cell, x1, grid[cell], low)
    assert checked > 30


@pytest.mark.slow
def test_dominance_cells_reach_their_protection_levels_on_both_sides() -> None:
    rng = np.random.default_rng(21)
    settings = DisclosureSettings(p_percent=0.0001)  # the dominance rule decides
    n, k = settings.dominance_n, settings.dominance_k
    checked = 0
    for _ in range(60):
        a, b, values, out = random_sum_table(rng, settings)
        failing = out.flags["dominance"].to_numpy()
        if not failing.any():
            continue
        grid = grid_of(out)
        parts = contributions(a, b, values, out)
        targets = [tuple(int(v) for v in c) for c in np.argwhere(failing)]
        for cell, (low, high) in intervals(grid, out.suppressed.to_numpy(), targets).items():
            level = parts[cell][:n].sum() / k - grid[cell]
            checked += 1
            assert high - grid[cell] >= level - TOL, (cell, grid[cell], level, high)
            assert grid[cell] - low >= min(level, grid[cell]) - TOL, (cell, grid[cell], level, low)
    assert checked > 20


def count_protected(cell: tuple[int, int], shape: tuple[int, int], low: float, high: float, threshold: int) -> bool:
    is_total = cell[0] == shape[0] - 1 or cell[1] == shape[1] - 1
    return high >= threshold - TOL and (is_total or low <= TOL)


def random_count_table(rng: np.random.Generator, n_rows: int, n_cols: int, n: int):
    a = pd.Series(rng.choice(n_rows, n, p=rng.dirichlet(np.ones(n_rows) * 0.8)), name="a")
    b = pd.Series(rng.choice(n_cols, n, p=rng.dirichlet(np.ones(n_cols) * 0.8)), name="b")
    return sdc.crosstab(a, b, margins=True)


@pytest.mark.slow
def test_threshold_and_empty_cells_could_hold_anything_from_zero_to_the_threshold() -> None:
    rng = np.random.default_rng(22)
    threshold = DisclosureSettings().threshold
    checked = 0
    for _ in range(40):
        out = random_count_table(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)),
                                 int(rng.integers(30, 200)))
        failing = out.flags["threshold"].to_numpy() | out.flags["zeros"].to_numpy()
        if not failing.any():
            continue
        grid = grid_of(out)
        targets = [tuple(int(v) for v in c) for c in np.argwhere(failing)]
        for cell, (low, high) in intervals(grid, out.suppressed.to_numpy(), targets).items():
            checked += 1
            assert count_protected(cell, grid.shape, low, high, threshold), (cell, grid[cell], low, high)
    assert checked > 30


def singletons(out, grid_counts: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in c) for c in np.argwhere(out.suppressed.to_numpy() & (grid_counts == 1))]


def contains(x: tuple[int, int], y: tuple[int, int], shape: tuple[int, int]) -> bool:
    """Whether cell ``x`` adds up cell ``y`` (a total and a cell of its row or column, or the grand total)."""
    return x != y and x[0] in (y[0], shape[0] - 1) and x[1] in (y[1], shape[1] - 1)


@pytest.mark.slow
def test_a_singleton_never_learns_another_cell_from_its_own_value() -> None:
    """The contributor of a withheld single-contributor cell knows its value: every other failing cell must still
    reach its protection levels. (A total of one contributor is that person's whole row: they know every cell of
    it, so such cells are not attacked, nor a total of one contributor holding the singleton's cell: that is the
    singleton; any other total holding it is at least its value, so only its upper side is checked.)"""
    rng = np.random.default_rng(23)
    p = DisclosureSettings().p_percent
    checked = 0
    for trial in range(40):
        settings = DisclosureSettings(threshold=int(rng.choice([2, 3, 10])))
        threshold = settings.threshold
        n_rows, n_cols = int(rng.integers(3, 6)), int(rng.integers(3, 6))
        n = int(rng.integers(60, 160))
        # many singletons: a few crowded cells, the rest of the people scattered
        a = pd.Series(rng.choice(n_rows, n, p=rng.dirichlet(np.ones(n_rows) * 0.3)), name="a")
        b = pd.Series(rng.choice(n_cols, n, p=rng.dirichlet(np.ones(n_cols) * 0.3)), name="b")
        counts = pd.crosstab(a, b, margins=True).to_numpy(dtype=float)
        if trial % 2:
            values = pd.Series(rng.lognormal(3, 1, n), name="v")
            out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True, settings=settings)
            parts = contributions(a, b, values, out)
            primary = np.logical_or.reduce([out.flags[r].to_numpy() for r in ("threshold", "p_percent",
                                                                                "dominance")])
        else:
            out = sdc.crosstab(a, b, margins=True, settings=settings)
            parts = None
            primary = out.flags["threshold"].to_numpy() | out.flags["zeros"].to_numpy()
        grid = grid_of(out)
        suppressed = out.suppressed.to_numpy()
        targets = [tuple(int(v) for v in c) for c in np.argwhere(primary)]
        for known in singletons(out, counts):
            unknown = suppressed.copy()
            unknown[known] = False  # its only contributor knows it
            attacked = [t for t in targets if t != known and not contains(known, t, grid.shape)
                        and not (contains(t, known, grid.shape) and counts[t] == 1)]  # the same person
            for cell, (low, high) in intervals(grid, unknown, attacked).items():
                checked += 1
                holds_known = contains(cell, known, grid.shape)
                assert high - low > TOL, f"{cell} = {grid[cell]} given singleton {known} = {grid[known]}"
                if parts is None:
                    assert high >= threshold - TOL, (cell, known, low, high)
                    assert holds_known or count_protected(cell, grid.shape, low, high, threshold), (cell, known, low)
                elif out.flags["p_percent"].to_numpy()[cell]:
                    x = parts[cell]
                    x1, x2 = x[0], (x[1] if len(x) > 1 else 0.0)
                    assert high - x2 >= (1 + p) * x1 - TOL, (cell, known, x1, high)
                    assert holds_known or low - (grid[cell] - x1) <= (1 - p) * x1 + TOL, (cell, known, x1, low)
            if parts is not None:  # the counts of a sum table are protected against the singleton too
                for cell, (low, high) in intervals(counts, unknown, attacked).items():
                    if counts[cell] < threshold:
                        assert high >= threshold - TOL, (cell, known, low, high)
                        assert contains(cell, known, grid.shape) or count_protected(cell, grid.shape, low, high,
                                                                                    threshold), (cell, known, low)
    assert checked > 50


def sum_table_from_counts(counts: list[list[int]], settings: DisclosureSettings | None = None):
    rows, cols, vals = [], [], []
    rng = np.random.default_rng(3)
    for i, line in enumerate(counts):
        for j, n in enumerate(line):
            rows += [f"r{i}"] * n
            cols += [f"c{j}"] * n
            vals += list(rng.lognormal(3, 0.3, n))
    a, b, v = pd.Series(rows, name="a"), pd.Series(cols, name="b"), pd.Series(vals, name="v")
    return sdc.crosstab(a, b, values=v, aggfunc="sum", margins=True, settings=settings)


@pytest.mark.parametrize(("counts", "pair"), [
    ([[1, 1, 40, 35], [30, 25, 28, 22], [15, 18, 27, 31]], ((0, 0), (0, 1))),  # two singletons in a row
    ([[1, 30, 40, 35], [30, 1, 28, 22], [15, 18, 27, 31]], ((0, 0), (1, 1))),  # and across a rectangle
])
@pytest.mark.parametrize("threshold", [2, 10])
def test_two_singletons_are_not_left_to_shelter_each_other(counts, pair, threshold) -> None:
    out = sum_table_from_counts(counts, DisclosureSettings(threshold=threshold))
    grid = grid_of(out)
    suppressed = out.suppressed.to_numpy()
    assert suppressed[pair[0]] and suppressed[pair[1]]
    for known, target in (pair, pair[::-1]):
        unknown = suppressed.copy()
        unknown[known] = False  # its only contributor knows it
        low, high = intervals(grid, unknown, [target])[target]
        assert high - grid[target] >= 0.1 * grid[target] - TOL and grid[target] - low >= 0.1 * grid[target] - TOL


@pytest.mark.parametrize("aggfunc", ["max", "min"])
def test_extreme_value_margins_never_repeat_a_withheld_value(aggfunc: str) -> None:
    rng = np.random.default_rng(24)
    checked = 0
    for _ in range(30):
        n_rows, n_cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        n = int(rng.integers(30, 120))
        data = pd.DataFrame({"a": rng.choice(n_rows, n, p=rng.dirichlet(np.ones(n_rows))),
                             "b": rng.choice(n_cols, n, p=rng.dirichlet(np.ones(n_cols))),
                             "v": np.round(rng.lognormal(3, 1, n), 1)})
        out = sdc.pivot_table(data, values="v", index="a", columns="b", aggfunc=aggfunc, margins=True)
        table = out.table.to_numpy(dtype=float)
        suppressed = out.suppressed.to_numpy()
        if not suppressed[:-1, :-1].any():
            continue
        checked += 1
        last_row, last_col = table.shape[0] - 1, table.shape[1] - 1
        for r, c in np.argwhere(~suppressed):
            if r != last_row and c != last_col:
                continue
            scope = np.zeros_like(suppressed)
            if r == last_row and c == last_col:
                scope[:] = True
            elif r == last_row:
                scope[:, c] = True
            else:
                scope[r, :] = True
            hidden = table[scope & suppressed]
            assert not np.any(hidden == table[r, c]), (aggfunc, (r, c), table[r, c])
    assert checked > 10


def test_magnitude_levels_follow_the_rules() -> None:
    top = np.array([[100.0, 20.0], [50.0, 45.0], [10.0, 0.0]])
    total = np.array([125.0, 200.0, 10.0])
    upper, lower = magnitude_levels(top, total, np.zeros(3), p_percent=0.1, dominance_n=2, dominance_k=0.9)
    # cell 0: p% fails (rest 5 < 10): upper 10 - 5; dominance fails (120 >= 112.5): 120 / 0.9 - 125
    assert upper[0] == pytest.approx(max(10 - 5, 120 / 0.9 - 125))
    assert lower[0] == pytest.approx(max(10.0, 120 / 0.9 - 125))
    assert upper[1] == 0 and lower[1] == 0  # passes both rules
    # a single contributor: p% asks 10% of it each way, dominance 10 / 0.9 - 10 each way
    assert upper[2] == pytest.approx(10 / 0.9 - 10) and lower[2] == pytest.approx(10 / 0.9 - 10)


def test_secondary_meets_given_levels_and_avoids_singletons() -> None:
    counts = np.array([[1, 1, 40, 35, 77], [30, 25, 28, 22, 105], [15, 18, 27, 31, 91], [46, 44, 95, 88, 273]],
                      dtype=float)
    primary = np.zeros(counts.shape, dtype=bool)
    primary[0, 0] = primary[0, 1] = True
    upper = np.zeros((1, *counts.shape))
    lower = np.zeros((1, *counts.shape))
    upper[0, 0, :2], lower[0, 0, :2] = 9, 1
    found = secondary(primary, counts[None], 0.0, upper=upper, lower=lower, contributors=counts)
    # the cell (0, 1) is a single contributor: (0, 0) is not protected by it alone
    for cell in ((0, 0), (0, 1)):
        low, high = intervals(counts, found, [cell])[cell]
        assert high - counts[cell] >= 9 - TOL and counts[cell] - low >= 1 - TOL
        other = (0, 1) if cell == (0, 0) else (0, 0)
        unknown = found.copy()
        unknown[other] = False
        low, high = intervals(counts, unknown, [cell])[cell]
        assert high - counts[cell] >= 9 - TOL


def test_extreme_margins_suppress_until_no_margin_repeats_a_withheld_value() -> None:
    values = np.array([[5.0, 9.0, 9.0], [3.0, 4.0, 4.0], [5.0, 9.0, 9.0]])  # last row and column: max margins
    suppressed = np.zeros(values.shape, dtype=bool)
    suppressed[0, 1] = True
    extra = extreme_margins(values, suppressed, np.array([False, False, True]), np.array([False, False, True]))
    assert extra[0, 2] and extra[2, 1] and extra[2, 2]  # row, column and grand margin all equal 9
    assert extra.sum() == 3
