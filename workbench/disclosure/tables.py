"""Disclosure-checked tables with pandas' own signatures: ``crosstab``, ``pivot_table``, ``groupby_agg`` and
``histogram``. Each returns an ``Output``: the table pandas would give, the rules' flags aligned with it, and
the table after the workspace's mitigation.

The common case (one row key, one column key, a frequency or mean table without margins) is tabulated from the
same grouped pass that feeds the rules, so checking costs about what pandas costs. Every other case lets pandas
build the table and places the grouped statistics on its rows and columns by label.

``persons=`` (a person key per row) makes the rules count people: the threshold counts distinct persons per cell
and margin, dominance and p% judge each person's summed contribution. The table itself is what pandas gives.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.disclosure import rules as rules_module
from workbench.disclosure import suppression
from workbench.disclosure.output import Output
from workbench.disclosure.rules import AGGFUNCS, MAGNITUDE, UNMITIGABLE
from workbench.disclosure.settings import DisclosureSettings, resolve
from workbench.disclosure.stats import (
    CellStats,
    codes,
    combine,
    group_stats,
    numeric_values,
    person_codes,
    person_margins,
    person_stats,
    to_grid,
)
from workbench.errors import InvalidInput

ROUNDABLE = (None, "count", "sum")
ADDITIVE = ("sum", "mean")
GRID_LIMIT = 5_000_000  # above this many row × column combinations, group by observed combinations only
MAX_BINS = 10_000  # bins of a histogram: far more than a checked table can show, and numpy allocates them all
EDGE_TOLERANCE = 1e-6  # an outer edge this close to an extreme value (as a share of the range) prints that value


def _mode(series: pd.Series) -> Any:
    """The most frequent value (the smallest of ties); NaN for a cell without values."""
    found = series.mode()
    return found.iloc[0] if len(found) else np.nan


_mode.__name__ = "mode"


def _pandas_aggfunc(name: str | None) -> Any:
    return _mode if name == "mode" else name


def _aggfuncs(aggfunc: Any, *, allow_none: bool, allow_list: bool) -> list[str | None]:
    """The aggregation names asked for; refuse unknown names and callables (their rules are unknown)."""
    items = list(aggfunc) if allow_list and isinstance(aggfunc, list | tuple) else [aggfunc]
    if not items:
        raise InvalidInput(f"aggfunc: give at least one of {', '.join(AGGFUNCS)}.", field="aggfunc")
    for item in items:
        if item is None and allow_none:
            continue
        if not isinstance(item, str) or item not in AGGFUNCS:
            shown = getattr(item, "__name__", repr(item)) if not isinstance(item, str) else repr(item)
            raise InvalidInput(f"aggfunc: {shown} is not supported; use one of {', '.join(AGGFUNCS)} "
                               "(disclosure rules are defined for these).", field="aggfunc")
    if len(set(items)) != len(items):
        raise InvalidInput("aggfunc: a function is listed twice; list each once.", field="aggfunc")
    return items


def _is_array(value: Any) -> bool:
    return isinstance(value, pd.Series | pd.Index | np.ndarray | pd.Categorical | list | tuple)


def _keys(arg: Any) -> list[Any]:
    """One or several keys, as pandas reads ``index``/``columns`` (a list of arrays is several keys)."""
    if isinstance(arg, pd.DataFrame):
        return [arg[c] for c in arg.columns]
    if isinstance(arg, list | tuple) and arg and all(_is_array(a) and not isinstance(a, str) for a in arg):
        return list(arg)
    return [arg]


def _describe(value: Any) -> str:
    if isinstance(value, pd.Series | pd.Index):
        return str(value.name) if value.name is not None else type(value).__name__
    if isinstance(value, list | tuple):
        if value and all(_is_array(v) and not isinstance(v, str) for v in value):
            return "[" + ", ".join(_describe(v) for v in value) + "]"
        return f"<{len(value)} values>"
    if isinstance(value, np.ndarray | pd.Categorical):
        return type(value).__name__
    return repr(value)


def _check_arrays(named: list[tuple[str, Any]]) -> None:
    """Equal lengths, one shared index for Series (pandas would silently match them by label), some rows."""
    for name, value in named:
        if not _is_array(value) or isinstance(value, str):
            raise InvalidInput(f"{name}: give a column (Series or array), not {type(value).__name__}.", field=name)
        if np.ndim(np.asarray(value) if isinstance(value, list | tuple) else value) != 1:
            raise InvalidInput(f"{name}: give one-dimensional columns.", field=name)
    lengths = [(name, len(value)) for name, value in named]
    if len({n for _, n in lengths}) > 1:
        listed = ", ".join(f"{name} {n}" for name, n in lengths)
        raise InvalidInput(f"The columns have different lengths ({listed}); pass columns of one DataFrame.",
                           field=lengths[0][0])
    series = [(name, v) for name, v in named if isinstance(v, pd.Series)]
    for name, value in series[1:]:
        if not value.index.equals(series[0][1].index):
            raise InvalidInput(f"{name} and {series[0][0]} have different indexes, so pandas would pair rows by "
                               "label and drop the unmatched; use columns of one DataFrame (or reset_index).",
                               field=name)
    if lengths and lengths[0][1] == 0:
        raise InvalidInput("There are no rows, so there is no table to check; check the filter that made the data.",
                           field=lengths[0][0])


def _validity(values: Any) -> np.ndarray:
    """0 where a value is present, NaN where missing: enough for count tables of any type."""
    return np.where(pd.isna(np.asarray(values, dtype=object)), np.nan, 0.0)


def _value_codes(values: Any) -> np.ndarray:
    """Each value's code (NaN where missing): a mode table's values of any type, as numbers whose smallest and
    largest per cell tell whether the cell's values are all the same."""
    found, _ = pd.factorize(pd.Series(np.asarray(values, dtype=object)), use_na_sentinel=True)
    return np.where(found < 0, np.nan, found.astype(np.float64))


