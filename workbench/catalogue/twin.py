"""Synthetic twins: dummy data with a dataset's exact schema, drawn from differentially private marginals.

A catalogue reader can write and test code on the twin before their access is approved, then run the same code
on the real data (the OpenSAFELY dummy-data idea). A twin is published to every reader, so it may depend on the
data only through a mechanism with a stated privacy loss ε (the privacy unit: a person):

* a column with a public domain — a category column's DECLARED categories, a boolean's two values, a number
  column's DECLARED ``lowerBound``/``upperBound`` or a date column's ``earliestDate``/``latestDate`` cut into
  equal bins — gets a histogram over that domain
  plus one bin for missing values, each count with Geometric noise from the operating system's secret randomness
  (``workbench.dp.mechanisms``); ε is split equally over these columns (sequential composition);
* everything else carries no information from the data: direct and record identifiers, the person key and free
  text (no declared categories: any value could name someone) are made up from a fixed alphabet; a number or date
  column without declared bounds is left wholly missing, because a range read from the data would show its
  extremes;
* the rest is post-processing, which costs nothing: counts clipped at zero, counts below the workspace's
  ``twin_min_count`` dropped, the rest normalised and sampled independently per column.

When the catalogue declares a person key, each person contributes only their first row (as DP queries clip
contributions), so one person changes each histogram by at most one.

Loaded only when a twin is made, so it imports numpy and pyarrow at module level.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.dp import mechanisms
from workbench.errors import InvalidInput

__all__ = ["BINS", "CONTRIBUTIONS", "DEFAULT_ROWS", "MAX_EPSILON", "MAX_ROWS", "Marginal", "Twin", "plan",
           "redraw", "synthesise"]

DEFAULT_ROWS = 10_000  # enough to exercise any analysis code, small enough to open in a notebook at once
MAX_ROWS = 10_000_000
MIN_EPSILON = 1e-6  # below it the noise overflows the integers it is drawn in
MAX_EPSILON = 20.0  # a twin at more than this is the data's histograms published almost exactly
TYPES = ("string", "integer", "float", "boolean", "date", "category")
ROLES = ("direct_identifier", "record_identifier", "quasi_identifier", "sensitive", "other")
FAKE_ROLES = ("direct_identifier", "record_identifier")  # identifiers of people or records: wholly made up
BINS = 20  # equal bins between a number column's declared bounds: coarse on purpose
CONTRIBUTIONS = 1  # rows per person counted (the first); the sensitivity of each histogram

NOISY = ("categories", "bins")  # the kinds of column whose marginal is measured, and so cost ε
_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", dtype=np.uint8)
_FAKE_LENGTH = 10
_EPOCH = date(1970, 1, 1)


@dataclass
class Marginal:
    """How one twin column is made: its kind, the ε it cost, why, and (for noisy kinds) the released histogram.

    ``kind``: 'categories' (noisy counts of declared values), 'bins' (noisy histogram within declared bounds),
    'made up' (no information from the data) or 'left out' (wholly missing). ``counts`` are the noisy counts,
    post-processed (never the true ones), one per category or bin and the last for missing values.
    """

    name: str
    kind: str
    reason: str
    epsilon: float = 0.0
    domain: list[Any] = field(default_factory=list)  # declared categories, or bin edges (numbers, or days)
    counts: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the catalogue records of the column: kind, ε and why (not the counts, which the twin shows)."""
        return {"column": self.name, "kind": self.kind, "epsilon": self.epsilon, "reason": self.reason}


@dataclass
class Twin:
    """A synthetic twin and how it was made: ``epsilon`` is its total privacy loss."""

    table: pa.Table
    epsilon: float
    marginals: list[Marginal]


def plan(columns: list[dict], person_key: str | None = None) -> list[Marginal]:
    """How each column would be made, from the public schema alone (no ε yet, no data)."""
    out = []
    for spec in columns:
        name, kind, role = spec["name"], spec["type"], spec["role"]
        if role in FAKE_ROLES or name == person_key:
            what = "the person key" if name == person_key else f"a {role.replace('_', ' ')}"
            out.append(Marginal(name, "made up", f"{what}: made up, never drawn from the data"))
        elif kind == "boolean":
            out.append(Marginal(name, "categories", "noisy counts of false, true and missing"))
        elif kind == "category" and spec.get("categories"):
            out.append(Marginal(name, "categories", "noisy counts of the declared categories and missing"))
        elif kind == "category":
            out.append(Marginal(name, "left out", "no declared categories: categories read from the data would "
                                                  "show rare values"))
        elif None not in _bounds(spec):
            out.append(Marginal(name, "bins", "noisy histogram within the declared bounds, and missing"))
        elif kind in ("integer", "float", "date"):
            wanted = "earliestDate and latestDate" if kind == "date" else "lowerBound and upperBound"
            out.append(Marginal(name, "left out", f"no declared {wanted}: a range read from the data would show "
                                                  "its extremes"))
        else:
            out.append(Marginal(name, "made up", "free text without declared categories (any value could name "
                                                 "someone): made up, never drawn from the data"))
    return out


