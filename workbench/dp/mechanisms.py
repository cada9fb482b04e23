"""The noise, and how accurate it leaves a result — pure functions with no workspace in sight.

Counts get diffprivlib's two-sided Geometric mechanism (integers, so no floating-point attack on the noise).
Bounded sums are scaled to integers at a fixed public resolution, summed exactly and given Geometric noise too.
Quantiles come from an Exponential mechanism over a grid of candidates fixed by the bounds (as OpenDP's), so the
stated accuracy holds for any bounds. Every draw uses the operating system's secret randomness (``secret_random``).
Sensitivities are for the person as the privacy unit: a person contributes at most ``contributions`` rows
(clipped by ``clip_contributions`` before any aggregate is taken).
"""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CONFIDENCE = 0.95
SUM_RESOLUTION_UNITS = 1_000_000  # the largest |bound| becomes this many integer units
MAX_NOISE_SCALE = 1e13  # Geometric noise scale (sensitivity / ε) in integer units: see ``noise_fits``
QUANTILE_STEPS = 100_000  # the quantile's candidates: the bounds and evenly spaced points between, this many apart


def clip_contributions(frame: pd.DataFrame, person_key: str | None, contributions: int) -> pd.DataFrame:
    """At most ``contributions`` rows per person (the first in stored order); every row when rows are persons."""
    if person_key is None:
        return frame
    keep = frame.groupby(person_key, sort=False, dropna=False, observed=True).cumcount().to_numpy() < contributions
    return frame if keep.all() else frame[keep]


def geometric_alpha(epsilon: float, sensitivity: float) -> float:
    return math.exp(-epsilon / sensitivity)


def geometric_half_width(epsilon: float, sensitivity: float, confidence: float = CONFIDENCE) -> int:
    """The smallest t with P(|noise| > t) <= 1 - confidence for two-sided Geometric noise.

    P(|X| > t) = 2 α^(t+1) / (1 + α) with α = exp(-ε/Δ).
    """
    alpha = geometric_alpha(epsilon, sensitivity)
    if alpha <= 0.0:
        return 0
    tail = (1.0 - confidence) * (1.0 + alpha) / 2.0
    return max(0, math.ceil(math.log(tail) / math.log(alpha) - 1.0 - 1e-12))


def noisy_integers(values: np.ndarray, epsilon: float, sensitivity: int, random_state: Any = None) -> np.ndarray:
    """Each integer plus independent Geometric noise (diffprivlib's mechanism), calibrated to L1 ``sensitivity``.

    diffprivlib validates ε and the sensitivity and holds the generator; its ``randomise`` is then applied to
    every cell at once: one uniform draw per cell, in cell order, from the same generator, through the same
    floating-point steps (``tests/dp/test_mechanisms.py`` checks the answers equal ``randomise`` cell by cell), so a
    table of a thousand cells costs one array operation rather than a thousand checked calls. The noise comes from
    ``secret_random()`` unless a test passes its own ``random_state``: nothing a kernel does to numpy's or
    ``random``'s global generators can replay it."""
    from diffprivlib.mechanisms import Geometric

    mechanism = Geometric(epsilon=epsilon, sensitivity=int(sensitivity),
                          random_state=random_state if random_state is not None else secret_random())
    flat = np.asarray(values, dtype=np.int64).ravel()
    scale = -mechanism.epsilon / mechanism.sensitivity if mechanism.sensitivity > 0 else -math.inf
    draw = mechanism._rng.random  # the generator diffprivlib's randomise draws from (SystemRandom by default)
    noise = _geometric(np.fromiter((draw() for _ in range(flat.size)), dtype=float, count=flat.size), scale)
    while not np.isfinite(noise).all():  # a uniform of exactly 0.5 (p = 2^-53): randomise would fail; draw again
        again = ~np.isfinite(noise)
        noise[again] = _geometric(np.fromiter((draw() for _ in range(int(again.sum()))), dtype=float), scale)
    out = np.round(flat + noise).astype(np.int64)  # as randomise: round(value + noise), both as floats
    return out.reshape(np.shape(values))


def _geometric(uniform: np.ndarray, scale: float) -> np.ndarray:
    """diffprivlib's ``Geometric.randomise`` noise for uniforms in [0, 1), elementwise and in the same steps:
    the uniform centred and stretched over both tails, its sign, then ``sgn * floor(log(sgn * u) / scale)``."""
    centred = (uniform - 0.5) * (1 + np.exp(scale))
    sign = np.where(centred < 0, -1.0, 1.0)
    with np.errstate(divide="ignore"):
        return sign * np.floor(np.log(sign * centred) / scale)


def sum_scale(bounds: tuple[float, float]) -> float:
    """Integer units per value unit: a power of ten putting the largest |bound| near a million units."""
    largest = max(abs(bounds[0]), abs(bounds[1]))
    if largest == 0:
        return 1.0
    return float(10 ** math.floor(math.log10(SUM_RESOLUTION_UNITS / largest)))


