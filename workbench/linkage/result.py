"""What a linkage gives back: scored pairs, the matches after the threshold, the model, and its quality.

``LinkageResult.pairs`` has every candidate pair with its levels, match weight and probability; ``.matches``
those at or above the threshold (one-to-one for two tables, with cluster ids for one); ``.params`` the m/u
table; ``.report()`` a summary; ``.evaluate(truth)``, ``.histogram()`` and ``.review()`` judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.labels import header, table_html, value
from workbench.linkage.quality import evaluate, histogram, pr_curve, weights_html

if TYPE_CHECKING:

    from workbench.linkage.fellegi_sunter import Model
    from workbench.linkage.spec import LinkageSpec

ASSIGNABLE_WEIGHT = -10.0  # pairs below this (probability < 0.001) never take part in one-to-one assignment


def first_of_each(keys: np.ndarray) -> np.ndarray:
    """Which positions hold the first occurrence of their key (non-negative integers), as a boolean mask: what
    ``np.unique(keys, return_index=True)`` finds, by a minimum per key instead of a sort."""
    if keys.size == 0:
        return np.zeros(0, dtype=bool)
    if int(keys.max()) > 4 * keys.size + 65_536:  # few keys spread wide: a table of them all would cost more
        first = np.zeros(keys.size, dtype=bool)
        first[np.unique(keys, return_index=True)[1]] = True
        return first
    position = np.arange(keys.size, dtype=np.int64)
    first = np.full(int(keys.max()) + 1, keys.size, dtype=np.int64)
    np.minimum.at(first, keys, position)
    return first[keys] == position


def one_to_one(li: np.ndarray, ri: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Which pairs survive greedy one-to-one assignment (highest weight first), as a boolean mask.

    Done in rounds: every pair that is the best of both its records is kept, pairs sharing a record with a kept
    one are dropped, repeat. This is the greedy result, computed with a few sorts instead of a Python loop.
    """
    keep = np.zeros(li.size, dtype=bool)
    active = np.flatnonzero(weight >= ASSIGNABLE_WEIGHT)
    active = active[np.argsort(-weight[active], kind="stable")]
    while active.size:
        chosen = active[first_of_each(li[active]) & first_of_each(ri[active])]
        if chosen.size == 0:
            break
        keep[chosen] = True
        used_left = np.zeros(int(li.max()) + 1, dtype=bool)
        used_right = np.zeros(int(ri.max()) + 1, dtype=bool)
        used_left[li[chosen]] = True
        used_right[ri[chosen]] = True
        active = active[~used_left[li[active]] & ~used_right[ri[active]]]
    return keep


def choose_threshold(weight: np.ndarray, probability: np.ndarray) -> float:
    """The match weight that maximises the model's expected F1 (expected true links among those accepted over
    the accepted plus the expected number of matches)."""
    if weight.size == 0:
        return 0.0
    order = np.argsort(-weight, kind="stable")
    p = probability[order]
    expected_true = np.cumsum(p)
    accepted = np.arange(1, p.size + 1)
    f1 = 2 * expected_true / (accepted + p.sum())
    return float(weight[order][int(np.argmax(f1))])


