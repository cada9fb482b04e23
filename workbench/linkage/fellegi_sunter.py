"""The Fellegi–Sunter model with multi-level comparisons, estimated by EM on aggregated comparison patterns.

Millions of candidate pairs show only a few thousand distinct patterns of levels, so EM runs on the distinct
patterns weighted by their counts: the same estimates as EM over every pair, in milliseconds. Each field has
an m probability (among matches) and a u probability (among non-matches) per level; a missing value carries
no evidence. recordlinkage's ECMClassifier accepts only binary agreement; this keeps every level.

``estimate_by_rules`` (what ``link`` uses) keeps the model one of the population, not of the candidates: u from
random pairs, m from each blocking rule's pairs without the fields it blocked on, the prior over all pairs.
``estimate`` fits everything among the candidates (the classic ECM set-up), used for fields every rule blocks on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

_FLOOR = 1e-6


@dataclass
class Model:
    """Estimated parameters: ``m[f][k]`` and ``u[f][k]`` for field f at level k (0..top), the share of
    matches among candidate pairs ``lam``, and how EM went."""

    fields: list[str]
    level_names: list[list[str]]
    m: list[np.ndarray]
    u: list[np.ndarray]
    lam: float
    iterations: int
    converged: bool

    def weights(self) -> list[np.ndarray]:
        """log2(m/u) per field and level: the evidence each level adds to a pair's match weight."""
        return [np.log2(m / u) for m, u in zip(self.m, self.u, strict=True)]

    def table(self) -> pd.DataFrame:
        """One row per field and level: m, u and the match weight it contributes."""
        rows = []
        for name, labels, m, u, w in zip(self.fields, self.level_names, self.m, self.u, self.weights(),
                                         strict=True):
            for level in range(len(m) - 1, -1, -1):
                label = labels[len(labels) - level] if level > 0 else "none of these"
                rows.append({"field": name, "level": level, "label": label, "m": float(m[level]),
                             "u": float(u[level]), "match_weight": float(w[level])})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"fields": self.fields, "m": [list(map(float, m)) for m in self.m],
                "u": [list(map(float, u)) for u in self.u], "lambda": float(self.lam),
                "iterations": self.iterations, "converged": self.converged}