def synthesise(table: pa.Table, columns: list[dict], *, epsilon: float, person_key: str | None = None,
               complete: frozenset[str] = frozenset(), rows: int | None = None, min_count: int = 1, seed: int = 0,
               random_state: Any = None) -> Twin:
    """A synthetic twin of ``table`` with total privacy loss ``epsilon`` (a person: the privacy unit).

    ``columns`` is the catalogue schema of ``table`` (dicts with ``name``, ``type``, ``role`` and the declared
    ``categories``, ``lowerBound``/``upperBound`` or ``earliestDate``/``latestDate``) in column order;
    ``person_key`` the column naming the person when a person may have several rows; ``complete`` the columns
    the catalogue already shows as never missing (completeness 1), whose twins have no missing values (nothing
    measured). ``rows`` defaults to the table's row count (public in the catalogue) capped at ``DEFAULT_ROWS``;
    ``min_count`` drops categories and bins whose NOISY count is below it. The noise comes from ``random_state``
    (default: the operating system's secret randomness, ``secrets.SystemRandom``); ``seed`` only drives the
    sampling from the noisy marginals, which is post-processing.

    Raises ``InvalidInput`` if ``columns`` does not describe ``table`` or an argument is out of range.
    """
    _validate(table, columns, rows, min_count, seed, epsilon, person_key)
    n = min(table.num_rows, DEFAULT_ROWS) if rows is None else int(rows)
    marginals = plan(columns, person_key)
    noisy = [m for m in marginals if m.kind in NOISY]
    share = float(epsilon) / len(noisy) if noisy else 0.0
    people = _first_row_per_person(table, person_key)
    state = random_state if random_state is not None else secrets.SystemRandom()  # the OS's secret randomness
    for marginal, spec in zip(marginals, columns, strict=True):
        if marginal.kind in NOISY:
            _measure(marginal, people.column(spec["name"]), spec, share, state, spec["name"] in complete)
    spent = share * len([m for m in marginals if m.kind in NOISY])
    return Twin(redraw(marginals, table.schema, rows=n, min_count=min_count, seed=seed), spent, marginals)


def redraw(marginals: list[Marginal], schema: pa.Schema, *, rows: int, min_count: int = 1,
           seed: int = 0) -> pa.Table:
    """A twin drawn from released marginals alone: post-processing, free of privacy cost.

    Categories and bins whose noisy count is below ``min_count`` are dropped; each column is sampled on its own
    from what is left (wholly missing if nothing is); a not-null field left with missing values becomes nullable.
    """
    generators = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(len(marginals))]
    arrays = [_draw(m, f.type, rows, min_count, rng) for m, f, rng in zip(marginals, schema, generators,
                                                                           strict=True)]
    fields = [f if f.nullable or not a.null_count else f.with_nullable(True)
              for f, a in zip(schema, arrays, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=_public_metadata(schema.metadata, rows)))


def _public_metadata(metadata: dict[bytes, bytes] | None, rows: int) -> dict[bytes, bytes] | None:
    """The stored schema's metadata without what it says of the data: pandas records how many categories a
    categorical column held and how many rows its index ran to; the twin's own numbers replace them."""
    if not metadata or b"pandas" not in metadata:
        return metadata
    try:
        described = json.loads(metadata[b"pandas"])
        for column in described.get("columns", []):
            if isinstance(column.get("metadata"), dict) and "num_categories" in column["metadata"]:
                column["metadata"]["num_categories"] = None
        for index in described.get("index_columns", []):
            if isinstance(index, dict) and index.get("kind") == "range":
                index["start"], index["stop"], index["step"] = 0, rows, 1
    except (ValueError, TypeError, AttributeError):
        return {k: v for k, v in metadata.items() if k != b"pandas"}
    return {**metadata, b"pandas": json.dumps(described).encode()}


# --- checking the request -----------------------------------------------------------------------------------

