"""Rounding an attacker cannot undo: with its totals made from the rounded cells, a rounded table pins down no
cell, whether the attacker enumerates every integer table that fits what is published or asks an integer
program for each cell's smallest and largest value.

The attacker reads each published number (cell or total) as the rounding of a true one: the true count lies in
that number's rounding interval. Were the totals rounded from the true data, this would be exactly right, and
(as an audit found) it pins [[2, 1], [11, 8]] at base 5 down to itself and recovers dozens of small cells of
random tables. Totals that are sums of the rounded cells leave every cell its whole interval.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from helpers import ADMIN
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.disclosure.suppression import round_to
from workbench.errors import InvalidInput


def interval(published: float, base: int) -> tuple[int, int]:
    """The non-negative integers that round to ``published`` at ``base`` (a contiguous run)."""
    centre = int(published)
    fits = [t for t in range(max(0, centre - base), centre + base + 1) if round_to(np.array([t]), base)[0] == centre]
    return fits[0], fits[-1]


def publish(table: np.ndarray, base: int) -> pd.DataFrame | None:
    """The workbench's rounded crosstab (with totals) of rows made from ``table``; None if nothing was rounded."""
    rows, cols = np.nonzero(table)
    counts = table[rows, cols]
    a = pd.Series(np.repeat([f"r{i}" for i in rows], counts), name="a")
    b = pd.Series(np.repeat([f"c{j}" for j in cols], counts), name="b")
    out = sdc.crosstab(a, b, margins=True, settings=DisclosureSettings(mitigation="round", rounding_base=base))
    return out.safe_table if out.mitigation["method"] == "round" else None


def constraints(safe: pd.DataFrame, base: int) -> tuple[np.ndarray, np.ndarray, LinearConstraint]:
    """Bounds of each cell and the totals' constraints, as the attacker reads the published table."""
    cells = safe.iloc[:-1, :-1].to_numpy(dtype=float)
    n_rows, n_cols = cells.shape
    bounds = np.array([interval(v, base) for v in cells.ravel()], dtype=float)
    rows, lower, upper = [], [], []
    for i in range(n_rows):  # a row total; each shown row has a record
        row = np.zeros(cells.shape)
        row[i] = 1
        low, high = interval(safe.iloc[i, -1], base)
        rows.append(row.ravel()), lower.append(max(low, 1)), upper.append(high)
    for j in range(n_cols):
        col = np.zeros(cells.shape)
        col[:, j] = 1
        low, high = interval(safe.iloc[-1, j], base)
        rows.append(col.ravel()), lower.append(max(low, 1)), upper.append(high)
    low, high = interval(safe.iloc[-1, -1], base)
    rows.append(np.ones(cells.size)), lower.append(low), upper.append(high)
    return bounds[:, 0], bounds[:, 1], LinearConstraint(np.array(rows), lower, upper)


def recovered(safe: pd.DataFrame, base: int, *, integer: bool = True) -> list[tuple[int, float]]:
    """Cells whose smallest and largest value over every integer table fitting the publication are equal.

    ``integer=False`` solves the linear relaxation instead: the rows of a two-way table's row, column and grand
    totals form a totally unimodular matrix, so with whole-number bounds its extreme values are whole numbers
    and the same as the integer program's, several times faster (the random test checks they agree)."""
    low, high, margins = constraints(safe, base)
    n = len(low)
    found = []
    for k in range(n):
        objective = np.zeros(n)
        objective[k] = 1
        ends = []
        for sign in (1, -1):
            if integer:
                result = milp(sign * objective, constraints=margins, integrality=np.ones(n),
                              bounds=Bounds(low, high))
            else:
                result = linprog(sign * objective, A_ub=np.vstack([margins.A, -margins.A]),
                                 b_ub=np.r_[margins.ub, -np.asarray(margins.lb)],
                                 bounds=list(zip(low, high, strict=True)), method="highs")
            if not result.success:  # nothing fits the attacker's reading: nothing is learnt
                return []
            ends.append(round(result.x[k]))
        if ends[0] == ends[1]:
            found.append((k, ends[0]))
    return found


def test_the_audited_table_has_many_integer_tables_consistent_with_it() -> None:
    true = np.array([[2, 1], [11, 8]])
    safe = publish(true, 5)
    assert safe is not None
    cells = safe.iloc[:-1, :-1].to_numpy()
    assert cells.tolist() == [[0, 0], [10, 10]]
    # the totals are the sums of the published cells, so they say nothing the cells do not
    assert safe.iloc[:-1, -1].tolist() == cells.sum(axis=1).tolist() == [0, 20]
    assert safe.iloc[-1].tolist() == [10, 10, 20]
    # every integer table whose cells and totals round to what is published
    low, high, margins = constraints(safe, 5)
    fitting = [t for t in itertools.product(*[range(int(a), int(b) + 1) for a, b in zip(low, high, strict=True)])
               if np.all(margins.A @ t >= margins.lb) and np.all(margins.A @ t <= margins.ub)]
    assert len(fitting) > 1
    for k in range(4):
        assert len({t[k] for t in fitting}) >= 2  # no cell is pinned down
    assert recovered(safe, 5) == []