def _values_array(values: Any, aggfunc: str | None, name: str) -> np.ndarray | None:
    if values is None or aggfunc is None:
        return None
    if aggfunc in MAGNITUDE:
        return numeric_values(values, name)
    return _value_codes(values) if aggfunc == "mode" else _validity(values)


def _top(aggfuncs: Sequence[str | None], settings: DisclosureSettings) -> int:
    if any(a in MAGNITUDE for a in aggfuncs):
        return max(settings.dominance_n, 2)
    return 1 if "mode" in aggfuncs else 0  # the largest (and smallest) value code: all-values-same


Persons = tuple[np.ndarray, int] | None  # each row's person code and a bound on the codes; None: rows are people


def _persons(persons: Any, n_rows: int, properties: dict[str, Any]) -> Persons:
    """The person codes of the rows (or None), and the privacy unit recorded in the output's properties."""
    properties["privacy_unit"] = "row" if persons is None else "person"
    return None if persons is None else person_codes(persons, n_rows)


def _grid(gid: np.ndarray, n_groups: int, g_row: np.ndarray, g_col: np.ndarray, n_rows: int, n_cols: int,
          values: np.ndarray | None, top: int, persons: Persons, margins: bool) -> CellStats:
    """The rules' statistics on the grid: of rows, or (with ``persons``) of persons, with the row counts and
    totals the published table adds up to kept for suppression."""
    if persons is None:
        return to_grid(group_stats(gid, n_groups, values, top), g_row, g_col, n_rows, n_cols)
    by_person, _by_row, pairs = person_stats(gid, n_groups, persons[0], persons[1], values, top)
    grid = to_grid(by_person, g_row, g_col, n_rows, n_cols)
    if margins:
        person_margins(grid, pairs, g_row, g_col, n_rows, n_cols)
    return grid


