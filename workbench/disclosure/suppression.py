"""Mitigation: cell suppression that the totals cannot undo, and rounding.

Suppressing only the failing ("primary") cells is not enough: a row with one suppressed cell gives it back as
the row total minus the others. Secondary suppression works on the table with its totals, laid out as a grid
whose last row and column are the column and row totals. Each primary cell is put in a *rectangle* of four
suppressed cells (two rows × two columns of the grid, totals included). Moving the four cells by +δ, −δ, −δ, +δ
(a total moving with the cells it adds up) keeps every published total, so an attacker who knows all the
published cells and totals only learns that the primary cell lies between its value minus ``down`` and plus
``up``: the smallest value among the cells that decrease as δ grows (``up``), and the same as δ falls (``down``);
values cannot go below zero.

Each primary cell has an upper and a lower *protection level* per additive quantity (the counts, and the totals
of summed or averaged values), as τ-Argus assigns them (``protection_levels``): the p% and dominance rules ask
for as much room on each side as keeps their attacker from estimating the largest contributions too closely;
threshold and empty cells ask that the count could be anything from zero to the threshold. A rectangle is
accepted when ``up`` and ``down`` reach the levels and ``up + down`` exceeds ``protection`` × the cell's value,
in every additive quantity. Singletons (cells of one contributor, who knows the cell's value) never serve in
another cell's rectangle: the pair of singletons of a row would give each other away. Among accepted rectangles
the one suppressing the fewest and smallest new cells wins, totals last. Later suppressions only add unknowns,
so earlier guarantees hold.

Non-additive tables (min, max, median...) have margins that repeat a cell's value (the row maximum *is* the
largest cell): ``extreme_margins`` withholds every margin equal to a withheld value it covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.disclosure.settings import DisclosureSettings
from workbench.disclosure.stats import CellStats

MARGIN_COST = 1000.0
FULL_SEARCH_CELLS = 40_000  # larger grids search a shortlist of rows and columns per primary cell
SHORTLIST = 48
MAX_PRIMARY = 50_000  # beyond this, suppression is refused (the table should be coarser)


def _signs(n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Per grid row and column: -1 on the totals, whose cells move against the cells they add up."""
    rows = np.ones(n_rows + 1)
    rows[-1] = -1
    cols = np.ones(n_cols + 1)
    cols[-1] = -1
    return rows, cols


def secondary(primary: np.ndarray, additive: np.ndarray, protection: float, *,
              published: np.ndarray | None = None, upper: np.ndarray | None = None,
              lower: np.ndarray | None = None, contributors: np.ndarray | None = None) -> np.ndarray | None:
    """Cells to suppress (primary and secondary) so each primary keeps an interval that reaches its protection
    levels and is wider than ``protection`` × its value.

    ``primary``: boolean (R+1) × (C+1) grid, totals last. ``additive``: B × (R+1) × (C+1) values that add up
    along rows and columns (counts, totals). ``upper``/``lower``: B × (R+1) × (C+1) protection levels (how far
    above and below its value each primary cell must be able to lie; default none). ``contributors``: the number
    of contributors per grid cell; cells of one contributor (singletons) are kept out of other cells'
    rectangles. ``published``: cells that appear in the output (others, such as totals of a table shown without
    margins, cost more to withhold; default: all). Returns None when there are more than ``MAX_PRIMARY`` primary
    cells: such a table should be made coarser, not suppressed.
    """
    primary = np.asarray(primary, dtype=bool)
    suppressed = primary.copy()
    if not primary.any():
        return suppressed
    cells = np.argwhere(primary)
    if len(cells) > MAX_PRIMARY:
        return None
    n_rows, n_cols = primary.shape[0] - 1, primary.shape[1] - 1
    row_sign, col_sign = _signs(n_rows, n_cols)
    additive = np.asarray(additive, dtype=float)
    upper = np.zeros(additive.shape) if upper is None else np.asarray(upper, dtype=float)
    lower = np.zeros(additive.shape) if lower is None else np.asarray(lower, dtype=float)
    single = None if contributors is None else np.asarray(contributors) == 1
    slack = np.maximum(additive, 0.0)  # how far each cell can fall (values are not negative)
    scale = max(float(slack[0].max()), 1.0)
    cost = 1.0 + slack[0] / (scale * 10.0)  # prefer small cells: less information lost
    cost[-1, :] += MARGIN_COST
    cost[:, -1] += MARGIN_COST
    if published is not None:
        cost[~np.asarray(published, dtype=bool)] += MARGIN_COST
    needs = np.abs(additive[:, cells[:, 0], cells[:, 1]]).max(axis=0)
    full = primary.size <= FULL_SEARCH_CELLS
    all_rows, all_cols = np.arange(n_rows + 1), np.arange(n_cols + 1)
    levels = Levels(upper, lower, protection, single)
    # protect the largest requirements first: their rectangles then often shelter the smaller cells
    for i, j in cells[np.argsort(-needs, kind="stable")]:
        i, j = int(i), int(j)
        if full:
            rows, cols = all_rows[all_rows != i], all_cols[all_cols != j]
        else:
            rows = _shortlist(suppressed[:, j], slack[0][:, j], i)
            cols = _shortlist(suppressed[i, :], slack[0][i, :], j)
        _protect(i, j, rows, cols, suppressed, slack, cost, levels, row_sign, col_sign, additive)
    return suppressed


