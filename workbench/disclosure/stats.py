"""Per-cell statistics the rules need, computed in one grouped pass over the records.

For each cell: the number of records (rows whose value is missing count: they are people), the number of
non-missing values, their total, how many are negative, the largest contributions (descending) and the smallest.
Grouping is by integer codes with ``np.bincount`` and ``np.maximum.at``; the second-largest contribution comes from
masking one occurrence of each cell's largest. Margins (row, column and grand totals) are derived from the cells' own
statistics, so the whole table costs one pass over the records.

When the rows are not people (several rows per person: visits, episodes, a frame with duplicated rows), the
rules count people instead: ``person_grid`` pairs each row's cell with its person (one hash pass over
(cell, person) codes), sums each person's contribution within the cell, and judges the cell on those per-person
sums; a margin is judged on the distinct persons across its cells, not on the sum of the cells' counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput


@dataclass
class CellStats:
    """Statistics of each cell; arrays share a shape (``top`` has one more axis: the largest first)."""

    count: np.ndarray
    n_valid: np.ndarray | None = None
    total: np.ndarray | None = None
    negatives: np.ndarray | None = None
    top: np.ndarray | None = None
    rows: np.ndarray | None = None
    """Rows per cell when ``count`` counts persons (what the table shows adds up in rows, not persons)."""
    smallest: np.ndarray | None = None
    """The smallest contribution (NaN for a cell without values); kept with ``top``, for the all-values-same rule."""
    row_range: tuple[np.ndarray, np.ndarray] | None = None
    """When ``count`` counts persons: the smallest and largest value of the cell's rows (NaN without values), since
    rows that all hold one value give it away whatever each person's sum."""

    @property
    def missing(self) -> np.ndarray | None:
        return None if self.n_valid is None else self.count - self.n_valid

    @property
    def has_values(self) -> bool:
        return self.n_valid is not None

    @property
    def row_count(self) -> np.ndarray:
        """Rows per cell: additive over the table's cells, as the published counts are."""
        return self.count if self.rows is None else self.rows


def _largest(targets: np.ndarray, values: np.ndarray, n_targets: int, m: int) -> np.ndarray:
    """The m largest of ``values`` per target (descending, 0 where a target has fewer than m values)."""
    out = np.zeros((n_targets, m))
    if m == 0 or len(values) == 0:
        return out
    if m <= 2:
        first = np.full(n_targets, -np.inf)
        np.maximum.at(first, targets, values)
        out[:, 0] = first
        if m == 2:
            is_first = values == first[targets]
            ties = np.bincount(targets, weights=is_first, minlength=n_targets)
            second = np.full(n_targets, -np.inf)
            np.maximum.at(second, targets, np.where(is_first, -np.inf, values))
            out[:, 1] = np.where(ties >= 2, first, second)
    else:  # n > 2 in the dominance rule: sort once, keep each target's first m
        order = np.lexsort((-values, targets))
        sorted_targets, sorted_values = targets[order], values[order]
        starts = np.searchsorted(sorted_targets, np.arange(n_targets))
        rank = np.arange(len(order)) - starts[sorted_targets]
        keep = rank < m
        out[sorted_targets[keep], rank[keep]] = sorted_values[keep]
    out[~np.isfinite(out)] = 0.0
    return out


def _smallest(targets: np.ndarray, values: np.ndarray, n_targets: int, extreme: np.ufunc = np.fmin) -> np.ndarray:
    """The smallest of ``values`` per target (NaN for a target without values); the largest with ``np.fmax``.
    Values are finite or NaN (``numeric_values`` refuses infinities), so an infinite start marks an empty target
    and the faster ``np.minimum`` serves when ``values`` hold no NaN."""
    start = np.inf if extreme is np.fmin else -np.inf
    out = np.full(n_targets, start)
    if len(values):
        (np.minimum if extreme is np.fmin else np.maximum).at(out, targets, np.where(np.isnan(values), start, values))
    out[np.isinf(out)] = np.nan
    return out


def _extreme_sorted(extreme: np.ufunc, values: np.ndarray, starts: np.ndarray, present: np.ndarray,
                    n_targets: int) -> np.ndarray:
    """``_smallest`` (``np.minimum``) or the largest (``np.maximum``) for values in runs per target: one reduction
    per run. A run of only missing values (given as ±inf) gives NaN."""
    out = np.full(n_targets, np.nan)
    if len(values):
        out[present] = extreme.reduceat(values, starts)
        out[np.isinf(out)] = np.nan
    return out


