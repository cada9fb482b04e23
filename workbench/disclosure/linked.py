"""Linked tables: what an attacker recovers from several published tables of one population together.

Suppression protects each table against its own totals (``suppression``), but two tables cut from the same rows
share margins: a region × status table is the sum over sex of a region × sex × status table, so its published
cells are further equations in the suppressed cells of the other, and together they can pin those cells down.
``attack`` solves what the attacker would: the unknowns are the cells of the finest cross-classification the tables
imply (the joint cells of the union of their dimensions; each dimension also gets a "missing" category when the
tables only agree if some rows lack it, as tables that drop rows with a missing key do), non-negative for counts; a
table of filtered rows adds up only the joint cells its filter keeps (``restrict``: the labels kept of a column,
which is then a dimension too); every published cell or margin is an equation (a rounded one an interval), and the
minimum and maximum of each suppressed cell that needs protection are found by linear programming (HiGHS). A cell
whose interval is no wider than the protection its table asked of suppression (``protection × value``; an empty cell
must not be pinned down at all) is *recoverable*. A rounded count that failed a rule (rounding, not suppression,
was its protection) is recoverable when the tables narrow it to an interval no wider than ``ROUNDED_NEED``: one whole
number, or two at the ends of an interval — a small count rounded to 5 and its column total published exactly in
another table can leave just one value.

Solving two LPs per suppressed cell is what makes this slow, so every solution found is used: the values it
gives every suppressed cell widen the range known to be feasible, and a cell whose known range is already
wider than its requirement needs no LP of its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.disclosure.rules import UNMITIGABLE, failing

if TYPE_CHECKING:
    from scipy import sparse

    from workbench.disclosure.output import Output

MISSING = "\x00missing"  # the category of rows a table dropped because this key was missing
OTHER = "\x00other"  # rows whose value of a filter column no table lists: kept by no filter that names values
ROUNDED_NEED = 1.0  # a rounded count that failed a rule must keep more than one whole number open
MAX_JOINT_CELLS = 250_000  # beyond this many joint cells the check is left to a person (``TooLarge``)
TOLERANCE = 1e-6  # relative to the largest published value: LP bounds are floating point


class TooLarge(Exception):
    """The tables' joint cross-classification is too large to solve here."""


@dataclass(frozen=True)
class LinkedTable:
    """One published table as the attacker sees it, with the true values the workbench keeps.

    ``coords``: per cell, its label on each of ``dims`` (None: summed over that dimension, as in a margin).
    ``low``/``high``: what the release says of the cell: equal for a published number, the rounding interval for a
    rounded one, NaN for a suppressed cell. ``need``: the width an attacker's interval must exceed for a cell that
    needs protection (NaN for the others)."""

    name: str
    dims: tuple[str, ...]
    coords: tuple[tuple[str | None, ...], ...]
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    need: np.ndarray
    restrict: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the table's rows: only these labels of these columns
    domain: tuple[tuple[str, tuple[str, ...]], ...] = ()  # every label of a restricted column (OTHER: missing)

    def __post_init__(self) -> None:
        n = len(self.coords)
        if any(len(c) != len(self.dims) for c in self.coords):
            raise ValueError(f"table {self.name!r}: every cell needs a label (or None) per dimension")
        if not all(len(a) == n for a in (self.value, self.low, self.high, self.need)):
            raise ValueError(f"table {self.name!r}: values, bounds and needs must have one entry per cell")
        if any(not allowed for _, allowed in self.restrict) or len({d for d, _ in self.restrict}) != len(self.restrict):
            raise ValueError(f"table {self.name!r}: a restriction names each column once, with labels to keep")


@dataclass(frozen=True)
class Recovered:
    """A suppressed cell the linked tables pin down to ``[low, high]``, narrower than its protection ``need``."""

    table: int
    cell: int
    low: float
    high: float
    value: float
    need: float


@dataclass
class Attack:
    """What the attack found: ``feasible`` False when the tables cannot all describe the same rows (then they are
    not linked as assumed); the recoverable cells; how many LPs were solved; whether every cell was checked."""

    feasible: bool
    recovered: list[Recovered] = field(default_factory=list)
    targets: int = 0
    solves: int = 0
    joint_cells: int = 0
    with_missing: bool = False
    finished: bool = True  # False: stopped at the time limit with cells left unchecked