@dataclass
class Levels:
    """What a rectangle must give each primary cell: room above and below (per additive quantity), a width
    beyond ``protection`` × the value, and no singleton among the other cells."""

    upper: np.ndarray
    lower: np.ndarray
    protection: float
    single: np.ndarray | None


def _shortlist(already: np.ndarray, slack: np.ndarray, exclude: int) -> np.ndarray:
    """Candidate rows (or columns) for a large grid: already suppressed ones, the largest, and the total."""
    found = np.flatnonzero(already)[:SHORTLIST]
    k = min(SHORTLIST, len(slack))
    largest = np.argpartition(-slack, k - 1)[:k] if k else np.array([], dtype=np.int64)
    candidates = np.unique(np.concatenate([found, largest, [len(slack) - 1]]))
    return candidates[candidates != exclude]


def _foreign_singletons(i: int, j: int, rows: np.ndarray, cols: np.ndarray, single: np.ndarray) -> np.ndarray:
    """Rectangles (rows × cols) that hold a singleton other than the primary cell's own contributor.

    A total and a cell it adds up, both of one contributor, are that same contributor (the cell is the only one
    with anyone in it); any other singleton is somebody else, who knows the value of their cell."""
    last_row, last_col = single.shape[0] - 1, single.shape[1] - 1
    own = bool(single[i, j])
    nested_b = (cols == last_col) | (j == last_col)  # (i, l) and (i, j): one is the row total of the other
    nested_c = (rows == last_row) | (i == last_row)
    nested_d = ((rows == last_row)[:, None] & (cols == last_col)[None, :]) | (i == last_row and j == last_col)
    foreign_b = single[i, cols] & ~(nested_b & own)
    foreign_c = single[rows, j] & ~(nested_c & own)
    foreign_d = single[np.ix_(rows, cols)] & ~(nested_d & own)
    return foreign_b[None, :] | foreign_c[:, None] | foreign_d