def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def check_twin_epsilon(value: Any, field: str = "epsilon") -> float:
    """A twin's ε: a finite number from ``MIN_EPSILON`` to ``MAX_EPSILON``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not MIN_EPSILON <= value <= MAX_EPSILON:
        raise InvalidInput(f"{field}: {value!r} is not a number from {MIN_EPSILON:g} to {MAX_EPSILON:g}; a twin's "
                           "privacy loss is a small positive number such as 0.25 (smaller: noisier twin).",
                           field=field)
    return float(value)


def _validate(table: object, columns: object, rows: object, min_count: object, seed: object, epsilon: object,
              person_key: object) -> None:
    if not isinstance(table, pa.Table):
        raise InvalidInput(f"table: expected a pyarrow Table, got {type(table).__name__}.", field="table")
    check_twin_epsilon(epsilon)
    if not _is_int(min_count) or min_count < 1:  # type: ignore[operator]
        raise InvalidInput(f"min_count: must be a whole number of 1 or more, got {min_count!r}.", field="min_count")
    if rows is not None and (not _is_int(rows) or not 0 <= rows <= MAX_ROWS):  # type: ignore[operator]
        raise InvalidInput(f"rows: must be a whole number from 0 to {MAX_ROWS:,}, got {rows!r}.", field="rows")
    if not _is_int(seed) or seed < 0:  # type: ignore[operator]
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
    if person_key is not None and person_key not in declared:
        raise InvalidInput(f"person_key: {person_key!r} is not a column of the schema; name the column that "
                           "identifies the person, or None when each row is a person.", field="person_key")
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


# --- measuring: the only place the data is read -------------------------------------------------------------

def _first_row_per_person(table: pa.Table, person_key: str | None) -> pa.Table:
    """Each person's first row only (every row when a row is a person), as DP queries clip contributions."""
    if person_key is None:
        return table
    keys = pd.DataFrame({"person": table.column(person_key).to_pandas()})
    kept = mechanisms.clip_contributions(keys, "person", CONTRIBUTIONS)
    return table if len(kept) == len(keys) else table.take(pa.array(kept.index.to_numpy()))


def _plain(values: pa.ChunkedArray) -> pa.Array:
    array = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    return array


def _measure(marginal: Marginal, values: pa.ChunkedArray, spec: dict, epsilon: float, state: Any,
             complete: bool) -> None:
    """Fill in the column's noisy histogram (or, if its type cannot hold the declared domain, leave it out)."""
    array = _plain(values)
    try:
        if marginal.kind == "categories":
            marginal.domain, codes = _category_codes(array, spec)
        else:
            marginal.domain, codes = _bin_codes(array, spec)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        what = "categories" if marginal.kind == "categories" else "bounds"
        marginal.kind, marginal.reason = "left out", f"the declared {what} do not fit the stored type {array.type}"
        return
    size = len(marginal.domain) if marginal.kind == "categories" else len(marginal.domain) - 1
    true = np.bincount(np.where(codes < 0, size, codes), minlength=size + 1).astype(np.int64)
    if complete:  # public: the catalogue shows no missing value, so that count is not measured
        true = true[:-1]
    noisy = mechanisms.noisy_integers(true, epsilon, CONTRIBUTIONS, random_state=state)
    marginal.epsilon, marginal.counts = epsilon, [int(c) for c in np.maximum(noisy, 0)] + ([0] if complete else [])


def _category_codes(array: pa.Array, spec: dict) -> tuple[list[Any], np.ndarray]:
    """Each row's index in the declared domain (-1: missing, or a value the catalogue does not declare)."""
    if spec["type"] == "boolean":
        if not pa.types.is_boolean(array.type):
            raise ValueError("a boolean column stored as another type")
        domain: list[Any] = [False, True]
        dictionary = pa.array(domain)
    else:
        domain = list(spec["categories"])
        dictionary = pa.array([str(c) for c in domain]).cast(array.type)
    index = pc.index_in(array, value_set=dictionary)
    return domain, index.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _bin_codes(array: pa.Array, spec: dict) -> tuple[list[float], np.ndarray]:
    """Each row's bin within the declared bounds (values beyond them clipped into the end bins; -1: missing)."""
    edges = _edges(spec)
    x = _physical(array, spec["type"])
    missing = ~np.isfinite(x)
    clipped = np.clip(np.where(missing, edges[0], x), edges[0], edges[-1])
    code = np.clip(np.searchsorted(edges, clipped, side="right") - 1, 0, len(edges) - 2)
    return [float(e) for e in edges], np.where(missing, -1, code)


def _bounds(spec: dict) -> tuple[Any, Any]:
    """A number column's declared lowerBound and upperBound, a date column's earliestDate and latestDate."""
    if spec.get("type") in ("integer", "float"):
        return spec.get("lowerBound"), spec.get("upperBound")
    if spec.get("type") == "date":
        return spec.get("earliestDate"), spec.get("latestDate")
    return None, None


