"""Synthetic twins: dummy data with a dataset's exact schema that gives away none of its rows.

A catalogue reader can write and test code on the twin before their access is approved, then run the same code
on the real data (the OpenSAFELY dummy-data idea). Each column is sampled on its own, so only per-column
distributions (marginals) survive and every relationship between columns is gone:

* missing values appear at the real column's rate;
* a real value appears only if the column holds it at least ``min_count`` times, in proportion to its count, so
  a rare category can never be revealed by its presence;
* the share of the rarer values is carried by a stand-in that shows none of them: fake text of the same shape
  for strings, a coarse quantile histogram clipped to the ``min_count``-th smallest and largest value for numbers
  and dates (so outliers never appear), and nothing for categories and booleans (their frequent values are
  scaled up instead);
* direct and record identifiers are wholly fake: same shape, never equal to any real value;
* no twin row equals a real row: such rows are drawn again, and dropped if that keeps failing.

Pure and deterministic: the same table, schema and arguments give the same twin. Loaded only when a twin is
made, so it imports numpy and pyarrow at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import InvalidInput

__all__ = ["DEFAULT_ROWS", "MAX_ROWS", "synthesise"]

DEFAULT_ROWS = 10_000  # enough to exercise any analysis code, small enough to open in a notebook at once
MAX_ROWS = 10_000_000
TYPES = ("string", "integer", "float", "boolean", "date", "category")
ROLES = ("direct_identifier", "record_identifier", "quasi_identifier", "sensitive", "other")
FAKE_ROLES = ("direct_identifier", "record_identifier")  # identifiers of people or records: wholly fake

_BINS = 20  # at most this many equal-frequency bins per numeric column: coarse on purpose
_FAKE_TRIES = 20  # redraws of a fake that equals a real value before it is left missing
_ROW_TRIES = 50  # rounds of redrawing twin rows that equal a real row before they are dropped
_BARREN_ROUNDS = 3  # ...or this many rounds in a row in which no draw was new
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier for combining per-column codes into a row key

Draw = Callable[[int, np.random.Generator], pa.Array]


def synthesise(table: pa.Table, columns: list[dict], *, rows: int | None = None, min_count: int = 10,
               seed: int = 0) -> pa.Table:
    """A synthetic twin of ``table``: same schema (names, order, Arrow types, metadata), per-column marginals only.

    ``columns`` is the catalogue schema of ``table`` (dicts with ``name``, ``type``, ``role``) in column order;
    ``min_count`` is the workspace's disclosure threshold: values seen fewer times never appear. ``rows``
    defaults to the real row count capped at ``DEFAULT_ROWS`` (the row count is public in the catalogue anyway).
    The twin comes out shorter only when almost every possible row is a real one (e.g. two boolean columns
    holding all four combinations), and a column with nothing safe to draw comes out wholly missing (then, and
    only then, a not-null field is marked nullable). The same ``seed`` gives the same twin.

    Raises ``InvalidInput`` if ``columns`` does not describe ``table`` or an argument is out of range.
    """
    _validate(table, columns, rows, min_count, seed)
    n = min(table.num_rows, DEFAULT_ROWS) if rows is None else int(rows)
    if table.num_columns == 0:
        return table.schema.empty_table()

    real = [_plain(values) for values in table.columns]
    plans = [_plan(values, spec, min_count) for values, spec in zip(real, columns, strict=True)]
    # Fake columns first: their values are never real, so they rule out almost every real row at once.
    check = sorted(range(len(plans)), key=lambda i: not plans[i].fake)

    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(len(plans))]
    twin = [plan.draw(n, rng) for plan, rng in zip(plans, rngs, strict=True)]
    clash = _equals_a_real_row(twin, real, check)
    need = int(clash.sum())
    parts = [[values.filter(pa.array(~clash)) if need else values] for values in twin]
    # Replace rows that equal real ones by fresh draws, in batches sized by how often a draw turned out new.
    new_share, barren = (1.0 - need / n) if n else 1.0, 0
    for _ in range(_ROW_TRIES):
        if not need or barren == _BARREN_ROUNDS:
            break
        batch = int(min(np.ceil(need / max(new_share, 0.001) * 1.25), max(10 * need, 100_000))) + 8
        fresh = [plan.draw(batch, rng) for plan, rng in zip(plans, rngs, strict=True)]
        new = np.flatnonzero(~_equals_a_real_row(fresh, real, check))
        new_share, barren = len(new) / batch, 0 if len(new) else barren + 1
        for kept, values in zip(parts, fresh, strict=True):
            kept.append(values.take(new[:need]))
        need -= min(need, len(new))
    arrays = [_restore(pa.concat_arrays(kept), field.type) for kept, field in zip(parts, table.schema, strict=True)]
    schema = pa.schema([field if field.nullable or not values.null_count else field.with_nullable(True)
                        for field, values in zip(table.schema, arrays, strict=True)], metadata=table.schema.metadata)
    return pa.Table.from_arrays(arrays, schema=schema)


# --- checking the request -----------------------------------------------------------------------------------

def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _validate(table: object, columns: object, rows: object, min_count: object, seed: object) -> None:
    if not isinstance(table, pa.Table):
        raise InvalidInput(f"table: expected a pyarrow Table, got {type(table).__name__}.", field="table")
    if not _is_int(min_count) or min_count < 1:
        raise InvalidInput(f"min_count: must be a whole number of 1 or more, got {min_count!r}.", field="min_count")
    if rows is not None and (not _is_int(rows) or not 0 <= rows <= MAX_ROWS):
        raise InvalidInput(f"rows: must be a whole number from 0 to {MAX_ROWS:,}, got {rows!r}.", field="rows")
    if not _is_int(seed) or seed < 0:
        raise InvalidInput(f"seed: must be a whole number of 0 or more, got {seed!r}.", field="seed")
    if not isinstance(columns, list):
        raise InvalidInput("columns: expected the catalogue schema, a list of column descriptions.", field="columns")
    for i, spec in enumerate(columns):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise InvalidInput(f"columns[{i}]: expected a dict with a 'name'.", field=f"columns[{i}]")
        if spec.get("type") not in TYPES:
            raise InvalidInput(f"columns[{i}].type: {spec.get('type')!r} is not one of {', '.join(TYPES)}.",
                               field=f"columns[{i}].type")
        if spec.get("role") not in ROLES:
            raise InvalidInput(f"columns[{i}].role: {spec.get('role')!r} is not one of {', '.join(ROLES)}.",
                               field=f"columns[{i}].role")
    declared, actual = [c["name"] for c in columns], list(table.column_names)
    if declared == actual:
        if len(set(actual)) != len(actual):
            raise InvalidInput("columns: column names repeat; each column needs a unique name.", field="columns")
        return
    missing = [name for name in declared if name not in actual]
    extra = [name for name in actual if name not in declared]
    if missing or extra:
        parts = ([f"declared but not in the data: {', '.join(missing)}"] if missing else []) + \
                ([f"in the data but not declared: {', '.join(extra)}"] if extra else [])
        raise InvalidInput("columns: the schema and the data disagree: " + "; ".join(parts), field="columns")
    if len(declared) != len(actual):
        raise InvalidInput("columns: column names repeat; each column needs a unique name.", field="columns")
    raise InvalidInput(f"columns: the schema lists the columns in another order than the data: declared "
                       f"{', '.join(declared)}; the data has {', '.join(actual)}.", field="columns")


# --- what the real data allows -------------------------------------------------------------------------------

@dataclass
class _Plan:
    """How to draw one column: frequent real values by count, and a stand-in for the rest."""

    type: pa.DataType
    null_rate: float = 1.0
    frequent: pa.Array | None = None
    pool: np.ndarray | None = None  # one index into ``frequent`` per real row holding a frequent value
    frequent_share: float = 1.0  # share of non-missing draws taken from ``frequent`` when there is a stand-in
    rest: Draw | None = None
    fake: bool = False  # every value drawn is a fake, never equal to a real one

    def draw(self, n: int, rng: np.random.Generator) -> pa.Array:
        has_frequent = self.frequent is not None and len(self.frequent) > 0
        if n == 0 or not (has_frequent or self.rest):
            return pa.nulls(n, self.type)
        share = (self.frequent_share if self.rest else 1.0) if has_frequent else 0.0
        missing = rng.random(n) < self.null_rate
        from_frequent = rng.random(n) < share
        pick_frequent, pick_rest = ~missing & from_frequent, ~missing & ~from_frequent
        n_frequent, n_rest = int(pick_frequent.sum()), int(pick_rest.sum())
        if n_frequent + n_rest == 0:
            return pa.nulls(n, self.type)
        parts = []
        if n_frequent:
            parts.append(self.frequent.take(self.pool[rng.integers(0, len(self.pool), n_frequent)]))
        if n_rest:
            parts.append(self.rest(n_rest, rng))
        order = np.zeros(n, dtype=np.int64)
        order[pick_frequent] = np.arange(n_frequent)
        order[pick_rest] = n_frequent + np.arange(n_rest)
        return pa.concat_arrays(parts).take(pa.array(order, mask=missing))


def _plain_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type a column is handled in: dictionaries decoded, every kind of string as ``string``."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return pa.string()
    return arrow_type


def _plain(values: pa.ChunkedArray) -> pa.Array:
    values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    target = _plain_type(values.type)
    return values if values.type == target else values.cast(target)


def _restore(values: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    return values if values.type == arrow_type else values.cast(arrow_type)


def _supported(arrow_type: pa.DataType) -> bool:
    """Types a twin can hold values of; a column of any other type comes out wholly missing."""
    return pa.types.is_string(arrow_type) or pa.types.is_boolean(arrow_type) or _is_numeric(arrow_type)


def _bools(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _is_numeric(arrow_type: pa.DataType) -> bool:
    t = pa.types
    return t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_timestamp(arrow_type) or \
        t.is_date32(arrow_type) or t.is_date64(arrow_type)


def _plan(values: pa.Array, spec: dict, k: int) -> _Plan:
    t = values.type
    string, integer = pa.types.is_string(t), pa.types.is_integer(t)
    if not _supported(t) or not len(values):
        return _Plan(t)
    plan = _Plan(t, null_rate=values.null_count / len(values))
    if spec["role"] in FAKE_ROLES and (string or integer):
        templates = values.drop_null()
        plan.rest = _fakes(templates, templates, _fake_text if string else _fake_integers) if len(templates) else None
        plan.frequent_share, plan.fake = 0.0, True
        return plan

    encoded = pc.dictionary_encode(values, null_encoding="encode")
    codes, dictionary = encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary
    counts = np.bincount(codes, minlength=len(dictionary))
    is_value = ~dictionary.is_null().to_numpy(zero_copy_only=False)
    often = (counts >= k) & is_value
    plan.frequent = dictionary.filter(pa.array(often))
    renumber = np.cumsum(often) - 1  # dictionary index -> index into ``frequent``
    frequent_rows = often[codes]
    plan.pool = renumber[codes[frequent_rows]].astype(np.int32)
    seen = len(values) - values.null_count
    plan.frequent_share = len(plan.pool) / seen if seen else 0.0
    categorical = pa.types.is_boolean(t) or spec["type"] in ("category", "boolean")
    rare_rows = ~frequent_rows & is_value[codes]
    if categorical or not rare_rows.any():
        return plan
    rare = values.filter(pa.array(rare_rows))
    if string:
        plan.rest = _fakes(rare, dictionary.drop_null(), _fake_text)
    else:
        plan.rest = _histogram(_physical(rare), t, k)
    return plan


# --- stand-ins for rare values -------------------------------------------------------------------------------

def _fakes(templates: pa.Array, real: pa.Array, fake: Callable[[pa.Array, np.random.Generator], pa.Array]) -> Draw:
    """Draw fakes shaped like random ``templates``, none equal to a ``real`` value (left missing if unavoidable)."""

    def draw(n: int, rng: np.random.Generator) -> pa.Array:
        picked = templates.take(rng.integers(0, len(templates), n))
        out = fake(picked, rng)
        clash = _among(out, real)
        for _ in range(_FAKE_TRIES):
            if not clash.any():
                return out
            mask = pa.array(clash)
            again = fake(picked.filter(mask), rng)
            out = pc.replace_with_mask(out, mask, again)
            clash[clash] = _among(again, real)
        return pc.if_else(pa.array(clash), pa.nulls(n, out.type), out) if clash.any() else out

    return draw


def _among(drawn: pa.Array, real: pa.Array) -> np.ndarray:
    """Which drawn values occur in ``real`` (hashing the smaller side and probing with the bigger is fastest)."""
    if len(drawn) > len(real):
        return _bools(pc.is_in(drawn, value_set=real))
    found = real.filter(pc.is_in(real, value_set=drawn))
    if not len(found):
        return np.zeros(len(drawn), dtype=bool)
    return _bools(pc.is_in(drawn, value_set=found))


def _fake_text(templates: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Each ASCII digit becomes a random digit and each letter a random letter of the same case; the rest stays."""
    n = len(templates)
    _, offset_buffer, data_buffer = templates.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[templates.offset:templates.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]].copy() if data_buffer \
        else np.zeros(0, dtype=np.uint8)
    for first, last in ((ord("0"), ord("9")), (ord("A"), ord("Z")), (ord("a"), ord("z"))):
        where = (data >= first) & (data <= last)
        data[where] = rng.integers(first, last + 1, int(where.sum()), dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer((offsets - offsets[0]).astype(np.int32)),
                                       pa.py_buffer(data))


