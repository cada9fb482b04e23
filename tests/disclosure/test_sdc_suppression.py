"""Suppression that the totals cannot undo, proved with linear programming: for every suppressed cell, the
values it could take given every published cell and total form an interval wider than its protection — and
suppressing only the failing cells would have let them be worked out exactly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import grid_equations
from scipy.optimize import linprog

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.disclosure.suppression import secondary

FAILING = ("threshold", "zeros", "dominance", "p_percent")


def feasible_intervals(grid: np.ndarray, suppressed: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """For a table whose last row and column are totals: the least and greatest value each suppressed cell can
    take, given every other cell and total, that every row and column adds up, and that values are >= 0."""
    cells, a_eq, b_eq = grid_equations(grid, suppressed)
    var = {cell: k for k, cell in enumerate(cells)}
    intervals = {}
    for cell in cells:
        objective = np.zeros(len(cells))
        objective[var[cell]] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        intervals[cell] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return intervals


def primary_cells(out) -> np.ndarray:
    return np.logical_or.reduce([out.flags[n].to_numpy() for n in FAILING if n in out.flags])


def assert_protected(grid: np.ndarray, out, protection: float) -> None:
    suppressed = out.suppressed.to_numpy()
    primary = primary_cells(out)
    for cell, (low, high) in feasible_intervals(grid, suppressed).items():
        width = high - low
        assert width > 1e-9, f"suppressed cell {cell} = {grid[cell]} can be worked out exactly"
        if primary[cell]:
            assert width > protection * abs(grid[cell]) - 1e-7, (cell, grid[cell], low, high)


COUNTS = [[30, 25, 3, 40],
          [20, 35, 28, 22],
          [15, 18, 27, 31]]


def frame_from_counts(counts: list[list[int]]) -> tuple[pd.Series, pd.Series]:
    rows, cols = [], []
    for i, line in enumerate(counts):
        for j, n in enumerate(line):
            rows += [f"r{i}"] * n
            cols += [f"c{j}"] * n
    return pd.Series(rows, name="a"), pd.Series(cols, name="b")


def test_a_suppressed_cell_cannot_be_recovered_from_the_margins() -> None:
    a, b = frame_from_counts(COUNTS)
    out = sdc.crosstab(a, b, margins=True)
    grid = out.table.to_numpy(dtype=float)
    primary = primary_cells(out)
    assert primary.sum() == 1 and primary[0, 2]  # only r0 × c2 (3 people) fails

    # primary-only suppression: the row total minus the published cells gives the cell back exactly
    only_primary = feasible_intervals(grid, primary)
    low, high = only_primary[(0, 2)]
    assert low == pytest.approx(3) and high == pytest.approx(3)

    # with secondary suppression it lies in an interval wider than the protection level
    assert out.suppressed.to_numpy().sum() == 4  # a rectangle of four cells
    assert out.safe_table.loc["r0", "All"] == 98 and out.safe_table.loc["All", "All"] == grid[-1, -1]
    assert_protected(grid, out, out.settings.protection)
    (low, high) = feasible_intervals(grid, out.suppressed.to_numpy())[(0, 2)]
    assert high - low > out.settings.protection * 3


@pytest.mark.parametrize("protection", [0.0, 1.0, 3.0])
def test_protection_level_is_met(protection) -> None:
    a, b = frame_from_counts([[30, 2, 40, 1], [20, 35, 4, 22], [15, 18, 27, 31], [1, 50, 60, 70]])
    out = sdc.crosstab(a, b, margins=True, settings=DisclosureSettings(protection=protection))
    assert_protected(out.table.to_numpy(dtype=float), out, protection)


def test_a_table_without_margins_is_protected_against_totals_published_elsewhere() -> None:
    a, b = frame_from_counts(COUNTS)
    out = sdc.crosstab(a, b)
    full = pd.crosstab(a, b, margins=True).to_numpy(dtype=float)
    grid_suppressed = np.zeros(full.shape, dtype=bool)
    grid_suppressed[:-1, :-1] = out.suppressed.to_numpy()
    assert "withheld_totals" not in out.mitigation  # protected by cells alone

    attacker_view = SimpleNamespace(  # the table with its totals, as someone who knows the totals sees it
        suppressed=pd.DataFrame(grid_suppressed),
        flags={"threshold": pd.DataFrame(np.pad(out.flags["threshold"].to_numpy(), ((0, 1), (0, 1))))})
    assert_protected(full, attacker_view, out.settings.protection)


def test_magnitude_tables_protect_the_totals_and_the_counts() -> None:
    rng = np.random.default_rng(4)
    a, b = frame_from_counts([[30, 25, 3, 40], [20, 2, 28, 22], [15, 18, 27, 31]])
    values = pd.Series(rng.lognormal(3, 1, len(a)))
    out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True)
    counts = pd.crosstab(a, b, margins=True).to_numpy(dtype=float)
    assert_protected(out.table.to_numpy(dtype=float), out, out.settings.protection)
    assert_protected(counts, out, out.settings.protection)


def test_random_tables_are_always_protected() -> None:
    rng = np.random.default_rng(5)
    checked = 0
    for trial in range(40):
        n_rows, n_cols = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        n = int(rng.integers(20, 300))
        a = pd.Series(rng.choice(n_rows, n, p=rng.dirichlet(np.ones(n_rows) * 0.7)), name="a")
        b = pd.Series(rng.choice(n_cols, n, p=rng.dirichlet(np.ones(n_cols) * 0.7)), name="b")
        if trial % 2:
            values = pd.Series(rng.lognormal(2, 1, n))
            out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True)
            grids = [out.table.fillna(0).to_numpy(dtype=float),
                     pd.crosstab(a, b, margins=True).to_numpy(dtype=float)]
        else:
            out = sdc.crosstab(a, b, margins=True)
            grids = [out.table.to_numpy(dtype=float)]
        if out.suppressed.to_numpy().any():
            checked += 1
            for grid in grids:
                assert_protected(grid, out, out.settings.protection)
    assert checked > 20


def test_large_grids_use_a_shortlist_and_stay_protected(monkeypatch) -> None:
    import workbench.disclosure.suppression as module

    monkeypatch.setattr(module, "FULL_SEARCH_CELLS", 10)
    monkeypatch.setattr(module, "SHORTLIST", 2)
    a, b = frame_from_counts([[30, 2, 40, 1, 12], [20, 35, 4, 22, 18], [15, 18, 27, 31, 3], [1, 50, 60, 70, 44]])
    out = sdc.crosstab(a, b, margins=True)
    assert_protected(out.table.to_numpy(dtype=float), out, out.settings.protection)


def test_secondary_keeps_what_needs_no_protection() -> None:
    primary = np.zeros((3, 3), dtype=bool)
    assert not secondary(primary, np.ones((1, 3, 3)), 1.0).any()
