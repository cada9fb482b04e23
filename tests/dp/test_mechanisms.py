"""The noise keeps its promise: on neighbouring datasets (one person more) the probability of any output changes
by at most e^ε — measured by sampling, and shown to fail when the sensitivity is deliberately wrong."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.dp import mechanisms

EPSILON = 1.0
DRAWS = 200_000


def privacy_loss(draws_a: np.ndarray, draws_b: np.ndarray, width: float, min_count: int = 2000) -> float:
    """The largest |log P_a(bin)/P_b(bin)| over bins of ``width`` that one sample hits ``min_count`` times.

    Binning is post-processing, so a correct mechanism keeps every bin's ratio within e^ε."""
    edges = np.arange(min(draws_a.min(), draws_b.min()), max(draws_a.max(), draws_b.max()) + 2 * width, width)
    count_a, _ = np.histogram(draws_a, edges)
    count_b, _ = np.histogram(draws_b, edges)
    busy = (count_a >= min_count) | (count_b >= min_count)
    ratios = np.log(np.maximum(count_a[busy], 1) / np.maximum(count_b[busy], 1))
    return float(np.abs(ratios).max())


def people(n: int, rows_each: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"person": np.repeat(np.arange(n), rows_each),
                         "cost": rng.uniform(0, 10, n * rows_each)})


def neighbours() -> tuple[pd.DataFrame, pd.DataFrame]:
    """D, and D plus one person with many rows at the top of the bounds."""
    base = people(200, 3)
    extra = pd.DataFrame({"person": [999] * 5, "cost": [10.0] * 5})
    return base, pd.concat([base, extra], ignore_index=True)


def dp_count(frame: pd.DataFrame, contributions: int, sensitivity: int, seed: int) -> np.ndarray:
    clipped = mechanisms.clip_contributions(frame, "person", contributions)
    return mechanisms.noisy_integers(np.full(DRAWS, len(clipped)), EPSILON, sensitivity,
                                     random_state=np.random.RandomState(seed))


def dp_sum(frame: pd.DataFrame, contributions: int, sensitivity: int, seed: int) -> np.ndarray:
    bounds = (0.0, 10.0)
    clipped = mechanisms.clip_contributions(frame, "person", contributions)
    total = int(mechanisms.scaled(clipped["cost"].to_numpy(), bounds).sum())
    return mechanisms.noisy_integers(np.full(DRAWS, total), EPSILON, sensitivity,
                                     random_state=np.random.RandomState(seed)) / mechanisms.sum_scale(bounds)


def test_count_stays_within_e_to_the_epsilon_and_a_wrong_sensitivity_is_caught() -> None:
    d, d_prime = neighbours()
    k = 2
    loss = privacy_loss(dp_count(d, k, k, 1), dp_count(d_prime, k, k, 2), width=1)
    assert loss <= EPSILON * 1.15, loss  # sampling error of the log ratio: about 0.05
    # the same mechanism told that a person adds one row, when the clip lets them add two
    wrong = privacy_loss(dp_count(d, k, 1, 1), dp_count(d_prime, k, 1, 2), width=1)
    assert wrong > EPSILON * 1.5, wrong


def test_bounded_sum_stays_within_e_to_the_epsilon_and_a_wrong_sensitivity_is_caught() -> None:
    d, d_prime = neighbours()
    k = 2
    right = mechanisms.sum_sensitivity((0.0, 10.0), k)
    width = k * 10 / EPSILON / 4  # a quarter of the noise scale, in pounds
    loss = privacy_loss(dp_sum(d, k, right, 1), dp_sum(d_prime, k, right, 2), width=width)
    assert loss <= EPSILON * 1.15, loss  # sampling error of the log ratio: about 0.05
    wrong = mechanisms.sum_sensitivity((0.0, 10.0), 1)  # forgets that a person may add two values
    loss = privacy_loss(dp_sum(d, k, wrong, 1), dp_sum(d_prime, k, wrong, 2), width=width)
    assert loss > EPSILON * 1.5, loss


