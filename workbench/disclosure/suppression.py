"""Mitigation: cell suppression that the totals cannot undo, and rounding.

Suppressing only the failing ("primary") cells is not enough: a row with one suppressed cell gives it back as
the row total minus the others. Secondary suppression works on the table with its totals, laid out as a grid
whose last row and column are the column and row totals. Each primary cell is put in a *rectangle* of four
suppressed cells (two rows × two columns of the grid, totals included). Moving the four cells by +δ, −δ, −δ, +δ
(a total moving with the cells it adds up) keeps every published total, so an attacker who knows all the
published cells and totals only learns that each of the four lies in an interval at least

    W = (the smallest value among the cells that decrease as δ grows) + (the same for δ falling)

wide (values cannot go below zero). A rectangle is accepted when W exceeds ``protection`` × the primary cell's
value, in every additive quantity the table stands for (the counts, and the totals of summed or averaged
values); among those, the one suppressing the fewest and smallest new cells wins, totals last. A rectangle
made of the cell, its row total, its column total and the grand total always qualifies (its W is unbounded),
so every primary cell is protected. Later suppressions only add unknowns, so earlier guarantees hold.
"""

from __future__ import annotations

import numpy as np

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
              published: np.ndarray | None = None) -> np.ndarray | None:
    """Cells to suppress (primary and secondary) so each primary keeps an interval wider than its protection.

    ``primary``: boolean (R+1) × (C+1) grid, totals last. ``additive``: B × (R+1) × (C+1) values that add up
    along rows and columns (counts, totals). ``published``: cells that appear in the output (others, such as
    totals of a table shown without margins, cost more to withhold; default: all). Returns None when there
    are more than ``MAX_PRIMARY`` primary cells: such a table should be made coarser, not suppressed.
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
    # protect the largest requirements first: their rectangles then often shelter the smaller cells
    for i, j in cells[np.argsort(-needs, kind="stable")]:
        i, j = int(i), int(j)
        if full:
            rows, cols = all_rows[all_rows != i], all_cols[all_cols != j]
        else:
            rows = _shortlist(suppressed[:, j], slack[0][:, j], i)
            cols = _shortlist(suppressed[i, :], slack[0][i, :], j)
        _protect(i, j, rows, cols, suppressed, slack, cost, protection, row_sign, col_sign, additive)
    return suppressed


def _shortlist(already: np.ndarray, slack: np.ndarray, exclude: int) -> np.ndarray:
    """Candidate rows (or columns) for a large grid: already suppressed ones, the largest, and the total."""
    found = np.flatnonzero(already)[:SHORTLIST]
    k = min(SHORTLIST, len(slack))
    largest = np.argpartition(-slack, k - 1)[:k] if k else np.array([], dtype=np.int64)
    candidates = np.unique(np.concatenate([found, largest, [len(slack) - 1]]))
    return candidates[candidates != exclude]


def _protect(i: int, j: int, rows: np.ndarray, cols: np.ndarray, suppressed: np.ndarray, slack: np.ndarray,
             cost: np.ndarray, protection: float, row_sign: np.ndarray, col_sign: np.ndarray,
             additive: np.ndarray) -> None:
    """Suppress the cheapest rectangle (i, j), (i, l), (k, j), (k, l) over candidate k, l that protects (i, j)."""
    inf = np.inf
    # pattern signs: (i,j) +, (i,l) -, (k,j) -, (k,l) +; a cell's value moves by pattern × row × column sign
    t_a = row_sign[i] * col_sign[j]
    t_b = -row_sign[i] * col_sign[cols]
    t_c = -row_sign[rows] * col_sign[j]
    t_d = np.outer(row_sign[rows], col_sign[cols])
    feasible = np.ones((len(rows), len(cols)), dtype=bool)
    for block in range(slack.shape[0]):
        s = slack[block]
        s_a, s_b, s_c, s_d = s[i, j], s[i, cols], s[rows, j], s[np.ix_(rows, cols)]
        up = np.minimum(np.minimum(s_a if t_a < 0 else inf, np.where(t_b < 0, s_b, inf)[None, :]),
                        np.minimum(np.where(t_c < 0, s_c, inf)[:, None], np.where(t_d < 0, s_d, inf)))
        down = np.minimum(np.minimum(s_a if t_a > 0 else inf, np.where(t_b > 0, s_b, inf)[None, :]),
                          np.minimum(np.where(t_c > 0, s_c, inf)[:, None], np.where(t_d > 0, s_d, inf)))
        feasible &= (up + down) > protection * abs(additive[block, i, j])
    new_b = np.where(suppressed[i, cols], 0.0, cost[i, cols])
    new_c = np.where(suppressed[rows, j], 0.0, cost[rows, j])
    new_d = np.where(suppressed[np.ix_(rows, cols)], 0.0, cost[np.ix_(rows, cols)])
    total = np.where(feasible, new_b[None, :] + new_c[:, None] + new_d, inf)
    best = int(np.argmin(total))
    if np.isfinite(total.flat[best]):
        k, l_ = int(rows[best // len(cols)]), int(cols[best % len(cols)])
    else:  # pragma: no cover - the rectangle through the totals always qualifies
        k, l_ = suppressed.shape[0] - 1, suppressed.shape[1] - 1
    suppressed[i, l_] = suppressed[k, j] = suppressed[k, l_] = True


def round_to(values: np.ndarray, base: int) -> np.ndarray:
    """Round each value to the nearest multiple of ``base`` (NaN stays NaN)."""
    return np.round(np.asarray(values, dtype=float) / base) * base


__all__ = ["MAX_PRIMARY", "round_to", "secondary"]