def scaled(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Values clipped to the bounds and rounded to integer units of ``sum_scale``."""
    scale = sum_scale(bounds)
    return np.rint(np.clip(values.astype(float), bounds[0], bounds[1]) * scale).astype(np.int64)


def sum_sensitivity(bounds: tuple[float, float], contributions: int) -> int:
    """L1 sensitivity in integer units: one person adds or removes up to ``contributions`` clipped values."""
    scale = sum_scale(bounds)
    return int(contributions * max(abs(round(bounds[0] * scale)), abs(round(bounds[1] * scale)), 1))


def count_accuracy(epsilon: float, contributions: int) -> tuple[float, int]:
    """(noise scale, 95% half-width) of a count whose ε is ``epsilon``."""
    return contributions / epsilon, geometric_half_width(epsilon, contributions)


def sum_accuracy(epsilon: float, bounds: tuple[float, float], contributions: int) -> tuple[float, float]:
    """(noise scale, 95% half-width) of a bounded sum, in the value's own units."""
    scale = sum_scale(bounds)
    sensitivity = sum_sensitivity(bounds, contributions)
    return sensitivity / scale / epsilon, geometric_half_width(epsilon, sensitivity) / scale



def noise_fits(epsilon: float, sensitivity: float) -> bool:
    """Whether Geometric noise at this ε and sensitivity stays well inside the integers a float holds exactly.

    diffprivlib draws the noise as a float; past 2**53 floats skip integers, so which answers can occur would
    depend on the true value's low bits. The noise never exceeds about 37 scales (53 random bits), so a scale up
    to ``MAX_NOISE_SCALE`` keeps every draw, plus any true count or sum, exact."""
    return sensitivity / epsilon <= MAX_NOISE_SCALE


# -- the quantile: an Exponential mechanism over a public grid of candidates --------------------------------------
def quantile_grid(bounds: tuple[float, float]) -> np.ndarray:
    """The candidate answers: ``QUANTILE_STEPS`` + 1 evenly spaced points from the lower bound to the upper.

    The grid comes from the bounds alone, so its resolution is public and the accuracy holds whatever the data
    (an Exponential mechanism over data-dependent intervals weighs each by its length, which wide bounds turn
    into an answer almost anywhere in them)."""
    return np.linspace(bounds[0], bounds[1], QUANTILE_STEPS + 1)


def quantile_resolution(bounds: tuple[float, float]) -> float:
    """The distance between neighbouring candidates."""
    return (bounds[1] - bounds[0]) / QUANTILE_STEPS


def quantile_sensitivity(q: float, contributions: int) -> float:
    """How far one person (``contributions`` rows) can move any candidate's score: each row moves the rank target
    q·n by q and the ranks below or at a candidate by at most one."""
    return contributions * max(q, 1.0 - q)


def quantile_rank_half_width(epsilon: float, q: float, contributions: int, confidence: float = CONFIDENCE) -> float:
    """t such that the answer's score exceeds t with probability at most 1 - ``confidence``, whatever the data.

    The best candidate scores 0 (the data are rounded to the grid, so some candidate holds the q·n-th rank), and
    each of the G candidates scoring more than t is drawn with probability at most exp(-ε·t / 2Δ), so
    P(score > t) <= G·exp(-ε·t / 2Δ); t = 2Δ/ε · ln(G / (1 - confidence)). It depends on ε, q, the contributions and
    the public grid only, never on how many rows there are.
    """
    return (2 * quantile_sensitivity(q, contributions) / epsilon
            * math.log((QUANTILE_STEPS + 1) / (1 - confidence)))


def quantile_scores(values: np.ndarray, q: float, bounds: tuple[float, float]) -> np.ndarray:
    """Each candidate's distance in ranks from the q·n-th rank, on the values clipped to the bounds and rounded
    to the nearest candidate: max(0, below − q·n, q·n − at_or_below)."""
    lower, upper = bounds
    position = (np.clip(values.astype(float), lower, upper) - lower) / (upper - lower) * QUANTILE_STEPS
    index = np.clip(np.rint(position), 0, QUANTILE_STEPS).astype(np.int64)
    counts = np.bincount(index, minlength=QUANTILE_STEPS + 1)
    at_or_below = np.cumsum(counts)
    below = at_or_below - counts
    target = q * len(values)
    return np.maximum(0.0, np.maximum(below - target, target - at_or_below))


def quantile(values: np.ndarray, q: float, epsilon: float, bounds: tuple[float, float], contributions: int,
             random_state: Any = None) -> float:
    """The ``q`` quantile by the Exponential mechanism over ``quantile_grid(bounds)``: candidate c is drawn with
    probability proportional to exp(-ε·score(c) / 2Δ), Δ = ``quantile_sensitivity``, from secret randomness.

    With probability at least 95% the answer c has score at most ``quantile_rank_half_width``: at most q·n + t
    values lie below c − s/2 and at least q·n − t at or below c + s/2 (s: the grid's resolution)."""
    scores = quantile_scores(np.asarray(values), q, bounds)
    logits = -epsilon * scores / (2 * quantile_sensitivity(q, contributions))
    cumulative = np.cumsum(np.exp(logits - logits.max()))
    rng = random_state if random_state is not None else secret_random()
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return float(quantile_grid(bounds)[min(pick, QUANTILE_STEPS)])


def secret_random() -> secrets.SystemRandom:
    """Randomness from the operating system (``secrets``). A kernel can seed numpy's and ``random``'s global
    generators (``np.random.seed``, ``random.seed``) and so replay anything drawn from them; nothing done to them
    reaches this one, and diffprivlib's mechanisms take it as their ``random_state``."""
    return secrets.SystemRandom()