def test_clipping_keeps_at_most_k_rows_per_person_and_every_row_without_a_key() -> None:
    frame = people(10, 4)
    assert len(mechanisms.clip_contributions(frame, "person", 1)) == 10
    assert len(mechanisms.clip_contributions(frame, "person", 3)) == 30
    assert len(mechanisms.clip_contributions(frame, None, 1)) == 40


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(1.0, 1), (0.1, 1), (0.5, 3)])
def test_half_width_covers_95_percent_of_the_noise(epsilon: float, sensitivity: int) -> None:
    width = mechanisms.geometric_half_width(epsilon, sensitivity)
    noise = mechanisms.noisy_integers(np.zeros(DRAWS, dtype=np.int64), epsilon, sensitivity,
                                      random_state=np.random.RandomState(5))
    inside = np.mean(np.abs(noise) <= width)
    assert 0.95 <= inside <= 0.99, inside
    assert np.mean(np.abs(noise) <= width - 1) < 0.95  # and it is the smallest such width


def test_sum_resolution_and_sensitivity_follow_the_bounds() -> None:
    assert mechanisms.sum_scale((0, 30)) == 10_000
    assert mechanisms.sum_sensitivity((0, 30), 2) == 600_000
    assert mechanisms.sum_sensitivity((-50, 20), 1) == mechanisms.sum_sensitivity((0, 50), 1)
    scale, width = mechanisms.sum_accuracy(1.0, (0, 30), 1)
    assert math.isclose(scale, 30.0) and 80 < width < 100


def test_the_quantile_never_draws_from_numpy_s_global_generator() -> None:
    """A kernel can seed ``np.random``; were the quantile's point within its interval drawn from that generator,
    asking twice under the same seed would replay it. The global generator is left exactly as it was, and seeding
    it does not make answers repeat."""
    values = np.arange(1000, dtype=float)
    np.random.seed(1)
    before = np.random.get_state()
    mechanisms.quantile(values, 0.5, 1.0, (0.0, 1000.0), 1)
    after = np.random.get_state()
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(before, after, strict=True))
    answers = set()
    for _ in range(5):
        np.random.seed(7)
        answers.add(mechanisms.quantile(values, 0.5, 1.0, (0.0, 1000.0), 1))
    assert len(answers) > 1


def stated_interval(values: np.ndarray, q: float, epsilon: float, bounds: tuple[float, float],
                    contributions: int = 1) -> tuple[float, float]:
    """The values the stated accuracy allows: within ``rank_half_width`` ranks of the q·n-th value of the clipped
    data, widened by half the grid step (from the statement in ``mechanisms.quantile``)."""
    t = mechanisms.quantile_rank_half_width(epsilon, q, contributions)
    half_step = mechanisms.quantile_resolution(bounds) / 2
    x = np.sort(np.clip(values, *bounds))
    n = len(x)
    low_rank, high_rank = math.ceil(q * n - t), math.floor(q * n + t) + 1  # 1-based
    low = x[low_rank - 1] - half_step if low_rank >= 1 else -math.inf
    high = x[high_rank - 1] + half_step if high_rank <= n else math.inf
    return low, high


QUANTILE_CASES = [  # (bounds, q, ε) on values in [0, 100]
    ((0.0, 100.0), 0.5, 1.0),
    ((0.0, 1e8), 0.5, 1.0),  # the bounds whose answers fell outside the old "95%" interval 99.4% of the time
    ((0.0, 1e8), 0.9, 0.1),
    ((-1e8, 1e8), 0.1, 1.0),
    ((40.0, 60.0), 0.5, 0.3),  # bounds cutting through the data
    ((200.0, 300.0), 0.5, 1.0),  # bounds excluding all of it
]


@pytest.mark.slow
@pytest.mark.parametrize(("bounds", "q", "epsilon"), QUANTILE_CASES)
def test_the_quantile_s_stated_interval_covers_95_percent_of_answers_whatever_the_bounds(
        bounds: tuple[float, float], q: float, epsilon: float) -> None:
    values = np.random.default_rng(3).uniform(0, 100, 400)
    low, high = stated_interval(values, q, epsilon, bounds)
    repeats = 300
    answers = np.array([mechanisms.quantile(values, q, epsilon, bounds, 1) for _ in range(repeats)])
    coverage = np.mean((answers >= low) & (answers <= high))
    assert coverage >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / repeats), (coverage, low, high)