def _group_ids(row_codes: np.ndarray, n_rows: int, col_codes: np.ndarray, n_cols: int
               ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Group ids of (row, column) combinations and each group's row and column code."""
    missing = (row_codes < 0) | (col_codes < 0)
    if n_rows * n_cols <= GRID_LIMIT:
        gid = np.where(missing, -1, row_codes * n_cols + col_codes)
        groups = np.arange(n_rows * n_cols)
        return gid, n_rows * n_cols, groups // max(n_cols, 1), groups % max(n_cols, 1)
    combined = row_codes * n_cols + col_codes
    unique, inverse = np.unique(combined[~missing], return_inverse=True)
    gid = np.full(len(combined), -1, dtype=np.int64)
    gid[~missing] = inverse
    return gid, len(unique), unique // n_cols, unique % n_cols


def _is_margin(label: Any, margins_name: Hashable) -> bool:
    return label == margins_name or (isinstance(label, tuple) and len(label) > 0 and label[0] == margins_name)


def _positions(interior: pd.Index, labels: pd.Index) -> np.ndarray:
    """Where each label sits in ``interior`` (-1 if it is not shown)."""
    try:
        found = interior.get_indexer(labels)
    except (TypeError, ValueError, NotImplementedError):
        lookup = {label: i for i, label in enumerate(interior)}
        found = np.array([lookup.get(label, -1) for label in labels], dtype=np.int64)
    return np.asarray(found, dtype=np.int64)


# --------------------------------------------------------------------------------------------------------------
# The engine: flags on the grid, gathered to the table, mitigation on the grid, applied to the table.
# --------------------------------------------------------------------------------------------------------------

def _mask(table: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The table with the masked cells withheld (whole-number columns stay whole numbers)."""
    if not mask.any():
        return table.copy()
    out = table.copy()
    for position in range(out.shape[1]):
        column_mask = mask[:, position]
        if not column_mask.any():
            continue
        column = out.iloc[:, position]
        if pd.api.types.is_integer_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype):
            try:
                column = column.astype("Int64")
            except (TypeError, ValueError, OverflowError):  # unsigned values past the range of Int64
                column = column.astype("Float64")
        elif pd.api.types.is_bool_dtype(column.dtype):
            column = column.astype("boolean")
        out.isetitem(position, column.mask(column_mask))
    return out


def _rounded(table: pd.DataFrame, base: int, row_pos: np.ndarray, col_pos: np.ndarray, col_block: np.ndarray,
             grid_shape: tuple[int, int]) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The table with each cell rounded to ``base`` and each total the sum of the rounded cells it adds up (as
    ACRO does), and each block's published grid (totals last), on which suppression then works.

    Totals rounded from the true data would undo the rounding: with [[2, 1], [11, 8]] at base 5, the cells
    0, 0, 10, 10 and the totals 5, 20, 15, 10, 20 admit one integer table only, the true one. Totals made from
    the rounded cells carry nothing the rounded cells do not, so every cell keeps its whole rounding interval.
    """
    n_rows, n_cols = grid_shape[0] - 1, grid_shape[1] - 1
    inner_rows = row_pos < n_rows
    out = table.copy()
    grids = []
    for block in np.unique(col_block):
        columns = np.flatnonzero(col_block == block)
        inner = columns[col_pos[columns] < n_cols]
        cells = table.iloc[:, inner].to_numpy(dtype=float, na_value=np.nan)[inner_rows]
        grid = np.zeros(grid_shape)
        grid[np.ix_(row_pos[inner_rows], col_pos[inner])] = np.nan_to_num(suppression.round_to(cells, base))
        grid[:n_rows, n_cols] = grid[:n_rows, :n_cols].sum(axis=1)
        grid[n_rows, :] = grid[:n_rows, :].sum(axis=0)
        grids.append(grid)
        # an empty cell (NaN in a pivot table) is published as the 0 it rounds to: left blank in a rounded table,
        # it would tell an exact 0 from the 1s and 2s that also round to 0
        published = grid[np.ix_(row_pos, col_pos[columns])]
        for position, values in zip(columns, published.T, strict=True):
            column = out.iloc[:, position]
            if pd.api.types.is_integer_dtype(column.dtype):
                series = pd.Series(values, index=out.index).astype(
                    "Int64" if np.isnan(values).any() or isinstance(column.dtype, pd.Int64Dtype) else column.dtype)
            else:
                series = pd.Series(values, index=out.index, dtype=column.dtype)
            out.isetitem(int(position), series)
    return out, grids


def _total_names(grid_cells: np.ndarray, row_labels: Sequence, col_labels: Sequence) -> list[str]:
    """Human names of suppressed totals that the table does not show (so they must not be published)."""
    n_rows, n_cols = len(row_labels), len(col_labels)
    names = []
    for r, c in grid_cells:
        if (n_cols == 1 and c == n_cols) or (n_rows == 1 and r == n_rows):
            continue  # the totals of a one-column (one-row) table are its own cells
        if (r == n_rows and (c == n_cols or n_cols == 1)) or (c == n_cols and n_rows == 1):
            names.append("the grand total")
        elif r == n_rows:
            names.append(f"the column total of {col_labels[c]!r}")
        elif c == n_cols:
            names.append(f"the row total of {row_labels[r]!r}")
    return list(dict.fromkeys(names))


def _withhold_repeating_margins(table: pd.DataFrame, grid_suppressed: np.ndarray, row_pos: np.ndarray,
                                col_pos: np.ndarray, col_block: np.ndarray,
                                blocks: list[tuple[str | None, Hashable]]) -> None:
    """In place: withhold the margins of min, max, median, std and mode blocks that equal a withheld cell they
    cover (the row maximum of a row whose largest cell is withheld gives that cell back), in every block, until
    no margin does."""
    margin_rows = row_pos == grid_suppressed.shape[0] - 1
    margin_cols = col_pos == grid_suppressed.shape[1] - 1
    extremes = [b for b, (aggfunc, _key) in enumerate(blocks)
                if aggfunc not in (None, "count", *ADDITIVE) and (col_block == b).any()]
    if not extremes or not (margin_rows.any() or margin_cols.any()):
        return
    values = {}
    for b in extremes:
        block = table.iloc[:, np.flatnonzero(col_block == b)]
        try:
            values[b] = block.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):  # a mode of text: compare the labels by their codes
            found, _labels = pd.factorize(pd.Series(block.to_numpy(dtype=object).ravel()))
            values[b] = np.where(found < 0, np.nan, found).astype(float).reshape(block.shape)
    changed = True
    while changed:
        changed = False
        for b in extremes:
            columns = np.flatnonzero(col_block == b)
            shown = grid_suppressed[row_pos[:, None], col_pos[columns][None, :]]
            extra = suppression.extreme_margins(values[b], shown, margin_rows, margin_cols[columns])
            if extra.any():
                rows, cols = np.nonzero(extra)
                grid_suppressed[row_pos[rows], col_pos[columns][cols]] = True
                changed = True


def assemble(*, table: pd.DataFrame, kind: str, method: str, row_pos: np.ndarray, col_pos: np.ndarray,
             col_block: np.ndarray, blocks: list[tuple[str | None, Hashable]], grids: dict[Hashable, CellStats],
             row_labels: Sequence, col_labels: Sequence, settings: DisclosureSettings, command: str,
             properties: dict[str, Any], roundable: bool = True,
             extra: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Output:
    """Evaluate the rules per block on the grid, gather them onto the table, and mitigate."""
    shape = table.shape
    if 0 in shape:
        raise InvalidInput("The table is empty: no row has every key (and a value) present. Check for missing "
                           "keys, or pass dropna=False to tabulate them.")
    grid_shape = (len(row_labels) + 1, len(col_labels) + 1)
    rp = row_pos[:, None]
    flags: dict[str, np.ndarray] = {}
    measures: dict[str, np.ndarray] = {}
    shown = np.zeros(grid_shape, dtype=bool)
    fail_names = rules_module.failing(settings)
    primary = np.zeros(grid_shape, dtype=bool)
    value_primary = np.zeros(grid_shape, dtype=bool)  # failing cells of value (sum, mean...) blocks
    value_columns = np.zeros(shape[1], dtype=bool)
    order = ["threshold", "zeros", "dominance", "p_percent", "negative", "missing"]
    for b, (aggfunc, key) in enumerate(blocks):
        columns = np.flatnonzero(col_block == b)
        if not len(columns):
            continue
        cp = col_pos[columns][None, :]
        block_shown = np.zeros(grid_shape, dtype=bool)
        block_shown[rp, cp] = True
        shown |= block_shown
        value_columns[columns] = aggfunc in MAGNITUDE
        grid_flags, grid_measures = rules_module.evaluate(grids[key], aggfunc, settings)
        for name, flag in grid_flags.items():
            if name not in flags:
                flags[name] = np.zeros(shape, dtype=bool)
                measures[name] = np.full(shape, np.nan)
            flags[name][:, columns] = flag[rp, cp]
            measures[name][:, columns] = grid_measures[name][rp, cp]
            if name in fail_names:
                primary |= flag & block_shown
                if aggfunc in MAGNITUDE and name not in UNMITIGABLE:
                    value_primary |= flag & block_shown
    for name, (flag, measure) in (extra or {}).items():
        flags[name], measures[name] = flag, measure
    names = [n for n in order if n in flags] + [n for n in flags if n not in order]
    flags = {n: flags[n] for n in names}
    measures = {n: np.where(flags[n], measures[n], np.nan) for n in names}

    fails = any(flags[n].any() for n in names if n in fail_names and n not in UNMITIGABLE)
    unmitigable = any(flags[n].any() for n in names if n in UNMITIGABLE)
    reviews = any(flags[n].any() for n in names if n not in fail_names)
    before = "fail" if fails or unmitigable else "review" if reviews else "pass"
    suppressed = np.zeros(shape, dtype=bool)
    safe = table.copy()
    mitigation: dict[str, Any] = {"method": "none"}
    status = before
    if fails and settings.mitigation == "none":
        mitigation["note"] = "checks only (the workspace applies no mitigation): a checker decides on the failing cells"
    elif fails:
        how, note = settings.mitigation, None
        if how == "round" and not roundable:
            how, note = "suppress", "rounding applies to frequency and sum tables; suppressed instead"
        # rounding protects counts; a value table's failing cells (a 3-person sum) are suppressed, never rounded
        to_protect = primary if how == "suppress" else value_primary
        total_keys = [key for key in dict.fromkeys(key for aggfunc, key in blocks if aggfunc in ADDITIVE)
                      if grids[key].total is not None]
        additive, upper, lower, contributors = suppression.protection_levels(
            grids[blocks[0][1]], [grids[key] for key in total_keys], settings)
        published_table = table
        if how == "round":  # suppression protects what is published: the rounded sums and their totals
            published_table, published_grids = _rounded(table, settings.rounding_base, row_pos, col_pos,
                                                        col_block, grid_shape)
            by_block = dict(zip(np.unique(col_block).tolist(), published_grids, strict=True))
            for i, key in enumerate(total_keys, start=1):
                block = next((b for b, (aggfunc, k) in enumerate(blocks) if k == key and aggfunc == "sum"
                              and b in by_block), None)
                if block is not None:
                    additive[i] = by_block[block]
        grid_suppressed = suppression.secondary(to_protect, additive, settings.protection, published=shown,
                                                upper=upper, lower=lower, contributors=contributors)
        if grid_suppressed is None:
            mitigation["note"] = (f"{int(to_protect.sum()):,} cells fail, too many to protect by suppression; make "
                                  "the table coarser (fewer categories) and tabulate again")
        else:
            _withhold_repeating_margins(table, grid_suppressed, row_pos, col_pos, col_block, blocks)
            suppressed = grid_suppressed[rp, col_pos[None, :]]
            safe = _mask(published_table if how == "round" else table, suppressed)
            protected = [n for n in names if n in fail_names and n not in UNMITIGABLE]
            failing_cells = np.logical_or.reduce([flags[n] for n in protected])
            if how == "round":
                failing_cells &= value_columns[None, :]
            n_primary = int((suppressed & failing_cells).sum())
            mitigation = {"method": how, "primary": n_primary, "secondary": int(suppressed.sum()) - n_primary,
                          "protection": settings.protection}
            if how == "round":
                mitigation.update(base=settings.rounding_base, totals="sums of the rounded cells")
            withheld = _total_names(np.argwhere(grid_suppressed & ~shown), list(row_labels), list(col_labels))
            if withheld:
                mitigation["withheld_totals"] = withheld
            if note:
                mitigation["note"] = note
            status = "fail" if unmitigable else "review"
    index, columns_ = table.index, table.columns
    return Output(
        kind=kind, method=method, table=table,
        flags={n: pd.DataFrame(f, index=index, columns=columns_) for n, f in flags.items()},
        measures={n: pd.DataFrame(m, index=index, columns=columns_) for n, m in measures.items()},
        suppressed=pd.DataFrame(suppressed, index=index, columns=columns_),
        status=status, status_before_mitigation=before, safe_table=safe, settings=settings,
        mitigation=mitigation, properties=properties, command=command)


# --------------------------------------------------------------------------------------------------------------
# crosstab
# --------------------------------------------------------------------------------------------------------------

def _fast_crosstab(row_key: Any, col_key: Any, values: np.ndarray | None, aggfunc: str | None, names: tuple,
                   settings: DisclosureSettings, command: str, properties: dict[str, Any],
                   persons: Persons = None) -> Output:
    """A frequency or mean table straight from the grouped statistics (pandas' result, pandas' labels)."""
    row_codes, row_labels = codes(row_key)
    col_codes, col_labels = codes(col_key)
    n_rows, n_cols = len(row_labels), len(col_labels)
    gid = np.where((row_codes < 0) | (col_codes < 0), -1, row_codes * n_cols + col_codes)
    if persons is None:
        stats = group_stats(gid, n_rows * n_cols, values, _top([aggfunc], settings))
    else:  # the table shows rows (stats); the rules judge persons
        by_person, stats, _pairs = person_stats(gid, n_rows * n_cols, persons[0], persons[1], values,
                                                _top([aggfunc], settings))
    if aggfunc is None:
        present = stats.count.reshape(n_rows, n_cols)
        cells = present
    else:
        present = stats.n_valid.reshape(n_rows, n_cols)
        with np.errstate(divide="ignore", invalid="ignore"):
            cells = np.where(present > 0, stats.total.reshape(n_rows, n_cols) / present, np.nan)
    rows = np.flatnonzero(present.sum(axis=1) > 0)
    cols = np.flatnonzero(present.sum(axis=0) > 0)
    index = _axis(row_key, row_labels, rows, names[0])
    columns = _axis(col_key, col_labels, cols, names[1])
    table = pd.DataFrame(cells[np.ix_(rows, cols)], index=index, columns=columns)
    row_map = np.full(n_rows, -1, dtype=np.int64)
    row_map[rows] = np.arange(len(rows))
    col_map = np.full(n_cols, -1, dtype=np.int64)
    col_map[cols] = np.arange(len(cols))
    groups = np.arange(n_rows * n_cols)
    g_row, g_col = row_map[groups // n_cols], col_map[groups % n_cols]
    grid = to_grid(stats if persons is None else by_person, g_row, g_col, len(rows), len(cols))
    return assemble(table=table, kind="table", method="crosstab", row_pos=np.arange(len(rows)),
                    col_pos=np.arange(len(cols)), col_block=np.zeros(len(cols), dtype=np.int64),
                    blocks=[(aggfunc, "values")], grids={"values": grid}, row_labels=list(index),
                    col_labels=list(columns), settings=settings, command=command, properties=properties,
                    roundable=aggfunc in ROUNDABLE)


def _axis(key: Any, labels: pd.Index, kept: np.ndarray, name: Hashable) -> pd.Index:
    dtype = getattr(key, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.CategoricalIndex(pd.Categorical.from_codes(kept, dtype=dtype), name=name)
    return labels.take(kept).rename(name)


def _names(keys: list[Any], given: Sequence | None, prefix: str, what: str) -> list:
    if given is not None:
        given = list(given)
        if len(given) != len(keys):
            raise InvalidInput(f"{what}: give {len(keys)} name(s), one per key, not {len(given)}.", field=what)
        return given
    return [getattr(k, "name", None) if getattr(k, "name", None) is not None else f"{prefix}_{i}"
            for i, k in enumerate(keys)]


def crosstab(index: Any, columns: Any, values: Any = None, rownames: Sequence | None = None,
             colnames: Sequence | None = None, aggfunc: str | None = None, margins: bool = False,
             margins_name: Hashable = "All", dropna: bool = True, normalize: bool | str | int = False, *,
             settings: DisclosureSettings | None = None, persons: Any = None) -> Output:
    """``pd.crosstab`` with disclosure control: the same table, each cell checked, and a safe version.

    ``persons``: the person key of each row (aligned with the keys), when a person may have several rows."""
    settings = resolve(settings)
    row_keys, col_keys = _keys(index), _keys(columns)
    if values is None and aggfunc is not None:
        raise InvalidInput("aggfunc needs values: pass values=... (the column to aggregate), or drop aggfunc "
                           "for a frequency table.", field="aggfunc")
    if values is not None and aggfunc is None:
        raise InvalidInput("values need an aggfunc: say how to aggregate them, e.g. aggfunc='mean'.",
                           field="aggfunc")
    (aggfunc,) = _aggfuncs(aggfunc, allow_none=True, allow_list=False)
    named = [(f"index[{i}]" if len(row_keys) > 1 else "index", k) for i, k in enumerate(row_keys)]
    named += [(f"columns[{i}]" if len(col_keys) > 1 else "columns", k) for i, k in enumerate(col_keys)]
    if values is not None:
        named.append(("values", values))
    _check_arrays(named)
    value_array = _values_array(values, aggfunc, "values")
    row_names = _names(row_keys, rownames, "row", "rownames")
    col_names = _names(col_keys, colnames, "col", "colnames")
    command = (f"sdc.crosstab({_describe(index)}, {_describe(columns)}"
               + (f", values={_describe(values)}, aggfunc={aggfunc!r}" if values is not None else "")
               + (", margins=True" if margins else "") + (f", normalize={normalize!r}" if normalize else "") + ")")
    properties = {"method": "crosstab", "aggfunc": aggfunc, "margins": bool(margins)}
    person_keys = _persons(persons, len(row_keys[0]), properties)
    if (len(row_keys) == 1 and len(col_keys) == 1 and aggfunc in (None, "mean") and not margins and dropna
            and normalize is False and row_names[0] != col_names[0]):
        return _fast_crosstab(row_keys[0], col_keys[0], value_array, aggfunc, (row_names[0], col_names[0]),
                              settings, command, properties, person_keys)
    try:
        table = pd.crosstab(index, columns, values=values, rownames=rownames, colnames=colnames,
                            aggfunc=_pandas_aggfunc(aggfunc), margins=margins, margins_name=margins_name,
                            dropna=dropna, normalize=normalize)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"pandas could not build this table: {exc}. Check the arguments against "
                           "pd.crosstab's.") from exc
    row_codes, row_labels = combine([codes(k, dropna=dropna) for k in row_keys], row_names)
    col_codes, col_labels = combine([codes(k, dropna=dropna) for k in col_keys], col_names)
    return _from_pandas(table, method="crosstab", row_codes=row_codes, row_labels=row_labels,
                        col_codes=col_codes, col_labels=col_labels, values={"values": value_array},
                        blocks_of=lambda label: ((aggfunc, "values"), label), margins=margins,
                        margins_name=margins_name, settings=settings, command=command, properties=properties,
                        roundable=aggfunc in ROUNDABLE and normalize is False, aggfuncs=[aggfunc],
                        persons=person_keys)


def _from_pandas(table: pd.DataFrame, *, method: str, row_codes: np.ndarray, row_labels: pd.Index,
                 col_codes: np.ndarray | None, col_labels: pd.Index | None, values: dict[Hashable, Any],
                 blocks_of: Any, margins: bool, margins_name: Hashable, settings: DisclosureSettings,
                 command: str, properties: dict[str, Any], roundable: bool, aggfuncs: list,
                 persons: Persons = None) -> Output:
    """Place the grouped statistics on a table pandas built: by label, totals last.

    ``blocks_of(column label)`` gives the column's block ((aggfunc, value key)) and its column key.
    """
    margin_row = bool(margins) and len(table.index) > 0 and _is_margin(table.index[-1], margins_name)
    interior_rows = table.index[:-1] if margin_row else table.index
    n_rows = len(interior_rows)
    row_pos = np.append(np.arange(n_rows), [n_rows] if margin_row else []).astype(np.int64)
    blocks: list[tuple[str | None, Hashable]] = []
    col_block, col_key_of = [], []
    for label in table.columns:
        block, key = blocks_of(label)
        if block not in blocks:
            blocks.append(block)
        col_block.append(blocks.index(block))
        col_key_of.append(key)
    group_rows = _positions(interior_rows, row_labels)
    if col_labels is None:  # no column keys: one column of cells per block
        interior_keys: list = [table.columns.names[-1] or "value"]
        n_cols = 1
        col_pos = np.zeros(len(col_key_of), dtype=np.int64)
        gid, n_groups = row_codes, len(row_labels)
        g_row, g_col = group_rows, np.zeros(n_groups, dtype=np.int64)
    else:
        is_total = [bool(margins) and _is_margin(k, margins_name) for k in col_key_of]
        interior_keys = list(dict.fromkeys(k for k, total in zip(col_key_of, is_total, strict=True) if not total))
        n_cols = len(interior_keys)
        where = {k: i for i, k in enumerate(interior_keys)}
        col_pos = np.array([n_cols if total else where[k] for k, total in zip(col_key_of, is_total, strict=True)],
                           dtype=np.int64)
        key_index = (pd.MultiIndex.from_tuples(interior_keys) if col_labels.nlevels > 1 and interior_keys
                     else pd.Index(interior_keys))
        group_cols = _positions(key_index, col_labels)
        gid, n_groups, group_row_codes, group_col_codes = _group_ids(row_codes, len(row_labels), col_codes,
                                                                      len(col_labels))
        g_row, g_col = group_rows[group_row_codes], group_cols[group_col_codes]
    top = _top(aggfuncs, settings)
    shows_totals = margin_row or bool((col_pos == n_cols).any())
    grids = {key: _grid(gid, n_groups, g_row, g_col, n_rows, n_cols, array, top, persons, shows_totals)
             for key, array in values.items()}
    return assemble(table=table, kind="table", method=method, row_pos=row_pos, col_pos=col_pos,
                    col_block=np.array(col_block, dtype=np.int64), blocks=blocks, grids=grids,
                    row_labels=list(interior_rows), col_labels=interior_keys, settings=settings, command=command,
                    properties=properties, roundable=roundable)


# --------------------------------------------------------------------------------------------------------------
# pivot_table and groupby_agg
# --------------------------------------------------------------------------------------------------------------

def _hashable(value: Any) -> bool:
    """Whether ``value`` can be a column label (a DataFrame or a dict cannot)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _columns_of(data: pd.DataFrame, names: Any, what: str) -> list:
    if names is None:
        return []
    names = list(names) if isinstance(names, list | tuple) else [names]
    unnamed = [n for n in names if not _hashable(n)]
    if unnamed:
        raise InvalidInput(f"{what}: name columns by their labels, not {type(unnamed[0]).__name__}.", field=what)
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise InvalidInput(f"{what}: no column {', '.join(map(repr, missing))} in the data; columns are "
                           f"{', '.join(map(repr, data.columns[:20]))}.", field=what)
    return names


def _check_frame(data: Any) -> None:
    """Refuse what is not a DataFrame with rows, before any column is looked up in it."""
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput(f"data: give a DataFrame, not {type(data).__name__}.", field="data")
    if len(data) == 0:
        raise InvalidInput("data: there are no rows, so there is no table to check.", field="data")


def pivot_table(data: pd.DataFrame, values: Any = None, index: Any = None, columns: Any = None,
                aggfunc: str | list[str] = "mean", fill_value: Any = None, margins: bool = False,
                dropna: bool = True, margins_name: Hashable = "All", observed: bool = False, sort: bool = True, *,
                settings: DisclosureSettings | None = None, persons: Any = None) -> Output:
    """``pd.pivot_table`` with disclosure control, for one or several values and aggregations at once.

    ``persons``: the person key of each row of ``data``, when a person may have several rows."""
    settings = resolve(settings)
    _check_frame(data)
    index_cols = _columns_of(data, index, "index")
    column_cols = _columns_of(data, columns, "columns")
    if not index_cols:
        raise InvalidInput("index: name at least one column to group the rows by.", field="index")
    aggfuncs = _aggfuncs(aggfunc, allow_none=False, allow_list=True)
    agg_list = isinstance(aggfunc, list | tuple)
    values_list = values is None or isinstance(values, list | tuple)
    value_cols = (_columns_of(data, values, "values") if values is not None
                  else [c for c in data.columns if c not in index_cols + column_cols])
    if not value_cols:
        raise InvalidInput("values: name the column(s) to aggregate.", field="values")
    arrays = {}
    for col in value_cols:
        kinds = [a for a in aggfuncs if a in MAGNITUDE]
        arrays[col] = (numeric_values(data[col], f"values {col!r}") if kinds
                       else _value_codes(data[col]) if "mode" in aggfuncs else _validity(data[col]))
    try:
        table = pd.pivot_table(data, values=values, index=index, columns=columns,
                               aggfunc=[_pandas_aggfunc(a) for a in aggfuncs] if agg_list
                               else _pandas_aggfunc(aggfuncs[0]),
                               fill_value=fill_value, margins=margins, dropna=dropna, margins_name=margins_name,
                               observed=observed, sort=sort)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"pandas could not build this table: {exc}. Check the arguments against "
                           "pd.pivot_table's.") from exc
    if isinstance(table, pd.Series):
        table = table.to_frame()
    row_codes, row_labels = combine([codes(data[c], dropna=dropna) for c in index_cols], index_cols)
    if column_cols:
        col_codes, col_labels = combine([codes(data[c], dropna=dropna) for c in column_cols], column_cols)
    else:
        col_codes, col_labels = None, None
    n_keys = len(column_cols)

    def blocks_of(label: Any) -> tuple[tuple[str, Hashable], Any]:
        parts = label if isinstance(label, tuple) else (label,)
        head, key = parts[:len(parts) - n_keys], parts[len(parts) - n_keys:]
        agg = head[0] if agg_list else aggfuncs[0]
        value = head[-1] if (values_list or not n_keys) else value_cols[0]
        key_label = None if not n_keys else key[0] if n_keys == 1 else tuple(key)
        return (agg, value), key_label

    command = (f"sdc.pivot_table(data, values={values!r}, index={index!r}, columns={columns!r}, "
               f"aggfunc={aggfunc!r}" + (", margins=True" if margins else "") + ")")
    properties = {"method": "pivot_table", "aggfunc": aggfuncs, "values": value_cols, "margins": bool(margins)}
    person_keys = _persons(persons, len(data), properties)
    return _from_pandas(table, method="pivot_table", row_codes=row_codes, row_labels=row_labels,
                        col_codes=col_codes, col_labels=col_labels, values=arrays, blocks_of=blocks_of,
                        margins=margins, margins_name=margins_name, settings=settings, command=command,
                        properties=properties, roundable=all(a in ROUNDABLE for a in aggfuncs), aggfuncs=aggfuncs,
                        persons=person_keys)


def groupby_agg(data: pd.DataFrame, by: Any, values: Any, aggfunc: str | list[str] = "mean", *,
                dropna: bool = True, settings: DisclosureSettings | None = None, persons: Any = None) -> Output:
    """``data.groupby(by)[values].agg(aggfunc)`` with disclosure control; columns are (value, aggfunc).

    ``persons``: the person key of each row of ``data``, when a person may have several rows."""
    settings = resolve(settings)
    _check_frame(data)
    by_cols = _columns_of(data, by, "by")
    if not by_cols:
        raise InvalidInput("by: name at least one column to group by.", field="by")
    value_cols = _columns_of(data, values, "values")
    if not value_cols:
        raise InvalidInput("values: name the column(s) to aggregate.", field="values")
    aggfuncs = _aggfuncs(aggfunc, allow_none=False, allow_list=True)
    arrays = {}
    for col in value_cols:
        arrays[col] = (numeric_values(data[col], f"values {col!r}") if any(a in MAGNITUDE for a in aggfuncs)
                       else _value_codes(data[col]) if "mode" in aggfuncs else _validity(data[col]))
    try:
        table = data.groupby(by_cols if len(by_cols) > 1 else by_cols[0], observed=True, dropna=dropna,
                             sort=True)[value_cols].agg([_pandas_aggfunc(a) for a in aggfuncs])
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"pandas could not aggregate this: {exc}.") from exc
    row_codes, row_labels = combine([codes(data[c], dropna=dropna) for c in by_cols], by_cols)
    command = f"sdc.groupby_agg(data, by={by!r}, values={values!r}, aggfunc={aggfunc!r})"
    properties = {"method": "groupby_agg", "aggfunc": aggfuncs, "values": value_cols, "by": by_cols}
    person_keys = _persons(persons, len(data), properties)
    return _from_pandas(table, method="groupby_agg", row_codes=row_codes, row_labels=row_labels, col_codes=None,
                        col_labels=None, values=arrays, blocks_of=lambda label: ((label[1], label[0]), None),
                        margins=False, margins_name="All", settings=settings, command=command,
                        properties=properties, roundable=all(a in ROUNDABLE for a in aggfuncs), aggfuncs=aggfuncs,
                        persons=person_keys)


# --------------------------------------------------------------------------------------------------------------
# histogram
# --------------------------------------------------------------------------------------------------------------

def _check_bins(bins: Any) -> None:
    """A number of bins from 1 to ``MAX_BINS``, or at most ``MAX_BINS`` + 1 edges: numpy allocates every bin (and
    would size them itself from the data for a name such as 'fd'), so an unbounded count exhausts the memory."""
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral | list | tuple | np.ndarray | pd.Index):
        raise InvalidInput(f"bins: give a number of bins (1 to {MAX_BINS:,}) or a list of increasing edges, not "
                           f"{type(bins).__name__}.", field="bins")
    if isinstance(bins, numbers.Integral) and not 1 <= bins <= MAX_BINS:
        raise InvalidInput(f"bins: {bins} is not a number of bins from 1 to {MAX_BINS:,}.", field="bins")
    if not isinstance(bins, numbers.Integral) and not 2 <= len(bins) <= MAX_BINS + 1:
        raise InvalidInput(f"bins: {len(bins):,} edges; give from 2 to {MAX_BINS + 1:,} increasing edges.",
                           field="bins")


def _bin_edges(bins: Any, range: Any) -> np.ndarray:
    """The bin edges, from the edges given or from a number of bins over a range given: never from the data,
    whose smallest and largest values would then be the outer edges, printed on the end bins' labels."""
    _check_bins(bins)
    if not isinstance(bins, numbers.Integral):
        if range is not None:
            raise InvalidInput("range: the edges given in bins already fix the range; leave range out, or give "
                               "a number of bins with range=(low, high).", field="range")
        try:
            edges = np.asarray(bins, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInput("bins: the edges must be numbers, e.g. bins=[0, 18, 65, 120].", field="bins") from None
        if edges.ndim != 1 or not np.isfinite(edges).all() or not np.isfinite(edges[-1] - edges[0]):
            raise InvalidInput("bins: the edges must be finite numbers in a list, e.g. bins=[0, 18, 65, 120].",
                               field="bins")
        if not (np.diff(edges) > 0).all():
            raise InvalidInput("bins: the edges must increase strictly, e.g. bins=[0, 18, 65, 120].", field="bins")
        return edges
    if range is None:
        raise InvalidInput("range: give range=(low, high) from what is publicly known about the values (e.g. "
                           "range=(0, 120) for an age), or bins as a list of edges; a range taken from the data "
                           "would publish its smallest and largest values as the outer bin edges.", field="range")
    try:
        low, high = range
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise InvalidInput(f"range: {range!r} is not a (low, high) pair of numbers, e.g. range=(0, 120).",
                           field="range") from None
    if not (np.isfinite(low) and np.isfinite(high) and np.isfinite(high - low)):
        raise InvalidInput(f"range: {range!r} must be two finite numbers (not NaN or infinity), e.g. "
                           "range=(0, 120).", field="range")
    if low >= high:
        raise InvalidInput(f"range: the low end ({low:g}) must be below the high end ({high:g}); they are reversed "
                           "or equal.", field="range")
    return np.linspace(low, high, int(bins) + 1)


def _edge_flags(counts: np.ndarray, edges: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``edges`` rule: an edge of the bin holding the smallest value lies on it, or an edge of the bin holding
    the largest lies on that, to within ``EDGE_TOLERANCE`` of the range (an edge nudged off a value by a rounding
    error still prints it): the sign of edges taken from the data."""
    n = len(counts)
    flags, measure = np.zeros((n, 1), dtype=bool), np.full((n, 1), np.nan)
    filled = np.flatnonzero(counts)
    tolerance = EDGE_TOLERANCE * (edges[-1] - edges[0])
    for position, extreme in ((filled[0], present.min()), (filled[-1], present.max())):
        near = edges[[position, position + 1]]
        hit = np.abs(near - extreme) <= tolerance
        if hit.any():
            flags[position, 0], measure[position, 0] = True, near[hit][0]
    return flags, measure


def histogram(x: Any, bins: int | Sequence[float] = 10, range: tuple[float, float] | None = None, *,
              settings: DisclosureSettings | None = None, persons: Any = None) -> Output:
    """Counts per bin with disclosure control. The bins are the analyst's, over a range the analyst gives (or
    edges): every bin is shown, empty or not, so the end bins' labels are the range given, never the data's
    smallest and largest values; edges that still sit on those values fail the ``edges`` rule.

    ``persons``: the person key of each value of ``x``; the threshold then counts distinct persons per bin."""
    settings = resolve(settings)
    if not _is_array(x) or isinstance(x, str):
        raise InvalidInput(f"x: give a column of numbers, not {type(x).__name__}.", field="x")
    if len(x) == 0:
        raise InvalidInput("x: there are no values, so there is no histogram to check.", field="x")
    edges = _bin_edges(bins, range)
    array = numeric_values(x, "x")
    properties: dict[str, Any] = {"method": "histogram"}
    person_keys = _persons(persons, len(array), properties)
    present = array[~np.isnan(array)]
    counts, edges = np.histogram(present, bins=edges)
    if not counts.any():
        raise InvalidInput("range: no value falls inside it; widen it to what the values can be.", field="range")
    name = getattr(x, "name", None) or "x"
    index = pd.IntervalIndex.from_breaks(edges, closed="left", name=name)
    table = pd.DataFrame({"count": counts.astype(np.int64)}, index=index)
    n = len(counts)
    stats = CellStats(count=counts.astype(np.int64))
    grid = to_grid(stats, np.arange(n), np.zeros(n, dtype=np.int64), n, 1)
    if person_keys is not None:  # each value's bin, as np.histogram placed it (the last bin holds its right edge)
        in_bin = np.clip(np.searchsorted(edges, present, side="right") - 1, 0, n - 1)
        in_bin[(present < edges[0]) | (present > edges[-1])] = -1
        by_person, _by_row, _pairs = person_stats(in_bin, n, person_keys[0][~np.isnan(array)], person_keys[1])
        grid = to_grid(by_person, np.arange(n), np.zeros(n, dtype=np.int64), n, 1)
    edge_flags, edge_measure = _edge_flags(counts, edges, present)
    command = f"sdc.histogram({_describe(x)}, bins={bins!r}" + (f", range={range!r}" if range is not None else "") + ")"
    properties.update({"bins": int(n), "edges": [float(e) for e in edges]})
    return assemble(table=table, kind="histogram", method="histogram", row_pos=np.arange(n),
                    col_pos=np.zeros(1, dtype=np.int64), col_block=np.zeros(1, dtype=np.int64),
                    blocks=[(None, None)], grids={None: grid}, row_labels=list(index), col_labels=["count"],
                    settings=settings, command=command, properties=properties,
                    extra={"edges": (edge_flags, edge_measure)})


__all__ = ["crosstab", "groupby_agg", "histogram", "pivot_table"]