def _protect(i: int, j: int, rows: np.ndarray, cols: np.ndarray, suppressed: np.ndarray, slack: np.ndarray,
             cost: np.ndarray, levels: Levels, row_sign: np.ndarray, col_sign: np.ndarray,
             additive: np.ndarray) -> None:
    """Suppress the cheapest rectangle (i, j), (i, l), (k, j), (k, l) over candidate k, l that protects (i, j)."""
    inf = np.inf
    # pattern signs: (i,j) +, (i,l) -, (k,j) -, (k,l) +; a cell's value moves by pattern × row × column sign
    t_a = row_sign[i] * col_sign[j]
    t_b = -row_sign[i] * col_sign[cols]
    t_c = -row_sign[rows] * col_sign[j]
    t_d = np.outer(row_sign[rows], col_sign[cols])
    meets = np.ones((len(rows), len(cols)), dtype=bool)
    wide = np.ones((len(rows), len(cols)), dtype=bool)
    for block in range(slack.shape[0]):
        s = slack[block]
        s_a, s_b, s_c, s_d = s[i, j], s[i, cols], s[rows, j], s[np.ix_(rows, cols)]
        up = np.minimum(np.minimum(s_a if t_a < 0 else inf, np.where(t_b < 0, s_b, inf)[None, :]),
                        np.minimum(np.where(t_c < 0, s_c, inf)[:, None], np.where(t_d < 0, s_d, inf)))
        down = np.minimum(np.minimum(s_a if t_a > 0 else inf, np.where(t_b > 0, s_b, inf)[None, :]),
                          np.minimum(np.where(t_c > 0, s_c, inf)[:, None], np.where(t_d > 0, s_d, inf)))
        rise, fall = (up, down) if t_a > 0 else (down, up)  # how far the primary cell itself can go up, down
        block_wide = (up + down) > levels.protection * abs(additive[block, i, j])
        wide &= block_wide
        meets &= block_wide & (rise >= levels.upper[block, i, j]) & (fall >= levels.lower[block, i, j])
    new_b = np.where(suppressed[i, cols], 0.0, cost[i, cols])
    new_c = np.where(suppressed[rows, j], 0.0, cost[rows, j])
    new_d = np.where(suppressed[np.ix_(rows, cols)], 0.0, cost[np.ix_(rows, cols)])
    price = new_b[None, :] + new_c[:, None] + new_d
    choices = [meets, wide, np.ones_like(meets)]  # best effort when nothing reaches the levels
    if levels.single is not None:
        choices.insert(0, meets & ~_foreign_singletons(i, j, rows, cols, levels.single))
    for allowed in choices:
        if allowed.any():
            break
    best = int(np.argmin(np.where(allowed, price, inf)))
    k, l_ = int(rows[best // len(cols)]), int(cols[best % len(cols)])
    suppressed[i, l_] = suppressed[k, j] = suppressed[k, l_] = True


def count_levels(count: np.ndarray, shown: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Threshold and empty cells: the count could be anything from zero to the threshold (τ-Argus' levels for
    frequency tables). ``count`` is what the threshold judged (records or persons), ``shown`` what the table
    adds up (records)."""
    small = np.asarray(count) < threshold
    upper = np.where(small, threshold - np.asarray(count, dtype=float), 0.0)
    lower = np.where(small, np.asarray(shown, dtype=float), 0.0)
    return upper, lower


def magnitude_levels(top: np.ndarray, total: np.ndarray, negatives: np.ndarray, *, p_percent: float,
                     dominance_n: int, dominance_k: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower protection levels of a total whose cell fails the p% or the dominance rule.

    p%: the second-largest contributor's upper bound on the largest (the interval's top minus its own value)
    must be at least (1 + p) × the largest: upper = p·x1 − (X − x1 − x2), as τ-Argus. Below, the interval must
    leave p·x1 of room, so that not even someone who knows every other contribution bounds the largest from
    below within p%. Dominance (n, k): the top n must look less than k of the total: (x1 + … + xn) / k − X,
    the same on both sides (τ-Argus). Cells where the rules are undefined (negatives, no total) get none.
    """
    top = np.asarray(top, dtype=float)
    total = np.asarray(total, dtype=float)
    defined = (np.asarray(negatives) == 0) & (total > 0)
    x1 = top[..., 0]
    x2 = top[..., 1] if top.shape[-1] > 1 else np.zeros_like(x1)
    p_upper = np.where(defined & (x1 > 0), p_percent * x1 - (total - x1 - x2), 0.0).clip(min=0.0)
    p_lower = np.where(p_upper > 0, p_percent * x1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dominant = top[..., :dominance_n].sum(axis=-1) / dominance_k - total
    dominant = np.where(defined & np.isfinite(dominant), dominant, 0.0).clip(min=0.0)
    upper = np.maximum(p_upper, dominant)
    lower = np.minimum(np.maximum(p_lower, dominant), np.where(defined, total, 0.0))  # values stay >= 0
    return upper, lower


def protection_levels(counts: CellStats, totals: list[CellStats], settings: DisclosureSettings
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The additive quantities of a grid (its counts, then each value's totals), their upper and lower
    protection levels (B × grid each), and the contributors per cell (fewest over the quantities: a cell whose
    total has one contributor is a singleton for that total)."""
    additive = [counts.row_count.astype(float)]
    up, low = count_levels(counts.count, counts.row_count, settings.threshold)
    low[-1, :] = low[:, -1] = 0.0  # a total could reach zero only with every cell it adds up; its row is not empty
    upper, lower = [up], [low]
    contributors = counts.count.copy()
    for stats in totals:
        total = np.zeros(counts.count.shape) if stats.total is None else np.asarray(stats.total, dtype=float)
        additive.append(total)
        if stats.top is not None and stats.top.shape[-1] and stats.negatives is not None:
            up, low = magnitude_levels(stats.top, total, stats.negatives, p_percent=settings.p_percent,
                                       dominance_n=settings.dominance_n, dominance_k=settings.dominance_k)
        else:
            up = low = np.zeros(total.shape)
        upper.append(up)
        lower.append(low)
        if stats.n_valid is not None:
            contributors = np.minimum(contributors, stats.n_valid)
    return np.stack(additive), np.stack(upper), np.stack(lower), contributors


def extreme_margins(values: np.ndarray, suppressed: np.ndarray, margin_rows: np.ndarray,
                    margin_cols: np.ndarray) -> np.ndarray:
    """Margins of a non-additive table (min, max...) to withhold because they equal a withheld value they cover.

    The row maximum is the largest cell of the row: published beside a withheld cell that holds it, it gives
    that cell back. ``values`` and ``suppressed`` are the table's (one block of columns), ``margin_rows`` and
    ``margin_cols`` mark its margin row and column. A row margin covers its row, a column margin its column, the
    grand margin everything (margins included); withholding one margin may expose another, so repeat until none
    does. Returns the margins newly withheld.
    """
    values = np.asarray(values, dtype=float)
    hidden = np.asarray(suppressed, dtype=bool).copy()
    margin_rows, margin_cols = np.asarray(margin_rows, dtype=bool), np.asarray(margin_cols, dtype=bool)
    inner_rows, inner_cols = ~margin_rows, ~margin_cols
    extra = np.zeros(hidden.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        while True:
            found = np.zeros(hidden.shape, dtype=bool)
            for m in np.flatnonzero(margin_cols):  # row margins: the cells of their row
                repeats = (hidden[:, inner_cols] & (values[:, inner_cols] == values[:, [m]])).any(axis=1)
                found[:, m] |= repeats & inner_rows
            for m in np.flatnonzero(margin_rows):  # column margins: the cells of their column
                repeats = (hidden[inner_rows, :] & (values[inner_rows, :] == values[[m], :])).any(axis=0)
                found[m, :] |= repeats & inner_cols
            for r in np.flatnonzero(margin_rows):  # the grand margin: every cell and margin
                for c in np.flatnonzero(margin_cols):
                    found[r, c] = bool((hidden & (values == values[r, c])).any())
            found &= ~hidden
            if not found.any():
                return extra
            hidden |= found
            extra |= found


def round_to(values: np.ndarray, base: int) -> np.ndarray:
    """Round each value to the nearest multiple of ``base`` (NaN stays NaN)."""
    return np.round(np.asarray(values, dtype=float) / base) * base


__all__ = ["MAX_PRIMARY", "count_levels", "extreme_margins", "magnitude_levels", "protection_levels",
           "round_to", "secondary"]
