"""Candidate pairs: a union of blocking rules, counted before a single pair is made.

Each rule is a list of keys (a field, or a transform of one such as ``surname:soundex``); records meet when
every key of some rule agrees. Pairs are generated in numpy from sorted keys, and a pair met by an earlier rule
is not repeated by a later one, so no sort over all pairs is needed.

Unless a spec gives its rules, they are chosen from the data (``choose_blocking``): every candidate rule's pairs
are counted without making them, a sample of records is linked under all candidates together, the pairs the
model then calls matches show what share of the matches each rule meets, and rules are taken, most matches per
pair first, until the union reaches the recall target within the pair budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.linkage.compare import comparison_matrix, random_u
from workbench.linkage.fellegi_sunter import estimate_by_rules, patterns, score
from workbench.linkage.progress import steps

if TYPE_CHECKING:

    from workbench.linkage.spec import LinkageSpec
    from workbench.linkage.standardise import Prepared

RECALL_TARGET = 0.999  # share of the matches the chosen union should meet (as estimated on a sample)
PILOT_PAIRS = 300_000  # about how many pairs the sample that estimates each rule's recall may compare
PILOT_RECORDS = 2_000  # ... unless that leaves fewer left records than this, too few to see rare slips


def rule_keys(rule: tuple[str, ...], prepared: dict[str, Prepared], dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    """One integer key per record for a rule on each side (-1 where any part is missing), coded alike (kept with
    the prepared fields, so choosing rules and then using them computes each key once)."""
    slot = f"rule:{int(dedupe)}:{'+'.join(rule)}"
    cache = prepared[rule[0].partition(":")[0]].extra
    if slot + ":left" not in cache:
        cache[slot + ":left"], cache[slot + ":right"] = _rule_keys(rule, prepared, dedupe)
    return cache[slot + ":left"], cache[slot + ":right"]


def _both_sides(prepared: dict[str, Prepared], key: str, dedupe: bool) -> np.ndarray:
    """A key's per-record codes, left records then right ones (left only when deduplicating), kept with the
    prepared field: several candidate rules share a key."""
    name, _, transform = key.partition(":")
    slot = f"both:{int(dedupe)}:{transform or 'value'}"
    cache = prepared[name].extra
    if slot not in cache:
        left = prepared[name].key(transform or "value", "left").astype(np.int64, copy=False)
        cache[slot] = left if dedupe else np.concatenate(
            [left, prepared[name].key(transform or "value", "right").astype(np.int64, copy=False)])
    return cache[slot]


def _rule_keys(rule: tuple[str, ...], prepared: dict[str, Prepared], dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
    parts = [_both_sides(prepared, key, dedupe) for key in rule]
    n_left = prepared[rule[0].partition(":")[0]].left.size
    if len(parts) == 1:
        combined = parts[0]  # -1 where missing already
    else:
        missing = parts[0] < 0
        for codes in parts[1:]:
            missing |= codes < 0
        # one number per combination of the parts' codes, then dense codes (stepwise if it could overflow); a
        # missing record's number is 0 (no combination's is) and its code -1
        combined = parts[0].copy()
        for codes in parts[1:]:
            size = int(codes.max(initial=0)) + 2
            if (int(combined.max(initial=0)) + 2) * size >= 2 ** 62:
                combined[missing] = 0
                combined = _dense(combined)
            combined *= size
            combined += codes
            combined += 1
        combined[missing] = 0
        combined = _dense(combined)
        combined[missing] = -1
    return (combined, combined) if dedupe else (combined[:n_left], combined[n_left:])


def _dense(numbers: np.ndarray) -> np.ndarray:
    """Non-negative integers renumbered 0..k-1 (equal stays equal): through a table of the numbers present when
    they span not many more than there are numbers (several times quicker than a hash factorisation), else by
    hashing."""
    top = int(numbers.max(initial=0)) + 1
    if top > 16 * numbers.size + 65_536:
        return pd.factorize(numbers)[0].astype(np.int64)
    present = np.zeros(top, dtype=bool)
    present[numbers] = True
    seen = np.flatnonzero(present)
    table = np.empty(top, dtype=np.int32)  # only the entries of numbers present are written, and read
    table[seen] = np.arange(seen.size, dtype=np.int32)
    return table[numbers].astype(np.int64)


def _distinct(numbers: np.ndarray) -> np.ndarray:
    """The sorted distinct values, as ``np.unique`` gives them, by a sort (several times quicker than its hash
    path for a few hundred thousand integers)."""
    ordered = np.sort(numbers)
    if ordered.size == 0:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def _shared_codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """A rule's keys are coded alike on both sides already (-1 missing): the codes and how many there can be."""
    return left, right, max(int(left.max(initial=-1)), int(right.max(initial=-1))) + 1


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
    # by key, then by record: one sort of numbers combining both (quicker than a stable argsort)
    width = np.int64(max(codes.size, 1))
    order = np.sort(codes[valid] * width + valid) % width
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