def _dims(tables: Sequence[LinkedTable]) -> list[str]:
    """The dimensions of the joint cells: the tables' own, then the columns their filters restrict."""
    return list(dict.fromkeys([*(d for t in tables for d in t.dims), *(d for t in tables for d, _ in t.restrict)]))


def _categories(tables: Sequence[LinkedTable], dims: list[str]) -> dict[str, list[str]]:
    """Each dimension's categories: the labels tables show for it. A column only filtered on, or shown only by
    tables that also filter it, may have rows outside every label: those get every label of the column when known
    (``domain``), or the labels filters keep and OTHER for the rest."""
    labels: dict[str, set[str]] = {d: set() for d in dims}
    complete = set()
    for table in tables:
        restricted = {d for d, _ in table.restrict}
        for k, dim in enumerate(table.dims):
            labels[dim].update(c[k] for c in table.coords if c[k] is not None)  # type: ignore[misc]
            if dim not in restricted:
                complete.add(dim)
    domains = {d: set(every) for t in tables for d, every in t.domain}
    for table in tables:
        for dim, allowed in table.restrict:
            if dim not in complete:
                labels[dim].update(domains.get(dim, {*allowed, OTHER}))
    return {d: sorted(labels[d]) for d in dims}


def _system(tables: Sequence[LinkedTable], with_missing: bool) -> tuple[sparse.csr_matrix, int]:
    """The 0/1 matrix whose rows are the tables' cells (in order) and columns the joint cells they add up."""
    from scipy import sparse  # scipy is imported only when tables are linked: ``import workbench`` stays fast

    dims = _dims(tables)
    cats = _categories(tables, dims)
    sizes = [len(cats[d]) + (1 if with_missing else 0) for d in dims]
    n_joint = math.prod(sizes)
    if n_joint > MAX_JOINT_CELLS:
        raise TooLarge(f"{n_joint:,} joint cells")
    joint = np.arange(n_joint, dtype=np.int64)
    strides = np.cumprod([1, *sizes[::-1]])[:-1][::-1]
    coord = {d: (joint // strides[k]) % sizes[k] for k, d in enumerate(dims)}  # missing is the last code
    position = {d: {label: i for i, label in enumerate(cats[d])} for d in dims}
    rows, cols = [], []
    offset = 0
    for table in tables:
        patterns: dict[tuple[int, ...], list[int]] = {}
        for i, c in enumerate(table.coords):
            patterns.setdefault(tuple(k for k, label in enumerate(c) if label is not None), []).append(i)
        for fixed, cells in patterns.items():
            names = [table.dims[k] for k in fixed]
            span = [len(cats[d]) for d in names]
            code = np.zeros(n_joint, dtype=np.int64)
            keep = np.ones(n_joint, dtype=bool)
            for d, s in zip(names, span, strict=True):
                code = code * s + np.minimum(coord[d], s - 1)
                keep &= coord[d] < s  # rows missing a key of the table are not in it
            lookup = np.full(math.prod(span), -1, dtype=np.int64)
            for i in cells:
                at = 0
                for k, d, s in zip(fixed, names, span, strict=True):
                    at = at * s + position[d][table.coords[i][k]]  # type: ignore[index]
                lookup[at] = offset + i
            for d, allowed in table.restrict:  # a filtered table adds up only the joint cells its filter keeps
                keep &= np.isin(coord[d], [position[d][label] for label in allowed if label in position[d]])
            row = np.where(keep, lookup[code], -1)
            hit = row >= 0
            rows.append(row[hit])
            cols.append(joint[hit])
        offset += len(table.coords)
    data = np.ones(sum(len(r) for r in rows))
    matrix = sparse.csr_matrix((data, (np.concatenate(rows), np.concatenate(cols))), shape=(offset, n_joint))
    return matrix, n_joint


def attack(tables: Sequence[LinkedTable], *, nonnegative: bool = True, enough: int | None = None,
           seconds: float | None = None) -> Attack:
    """Bound every suppressed cell that needs protection by LP over all ``tables`` together (see the module).
    ``enough``: stop once this many distinct cells are found recoverable (one is enough to fail a table; the
    rest only cost time); None finds them all. ``seconds``: stop looking after this long (``finished`` False).

    Raises ``TooLarge`` when the joint cross-classification has more than ``MAX_JOINT_CELLS`` cells."""
    deadline = None if seconds is None else time.monotonic() + seconds
    result = _attack(tables, nonnegative, enough, deadline, with_missing=False)
    if not result.feasible:  # the tables may have dropped different rows with a missing key
        result = _attack(tables, nonnegative, enough, deadline, with_missing=True)
    return result


def _keys(matrix: sparse.csr_matrix) -> list[bytes]:
    """Each row's set of joint cells as bytes: equal keys are the same cell, published in several tables."""
    matrix.sort_indices()
    indices, pointers = matrix.indices, matrix.indptr
    return [indices[pointers[i]:pointers[i + 1]].tobytes() for i in range(matrix.shape[0])]


def _independent(matrix: sparse.csr_matrix, rows: np.ndarray, owner: np.ndarray, value: np.ndarray,
                 tol: float) -> np.ndarray:
    """``rows`` without those that are the sum of smaller ones among them, cells and values (a margin whose cells
    are all published, a coarse table's cell whose cells a finer table publishes): they add no information, only
    work. A row whose parts add up to another value stays: it makes the system infeasible, as it should."""
    if len(rows) < 2:
        return rows
    sub = matrix[rows]
    size = np.asarray(sub.sum(axis=1)).ravel()
    overlap = (sub @ sub.T).tocoo()  # joint cells two published cells share
    inside = (overlap.data == size[overlap.col]) & (size[overlap.col] < size[overlap.row])  # col within row
    covered = np.bincount(overlap.row[inside], weights=overlap.data[inside], minlength=len(rows))
    by_row, by_col = overlap.row[inside], overlap.col[inside]
    order = np.argsort(by_row, kind="stable")
    by_row, by_col = by_row[order], by_col[order]
    starts = np.searchsorted(by_row, np.arange(len(rows) + 1))
    implied = np.zeros(len(rows), dtype=bool)
    for r in np.flatnonzero(covered >= size):
        parts = by_col[starts[r]:starts[r + 1]]
        # the cells of one pattern of one table (same owner, same size) are disjoint: do they add up to r?
        keys = owner[rows[parts]] * (int(size.max()) + 1) + size[parts].astype(np.int64)
        for key in np.unique(keys):
            chosen = parts[keys == key]
            if (size[chosen].sum() == size[r] and abs(value[rows[chosen]].sum() - value[rows[r]]) <= tol
                    and np.asarray(sub[chosen].sum(axis=0)).max() <= 1):
                implied[r] = True
                break
    return rows[~implied]


def _attack(tables: Sequence[LinkedTable], nonnegative: bool, enough: int | None, deadline: float | None, *,
            with_missing: bool) -> Attack:
    from scipy import sparse
    from scipy.optimize import linprog

    matrix, n_joint = _system(tables, with_missing)
    low = np.concatenate([t.low for t in tables]).astype(float)
    high = np.concatenate([t.high for t in tables]).astype(float)
    need = np.concatenate([t.need for t in tables]).astype(float)
    value = np.concatenate([t.value for t in tables]).astype(float)
    owner = np.concatenate([np.full(len(t.coords), k) for k, t in enumerate(tables)])
    cell = np.concatenate([np.arange(len(t.coords)) for t in tables])
    known = ~np.isnan(low)
    scale = max(float(np.nanmax(np.abs(np.concatenate([value, [1.0]])))), 1.0)
    tol = TOLERANCE * scale
    exact = known & (high - low <= tol)
    ranged = known & ~exact
    # the same cell published by several tables (a margin shown twice, a table in another orientation) is one
    # equation: fewer, less redundant rows are what keeps each LP fast
    keys = _keys(matrix)
    first: dict[bytes, int] = {}
    for i in np.flatnonzero(exact):
        if abs(low[first.setdefault(keys[i], int(i))] - low[i]) > tol:  # one cell, two values: not one population
            return Attack(feasible=False, targets=0, joint_cells=n_joint, with_missing=with_missing)
    equal = _independent(matrix, np.array(sorted(first.values()), dtype=np.int64), owner, low, tol)
    a_eq = matrix[equal] if len(equal) else None
    b_eq = low[equal] if len(equal) else None
    a_ub = sparse.vstack([matrix[ranged], -matrix[ranged]]).tocsr() if ranged.any() else None
    b_ub = np.concatenate([high[ranged], -low[ranged]]) if ranged.any() else None
    bounds = (0, None) if nonnegative else (None, None)
    wanted = np.flatnonzero(~exact & ~np.isnan(need))  # suppressed cells, and rounded ones that need protection
    groups: dict[bytes, list[int]] = {}
    for i in wanted:
        groups.setdefault(keys[i], []).append(int(i))
    members = list(groups.values())
    found = Attack(feasible=True, targets=len(wanted), joint_cells=n_joint, with_missing=with_missing)
    if not members:
        return found
    lead = np.array([m[0] for m in members], dtype=np.int64)
    widest = np.array([max(need[i] for i in m) for m in members])  # a group is safe once wider than all needs
    rows = matrix[lead]
    seen_low, seen_high = value[lead].copy(), value[lead].copy()  # the truth is one feasible point

    def solve(objective: np.ndarray) -> tuple[int, float]:
        found.solves += 1
        res = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
        if res.status == 0:
            point = rows @ res.x
            np.minimum(seen_low, point, out=seen_low)
            np.maximum(seen_high, point, out=seen_high)
            return 0, float(res.fun)
        return int(res.status), math.nan

    def infeasible() -> Attack:
        return Attack(feasible=False, targets=len(wanted), solves=found.solves, joint_cells=n_joint,
                      with_missing=with_missing)

    # two points that move every target at once: often enough to show most of them wide
    combined = np.asarray(rows.T @ (1.0 / np.maximum(widest, 1.0))).ravel()
    if solve(combined)[0] == 2:
        return infeasible()
    solve(-combined)
    pinned = 0
    for k in np.argsort(-widest, kind="stable"):
        if seen_high[k] - seen_low[k] > widest[k] + tol:
            continue
        if deadline is not None and time.monotonic() > deadline:
            found.finished = False
            break
        objective = np.asarray(rows[k].todense()).ravel()
        status, lowest = solve(objective)
        if status == 3:  # unbounded below: cannot be pinned
            continue
        if status != 0:
            return infeasible()
        if seen_high[k] - lowest > widest[k] + tol:
            continue
        status, negated = solve(-objective)
        if status != 0:
            continue
        highest = -negated
        if not lowest - tol <= value[lead[k]] <= highest + tol:  # the tables are not the one population assumed
            return infeasible()
        hits = [t for t in members[k] if highest - lowest <= need[t] + tol]
        found.recovered += [Recovered(table=int(owner[t]), cell=int(cell[t]), low=lowest, high=highest,
                                      value=float(value[t]), need=float(need[t])) for t in hits]
        pinned += bool(hits)
        if enough is not None and pinned >= enough:
            break
    return found


def _parts(label: Any) -> tuple[Any, ...]:
    return label if isinstance(label, tuple) else (label,)


def _levels(labels: pd.Index, dims: Sequence[str]) -> tuple[list[int], list[int]]:
    names = [str(n) if n is not None else None for n in labels.names]
    keep = [k for k, n in enumerate(names) if n is not None and n in dims]
    return keep, [k for k in range(len(names)) if k not in keep]


def blocks(output: Output, dims: Sequence[str]) -> list[tuple[Any, ...]]:
    """The blocks of values ``output``'s table holds side by side (one per value column and aggregation, named
    by the column axis's levels that are not ``dims``); ``[()]`` for a table of one block."""
    _, other = _levels(output.table.columns, dims)
    if not other:
        return [()]
    return list(dict.fromkeys(tuple(_parts(label)[k] for k in other) for label in output.table.columns))


def _axis_coords(labels: pd.Index, dims: Sequence[str], margins: Any,
                 block: tuple[Any, ...] | None) -> tuple[list[str], list[list[str | None]], list[int]]:
    """The dimensions an axis is cut by (its levels named in ``dims``), each label's category on them (None
    on a margin) and its position, of the labels in ``block`` (their other levels' values; None: the axis must
    hold one block)."""
    keep, other = _levels(labels, dims)
    names = [str(n) if n is not None else None for n in labels.names]
    if block is None and other and len({tuple(_parts(label)[k] for k in other) for label in labels}) > 1:
        raise ValueError("the table holds more than one block of values (several values or aggregations)")
    coords: list[list[str | None]] = []
    positions: list[int] = []
    for i, label in enumerate(labels):
        parts = _parts(label)
        if block is not None and tuple(parts[k] for k in other) != block:
            continue
        total = margins is not None and bool(keep) and parts[keep[0]] == margins
        coords.append([None if total else str(parts[k]) for k in keep])
        positions.append(i)
    return [names[k] for k in keep], coords, positions  # type: ignore[misc]


def from_output(output: Output, name: str, dims: Sequence[str], *, block: tuple[Any, ...] | None = None,
                restrict: Sequence[tuple[str, Sequence[str]]] = (),
                domain: Sequence[tuple[str, Sequence[str]]] = ()) -> LinkedTable:
    """``output``'s table as published: its cells on ``dims`` (margins summed over), exact where shown, the
    rounding interval where rounded, unknown where suppressed; the suppressed cells that failed a rule need the
    protection the table's suppression gave them. ``block``: which block of a table of several (``blocks``);
    ``restrict``: the labels of columns its rows were filtered to, ``domain``: all their labels where known
    (OTHER for missing). Raises ValueError for a table that is not one
    block of values cut by ``dims``."""
    table = output.table
    margins = output.properties.get("margins_name", "All") if output.properties.get("margins") else None
    row_dims, row_coords, row_at = _axis_coords(table.index, dims, margins, None)
    col_dims, col_coords, col_at = _axis_coords(table.columns, dims, margins, block)
    names = tuple(row_dims + col_dims)
    if not names or len(set(names)) != len(names):
        raise ValueError("the table is not cut by distinct named dimensions")
    if not col_at:
        raise ValueError(f"the table holds no block {block!r}")
    pick = np.ix_(row_at, col_at)
    values = table.to_numpy(dtype=float, na_value=np.nan)[pick]
    safe = output.safe_table.to_numpy(dtype=float, na_value=np.nan)[pick]
    suppressed = (output.suppressed.to_numpy(dtype=bool)[pick] if output.suppressed is not None
                  else np.zeros(values.shape, dtype=bool))
    rules = failing(output.settings) - set(UNMITIGABLE)
    failed = np.zeros(values.shape, dtype=bool)
    for rule, flag in output.flags.items():
        if rule in rules:
            failed |= flag.to_numpy(dtype=bool)[pick]
    mitigation = output.mitigation or {}
    protection = float(mitigation.get("protection", output.settings.protection))
    rounded = mitigation.get("method") == "round"
    half = float(mitigation.get("base", output.settings.rounding_base)) / 2 if rounded else 0.0
    coords, value, low, high, need = [], [], [], [], []
    for r, rc in enumerate(row_coords):
        for c, cc in enumerate(col_coords):
            here = tuple(rc + cc)
            margin = any(label is None for label in here)
            v = values[r, c]
            if suppressed[r, c] or np.isnan(v) or (rounded and margin):
                lo = hi = math.nan
            elif rounded:
                lo, hi = safe[r, c] - half, safe[r, c] + half
            else:
                lo = hi = v
            coords.append(here)
            value.append(v)
            low.append(lo)
            high.append(hi)
            if suppressed[r, c] and failed[r, c] and not np.isnan(v):
                need.append(protection * abs(v))
            elif rounded and failed[r, c] and not margin and not np.isnan(v):
                need.append(ROUNDED_NEED)  # a small count left to its rounding: pinned to one number gives it back
            else:
                need.append(math.nan)
    return LinkedTable(name=name, dims=names, coords=tuple(coords), value=np.array(value), low=np.array(low),
                       high=np.array(high), need=np.array(need),
                       restrict=tuple((d, tuple(sorted(str(v) for v in allowed))) for d, allowed in restrict),
                       domain=tuple((d, tuple(sorted(str(v) for v in every))) for d, every in domain))


__all__ = ["MAX_JOINT_CELLS", "OTHER", "Attack", "LinkedTable", "Recovered", "TooLarge", "attack", "blocks",
           "from_output"]