def numeric_values(values: object, name: str = "values") -> np.ndarray:
    """Values as float64 with NaN for missing; refuse text, infinities and all-missing input."""
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values) if not isinstance(
        values, pd.Index | pd.Categorical) else values)
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == object):
        raise InvalidInput(f"{name}: the values are {series.dtype}, not numbers; this aggregation needs numbers "
                           "(convert with pd.to_numeric, or use aggfunc='count').", field=name)
    if series.dtype == object or pd.api.types.is_bool_dtype(series.dtype):
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            example = series[bad].iloc[0]
            raise InvalidInput(f"{name}: {int(bad.sum())} value(s) are not numbers (e.g. {example!r}); this "
                               "aggregation needs numbers (convert with pd.to_numeric, or use aggfunc='count').",
                               field=name)
        series = converted
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":  # whole numbers: never missing or infinite
        return series.to_numpy(dtype=np.float64)
    array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(array)
    if infinite.any():
        raise InvalidInput(f"{name}: {int(infinite.sum())} value(s) are infinite; replace them (e.g. with NaN) "
                           "before tabulating.", field=name)
    if len(array) and np.isnan(array).all():
        raise InvalidInput(f"{name}: every value is missing, so there is nothing to aggregate; check the column.",
                           field=name)
    return array


def group_stats(gid: np.ndarray, n_groups: int, values: np.ndarray | None = None, top: int = 0) -> CellStats:
    """One pass over the records: the statistics of each group (``gid`` < 0 marks rows in no group)."""
    if (gid < 0).any():
        keep = gid >= 0
        gid = gid[keep]
        values = None if values is None else values[keep]
    count = np.bincount(gid, minlength=n_groups).astype(np.int64)
    if values is None:
        return CellStats(count)
    valid = ~np.isnan(values)
    n_valid = np.bincount(gid, weights=valid, minlength=n_groups).astype(np.int64)
    clean = np.where(valid, values, 0.0)
    total = np.bincount(gid, weights=clean, minlength=n_groups)
    negatives = np.bincount(gid, weights=clean < 0, minlength=n_groups).astype(np.int64)
    if valid.all():
        largest = _largest(gid, values, n_groups, top)
        smallest = _smallest(gid, values, n_groups) if top else None
    else:
        largest = _largest(gid[valid], values[valid], n_groups, top)
        smallest = _smallest(gid[valid], values[valid], n_groups) if top else None
    return CellStats(count, n_valid, total, negatives, largest, smallest=smallest)


def to_grid(stats: CellStats, row: np.ndarray, col: np.ndarray, n_rows: int, n_cols: int) -> CellStats:
    """Place group statistics in an (n_rows + 1) × (n_cols + 1) grid whose last row and column are the totals.

    ``row``/``col`` give each group's position (-1: not shown; its records still count in the totals).
    """
    width = n_cols + 1
    inner = (row >= 0) & (col >= 0)
    in_row = row >= 0
    in_col = col >= 0
    targets = np.concatenate([
        (row * width + col)[inner],
        (row * width + n_cols)[in_row],
        (n_rows * width + col)[in_col],
        np.full(len(row), n_rows * width + n_cols),
    ])
    pick = np.concatenate([np.flatnonzero(inner), np.flatnonzero(in_row), np.flatnonzero(in_col),
                           np.arange(len(row))])
    size = (n_rows + 1) * width
    shape = (n_rows + 1, width)

    def add(array: np.ndarray | None, dtype: type) -> np.ndarray | None:
        if array is None:
            return None
        return np.bincount(targets, weights=array[pick], minlength=size).astype(dtype).reshape(shape)

    top = None
    if stats.top is not None:
        m = stats.top.shape[1]
        candidates = stats.top[pick]
        top = _largest(np.repeat(targets, m), candidates.ravel(), size, m).reshape((*shape, m))
    smallest = None
    if stats.smallest is not None:
        smallest = _smallest(targets, stats.smallest[pick], size).reshape(shape)
    row_range = None
    if stats.row_range is not None:
        low, high = stats.row_range
        row_range = (_smallest(targets, low[pick], size).reshape(shape),
                     _smallest(targets, high[pick], size, np.fmax).reshape(shape))
    return CellStats(add(stats.count, np.int64), add(stats.n_valid, np.int64), add(stats.total, np.float64),
                     add(stats.negatives, np.int64), top, add(stats.rows, np.int64), smallest, row_range)