def _unmatchable(right: np.ndarray) -> np.ndarray:
    """A rule's right-hand keys with missing ones (-1) as -2: equal to a left key only where both are present."""
    return np.where(right < 0, np.int64(-2), right)


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
    lefts, rights, rule_bits = [], [], []
    unmatchable = [_unmatchable(right) for _left, right in keys]
    for i, (left, right) in enumerate(steps(keys, "blocking", progress)):
        li, ri = _pairs_for(left, right, dedupe)
        # which of the rules (the first 31) each pair meets; a pair met by an earlier rule is that rule's
        bits = np.zeros(li.size, dtype=np.int32)
        earlier = np.zeros(li.size, dtype=bool)
        for r, (other_left, _other_right) in enumerate(keys[:max(31, i)]):
            if r == i:
                if r < 31:
                    bits |= np.int32(1 << r)
                continue
            met = other_left[li] == unmatchable[r][ri]
            if r < i:
                earlier |= met
            if r < 31:
                bits |= met.astype(np.int32) << r
        keep = ~earlier
        lefts.append(li[keep])
        rights.append(ri[keep])
        rule_bits.append(bits[keep])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32), estimate
    li, ri, bits = np.concatenate(lefts), np.concatenate(rights), np.concatenate(rule_bits)
    return li, ri, bits, estimate


def blocked_fields(rule: tuple[str, ...], names: list[str]) -> set[int]:
    """The fields a rule blocks on, wholly or in part (their positions in ``names``): within the rule's pairs
    they agree more than among matches at large, so EM for that rule leaves them out."""
    return {names.index(key.partition(":")[0]) for key in rule}