def test_the_simulation_catches_an_interval_that_ignores_the_bounds() -> None:
    """diffprivlib's quantile over data intervals, with its accuracy stated in ranks alone: with bounds (0, 1e8)
    on values in [0, 100] almost every answer falls outside — the failure the public grid removes."""
    from diffprivlib.tools import quantile as interval_quantile

    values = np.random.default_rng(3).uniform(0, 100, 400)
    low, high = stated_interval(values, 0.5, 0.1, (0.0, 100.0))  # ranks only: the grid step of (0, 100)
    answers = [interval_quantile(values, 0.5, epsilon=0.1, bounds=(0.0, 1e8), random_state=seed)
               for seed in range(200)]
    assert np.mean([(low <= a <= high) for a in answers]) < 0.2
    ours = [mechanisms.quantile(values, 0.5, 0.1, (0.0, 1e8), 1) for _ in range(50)]
    wide_low, wide_high = stated_interval(values, 0.5, 0.1, (0.0, 1e8))
    assert all(wide_low <= a <= wide_high for a in ours) and wide_high < 1000  # honest and still narrow


def test_the_quantile_s_rank_accuracy_depends_on_the_spec_alone() -> None:
    width = mechanisms.quantile_rank_half_width(1.0, 0.5, 1)
    assert math.isclose(width, math.log(100_001 / 0.05), rel_tol=1e-12)  # 2Δ/ε·ln(G/β), Δ = max(q, 1-q)
    assert mechanisms.quantile_rank_half_width(1.0, 0.9, 2) == pytest.approx(width * 2 * 0.9 / 0.5)
    assert mechanisms.quantile_resolution((0.0, 1e8)) == 1000.0
    grid = mechanisms.quantile_grid((0.0, 1e8))
    assert len(grid) == 100_001 and grid[0] == 0.0 and grid[-1] == 1e8


def test_the_quantile_on_no_values_answers_from_the_grid_without_error() -> None:
    """An empty selection is answered like any other (an error would tell that nothing matched)."""
    answer = mechanisms.quantile(np.array([]), 0.5, 1.0, (0.0, 100.0), 1)
    assert 0.0 <= answer <= 100.0


def test_the_quantile_stays_within_e_to_the_epsilon() -> None:
    """Neighbouring datasets (one value added at the top) move each candidate's probability by at most e^ε; the
    mechanism's own probabilities are compared exactly, every candidate at once."""
    bounds, q, epsilon = (0.0, 100.0), 0.5, 1.0
    values = np.random.default_rng(4).uniform(0, 100, 51)
    for neighbour in (np.append(values, 100.0), np.append(values, 0.0), values[1:]):
        sensitivity = mechanisms.quantile_sensitivity(q, 1)
        p = [np.exp(-epsilon * mechanisms.quantile_scores(v, q, bounds) / (2 * sensitivity)) for v in
             (values, neighbour)]
        p = [w / w.sum() for w in p]
        assert np.max(np.abs(np.log(p[0] / p[1]))) <= epsilon + 1e-9


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(1.0, 1), (0.1, 1), (0.5, 3), (3.0, 7), (1e-3, 1_000_000)])
def test_the_noise_of_a_table_is_diffprivlibs_randomise_cell_by_cell(epsilon: float, sensitivity: int) -> None:
    """The whole table is noised at once with the same draws and steps as ``Geometric.randomise`` per cell."""
    from diffprivlib.mechanisms import Geometric

    values = np.random.default_rng(1).integers(-10**6, 10**6, 20_000).reshape(200, 100)
    noisy = mechanisms.noisy_integers(values, epsilon, sensitivity, random_state=np.random.RandomState(4))
    one_by_one = Geometric(epsilon=epsilon, sensitivity=sensitivity, random_state=np.random.RandomState(4))
    expected = np.array([one_by_one.randomise(int(v)) for v in values.ravel()]).reshape(values.shape)
    assert noisy.dtype == np.int64 and noisy.shape == values.shape
    assert (noisy == expected).all()


def test_the_noise_is_drawn_from_secret_randomness_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a ``random_state`` every cell's draw comes from ``secret_random()`` (the operating system's)."""
    import secrets

    drawn: list[int] = []

    class Counting(secrets.SystemRandom):
        def random(self) -> float:
            drawn.append(1)
            return super().random()

    monkeypatch.setattr(mechanisms, "secret_random", Counting)
    np.random.seed(0)
    first = mechanisms.noisy_integers(np.zeros(500, dtype=np.int64), 1.0, 1)
    np.random.seed(0)
    second = mechanisms.noisy_integers(np.zeros(500, dtype=np.int64), 1.0, 1)
    assert len(drawn) == 1000
    assert (first != second).any()  # seeding numpy's global generator replays nothing