@pytest.mark.slow
def test_no_cell_of_random_small_rounded_tables_is_recovered_exactly() -> None:
    rng = np.random.default_rng(20)
    rounded, exact = 0, []
    while rounded < 300:
        shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        table = rng.integers(0, 16, shape) * (rng.random(shape) < 0.85)
        if not (table.sum(axis=1).all() and table.sum(axis=0).all()):
            continue  # pandas would not show an empty row or column
        base = int(rng.choice([3, 5, 10]))
        safe = publish(table, base)
        if safe is None:  # nothing failed, so nothing was rounded
            continue
        rounded += 1
        found = recovered(safe, base, integer=False)
        if rounded <= 25:  # the integer program agrees with its relaxation
            assert recovered(safe, base) == found
        for k, value in found:
            if value == table.ravel()[k]:
                exact.append((table.tolist(), base, k))
    assert exact == []


@pytest.mark.parametrize(("base", "message"), [
    (0, "from 3 to"), (-5, "from 3 to"), (1, "rounds nothing"),
    (2, "some rounded counts are exact"), (2.5, "whole number"), ("5", "whole number"),
    (True, "whole number"), (10**12, "from 3 to 1,000,000"), (float("inf"), "whole number"),
])
def test_bad_rounding_bases_are_refused(base, message) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        DisclosureSettings(mitigation="round", rounding_base=base)
    assert caught.value.field == "rounding_base"
    with pytest.raises(InvalidInput, match=message):
        sdc.crosstab(pd.Series(["a", "b"] * 3), pd.Series(["x"] * 6),
                     settings={"mitigation": "round", "rounding_base": base})


def test_a_workspace_refuses_a_bad_rounding_base_and_keeps_its_settings(staffed) -> None:
    admin = staffed(ADMIN)
    for base in (0, -10, 1, 2.5, 10**7):
        with pytest.raises(InvalidInput, match="rounding_base: give a whole number from 3 to 1,000,000"):
            admin.disclosure.update_settings(mitigation="round", rounding_base=base)
    assert admin.disclosure.settings() == DisclosureSettings()  # nothing was written, not even the mitigation
    assert admin.disclosure.update_settings(mitigation="round", rounding_base=10).rounding_base == 10


def test_a_suppressed_sum_cell_of_a_rounded_table_is_not_narrowed_by_its_totals() -> None:
    """A 3-person sum is withheld, not rounded; from the rounded cells and their summed totals, linear
    programming leaves it an interval wider than its value."""
    a = pd.Series(["A"] * 20 + ["B"] * 20 + ["C"] * 3, name="a")
    b = pd.Series(["x", "y"] * 20 + ["x"] * 3, name="b")
    values = pd.Series(np.r_[np.full(40, 1000.0), [40_000.0, 40_555.0, 41_000.0]])
    out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True,
                       settings=DisclosureSettings(mitigation="round"))
    grid = out.safe_table.to_numpy(dtype=float)
    grid[np.isnan(grid) & ~out.suppressed.to_numpy()] = 0  # an empty cell shown as blank holds nothing
    unknown = np.argwhere(np.isnan(grid))
    index = {tuple(cell): k for k, cell in enumerate(unknown)}
    rows, rhs = [], []
    n_rows, n_cols = grid.shape[0] - 1, grid.shape[1] - 1
    lines = [[(i, j) for j in range(n_cols)] + [(i, n_cols)] for i in range(n_rows + 1)]
    lines += [[(i, j) for i in range(n_rows)] + [(n_rows, j)] for j in range(n_cols + 1)]
    for line in lines:  # the cells of a line, less its total, come to nothing
        coefficients, known = np.zeros(len(unknown)), 0.0
        for position, cell in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            if cell in index:
                coefficients[index[cell]] += sign
            else:
                known += sign * grid[cell]
        rows.append(coefficients), rhs.append(-known)
    target = np.zeros(len(unknown))
    target[index[(2, 0)]] = 1
    ends = [linprog(sign * target, A_eq=np.array(rows), b_eq=rhs, bounds=(0, None), method="highs")
            for sign in (1, -1)]
    assert all(end.success for end in ends)
    low, high = ends[0].fun, -ends[1].fun
    assert low <= 121_555 <= high and high - low > 121_555


@pytest.mark.parametrize("base", range(3, 13))
def test_no_published_number_pins_its_count_at_any_allowed_base(base) -> None:
    """Every number a rounded cell can show stands for at least two counts (at base 2, rounding ties to even, a
    published 2 or 6 stood for itself alone)."""
    counts = np.arange(0, 50 * base)
    shown = round_to(counts, base)
    for value in np.unique(shown)[:-1]:  # the last may be cut short by the range tried
        assert (shown == value).sum() >= 2, (base, value)


def test_an_empty_cell_of_a_rounded_pivot_table_reads_as_the_small_cells_do() -> None:
    """pandas leaves an empty cell of a pivot table blank (NaN) where a cell of 1 or 2 rounds to 0: published so,
    the blank would be an exact 0. A count that fails `zeros` is rounded like one that fails `threshold`: to 0."""
    counts = {("a", "p"): 12, ("a", "q"): 0, ("b", "p"): 11, ("b", "q"): 2, ("c", "p"): 14, ("c", "q"): 13}
    rows = [(a, b) for (a, b), n in counts.items() for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["a", "b"]).assign(one=1)
    settings = DisclosureSettings(mitigation="round", rounding_base=5)
    out = sdc.pivot_table(frame, values="one", index="a", columns="b", aggfunc="count", margins=True,
                          settings=settings)
    assert np.isnan(out.table.loc["a", "q"]) and out.mitigation["method"] == "round"
    assert out.safe_table.loc["a", "q"] == 0 == out.safe_table.loc["b", "q"]
    assert not out.safe_table.isna().any().any()