def _mutual_best(li: np.ndarray, ri: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Pairs that are the highest-weighted of both their left and their right record."""
    from workbench.linkage.result import first_of_each

    order = np.argsort(-weight, kind="stable")
    best = np.zeros(li.size, dtype=bool)
    best[order] = first_of_each(li[order]) & first_of_each(ri[order])
    return best


def _describe(rule: tuple[str, ...]) -> str:
    return " + ".join(rule)


def choose_blocking(spec: LinkageSpec, prepared: dict[str, Prepared], dedupe: bool,
                    candidates: tuple[tuple[str, ...], ...], *, recall_target: float = RECALL_TARGET,
                    pilot_pairs: int = PILOT_PAIRS, seed: int = 1) -> tuple[tuple[tuple[str, ...], ...], pd.DataFrame]:
    """Blocking rules chosen from ``candidates`` for these records, and a report of why (one row per candidate:
    its pairs, the share of matches it meets alone, what it added to the union, whether it was chosen).

    Recall is estimated on a sample of left records linked under every affordable candidate at once: the model
    (u from random pairs, m by EM within each rule) calls the matches, one to one for two tables, and a rule's
    recall is the share of those it meets. Rules are then taken greedily, most new matches per pair first,
    until the union meets ``recall_target`` of them, never past ``spec.max_pairs`` pairs."""
    n_left = prepared[spec.fields[0].name].left.size
    n_right = n_left if dedupe else prepared[spec.fields[0].name].right.size
    keys = [rule_keys(rule, prepared, dedupe) for rule in candidates]
    counts = count_pairs(spec, keys, dedupe)
    budget = spec.max_pairs
    usable = [i for i, n in enumerate(counts) if 0 < n <= budget]
    report = pd.DataFrame({"rule": [_describe(r) for r in candidates], "pairs": counts,
                           "estimated_recall": np.nan, "added_recall": np.nan, "chosen": False, "order": -1})
    fallback = tuple(r for i, r in enumerate(candidates) if i in usable and r in spec.blocking) or spec.blocking
    if not usable:
        return spec.blocking, report
    # the sample: left records kept with probability share, so the pilot compares about pilot_pairs pairs
    all_pairs = max(sum(counts[i] for i in usable), 1)
    share = min(1.0, max(pilot_pairs / all_pairs, PILOT_RECORDS / max(n_left, 1)), 2 * pilot_pairs / all_pairs)
    rng = np.random.default_rng(seed)
    sampled = np.flatnonzero(rng.random(n_left) < share)
    lis, ris = [], []
    for i in usable:
        left, right = keys[i]
        sample_left = left[sampled]
        wanted = np.zeros(max(int(left.max(initial=-1)), int(right.max(initial=-1))) + 2, dtype=bool)
        wanted[sample_left[sample_left >= 0]] = True
        candidates_right = np.flatnonzero(wanted[right])  # right records sharing a key with the sample (-1: last)
        li, ri = _pairs_for(sample_left, right[candidates_right], dedupe=False)
        li, ri = sampled[li], candidates_right[ri]
        if dedupe:
            li, ri = np.minimum(li, ri), np.maximum(li, ri)
            keep = li != ri
            li, ri = li[keep], ri[keep]
        lis.append(li)
        ris.append(ri)
    code = _distinct(np.concatenate(lis) * np.int64(n_right) + np.concatenate(ris))
    li, ri = code // n_right, code % n_right
    if li.size == 0:
        return fallback, report
    meets = np.zeros((li.size, len(usable)), dtype=bool)
    for j, i in enumerate(usable):
        left, right = keys[i]
        meets[:, j] = left[li] == _unmatchable(right)[ri]
    names = [f.name for f in spec.fields]
    matrix = comparison_matrix(prepared, li, ri)
    # EM per rule for up to 31 rules at a time (the bit width): the rules with fewest pairs, the most telling
    by_size = sorted(range(len(usable)), key=lambda j: counts[usable[j]])[:31]
    bits = np.zeros(li.size, dtype=np.int32)
    for b, j in enumerate(by_size):
        bits |= meets[:, j].astype(np.int32) << b
    rule_fields = [blocked_fields(candidates[usable[j]], names) for j in by_size]
    u = random_u(prepared, n_left, n_right, dedupe, seed=seed)
    population = sampled.size * (n_right - 1 if dedupe else n_right)
    counted = patterns(matrix)
    model = estimate_by_rules(matrix, bits, rule_fields, u, population, names, [list(f.levels) for f in spec.fields],
                              max_iterations=spec.max_iterations, matrix_patterns=counted)
    weight, probability = score(model, matrix, counted)
    match = probability >= 0.5
    if not dedupe:  # one to one, roughly: a pair that is the best of both its records (one round of it)
        match &= _mutual_best(li, ri, weight)
    found = meets[match]
    if found.shape[0] == 0:
        return fallback, report
    report.loc[usable, "estimated_recall"] = found.mean(axis=0)
    covered = np.zeros(found.shape[0], dtype=bool)
    chosen: list[int] = []
    total = 0
    while covered.mean() < recall_target:
        best, best_ratio = -1, 0.0
        for j, i in enumerate(usable):
            if i in chosen or total + counts[i] > budget:
                continue
            gain = int((found[:, j] & ~covered).sum())
            if gain and gain / counts[i] > best_ratio:
                best, best_ratio = j, gain / counts[i]
        if best < 0:
            break
        i = usable[best]
        before = covered.mean()
        covered |= found[:, best]
        report.loc[i, ["added_recall", "chosen", "order"]] = [covered.mean() - before, True, len(chosen)]
        chosen.append(i)
        total += counts[i]
    report = report.sort_values(["chosen", "order", "pairs"], ascending=[False, True, True]).reset_index(drop=True)
    report.attrs.update(estimated_recall=float(covered.mean()), sampled_records=int(sampled.size),
                        sample_matches=int(found.shape[0]), pair_budget=budget, recall_target=recall_target)
    return tuple(candidates[i] for i in chosen) or fallback, report