@dataclass
class LinkageResult:
    """Scored candidate pairs and the decision taken on them."""

    left: pd.DataFrame = field(repr=False)
    right: pd.DataFrame | None = field(repr=False)
    spec: LinkageSpec = field(repr=False)
    engine: str
    li: np.ndarray = field(repr=False)
    ri: np.ndarray = field(repr=False)
    levels: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    probability: np.ndarray = field(repr=False)
    assigned: np.ndarray = field(repr=False)
    threshold: float
    model: Model = field(repr=False)
    pair_estimate: list[int] = field(default_factory=list, repr=False)
    decisions: dict[tuple[Any, Any], bool] = field(default_factory=dict, repr=False)
    chosen_blocking: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def blocking(self) -> pd.DataFrame:
        """The blocking rules and why: when they were chosen from the data, every candidate rule with its pairs,
        the share of matches it meets alone (estimated on a sample), the recall it added and whether it was
        chosen (``.attrs['estimated_recall']`` is the chosen union's); when the spec gave them, its rules and
        their pairs."""
        if self.chosen_blocking is not None:
            return self.chosen_blocking
        return pd.DataFrame({"rule": [" + ".join(rule) for rule in self.spec.blocking],
                             "pairs": [float(n) for n in self.pair_estimate] or [np.nan] * len(self.spec.blocking),
                             "estimated_recall": np.nan, "added_recall": np.nan, "chosen": True,
                             "order": range(len(self.spec.blocking))})

    @property
    def dedupe(self) -> bool:
        return self.right is None

    def _ids(self) -> tuple[np.ndarray, np.ndarray]:
        right = self.left if self.right is None else self.right
        return self.left.index.to_numpy()[self.li], right.index.to_numpy()[self.ri]

    @property
    def pairs(self) -> pd.DataFrame:
        """Every candidate pair: ids, the level of each field, match weight and probability (best first)."""
        left_id, right_id = self._ids()
        frame = pd.DataFrame({"left_id": left_id, "right_id": right_id})
        for j, f in enumerate(self.spec.fields):
            frame[f"level_{f.name}"] = self.levels[:, j]
        frame["match_weight"] = self.weight
        frame["match_probability"] = self.probability
        return frame.sort_values("match_weight", ascending=False, kind="stable").reset_index(drop=True)

    def _accepted(self, threshold: float | None = None) -> np.ndarray:
        t = self.threshold if threshold is None else threshold
        return self.assigned & (self.weight >= t)

    @property
    def matches(self) -> pd.DataFrame:
        """Pairs at or above the threshold: left_id, right_id, match_weight, match_probability (one-to-one for two
        tables; for one table each pair also carries the cluster_id of its records)."""
        keep = self._accepted()
        left_id, right_id = self._ids()
        frame = pd.DataFrame({"left_id": left_id[keep], "right_id": right_id[keep],
                              "match_weight": self.weight[keep], "match_probability": self.probability[keep]})
        if self.dedupe:
            clusters = self.clusters
            frame["cluster_id"] = clusters.loc[frame["left_id"]].to_numpy() if len(frame) else []
        return frame.sort_values("match_weight", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def clusters(self) -> pd.Series:
        """Deduplication: a cluster id per record (records linked directly or through others share one)."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        if not self.dedupe:
            raise InvalidInput("clusters: only a deduplication (link(frame) with no right frame) has clusters; "
                               "two-table links are one-to-one pairs in .matches.", field="clusters")
        keep = self._accepted()
        n = len(self.left)
        graph = coo_matrix((np.ones(int(keep.sum())), (self.li[keep], self.ri[keep])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        return pd.Series(labels, index=self.left.index, name="cluster_id")

    @property
    def params(self) -> pd.DataFrame:
        """m and u probabilities and the match weight of every level of every field."""
        return self.model.table()

    def with_threshold(self, threshold: float) -> LinkageResult:
        """The same pairs decided at another match weight."""
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidInput(f"threshold: give a match weight (a number), not {threshold!r}.", field="threshold")
        return replace(self, threshold=float(threshold))

    # -- quality --------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts, threshold and the model's own estimate of how many records matched."""
        keep = self._accepted()
        n_left = len(self.left)
        n_right = n_left if self.dedupe else len(self.right)  # type: ignore[arg-type]  # right is set unless dedupe
        expected = float(self.probability[self.assigned].sum())
        return {
            "engine": self.engine, "left_records": n_left, "right_records": None if self.dedupe else n_right,
            "candidate_pairs": int(self.li.size), "estimated_pairs_before_blocking_union": int(sum(self.pair_estimate)),
            "matches": int(keep.sum()), "threshold": float(self.threshold),
            "threshold_probability": float(1 / (1 + 2.0 ** -self.threshold)),
            "estimated_match_rate": (int(keep.sum()) / min(n_left, n_right)) if min(n_left, n_right) else 0.0,
            "expected_matches": expected,
            "expected_precision": float(self.probability[keep].mean()) if keep.any() else None,
            "em_iterations": self.model.iterations, "em_converged": self.model.converged,
            "prior_match_probability": float(self.model.lam),
            "mean_match_weight": float(np.mean(self.weight[keep])) if keep.any() else None,
            "blocking_rules": [" + ".join(rule) for rule in self.spec.blocking],
            "blocking_chosen_from_data": self.chosen_blocking is not None,
            "blocking_estimated_recall": (self.chosen_blocking.attrs.get("estimated_recall")
                                          if self.chosen_blocking is not None else None),
        }

    def report(self) -> LinkageReport:
        """A summary for the notebook: counts, threshold, estimated match rate and the m/u table."""
        return LinkageReport(self.summary(), self.params)

    def evaluate(self, truth: Any) -> dict[str, float]:
        """Precision, recall and F1 of the matches against true pairs (a frame of left_id, right_id or a
        MultiIndex of id pairs)."""
        return evaluate(self, truth)

    def pr_curve(self, truth: Any) -> pd.DataFrame:
        """Precision and recall at every threshold, against true pairs."""
        return pr_curve(self, truth)

    def histogram(self) -> Any:
        """A plotly histogram of match weights with the threshold marked."""
        return histogram(self)

    def _repr_html_(self) -> str:
        shown = ("engine", "left_records", "right_records", "candidate_pairs", "matches", "threshold",
                 "estimated_match_rate", "expected_precision")
        summary = self.summary()
        rows = "".join(f"<tr><th style='text-align:left'>{escape(k.replace('_', ' '))}</th><td>"
                       f"{escape(f'{v:,.3f}' if isinstance(v, float) else f'{v:,}' if isinstance(v, int) else str(v))}"
                       "</td></tr>" for k in shown if (v := summary.get(k)) is not None)
        return (f"<div><h4>Linkage result</h4><table>{rows}</table>"
                f"{weights_html(self.weight[self.assigned], self.threshold)}"
                "<p><code>.matches</code>, <code>.report()</code>, <code>.histogram()</code>, "
                "<code>.explore_threshold()</code>, <code>.review()</code></p></div>")

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<LinkageResult {self.engine}: {s['matches']:,} matches from {s['candidate_pairs']:,} candidate "
                f"pairs at match weight {self.threshold:.2f}>")


@dataclass
class LinkageReport:
    summary: dict[str, Any]
    params: pd.DataFrame

    def __getitem__(self, key: str) -> Any:
        return self.summary[key]

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "params": self.params.to_dict("records")}

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{escape(header(k))}</th><td>{escape(value(k, v))}</td></tr>"
                       for k, v in self.summary.items())
        return f"<div><h4>Linkage</h4><table>{rows}</table><h4>Parameters</h4>{table_html(self.params)}</div>"

    def __repr__(self) -> str:
        lines = [f"{k}: {v}" for k, v in self.summary.items()]
        return "\n".join(lines) + "\n" + self.params.to_string(index=False)
