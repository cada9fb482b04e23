"""How good a linkage is: against truth (precision, recall, F1, the precision–recall curve) and without it
(the distribution of match weights around the threshold, for a person to judge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import InvalidInput

if TYPE_CHECKING:

    from workbench.linkage.result import LinkageResult


def _true_pairs(truth: Any) -> set[tuple[Any, Any]]:
    if isinstance(truth, pd.MultiIndex):
        return set(truth.tolist())
    if isinstance(truth, pd.DataFrame) and {"left_id", "right_id"} <= set(truth.columns):
        return set(zip(truth["left_id"].tolist(), truth["right_id"].tolist(), strict=True))
    raise InvalidInput("truth: give the true pairs as a DataFrame with left_id and right_id columns, or a "
                       "MultiIndex of (left id, right id).", field="truth")


def _labels(result: LinkageResult, truth: Any) -> tuple[Any, int]:
    """Whether each candidate pair is a true pair, and how many true pairs there are."""
    true = _true_pairs(truth)
    left_id, right_id = result._ids()
    if result.dedupe:
        true |= {(b, a) for a, b in true}
        total = len(true) // 2
    else:
        total = len(true)
    labels = np.fromiter(((a, b) in true for a, b in zip(left_id.tolist(), right_id.tolist(), strict=True)),
                         dtype=bool, count=left_id.size)
    return labels, total


def evaluate(result: LinkageResult, truth: Any) -> dict[str, float]:
    """Precision, recall and F1 of ``result.matches`` against the true pairs."""
    labels, total = _labels(result, truth)
    keep = result._accepted()
    found = int(keep.sum())
    correct = int((labels & keep).sum())
    precision = correct / found if found else 0.0
    recall = correct / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_links": correct, "links": found,
            "true_pairs": total}


def pr_curve(result: LinkageResult, truth: Any) -> pd.DataFrame:
    """Precision, recall and F1 when accepting every assigned pair down to each threshold."""
    labels, total = _labels(result, truth)
    idx = np.flatnonzero(result.assigned)
    order = idx[np.argsort(-result.weight[idx], kind="stable")]
    hits = np.cumsum(labels[order])
    accepted = np.arange(1, order.size + 1)
    precision = hits / accepted
    recall = hits / max(total, 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    return pd.DataFrame({"threshold": result.weight[order], "precision": precision, "recall": recall, "f1": f1})


def histogram(result: LinkageResult, bins: int = 60) -> Any:
    """Plotly histogram of the match weights of assigned pairs, the threshold as a dashed line."""
    return weights_figure(result.weight[result.assigned], result.threshold, "Match weights of candidate pairs", bins)


def weights_figure(weights: np.ndarray, threshold: float, title: str, bins: int = 60) -> Any:
    """Plotly histogram of match weights with the threshold as a dashed line (shared by every linkage view)."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Histogram(x=weights, nbinsx=bins, name="candidate pairs"))
    figure.add_vline(x=threshold, line_dash="dash", line_color="firebrick",
                     annotation_text=f"threshold {threshold:.2f}")
    figure.update_layout(title=title, xaxis_title="match weight (log2 Bayes factor)", yaxis_title="pairs",
                         bargap=0.05, template="plotly_white")
    return figure


def weights_html(weights: np.ndarray, threshold: float, bins: int = 30) -> str:
    """A small self-contained HTML histogram of match weights (bars above the threshold in green), for rich
    displays that must not depend on plotly.js being loaded."""
    if weights.size == 0:
        return "<p><em>no candidate pairs</em></p>"
    counts, edges = np.histogram(weights, bins=bins)
    top = max(int(counts.max()), 1)
    bars = "".join(
        f"<div title='{lo:.1f} to {hi:.1f}: {n:,} pairs' style='display:inline-block;width:{100 / bins:.3f}%;"
        f"height:{max(1, round(60 * n / top))}px;background:{'#198754' if lo >= threshold else '#adb5bd'};"
        f"vertical-align:bottom'></div>" for n, lo, hi in zip(counts, edges[:-1], edges[1:], strict=True))
    return (f"<div style='width:420px;height:62px;border-bottom:1px solid #666;white-space:nowrap'>{bars}</div>"
            f"<div style='width:420px;font-size:smaller;display:flex;justify-content:space-between'>"
            f"<span>{edges[0]:.1f}</span><span>match weight (green: at or above {threshold:.2f})</span>"
            f"<span>{edges[-1]:.1f}</span></div>")


def mu_table(result: LinkageResult) -> pd.DataFrame:
    """The m and u probabilities per field and level (what the model learned)."""
    return result.params
