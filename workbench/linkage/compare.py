"""Comparison levels per field for candidate pairs, vectorised over integer codes.

Every kind scores a pair at a level: the number of levels for the best agreement counting down to 1 for the
weakest, 0 for none of them, -1 when either side is missing. String similarity (Jaro-Winkler, Levenshtein,
digit differences) is computed once per distinct pair of values, never per pair of records: names repeat, so
this is what keeps large linkages fast. The distinct pairs are scored in one call into rapidfuzz's C++ batch
functions (``process.cpdist``), which give the same Jaro–Winkler and Levenshtein values as jellyfish without a
Python call per pair.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from workbench.linkage.progress import steps

if TYPE_CHECKING:

    from workbench.linkage.standardise import Prepared

MISSING = -1


def _per_distinct_pair(cl: np.ndarray, cr: np.ndarray, prepared: Prepared, scorer: Any, **cutoff: Any) -> np.ndarray:
    """``scorer`` (a rapidfuzz scorer) of each pair of codes, computed once per distinct pair in one batch.

    Scores are not kept between calls: the pairs seen when choosing blocking or estimating u are mostly not the
    ones linked, and looking them up and keeping them cost more than scoring the few that are."""
    if cl.size == 0:
        return np.empty(0, dtype=float)
    uniques = prepared.uniques
    width = np.int64(len(uniques) + 1)
    if int(width) * int(width) > 1 << 26 and 2 * len(uniques) >= cl.size:
        # values nearly all distinct (identifiers): the pairs hardly repeat, and finding them would cost more
        return np.asarray(process.cpdist(uniques[cl], uniques[cr], scorer=scorer, dtype=np.float64, workers=1,
                                         **cutoff), dtype=np.float64)
    # the order of the distinct pairs does not matter: through a table of every possible pair when there are not
    # many more of those than pairs (names, towns: about twice as quick), else a hash factorisation
    inverse, distinct = _distinct_numbers(cl.astype(np.int64) * width + cr, int(width) * int(width))
    a, b = distinct // width, distinct % width
    scores = np.asarray(process.cpdist(uniques[a], uniques[b], scorer=scorer, dtype=np.float64, workers=1, **cutoff),
                        dtype=np.float64)
    return scores[inverse]


def _distinct_numbers(numbers: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """(each number's position among the distinct ones, the distinct numbers) of non-negative integers below
    ``span``: marked in a table when the span is not much wider than the numbers are many, else hashed."""
    if span > 32 * numbers.size + 65_536 or span > 1 << 26:
        inverse, distinct = pd.factorize(numbers)
        return inverse, distinct
    present = np.zeros(span, dtype=bool)
    present[numbers] = True
    distinct = np.flatnonzero(present)
    table = np.empty(span, dtype=np.int32)  # only the entries of numbers present are written, and read
    table[distinct] = np.arange(distinct.size, dtype=np.int32)
    return table[numbers], distinct


def _may_be_near(prepared: Prepared, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which pairs of identifiers could be within two edits: one edit changes the count of each character by at
    most two in all, so values whose counts differ by more than four are further apart (most pairs of
    identifiers, which then need no Levenshtein distance). All True for values that are not ASCII.

    Characters found in few values (letters among digits, say) are counted apart: they add nothing for a pair
    where neither value has one, so only the few pairs where one does read their counts."""
    counts = prepared.extra.get("char_counts")
    if counts is None:
        try:
            text = np.asarray(prepared.uniques, dtype=bytes)
        except UnicodeEncodeError:  # not ASCII
            return np.ones(a.size, dtype=bool)
        n = text.size
        raw = text.view(np.uint8).reshape(n, -1) if n else np.zeros((0, 1), np.uint8)
        seen = np.zeros(256, dtype=bool)
        seen[raw.ravel()] = True
        used = np.flatnonzero(seen[1:]) + 1  # byte 0 is the padding
        symbol = np.full(256, used.size, dtype=np.intp)  # the padding (and nothing else) counted in a last row
        symbol[used] = np.arange(used.size)
        # one row per character: its count in each value (capped, as more than four apart is all that matters),
        # counted a character position at a time (each value once per position, so no two updates collide), in
        # one flat array; values shorter than 100 characters count below 100, so in bytes and with no cap
        short = raw.shape[1] < 100
        counts = np.zeros((used.size + 1) * n,
                          dtype=np.int8 if short else np.int16 if raw.shape[1] < 30_000 else np.int32)
        rows = np.arange(n)
        for column in raw.T:
            counts[symbol[column] * n + rows] += 1
        counts = counts.reshape(used.size + 1, n)[:-1]
        counts = counts if short else np.minimum(counts, 100).astype(np.int8)
        rare = (counts > 0).sum(axis=1) * 50 < max(n, 1)  # in fewer than 2 % of the values
        prepared.extra["char_counts"] = counts
        prepared.extra["char_counts_common"] = counts[~rare]
        prepared.extra["has_rare_char"] = counts[rare].any(axis=0)
    apart = np.zeros(a.size, dtype=np.int16)
    for row in prepared.extra["char_counts_common"]:
        apart += np.abs(row[a] - row[b])  # counts are at most 100: the difference fits in int8
    has_rare = prepared.extra["has_rare_char"]
    odd = np.flatnonzero(has_rare[a] | has_rare[b])
    if odd.size:  # pairs where a character found in few values is present: every character's count
        apart[odd] = 0
        for row in counts:
            apart[odd] += np.abs(row[a[odd]] - row[b[odd]])
    return apart <= 4


def _date_numbers(prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Each date as the number YYYYMMDD and as YYYYDDMM (day and month swapped), so that two dates are transposed
    when one's first equals the other's second, and a year apart with the same day and month when their first
    numbers differ by exactly 10,000 (months and days below 100 never carry into the year); values that are not
    eight digits get numbers that meet neither test."""
    if "date_written" not in prepared.extra:
        year, month, day = prepared.extra["ymd"].T
        valid = year >= 0  # -1 in all three where the value is not eight digits
        prepared.extra["date_written"] = np.where(valid, year * 10_000 + month * 100 + day,
                                                  -1_000_000_000).astype(np.int32)
        prepared.extra["date_swapped"] = np.where(valid, year * 10_000 + day * 100 + month,
                                                  -2_000_000_000).astype(np.int32)
    return prepared.extra["date_written"], prepared.extra["date_swapped"]


def _digit_differences(prepared: Prepared, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many of the eight digits of two dates differ (99 where either is not eight digits), vectorised: each
    date's eight characters as one 64-bit number, the differing bytes of two counted with bit operations."""
    packed, valid = prepared.extra.get("digits"), prepared.extra.get("digits_valid")
    if packed is None or valid is None:
        eight = [len(v) == 8 and v.isascii() for v in prepared.uniques.tolist()]
        text = np.asarray([v if ok else "" for v, ok in zip(prepared.uniques.tolist(), eight, strict=True)],
                          dtype="S8")
        packed = text.view(np.uint64) if text.size else np.zeros(0, np.uint64)
        valid = np.asarray(eight, dtype=bool)
        prepared.extra["digits"], prepared.extra["digits_valid"] = packed, valid
    x = packed[a] ^ packed[b]
    x |= x >> np.uint64(4)  # each byte's bits folded into its lowest bit: 1 where the bytes differ
    x |= x >> np.uint64(2)
    x |= x >> np.uint64(1)
    x &= np.uint64(0x0101010101010101)
    differing = ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)
    return np.where(valid[a] & valid[b], differing, 99)


def levels(prepared: Prepared, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """The comparison level of each pair (int8), as described in ``spec.LEVELS``."""
    f = prepared.field
    cl, cr = prepared.left[li], prepared.right[ri]
    top = len(f.levels)
    same = cl == cr
    missing = np.minimum(cl, cr) < 0
    out = np.where(same, np.int8(top), np.int8(0))  # a pair missing on both sides is set to missing below
    rest = np.flatnonzero(~(same | missing))
    a, b = cl[rest], cr[rest]
    if f.kind in ("given_name", "surname", "string"):
        sim = _per_distinct_pair(a, b, prepared, JaroWinkler.similarity)
        if f.kind == "given_name":  # exact, group, JW >= 0.92, JW >= 0.80, swapped with the surname
            level = np.where(sim >= 0.92, 3, np.where(sim >= 0.80, 2, 0))
            group = prepared.extra["group"]
            same_group = (group[a] == group[b]) & (group[a] >= 0)
            level = np.where(same_group, 4, level)
            partner = prepared.partner
            if partner is not None:
                # only a left given name that is also someone's surname can be swapped: those pairs first
                zero = np.flatnonzero(level == 0)
                as_surname = prepared.extra["as_surname"][a[zero]]
                maybe = np.flatnonzero(as_surname >= 0)
                zero, as_surname = zero[maybe], as_surname[maybe]
                rows = rest[zero]
                sl, sr = partner.left[li[rows]], partner.right[ri[rows]]
                swapped = ((sl >= 0) & (sr >= 0) & (as_surname == sr)
                           & (prepared.extra["surname_as_given"][sl] == b[zero]))
                level[zero[swapped]] = 1
        else:
            level = np.where(sim >= 0.92, 2, np.where(sim >= 0.80, 1, 0))
        out[rest] = level
    elif f.kind == "identifier":
        distance = np.full(a.size, 3.0)  # more than 2 edits apart
        near = _may_be_near(prepared, a, b)
        distance[near] = _per_distinct_pair(a[near], b[near], prepared, Levenshtein.distance,
                                            score_cutoff=2)
        out[rest] = np.where(distance <= 1, 2, np.where(distance <= 2, 1, 0))
    elif f.kind == "date":
        written, swapped_date = _date_numbers(prepared)
        left_date = written[a]
        transposed = left_date == swapped_date[b]
        year_off = np.abs(left_date - written[b]) == 10_000
        digits = _digit_differences(prepared, a, b)
        out[rest] = np.where(transposed, 3, np.where(year_off, 2, np.where(digits <= 1, 1, 0)))
    elif f.kind == "postcode":
        sector, district = prepared.extra["sector"], prepared.extra["district"]
        out[rest] = np.where(sector[a] == sector[b], 2, np.where(district[a] == district[b], 1, 0))
    elif f.kind == "numeric":
        number = prepared.extra["number"]
        close = np.abs(number[a] - number[b]) <= f.tolerance
        out[rest] = np.where(close, 1, 0)
        unreadable = np.isnan(number[a]) | np.isnan(number[b])
        out[rest[unreadable]] = MISSING
    out[missing] = MISSING
    return out


def comparison_matrix(prepared: dict[str, Prepared], li: np.ndarray, ri: np.ndarray,
                      progress: bool | None = None) -> np.ndarray:
    """Levels of every field for every pair: an int8 matrix, one column per field in spec order."""
    columns = [levels(p, li, ri) for p in steps(list(prepared.values()), "comparing", progress)]
    return np.column_stack(columns) if columns else np.empty((li.size, 0), dtype=np.int8)


def random_u(prepared: dict[str, Prepared], n_left: int, n_right: int, dedupe: bool, *, size: int = 20_000,
             seed: int = 1) -> list[np.ndarray]:
    """u probabilities (levels among non-matches) from random pairs of records, as in the population rather
    than among candidates: exact agreement exactly from value frequencies, the other levels from a sample (kept
    with the prepared fields, so choosing blocking and then linking draws it once)."""
    slot = f"u:{n_left}:{n_right}:{int(dedupe)}:{size}:{seed}"
    if prepared and all(slot in p.extra for p in prepared.values()):
        return [p.extra[slot] for p in prepared.values()]
    rng = np.random.default_rng(seed)
    li = rng.integers(0, n_left, size)
    ri = rng.integers(0, n_right, size)
    if dedupe:
        keep = li != ri
        li, ri = li[keep], ri[keep]
    out = []
    for p in prepared.values():
        top = len(p.field.levels)
        level = levels(p, li, ri)
        counts = np.bincount(level[level >= 0], minlength=top + 1).astype(float)[:top + 1] + 0.5
        left = np.bincount(p.left[p.left >= 0], minlength=len(p.uniques)).astype(float)
        right = np.bincount(p.right[p.right >= 0], minlength=len(p.uniques)).astype(float)
        # summed exactly, not as a BLAS dot product: its threads split the sum by the machine's core count (so
        # the last digits differed between machines) and then spin on another core for about 0.1 s per linkage
        exact = math.fsum(((left / max(left.sum(), 1)) * (right / max(right.sum(), 1))).tolist())
        exact = min(max(exact, 1.0 / max(float(n_left) * n_right, 1.0)), 0.999)
        below = counts[:top] / counts[:top].sum() * (1 - exact)
        out.append(np.concatenate([below, [exact]]))
        p.extra[slot] = out[-1]
    return out