def codes(key: object, *, dropna: bool = True) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for a missing key when ``dropna``) and the labels they stand for, in pandas' order."""
    if isinstance(key, pd.Series | pd.Index) and isinstance(key.dtype, pd.CategoricalDtype):
        categorical = key.array
    elif isinstance(key, pd.Categorical):
        categorical = key
    else:
        categorical = None
    if categorical is not None:
        cat_codes = np.asarray(categorical.codes, dtype=np.int64)
        labels = pd.Index(categorical.categories)
        if not dropna and (cat_codes < 0).any():
            cat_codes = np.where(cat_codes < 0, len(labels), cat_codes)
            labels = labels.insert(len(labels), np.nan)
        return cat_codes, labels
    if isinstance(key, list | tuple):
        key = pd.Series(key)
    try:
        found, labels = pd.factorize(key, sort=True, use_na_sentinel=dropna)
    except TypeError:  # labels of mixed types cannot be sorted
        try:
            found, labels = pd.factorize(key, sort=False, use_na_sentinel=dropna)
        except TypeError:  # nor can lists, dicts and other unhashable values be grouped at all
            name = getattr(key, "name", None)
            raise InvalidInput(f"{name if name is not None else 'a grouping column'}: holds values that cannot "
                               "be grouped (lists, dicts or other objects); give it text, numbers or dates.",
                               field="index") from None
    return np.asarray(found, dtype=np.int64), pd.Index(labels)


def combine(keys: list[tuple[np.ndarray, pd.Index]], names: list) -> tuple[np.ndarray, pd.Index]:
    """Codes of the observed combinations of several keys, and the combinations as a MultiIndex."""
    if len(keys) == 1:
        found, labels = keys[0]
        return found, labels.rename(names[0])
    combined = np.zeros(len(keys[0][0]), dtype=np.int64)
    missing = np.zeros(len(keys[0][0]), dtype=bool)
    for found, labels in keys:
        combined = combined * max(len(labels), 1) + np.maximum(found, 0)
        missing |= found < 0
    unique, inverse = np.unique(combined[~missing], return_inverse=True)
    result = np.full(len(combined), -1, dtype=np.int64)
    result[~missing] = inverse
    digits = []
    rest = unique
    for _found, labels in reversed(keys):
        size = max(len(labels), 1)
        digits.append(rest % size)
        rest = rest // size
    arrays = [labels.take(d) for (_f, labels), d in zip(keys, reversed(digits), strict=True)]
    return result, pd.MultiIndex.from_arrays(arrays, names=names)


# integer person keys below this are used as codes as they are (no hashing); others are factorised
_DIRECT_KEY_LIMIT = 1 << 40


def person_codes(persons: object, n_rows: int) -> tuple[np.ndarray, int]:
    """A non-negative integer per row standing for its person, and a bound on the codes; refuses missing keys
    and a length other than the rows'."""
    if isinstance(persons, str) or not isinstance(
            persons, pd.Series | pd.Index | np.ndarray | pd.Categorical | pd.api.extensions.ExtensionArray
            | list | tuple):
        raise InvalidInput(f"persons: give the person key of each row (a column such as df['case_id']), not "
                           f"{type(persons).__name__}.", field="persons")
    if len(persons) != n_rows:
        raise InvalidInput(f"persons: {len(persons):,} keys for {n_rows:,} rows; give one person key per row, from "
                           "the same frame as the table's columns.", field="persons")
    if isinstance(persons, list | tuple):
        persons = pd.Series(persons, dtype=object)
    array = persons.to_numpy() if isinstance(persons, pd.Series | pd.Index) else persons
    if (isinstance(array, np.ndarray) and array.dtype.kind in "iu" and len(array)
            and array.min() >= 0 and array.max() < _DIRECT_KEY_LIMIT):
        return array.astype(np.int64, copy=False), int(array.max()) + 1
    try:
        found, uniques = pd.factorize(persons if not isinstance(persons, np.ndarray) or persons.ndim == 1
                                      else persons.ravel())
    except TypeError:
        raise InvalidInput("persons: the keys cannot be compared (lists, dicts or other objects); give text or "
                           "whole numbers.", field="persons") from None
    found = np.asarray(found, dtype=np.int64)
    missing = int((found < 0).sum())
    if missing:
        raise InvalidInput(f"persons: {missing:,} row(s) have no person key, so they cannot be counted as people; "
                           "drop them (df.dropna(subset=[key])) or keep the key for every row.", field="persons")
    return found, max(len(uniques), 1)