_POWERS_OF_TEN = np.array([10**p for p in range(20)], dtype=np.uint64)


def _fake_integers(templates: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Random whole numbers with the templates' sign and number of digits."""
    x = templates.to_numpy(zero_copy_only=False)
    bounds = np.iinfo(x.dtype)
    negative = x < 0
    unsigned = x.astype(np.uint64)  # negatives wrap; 0 - wrapped is their size, even for the type's minimum
    size = np.where(negative, np.uint64(0) - unsigned, unsigned)
    digits = np.searchsorted(_POWERS_OF_TEN, size, side="right")  # 0 has one digit, like 1..9
    digits = np.maximum(digits, 1)
    top = int(min(bounds.max, np.iinfo(np.int64).max))
    low = np.where(digits > 1, _POWERS_OF_TEN[digits - 1], 0).astype(np.uint64)
    high = np.minimum(_POWERS_OF_TEN[np.minimum(digits, 19)] - np.uint64(1), np.uint64(top))
    high = np.where(digits >= 20, np.uint64(top), high)
    low = np.minimum(low, high)  # numbers too long for the type: any value up to its maximum
    drawn = rng.integers(low.astype(np.int64), high.astype(np.int64), endpoint=True)
    drawn = np.where(negative, -drawn, drawn)
    return pa.array(np.clip(drawn, max(bounds.min, np.iinfo(np.int64).min), top).astype(x.dtype),
                    type=templates.type)


def _physical(values: pa.Array) -> np.ndarray:
    """Numbers and dates as a numpy array (dates as integer counts of their unit), non-finite values left out."""
    t = values.type
    if pa.types.is_timestamp(t) or pa.types.is_date64(t):
        return values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    if pa.types.is_date32(t):
        return values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_floating(t):
        x = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return x[np.isfinite(x)]
    return values.to_numpy(zero_copy_only=False)


def _from_physical(x: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date64(arrow_type):
        return pa.array(x.astype(np.int64)).cast(arrow_type)
    if pa.types.is_date32(arrow_type):
        return pa.array(x.astype(np.int32)).cast(arrow_type)
    if pa.types.is_floating(arrow_type):
        return pa.array(x.astype(np.float64)).cast(arrow_type)
    return pa.array(x, type=arrow_type)


_SECONDS = (86_400, 3_600, 60, 1)  # day, hour, minute, second


def _steps(arrow_type: pa.DataType) -> list[int]:
    """Candidate spacings of a whole-number column, coarsest first, in its own unit."""
    if pa.types.is_date32(arrow_type):
        return [1]
    if pa.types.is_date64(arrow_type):
        return [s * 1000 for s in _SECONDS] + [1]
    if pa.types.is_timestamp(arrow_type):
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[arrow_type.unit]
        finer = [per_second // 10**p for p in (3, 6, 9) if per_second >= 10**p]
        return [s * per_second for s in _SECONDS] + finer
    return [10**p for p in range(6, -1, -1)]


def _snapper(sample: np.ndarray, arrow_type: pa.DataType) -> Callable[[np.ndarray], np.ndarray]:
    """Round drawn values as coarsely as the real values are recorded (whole days, pounds and pence, tens...)."""
    if pa.types.is_floating(arrow_type):
        for decimals in range(-6, 7):
            scaled = sample * 10.0**decimals
            if np.allclose(np.round(scaled), scaled, rtol=1e-9, atol=1e-6):
                return lambda x, d=decimals: np.round(x, d) + 0.0  # + 0.0 turns -0.0 into 0.0
        return lambda x: x + 0.0
    step = next(s for s in _steps(arrow_type) if not np.any(sample % s))
    return lambda x: np.round(x / step).astype(np.int64) * step


def _histogram(values: np.ndarray, arrow_type: pa.DataType, k: int) -> Draw | None:
    """Uniform draws inside equal-frequency bins between the k-th smallest and k-th largest value.

    Each bin holds at least ``k`` real values and nothing outside the clipped range can be drawn, so no single
    value (an outlier above all) is revealed. None if there are too few values to summarise safely.
    """
    values = np.sort(values)
    n = len(values)
    if n < 2 * k:
        return None
    inner = values[k - 1:n - k + 1]
    low, high = inner[0], inner[-1]
    bins = int(min(_BINS, max(1, len(inner) // k)))
    edges = np.quantile(inner.astype(np.float64), np.linspace(0.0, 1.0, bins + 1))
    snap = _snapper(inner[::max(1, len(inner) // 100_000)], arrow_type)

    def draw(m: int, rng: np.random.Generator) -> pa.Array:
        b = rng.integers(0, bins, m)
        x = edges[b] + rng.random(m) * (edges[b + 1] - edges[b])
        return _from_physical(np.clip(snap(x), low, high).astype(values.dtype), arrow_type)

    return draw


# --- no real row ---------------------------------------------------------------------------------------------

def _comparable(values: pa.Array) -> pa.Array:
    """Values whose hashes are equal when the values are: -0.0 and 0.0 are one number."""
    return pc.add(values, pa.scalar(0.0, values.type)) if pa.types.is_floating(values.type) else values


def _equals_a_real_row(twin: list[pa.Array], real: list[pa.Array], order: list[int]) -> np.ndarray:
    """Which twin rows equal some real row in every column (missing equals missing).

    Real rows are first narrowed, column by column, to those whose every value occurs in the twin; only the few
    left are compared row by row (on a row key, where a collision only costs a needless redraw).
    """
    n = len(twin[0])
    rows = np.arange(len(real[0]))
    for i in order:
        if not (n and len(rows)):
            return np.zeros(n, dtype=bool)
        values = real[i] if len(rows) == len(real[i]) else real[i].take(rows)
        if _supported(values.type):
            rows = rows[_bools(pc.is_in(_comparable(values), value_set=_comparable(twin[i]), skip_nulls=False))]
        else:  # such a twin column is wholly missing
            rows = rows[_bools(values.is_null())]
    if not len(rows):
        return np.zeros(n, dtype=bool)
    keys = np.zeros(len(rows) + n, dtype=np.uint64)
    for i in order:
        both = pa.concat_arrays([real[i].take(rows), twin[i]])
        if _supported(both.type):
            codes = pc.dictionary_encode(_comparable(both), null_encoding="encode").indices.to_numpy(
                zero_copy_only=False)
        else:
            codes = _bools(both.is_null())
        keys = keys * _MIX + (codes.astype(np.uint64) + np.uint64(1))
    return np.isin(keys[len(rows):], keys[:len(rows)])