def _edges(spec: dict) -> np.ndarray:
    """Bin edges from the declared bounds alone: equal widths; whole numbers (days for dates) stay whole."""
    lower, upper = _bounds(spec)
    if spec["type"] == "float":
        return np.linspace(float(lower), float(upper), BINS + 1)
    if spec["type"] == "date":
        lower, upper = _days(lower), _days(upper)
    low, high = math.ceil(lower), math.floor(upper)
    if high < low:
        raise ValueError("no whole number between the bounds")
    return np.unique(np.round(np.linspace(low, high + 1, min(BINS, high + 1 - low) + 1)))


def _days(value: Any) -> int:
    return (date.fromisoformat(value) - _EPOCH).days if isinstance(value, str) else int(value)


def _physical(array: pa.Array, kind: str) -> np.ndarray:
    """Numbers as floats and dates as days since 1970 (NaN: missing)."""
    t = array.type
    if kind == "date":
        if pa.types.is_timestamp(t) or pa.types.is_date64(t) or pa.types.is_date32(t):
            array = array.cast(pa.date32()) if not pa.types.is_date32(t) else array
            array = array.cast(pa.int32())
        else:
            raise ValueError("a date column stored as another type")
    elif not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        raise ValueError("a number column stored as another type")
    return array.cast(pa.float64()).to_numpy(zero_copy_only=False)


# --- drawing: post-processing of what was released ---------------------------------------------------------

def _draw(marginal: Marginal, arrow_type: pa.DataType, n: int, min_count: int,
          rng: np.random.Generator) -> pa.Array:
    plain = _plain(pa.chunked_array([], type=arrow_type)).type
    counts = np.asarray(marginal.counts, dtype=float)
    counts[counts < min_count] = 0
    try:
        if marginal.kind == "made up":
            drawn = _made_up(plain, n, rng)
        elif marginal.kind in NOISY and counts.sum() > 0:
            drawn = _from_histogram(marginal, counts, plain, n, rng)
        else:
            drawn = None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        drawn = None
    if drawn is None:
        return pa.nulls(n, arrow_type)
    return drawn if drawn.type == arrow_type else drawn.cast(arrow_type)


def _from_histogram(marginal: Marginal, counts: np.ndarray, arrow_type: pa.DataType, n: int,
                    rng: np.random.Generator) -> pa.Array:
    picked = rng.choice(len(counts), size=n, p=counts / counts.sum())
    missing = picked == len(counts) - 1
    if marginal.kind == "categories":
        values = pa.array(marginal.domain if isinstance(marginal.domain[0], bool)
                          else [str(c) for c in marginal.domain])
        drawn = values.take(pa.array(np.where(missing, 0, picked)))
        drawn = drawn if drawn.type == arrow_type else drawn.cast(arrow_type)
    else:
        edges = np.asarray(marginal.domain)
        b = np.where(missing, 0, picked)
        x = edges[b] + rng.random(n) * (edges[b + 1] - edges[b])
        drawn = _from_physical(x, arrow_type, whole=not pa.types.is_floating(arrow_type))
    return pc.if_else(pa.array(missing), pa.nulls(n, drawn.type), drawn)


def _from_physical(x: np.ndarray, arrow_type: pa.DataType, *, whole: bool) -> pa.Array:
    if whole:
        x = np.floor(x)
    if pa.types.is_date32(arrow_type) or pa.types.is_date64(arrow_type) or pa.types.is_timestamp(arrow_type):
        return pa.array(x.astype(np.int32), type=pa.int32()).cast(pa.date32()).cast(arrow_type)
    if pa.types.is_integer(arrow_type):
        return pa.array(x.astype(np.int64)).cast(arrow_type)
    return pa.array(x.astype(np.float64)).cast(arrow_type)


def _made_up(arrow_type: pa.DataType, n: int, rng: np.random.Generator) -> pa.Array | None:
    """Values from a fixed alphabet or range, independent of the data (None: a type that cannot be made up)."""
    if pa.types.is_string(arrow_type):
        letters = _ALPHABET[rng.integers(0, len(_ALPHABET), n * _FAKE_LENGTH)]
        offsets = np.arange(0, (n + 1) * _FAKE_LENGTH, _FAKE_LENGTH, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(letters.tobytes()))
    if pa.types.is_integer(arrow_type):
        top = int(min(np.iinfo(arrow_type.to_pandas_dtype()).max, 10**9 - 1))
        return pa.array(rng.integers(1, top, n, endpoint=True)).cast(arrow_type)
    return None
