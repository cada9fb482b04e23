"""Candidate pairs: a union of blocking rules, counted before a single pair is made.

Each rule is a list of keys (a field, or a transform of one such as ``surname:soundex``); records meet when
every key of some rule agrees. Pairs are generated in numpy from sorted keys, and a pair met by an earlier rule
is not repeated by a later one, so no sort over all pairs is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.linkage.progress import steps

if TYPE_CHECKING:

    from workbench.linkage.spec import LinkageSpec
    from workbench.linkage.standardise import Prepared


def rule_keys(rule: tuple[str, ...], prepared: dict[str, Prepared], dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    """One integer key per record for a rule on each side (-1 where any part is missing), coded alike."""
    combined: np.ndarray | None = None
    missing: np.ndarray | None = None
    n_left = 0
    for key in rule:
        name, _, transform = key.partition(":")
        left = prepared[name].key(transform or "value", "left")
        n_left = left.size
        codes = left if dedupe else np.concatenate([left, prepared[name].key(transform or "value", "right")])
        missing = codes < 0 if missing is None else missing | (codes < 0)
        if combined is None:
            combined = codes.astype(np.int64)
        else:
            combined = pd.factorize(combined * (int(codes.max(initial=0)) + 2) + codes + 1)[0].astype(np.int64)
    assert combined is not None and missing is not None
    combined = np.where(missing, -1, combined)
    return (combined, combined) if dedupe else (combined[:n_left], combined[n_left:])


def _shared_codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    codes, uniques = pd.factorize(np.concatenate([left, right]))
    codes = np.where(np.concatenate([left, right]) < 0, -1, codes)
    return codes[:left.size], codes[left.size:], len(uniques)


def count_pairs(spec: LinkageSpec, keys: list[tuple[np.ndarray, np.ndarray]], dedupe: bool) -> list[int]:
    """Pairs each rule would produce (before removing pairs met by earlier rules)."""
    counts = []
    for left, right in keys:
        lc, rc, n = _shared_codes(left, right)
        cl = np.bincount(lc[lc >= 0], minlength=n).astype(np.int64)
        if dedupe:
            counts.append(int((cl * (cl - 1) // 2).sum()))
        else:
            cr = np.bincount(rc[rc >= 0], minlength=n).astype(np.int64)
            counts.append(int((cl * cr).sum()))
    return counts


def _groups(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Record order sorted by key, and per key its start in that order and its size."""
    valid = np.flatnonzero(codes >= 0)
    order = valid[np.argsort(codes[valid], kind="stable")]
    sizes = np.bincount(codes[valid], minlength=n).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return order, starts, sizes


def _pairs_for(left: np.ndarray, right: np.ndarray, dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    lc, rc, n = _shared_codes(left, right)
    lo, ls, lsz = _groups(lc, n)
    if dedupe:
        ro, rs, rsz = lo, ls, lsz
    else:
        ro, rs, rsz = _groups(rc, n)
    both = np.flatnonzero((lsz > 0) & (rsz > 0))
    per = lsz[both] * rsz[both]
    total = int(per.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    group = np.repeat(np.arange(both.size), per)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    width = rsz[both][group]
    li = lo[ls[both][group] + offset // width]
    ri = ro[rs[both][group] + offset % width]
    if dedupe:
        keep = li < ri
        li, ri = li[keep], ri[keep]
    return li, ri


def refuse_too_many(spec: LinkageSpec, estimate: list[int]) -> None:
    """Refuse, with advice, blocking that would compare more than ``spec.max_pairs`` pairs."""
    if sum(estimate) > spec.max_pairs:
        worst = int(np.argmax(estimate))
        listing = "; ".join(f"{' + '.join(rule)}: {n:,}" for rule, n in zip(spec.blocking, estimate, strict=True))
        raise InvalidInput(
            f"spec: blocking would compare about {sum(estimate):,} pairs, over the limit of {spec.max_pairs:,} "
            f"({listing}). Make the largest rule ({' + '.join(spec.blocking[worst])}) stricter by adding a key "
            "(e.g. 'dob:year' or 'surname:initial'), drop it, or raise max_pairs if the machine can take it.",
            field="spec")


def refuse_none(estimate: list[int]) -> None:
    """Refuse a linkage in which no pair of records meets any blocking rule: there is nothing to estimate."""
    if sum(estimate) == 0:
        raise InvalidInput("spec: no pair of records meets any blocking rule, so nothing can be compared or "
                           "estimated; check that the frames describe the same people and that the blocking "
                           "fields are filled, or loosen the rules (e.g. 'surname:soundex' instead of 'surname').",
                           field="spec")


def candidate_pairs(spec: LinkageSpec, prepared: dict[str, Prepared], dedupe: bool,
                    progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(left rows, right rows, which rules each pair meets as bits: bit r for rule r) of every candidate pair,
    and the per-rule estimate; refuses too many pairs."""
    keys = [rule_keys(rule, prepared, dedupe) for rule in spec.blocking]
    estimate = count_pairs(spec, keys, dedupe)
    refuse_too_many(spec, estimate)
    refuse_none(estimate)
    lefts, rights = [], []

    for i, (left, right) in enumerate(steps(keys, "blocking", progress)):
        li, ri = _pairs_for(left, right, dedupe)
        seen = np.zeros(li.size, dtype=bool)
        for earlier_left, earlier_right in keys[:i]:  # met already by an earlier rule
            a, b = earlier_left[li], earlier_right[ri]
            seen |= (a == b) & (a >= 0)
        lefts.append(li[~seen])
        rights.append(ri[~seen])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32), estimate
    li, ri = np.concatenate(lefts), np.concatenate(rights)
    bits = np.zeros(li.size, dtype=np.int32)
    for r, (left, right) in enumerate(keys[:31]):
        a = left[li]
        bits |= (((a == right[ri]) & (a >= 0)).astype(np.int32) << r)
    return li, ri, bits, estimate
