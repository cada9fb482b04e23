"""The noise, and how accurate it leaves a result — pure functions with no workspace in sight.

Counts get diffprivlib's two-sided Geometric mechanism (integers, so no floating-point attack on the noise).
Bounded sums are scaled to integers at a fixed public resolution, summed exactly and given Geometric noise too.
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
    """Each integer plus independent Geometric noise (diffprivlib), calibrated to L1 ``sensitivity``."""
    from diffprivlib.mechanisms import Geometric

    mechanism = Geometric(epsilon=epsilon, sensitivity=int(sensitivity), random_state=random_state)
    flat = np.asarray(values, dtype=np.int64).ravel()
    out = np.fromiter((mechanism.randomise(int(v)) for v in flat), dtype=np.int64, count=flat.size)
    return out.reshape(np.shape(values))


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


def quantile_rank_half_width(epsilon: float, contributions: int, rows: int) -> float:
    """Approximate 95% bound on how many ranks (people) the Exponential-mechanism quantile may miss by.

    The mechanism's utility is minus the rank error with sensitivity ``contributions``; over at most ``rows`` + 1
    intervals, P(error > 2Δ/ε · (ln(rows + 1) + ln(1/0.05))) <= 0.05.
    """
    return 2 * contributions / epsilon * (math.log(rows + 1) + math.log(1 / (1 - CONFIDENCE)))


def quantile(values: np.ndarray, q: float, epsilon: float, bounds: tuple[float, float], contributions: int,
             random_state: Any = None) -> float:
    """diffprivlib's Exponential-mechanism quantile; ε is divided by ``contributions`` (rank sensitivity)."""
    from diffprivlib.tools import quantile as dp_quantile

    clipped = np.clip(values.astype(float), bounds[0], bounds[1])
    return float(dp_quantile(clipped, q, epsilon=epsilon / contributions, bounds=bounds,
                             random_state=random_state if random_state is not None else secret_state()))


def secret_state() -> np.random.RandomState:
    """A generator seeded with 128 bits from the operating system's secret randomness. Left to itself,
    diffprivlib's quantile draws its point within the chosen interval from numpy's global generator, which a
    kernel can seed (``np.random.seed``) and so replay; nothing done to that generator reaches this one."""
    return np.random.RandomState(np.frombuffer(secrets.token_bytes(16), dtype=np.uint32))