def _largest_sorted(targets: np.ndarray, values: np.ndarray, n_targets: int, m: int,
                    starts: np.ndarray | None = None) -> np.ndarray:
    """``_largest`` for targets in ascending order (runs of one target are contiguous): reductions per run.
    ``starts``: where each run begins, when the caller knows it."""
    if m > 2 or len(values) == 0 or m == 0:
        return _largest(targets, values, n_targets, m)
    out = np.zeros((n_targets, m))
    if starts is None:
        starts = np.flatnonzero(np.concatenate(([True], targets[1:] != targets[:-1])))
    which = targets[starts]
    first = np.maximum.reduceat(values, starts)
    out[which, 0] = first
    if m == 2:
        is_first = values == np.repeat(first, np.diff(np.append(starts, len(values))))
        ties = np.add.reduceat(is_first, starts, dtype=np.int64)
        second = np.maximum.reduceat(np.where(is_first, -np.inf, values), starts)
        out[which, 1] = np.where(ties >= 2, first, second)
    out[~np.isfinite(out)] = 0.0
    return out


def _runs(sorted_groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The groups present in ascending ``sorted_groups`` and where each one's run begins: a binary search per
    group when there are few groups (a table's cells), a pass over the array otherwise."""
    if n_groups * 16 < len(sorted_groups):
        bounds = np.searchsorted(sorted_groups, np.arange(n_groups + 1))
        present = np.flatnonzero(bounds[1:] > bounds[:-1])
        return present, bounds[present]
    starts = np.flatnonzero(np.concatenate(([True], sorted_groups[1:] != sorted_groups[:-1])))
    return sorted_groups[starts], starts


@dataclass
class PersonPairs:
    """Each person's contribution to each group: the (group, person) pairs in ascending order and their sums."""

    group: np.ndarray
    person: np.ndarray
    n_persons: int
    total: np.ndarray | None
    has: np.ndarray | None


def person_stats(gid: np.ndarray, n_groups: int, person: np.ndarray, n_persons: int,
                 values: np.ndarray | None = None, top: int = 0) -> tuple[CellStats, CellStats, PersonPairs]:
    """Statistics of each group judged on persons, the same of rows (what the table shows), and the pairs.

    ``gid`` is each row's group (-1: in no group), ``person`` its person code below ``n_persons``. Per group:
    distinct persons with a row (``count``), persons with a value (``n_valid``), the total, persons whose summed
    contribution is negative, and the largest per-person sums. One sort of (group, person) codes; every
    statistic is then a reduction over runs of that order.
    """
    keep = gid >= 0
    if not keep.all():
        gid, person = gid[keep], person[keep]
        values = None if values is None else values[keep]
    if int(max(n_groups, 1)).bit_length() + int(n_persons).bit_length() > 61:  # number the persons densely
        found, uniques = pd.factorize(person, sort=False)
        person, n_persons = np.asarray(found, dtype=np.int64), max(len(uniques), 1)
    n = len(gid)
    empty = CellStats(np.zeros(n_groups, dtype=np.int64))
    if n == 0:
        pairs = PersonPairs(gid, gid, n_persons, None if values is None else np.zeros(0),
                            None if values is None else np.zeros(0, dtype=bool))
        if values is None:
            return empty, empty, pairs
        zeros = np.zeros(n_groups)
        nothing = np.full(n_groups, np.nan)
        blank = CellStats(empty.count, empty.count, zeros, empty.count, np.zeros((n_groups, top)),
                          smallest=nothing if top else None, row_range=(nothing, nothing) if top else None)
        return blank, CellStats(empty.count, empty.count, zeros), pairs
    # codes as bit fields (group | person | row position): shifts and masks, not divisions; in place
    person_bits = max(int(n_persons - 1).bit_length(), 1)
    row_bits = max(int(n - 1).bit_length(), 1)
    keys = np.left_shift(gid, person_bits, dtype=np.int64)
    keys |= person
    if max(int(n_groups - 1).bit_length(), 1) + person_bits + row_bits <= 62:
        packed = keys << row_bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()  # an integer sort: faster than argsort
        order = packed & ((1 << row_bits) - 1)
        keys = np.right_shift(packed, row_bits, out=packed)
    else:
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
    pair_starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    pair_keys = keys[pair_starts]
    pair_group, pair_person = pair_keys >> person_bits, pair_keys & ((1 << person_bits) - 1)
    present, group_starts = _runs(pair_group, n_groups)
    persons_in = np.zeros(n_groups, dtype=np.int64)
    persons_in[present] = np.diff(np.append(group_starts, len(pair_keys)))
    if n_groups * 16 < n:  # rows per group: runs of the sorted keys, found by a binary search per group
        rows_in = np.diff(np.searchsorted(keys, np.arange(n_groups + 1, dtype=np.int64) << person_bits))
    else:
        rows_in = np.bincount(gid, minlength=n_groups).astype(np.int64)
    if values is None:
        return CellStats(persons_in), CellStats(rows_in), PersonPairs(pair_group, pair_person, n_persons, None, None)
    ordered = values[order]
    valid = ~np.isnan(ordered)
    all_valid = bool(valid.all())
    clean = ordered if all_valid else np.where(valid, ordered, 0.0)
    pair_total = np.add.reduceat(clean, pair_starts)
    if all_valid:
        pair_has = np.ones(len(pair_keys), dtype=bool)
        rows_valid = rows_in
    else:
        pair_has = np.add.reduceat(valid, pair_starts) > 0
        rows_valid = np.bincount(gid, weights=~np.isnan(values), minlength=n_groups).astype(np.int64)

    def per_group(array: np.ndarray, dtype: type) -> np.ndarray:
        out = np.zeros(n_groups, dtype=dtype)
        out[present] = np.add.reduceat(array, group_starts)
        return out

    total = per_group(pair_total, np.float64)
    n_valid = persons_in if all_valid else per_group(pair_has.astype(np.int64), np.int64)
    negatives = per_group(((pair_total < 0) & pair_has).astype(np.int64), np.int64)
    if all_valid:
        largest = _largest_sorted(pair_group, pair_total, n_groups, top, group_starts)
    else:
        largest = _largest_sorted(pair_group[pair_has], pair_total[pair_has], n_groups, top)
    smallest, row_range = None, None
    if top:
        if all_valid:
            smallest = _extreme_sorted(np.minimum, pair_total, group_starts, present, n_groups)
        else:
            smallest = _smallest(pair_group[pair_has], pair_total[pair_has], n_groups)
        row_starts = pair_starts[group_starts]  # the rows are in (group, person) order too
        row_range = (_extreme_sorted(np.minimum, ordered if all_valid else np.where(valid, ordered, np.inf),
                                     row_starts, present, n_groups),
                     _extreme_sorted(np.maximum, ordered if all_valid else np.where(valid, ordered, -np.inf),
                                     row_starts, present, n_groups))
    return (CellStats(persons_in, n_valid, total, negatives, largest, rows=rows_in, smallest=smallest,
                      row_range=row_range),
            CellStats(rows_in, rows_valid, total),
            PersonPairs(pair_group, pair_person, n_persons, pair_total, pair_has))


def person_margins(grid: CellStats, pairs: PersonPairs, g_row: np.ndarray, g_col: np.ndarray, n_rows: int,
                   n_cols: int) -> None:
    """Judge the totals of a grid made by ``to_grid`` from ``person_stats`` on distinct persons across their
    cells (a person in two cells of a row counts once in the row total), in place."""
    width = n_cols + 1
    rows_of, cols_of = g_row[pairs.group], g_col[pairs.group]
    n_persons = pairs.n_persons
    top = 0 if grid.top is None else grid.top.shape[-1]
    flat = {name: getattr(grid, name).reshape((n_rows + 1) * width, *getattr(grid, name).shape[2:])
            for name in ("count", "n_valid", "total", "negatives", "top", "smallest")
            if getattr(grid, name) is not None}
    for select, target in (((rows_of >= 0), rows_of * width + n_cols), ((cols_of >= 0), n_rows * width + cols_of),
                           (np.ones(len(rows_of), dtype=bool), np.full(len(rows_of), n_rows * width + n_cols))):
        keys = target[select] * n_persons + pairs.person[select]
        weights = [] if pairs.total is None else [pairs.total[select], pairs.has[select].astype(np.float64)]
        found, uniques = pd.factorize(keys, sort=True)
        found = np.asarray(found, dtype=np.int64)
        at = np.asarray(uniques, dtype=np.int64) // n_persons
        sums = [np.bincount(found, weights=w, minlength=len(at)) for w in weights]
        margin_cells = np.unique(target[select])
        for array in flat.values():
            array[margin_cells] = 0
        if "smallest" in flat:
            flat["smallest"][margin_cells] = np.nan
        flat["count"] += np.bincount(at, minlength=len(flat["count"]))
        if not sums:
            continue
        contribution, has = sums[0], sums[1] > 0
        size = len(flat["count"])
        flat["n_valid"] += np.bincount(at, weights=has, minlength=size).astype(np.int64)
        flat["total"] += np.bincount(at, weights=contribution, minlength=size)
        flat["negatives"] += np.bincount(at, weights=(contribution < 0) & has, minlength=size).astype(np.int64)
        if top:
            flat["top"][margin_cells] = _largest_sorted(at[has], contribution[has], size, top)[margin_cells]
        if "smallest" in flat:
            flat["smallest"][margin_cells] = _smallest(at[has], contribution[has], size)[margin_cells]


__all__ = ["CellStats", "PersonPairs", "codes", "combine", "group_stats", "numeric_values", "person_codes",
           "person_margins", "person_stats", "to_grid"]
