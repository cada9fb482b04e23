"""A linkage result in a notebook: choosing the threshold by eye (a slider over the match-weight histogram, with
what each setting gives) and by clerical review."""

from __future__ import annotations

import html
from dataclasses import fields
from typing import Any

import numpy as np

from workbench.linkage.quality import weights_figure
from workbench.linkage.result import LinkageResult
from workbench.widgets.catalogue_browser import _in_kernel
from workbench.widgets.clerical_review import ClericalReview


class NotebookLinkageResult(LinkageResult):
    """What ``workbench.linkage.link`` returns: the result — plus ``.review()`` and ``.explore_threshold()``."""

    @classmethod
    def of(cls, result: LinkageResult) -> NotebookLinkageResult:
        return cls(**{f.name: getattr(result, f.name) for f in fields(result)})

    def review(self, n: int = 20) -> ClericalReview:
        """A clerical-review widget: the ``n`` pairs nearest the threshold side by side; decisions set it."""
        return ClericalReview(self, n=n)

    def explore_threshold(self, truth: Any = None) -> ThresholdExplorer:
        """A threshold slider over the match-weight histogram: matches, expected precision (and with ``truth``,
        precision and recall) at each setting; ``.result()`` gives this result decided there."""
        return ThresholdExplorer(self, truth)


class ThresholdExplorer:
    """Move the threshold; see matches, expected precision (the model's) and, with truth, precision and recall."""

    def __init__(self, result: LinkageResult, truth: Any = None) -> None:
        import ipywidgets as w

        self._result, self._truth = result, truth
        weights = result.weight[result.assigned]
        low, high = (float(np.floor(weights.min())), float(np.ceil(weights.max()))) if weights.size else (-10.0, 10.0)
        self.figure = weights_figure(weights, result.threshold, "Match weights: choose the threshold")
        self.slider = w.FloatSlider(value=float(np.clip(result.threshold, low, high)), min=low, max=max(high, low + 1),
                                    step=0.1, description="threshold", continuous_update=False,
                                    layout=w.Layout(width="95%"))
        self.summary = w.HTML()
        self.chart = w.Output()
        self.widget = w.VBox([self.slider, self.summary, self.chart])
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.update(self.slider.value)
        if _in_kernel():
            from IPython.display import display

            with self.chart:
                display(self.figure)

    @property
    def threshold(self) -> float:
        return float(self.slider.value)

    def result(self) -> LinkageResult:
        """The linkage decided at the chosen threshold."""
        return self._result.with_threshold(self.threshold)

    def update(self, threshold: float) -> None:
        chosen = self._result.with_threshold(threshold)
        summary = chosen.summary()
        line = (f"{summary['matches']:,} matches at {threshold:.1f}; the model expects precision "
                f"{summary['expected_precision'] or 0:.3f}")
        if self._truth is not None:
            quality = chosen.evaluate(self._truth)
            line += f"; against the truth precision {quality['precision']:.3f}, recall {quality['recall']:.3f}"
        self.summary.value = f"<p>{html.escape(line)}.</p>"
        if self.figure.layout.shapes:
            self.figure.layout.shapes[0].x0 = self.figure.layout.shapes[0].x1 = threshold

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
