"""Per-cell statistics the rules need, computed in one grouped pass over the records.

For each cell: the number of records (rows whose value is missing count: they are people), the number of
non-missing values, their total, how many are negative, and the largest contributions (descending). Grouping is
by integer codes with ``np.bincount`` and ``np.maximum.at``; the second-largest contribution comes from masking
one occurrence of each cell's largest. Margins (row, column and grand totals) are derived from the cells' own
statistics, so the whole table costs one pass over the records.
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

    @property
    def missing(self) -> np.ndarray | None:
        return None if self.n_valid is None else self.count - self.n_valid

    @property
    def has_values(self) -> bool:
        return self.n_valid is not None


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
    else:
        largest = _largest(gid[valid], values[valid], n_groups, top)
    return CellStats(count, n_valid, total, negatives, largest)


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
    return CellStats(add(stats.count, np.int64), add(stats.n_valid, np.int64), add(stats.total, np.float64),
                     add(stats.negatives, np.int64), top)


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


__all__ = ["CellStats", "codes", "combine", "group_stats", "numeric_values", "to_grid"]