def patterns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of a level matrix (in the order of their codes), how often each occurs, and each pair's
    pattern number. Counted in a table of every possible pattern when there are not too many (no sort of the
    pairs), else by a sort; both give the same result."""
    if matrix.shape[0] == 0:
        return matrix, np.empty(0, np.int64), np.empty(0, np.int64)
    radix = matrix.max(axis=0).astype(np.int64) + 2  # -1..top → 0..top+1
    code = np.zeros(matrix.shape[0], dtype=np.int64)
    for j in range(matrix.shape[1]):
        code *= radix[j]
        code += matrix[:, j]
        code += 1
    possible = 1
    for r in radix.tolist():
        possible *= r
    if possible <= max(4 * matrix.shape[0], 1 << 16):
        counts = np.bincount(code, minlength=possible)
        distinct = np.flatnonzero(counts)
        number = np.empty(possible, dtype=np.int64)  # only the entries of codes present are written, and read
        number[distinct] = np.arange(distinct.size, dtype=np.int64)
        pats = np.empty((distinct.size, matrix.shape[1]), dtype=matrix.dtype)
        rest = distinct.copy()
        for j in range(matrix.shape[1] - 1, -1, -1):
            pats[:, j] = rest % radix[j] - 1
            rest //= radix[j]
        return pats, counts[distinct].astype(float), number[code]
    _distinct, first, inverse, counts = np.unique(code, return_index=True, return_inverse=True, return_counts=True)
    return matrix[first], counts.astype(float), inverse


def _log_likelihoods(pats: np.ndarray, m: list[np.ndarray], u: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    log_m = np.zeros(pats.shape[0])
    log_u = np.zeros(pats.shape[0])
    for j in range(pats.shape[1]):
        level = pats[:, j]
        seen = level >= 0
        log_m[seen] += np.log(m[j][level[seen]])
        log_u[seen] += np.log(u[j][level[seen]])
    return log_m, log_u


def estimate(matrix: np.ndarray, fields: list[str], level_names: list[list[str]], *,
             max_iterations: int = 200, tolerance: float = 1e-7, prior: float | None = None) -> Model:
    """Fit m, u and the match share by EM on the distinct patterns of ``matrix`` (pairs × fields)."""
    pats, counts, _ = patterns(matrix)
    tops = [len(names) for names in level_names]
    # start: matches agree at the top level, non-matches at the levels seen overall
    m = [np.where(np.arange(top + 1) < top, 0.05 / max(top, 1), 0.95) for top in tops]
    u = []
    for j, top in enumerate(tops):
        seen = pats[:, j] >= 0
        freq = np.bincount(pats[seen, j], weights=counts[seen], minlength=top + 1) + 1.0
        u.append(freq / freq.sum())
    lam = prior if prior is not None else 0.1
    converged, iteration = False, 0
    total = counts.sum()
    for step in range(1, max_iterations + 1):
        iteration = step
        p = _match_probability(pats, m, u, lam)
        wm, wu = counts * p, counts * (1 - p)
        new_m, new_u = [], []
        for j, top in enumerate(tops):
            seen = pats[:, j] >= 0
            mm = np.bincount(pats[seen, j], weights=wm[seen], minlength=top + 1) + _FLOOR
            uu = np.bincount(pats[seen, j], weights=wu[seen], minlength=top + 1) + _FLOOR
            new_m.append(mm / mm.sum())
            new_u.append(uu / uu.sum())
        new_lam = float(np.clip(wm.sum() / total, 1e-9, 1 - 1e-9))
        change = max(max(np.abs(x - y).max() for x, y in zip(new_m + new_u, m + u, strict=True)),
                     abs(new_lam - lam))
        m, u, lam = new_m, new_u, new_lam
        if change < tolerance:
            converged = True
            break
    return Model(fields=list(fields), level_names=[list(n) for n in level_names], m=m, u=u, lam=lam,
                 iterations=iteration, converged=converged)


def _match_probability(pats: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], lam: float) -> np.ndarray:
    """Each pattern's posterior match probability (the E step), computed in log space so that long patterns
    do not underflow."""
    log_m, log_u = _log_likelihoods(pats, m, u)
    a = np.log(lam) + log_m
    b = np.log1p(-lam) + log_u
    top_ab = np.maximum(a, b)
    return np.exp(a - top_ab) / (np.exp(a - top_ab) + np.exp(b - top_ab))


def _em_m_lam(pats: np.ndarray, counts: np.ndarray, u: list[np.ndarray], tops: list[int], lam: float,
              max_iterations: int, tolerance: float) -> tuple[list[np.ndarray], float, np.ndarray, int]:
    """EM for m and the match share with u fixed; fields to ignore are -1 in ``pats``. Returns m, the share,
    each pattern's match probability and the iterations used.

    The same arithmetic as ``_match_probability`` step by step, with what does not change between steps (each
    field's seen patterns and levels, the log-likelihood under u) worked out once."""
    m = [np.where(np.arange(top + 1) < top, 0.05 / max(top, 1), 0.95) for top in tops]
    p = np.zeros(pats.shape[0])
    seen_rows = [np.flatnonzero(pats[:, j] >= 0) for j in range(len(tops))]
    seen_levels = [pats[rows, j] for j, rows in enumerate(seen_rows)]
    log_u = np.zeros(pats.shape[0])
    for j, (rows, level) in enumerate(zip(seen_rows, seen_levels, strict=True)):
        log_u[rows] += np.log(u[j])[level]
    total = counts.sum()
    iteration = 0
    for step in range(1, max_iterations + 1):
        iteration = step
        log_m = np.zeros(pats.shape[0])
        for j, (rows, level) in enumerate(zip(seen_rows, seen_levels, strict=True)):
            log_m[rows] += np.log(m[j])[level]
        a = np.log(lam) + log_m
        b = np.log1p(-lam) + log_u
        top_ab = np.maximum(a, b)
        p = np.exp(a - top_ab) / (np.exp(a - top_ab) + np.exp(b - top_ab))
        wm = counts * p
        new_m = []
        for rows, level, top in zip(seen_rows, seen_levels, tops, strict=True):
            mm = np.bincount(level, weights=wm[rows], minlength=top + 1) + _FLOOR
            new_m.append(mm / mm.sum())
        new_lam = float(np.clip(wm.sum() / total, 1e-9, 1 - 1e-9))
        change = max(max(np.abs(x - y).max() for x, y in zip(new_m, m, strict=True)), abs(new_lam - lam))
        m, lam = new_m, new_lam
        if change < tolerance:
            break
    return m, lam, p, iteration


def estimate_by_rules(matrix: np.ndarray, rule_bits: np.ndarray, rule_fields: list[set[int]], u: list[np.ndarray],
                      pairs_in_population: float, fields: list[str], level_names: list[list[str]], *,
                      max_iterations: int = 200, tolerance: float = 1e-7,
                      matrix_patterns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Model:
    """Fellegi–Sunter with u from the population (``u``, e.g. ``compare.random_u``), m by EM within each
    blocking rule's pairs (``rule_bits``: bit r set where a pair meets rule r) leaving out the fields that rule
    blocked on (they agree there by construction), and the match share among all ``pairs_in_population`` pairs
    by a fixed point over the candidates (pairs no rule met are taken as non-matches). Blocking then only
    chooses which pairs are scored, not what they weigh: the posterior is calibrated for the population.
    ``matrix_patterns``: ``patterns(matrix)`` when the caller has it already (``score`` can use it too)."""
    tops = [len(names) for names in level_names]
    total_m = [np.zeros(top + 1) for top in tops]
    total_w = np.zeros(len(tops))
    iterations = 0
    # counted once; each rule's patterns are counted from it
    all_pats, all_counts, inverse = patterns(matrix) if matrix_patterns is None else matrix_patterns
    for r, blocked in enumerate(rule_fields):
        if r >= 31 or len(blocked) == len(tops) or matrix.shape[0] == 0:
            continue
        counts = np.bincount(inverse[((rule_bits >> r) & 1) == 1], minlength=len(all_pats)).astype(float)
        present = counts > 0
        if not present.any():
            continue
        pats = all_pats[present].copy()
        pats[:, sorted(blocked)] = -1
        m, _lam, p, used = _em_m_lam(pats, counts[present], u, tops, 0.5, max_iterations, tolerance)
        iterations += used
        expected = float((counts[present] * p).sum())
        for j in range(len(tops)):
            if j not in blocked:
                total_m[j] += expected * m[j]
                total_w[j] += expected
    fallback = None
    if (total_w <= 0).any():  # a field every rule blocked on: fit it among all candidates
        fallback = estimate(matrix, fields, level_names, max_iterations=max_iterations, tolerance=tolerance)
    m = [total_m[j] / total_w[j] if total_w[j] > 0 else fallback.m[j]  # type: ignore[union-attr]  # set where total_w <= 0
         for j in range(len(tops))]
    m = [(x + _FLOOR) / (x + _FLOOR).sum() for x in m]
    pats, counts = all_pats, all_counts
    log_m, log_u = _log_likelihoods(pats, m, u)
    ratio = log_m - log_u
    pairs_in_population = max(float(pairs_in_population), float(counts.sum()), 1.0)
    lam = float(np.clip(0.5 * counts.sum() / pairs_in_population, 1e-15, 0.5))
    converged = False
    for _ in range(max_iterations):
        prior = np.log(lam / (1 - lam))
        p = 1.0 / (1.0 + np.exp(-(ratio + prior)))
        new_lam = float(np.clip((counts * p).sum() / pairs_in_population, 1e-15, 0.5))
        if abs(np.log(new_lam) - np.log(lam)) < 1e-9:
            lam, converged = new_lam, True
            break
        lam = new_lam
    return Model(fields=list(fields), level_names=[list(n) for n in level_names], m=m, u=list(u), lam=lam,
                 iterations=iterations, converged=converged)


def score(model: Model, matrix: np.ndarray,
          matrix_patterns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Match weight (log2 Bayes factor plus prior odds) and match probability of every pair (``matrix_patterns``:
    ``patterns(matrix)``, if the caller has it)."""
    pats, _, inverse = patterns(matrix) if matrix_patterns is None else matrix_patterns
    log_m, log_u = _log_likelihoods(pats, model.m, model.u)
    weight = (log_m - log_u) / np.log(2) + np.log2(model.lam / (1 - model.lam))
    weight = weight[inverse] if matrix.shape[0] else np.empty(0)
    return weight, 1.0 / (1.0 + np.power(2.0, -weight))
