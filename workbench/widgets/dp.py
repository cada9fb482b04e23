"""``project.dp`` in a notebook: the DP queries plus an accuracy explorer that spends nothing."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from workbench.dp.queries import ProjectDP
from workbench.errors import InvalidInput, WorkbenchError
from workbench.widgets.catalogue_browser import _in_kernel
from workbench.widgets.figures import accuracy_figure
from workbench.widgets.labels import number

METHODS = ("count", "sum", "mean", "crosstab", "histogram", "quantile")


class NotebookDP(ProjectDP):
    """Differentially private queries for one project — and ``explore`` to choose ε before spending it."""

    def explore(self, method: str, dataset: str, *args: Any, epsilon: float = 1.0, **spec: Any) -> AccuracyExplorer:
        """An ε slider showing the 95% interval half-width and the budget left for a query, without spending:
        ``p.dp.explore("crosstab", "ons.lfs", "region", epsilon=0.5)``."""
        return AccuracyExplorer(self, method, dataset, args, spec, epsilon)


class AccuracyExplorer:
    """Move ε; see the accuracy the query would have and what the budget would have left. Nothing is spent."""

    def __init__(self, dp: ProjectDP, method: str, dataset: str, args: tuple, spec: dict[str, Any],
                 epsilon: float) -> None:
        import ipywidgets as w

        if method not in METHODS:
            raise InvalidInput(f"method: {method!r} is not one of {', '.join(METHODS)}.", field="method")
        self._query = getattr(dp, method)
        self._dataset, self._args, self._spec = dataset, args, {k: v for k, v in spec.items() if k != "preview"}
        self.method = method
        first = self.preview(epsilon)  # refuses a bad spec now, before any widget is made
        self.epsilons = [float(e) for e in np.logspace(-2, 1, 25)]
        curve = [float(np.nanmax(self.preview(e).half_width.to_numpy(dtype=float))) for e in self.epsilons]
        unit = "ranks" if method == "quantile" else ("count" if method in ("count", "histogram") or
                                                       spec.get("aggfunc", "count") == "count" else "value")

        self.figure = accuracy_figure(self.epsilons, curve, epsilon, unit)
        self.slider = w.FloatLogSlider(value=epsilon, base=10, min=-2, max=1, step=0.05, description="ε",
                                       continuous_update=False, readout_format=".3g")
        self.summary = w.HTML()
        self.chart = w.Output()
        self.widget = w.VBox([self.slider, self.summary, self.chart])
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self._show(first)

        if _in_kernel():
            from IPython.display import display

            with self.chart:
                display(self.figure)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def preview(self, epsilon: float) -> Any:
        return self._query(self._dataset, *self._args, epsilon=epsilon, preview=True, **self._spec)

    def update(self, epsilon: float) -> None:
        try:
            accuracy = self.preview(epsilon)
        except WorkbenchError as error:
            self.summary.value = f"<p style='color:#b02a37'>{html.escape(str(error))}</p>"
            return
        self._show(accuracy)
        self.figure.layout.shapes[0].x0 = self.figure.layout.shapes[0].x1 = epsilon

    def _show(self, accuracy: Any) -> None:
        self.accuracy = accuracy

        width = float(np.nanmax(accuracy.half_width.to_numpy(dtype=float)))
        after = ", ".join(f"{html.escape(d)}: ε {number(max(left - accuracy.epsilon, 0))} of {number(left)}"
                          for d, left in accuracy.remaining.items())
        enough = all(left >= accuracy.epsilon for left in accuracy.remaining.values())
        warning = "" if enough else " <b style='color:#b02a37'>more than the budget left: it would be refused</b>"
        self.summary.value = (f"<p>ε = {number(accuracy.epsilon)}: noise scale {number(accuracy.noise_scale)}, "
                              f"95% of answers within ± {number(width)} of the truth per cell. Budget left after "
                              f"it: {after or 'none set'}.{warning}</p>"
                              + (f"<p>{html.escape(accuracy.note)}</p>" if accuracy.note else ""))
