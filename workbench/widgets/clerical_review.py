"""Clerical review: a person looks at the pairs the model is least sure of, side by side, and says match or
not; the decisions are kept and set the threshold where they are best separated.

Built from ipywidgets (so it also works headless: its buttons can be clicked from code and tests).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput
from workbench.widgets.labels import MISSING, date

if TYPE_CHECKING:

    from workbench.linkage.result import LinkageResult


def threshold_from_decisions(weights: np.ndarray, is_match: np.ndarray, current: float) -> float:
    """The match weight that misclassifies fewest reviewed pairs (midway between neighbours; ``current`` when
    nothing was decided)."""
    if weights.size == 0:
        return current
    order = np.argsort(weights)
    w, y = weights[order], is_match[order].astype(bool)
    candidates = np.concatenate([[w[0] - 1.0], (w[:-1] + w[1:]) / 2, [w[-1] + 1.0]])
    # errors when accepting >= t: non-matches at or above, matches below
    errors = [int((~y & (w >= t)).sum() + (y & (w < t)).sum()) for t in candidates]
    best = np.flatnonzero(np.asarray(errors) == min(errors))
    return float(candidates[best[len(best) // 2]])


class ClericalReview:
    """Review ``n`` pairs nearest the threshold; ``.widget`` to display, ``.decide(True/False)`` or the buttons
    to record, ``.apply()`` to set the threshold; ``.result`` is the linkage at the chosen threshold."""

    def __init__(self, result: LinkageResult, n: int = 20) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInput(f"n: give how many pairs to review (a whole number of at least 1), not {n!r}.",
                               field="n")
        self.result = result
        candidates = np.flatnonzero(result.assigned)
        nearest = candidates[np.argsort(np.abs(result.weight[candidates] - result.threshold), kind="stable")[:n]]
        self._queue = [int(i) for i in nearest]
        self._position = 0
        self.decisions: dict[int, bool] = {}
        self._build()

    # -- the widget -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        import ipywidgets as w

        self.pair_view = w.HTML()
        self.match_button = w.Button(description="Match", button_style="success", icon="check")
        self.non_match_button = w.Button(description="Not a match", button_style="danger", icon="times")
        self.skip_button = w.Button(description="Skip", icon="forward")
        self.apply_button = w.Button(description="Set threshold from decisions", button_style="primary")
        self.status = w.HTML()
        self.match_button.on_click(lambda _b: self.decide(True))
        self.non_match_button.on_click(lambda _b: self.decide(False))
        self.skip_button.on_click(lambda _b: self.skip())
        self.apply_button.on_click(lambda _b: self.apply())
        self.widget = w.VBox([self.pair_view, w.HBox([self.match_button, self.non_match_button, self.skip_button]),
                              self.apply_button, self.status])
        self._show()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _show(self) -> None:
        done = self._position >= len(self._queue)
        for button in (self.match_button, self.non_match_button, self.skip_button):
            button.disabled = done
        self.status.value = (f"<small>{len(self.decisions)} decided, {len(self._queue) - self._position} to go; "
                             f"threshold {self.result.threshold:.2f}</small>")
        self.pair_view.value = "<p>All pairs reviewed.</p>" if done else self._pair_html(self._queue[self._position])

    def _pair_html(self, i: int) -> str:
        r = self.result
        left = r.left.iloc[int(r.li[i])]
        right = (r.left if r.right is None else r.right).iloc[int(r.ri[i])]
        rows = "".join(
            f"<tr><th>{escape(f.name)}</th><td>{escape(_shown(left[f.left]))}</td><td>{escape(_shown(right[f.right]))}</td>"
            f"<td>{escape(_level_label(f.levels, int(r.levels[i, j])))}</td></tr>"
            for j, f in enumerate(r.spec.fields))
        return (f"<p>Pair {self._position + 1} of {len(self._queue)}: match weight {r.weight[i]:.2f} "
                f"(probability {r.probability[i]:.3f})</p><table><tr><th></th><th>left "
                f"{escape(str(r.left.index[int(r.li[i])]))}</th><th>right</th><th>level</th></tr>{rows}</table>")

    # -- actions --------------------------------------------------------------------------------------------
    @property
    def current(self) -> int | None:
        """The candidate pair (row in ``result``'s arrays) under review, or None when all are done."""
        return self._queue[self._position] if self._position < len(self._queue) else None

    def decide(self, is_match: bool) -> None:
        """Record a decision on the pair shown and move to the next."""
        if self.current is None:
            raise InvalidInput("decide: every pair has been reviewed; apply() sets the threshold.", field="decide")
        self.decisions[self.current] = bool(is_match)
        self._position += 1
        self._show()

    def skip(self) -> None:
        if self.current is not None:
            self._position += 1
        self._show()

    def suggested_threshold(self) -> float:
        pairs = np.asarray(list(self.decisions), dtype=np.int64)
        labels = np.asarray(list(self.decisions.values()), dtype=bool)
        return threshold_from_decisions(self.result.weight[pairs] if pairs.size else np.empty(0), labels,
                                        self.result.threshold)

    def apply(self) -> float:
        """Set the linkage's threshold to the one the decisions support; returns it."""
        self.result = self.result.with_threshold(self.suggested_threshold())
        left_id, right_id = self.result._ids()
        self.result.decisions.update({(left_id[i], right_id[i]): v for i, v in self.decisions.items()})
        self._show()
        return self.result.threshold

    def decisions_frame(self) -> Any:
        """The decisions as a DataFrame: left_id, right_id, match_weight, is_match."""
        r = self.result
        left_id, right_id = r._ids()
        return pd.DataFrame([{"left_id": left_id[i], "right_id": right_id[i], "match_weight": float(r.weight[i]),
                              "is_match": v} for i, v in self.decisions.items()],
                            columns=["left_id", "right_id", "match_weight", "is_match"])


def _shown(value: Any) -> str:
    """A compared value as the reviewer reads it: dates as dates, missing as "—"; identifiers and numbers exactly
    as held (no separators: the reviewer compares them digit by digit)."""
    if isinstance(value, pd.Timestamp):
        return date(value)
    try:
        if pd.isna(value):
            return MISSING
    except (TypeError, ValueError):
        pass
    return str(value)


def _level_label(labels: tuple[str, ...], level: int) -> str:
    if level < 0:
        return "missing"
    if level == 0:
        return "none of these"
    return labels[len(labels) - level]
