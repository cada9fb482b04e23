"""``project.dp`` in a notebook: the DP queries plus an accuracy explorer that spends nothing."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from workbench.dp.queries import ProjectDP
from workbench.errors import InvalidInput, WorkbenchError
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

        self._curve, self._unit = curve, unit
        self.figure = accuracy_figure(self.epsilons, curve, epsilon, unit)
        # ipywidgets' handle would announce its position on the log scale; the class lets the Workbench's JupyterLab
        # extension give it the readable "ε = 0.5" (aria-valuetext) and tie it to its label. The same ε is also a
        # labelled number box, and the summary is a live region that reads out the human value on every change
        self.slider = w.FloatLogSlider(value=epsilon, base=10, min=-2, max=1, step=0.05,
                                       description="Privacy loss ε", continuous_update=False, readout_format=".3g",
                                       style={"description_width": "initial"})
        self.slider.add_class("wb-dp-epsilon")
        self.box = w.BoundedFloatText(value=epsilon, min=0.01, max=10.0, step=0.01, description="ε (type a value)",
                                      style={"description_width": "initial"},
                                      layout=w.Layout(width="14em"))
        self.summary = w.HTML()
        self.chart = w.Output()
        self.widget = w.VBox([w.HBox([self.slider, self.box]), self.summary, self.chart])
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.box.observe(self._typed, names="value")
        self._show(first)
        self._draw(epsilon)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def preview(self, epsilon: float) -> Any:
        return self._query(self._dataset, *self._args, epsilon=epsilon, preview=True, **self._spec)

    def update(self, epsilon: float) -> None:
        """Show the accuracy at ``epsilon``: the text, the number box, the slider's label and the chart's marker."""
        try:
            accuracy = self.preview(epsilon)
        except WorkbenchError as error:
            self.summary.value = f"<p role='status' style='color:#b02a37'>{html.escape(str(error))}</p>"
            return
        if not math.isclose(self.box.value, epsilon, rel_tol=1e-9):
            self.box.value = round(float(epsilon), 4)
        self._show(accuracy)
        self._draw(epsilon)

    def _typed(self, change: dict[str, Any]) -> None:
        if not math.isclose(self.slider.value, change["new"], rel_tol=1e-9):
            self.slider.value = change["new"]  # the slider's observer updates the rest

    def _draw(self, epsilon: float) -> None:
        """Redraw the chart with the marker at ``epsilon``: the Output's content is replaced, so the page follows
        (changing a displayed plotly Figure in place would not reach the browser)."""
        import plotly.io as pio  # heavy, and only needed once a chart is drawn (as in workbench.widgets.figures)

        self.figure = accuracy_figure(self.epsilons, self._curve, epsilon, self._unit)
        self.slider.tooltip = f"Privacy loss ε = {number(epsilon)} (log scale, 0.01 to 10)"
        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(self.figure.to_dict())
        bundle["text/plain"] = f"Accuracy against privacy loss; ε = {number(epsilon)} marked"
        self.chart.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)

    def _show(self, accuracy: Any) -> None:
        self.accuracy = accuracy

        width = float(np.nanmax(accuracy.half_width.to_numpy(dtype=float)))
        after = ", ".join(f"{html.escape(d)}: ε {number(max(left - accuracy.epsilon, 0))} of {number(left)}"
                          for d, left in accuracy.remaining.items())
        enough = all(left >= accuracy.epsilon for left in accuracy.remaining.values())
        warning = "" if enough else " <b style='color:#b02a37'>more than the budget left: it would be refused</b>"
        self.summary.value = (f"<p role='status' aria-live='polite'>ε = {number(accuracy.epsilon)}: noise scale "
                              f"{number(accuracy.noise_scale)}, {_interval(accuracy, width)} Budget left after it: "
                              f"{after or 'none set'}.{warning}</p>"
                              + (f"<p>{html.escape(accuracy.note)}</p>" if accuracy.note else ""))


def _interval(accuracy: Any, width: float) -> str:
    """The 95% interval in words. A half-width of 0 (integer noise at a large ε) does not mean no noise: say how
    often the noise still changes a cell, rather than a bare "± 0"."""
    if width > 0 or not math.isfinite(width):
        return f"95% of answers within ± {number(width)} of the truth per cell."
    if accuracy.mechanism.startswith("Geometric (counts)") and accuracy.noise_scale > 0:
        alpha = math.exp(-1.0 / accuracy.noise_scale)  # two-sided Geometric: P(noise != 0) = 2α / (1 + α)
        changed = 2 * alpha / (1 + alpha)
        return (f"at least 95% of answers exact; the noise still changes a cell's count with probability "
                f"{number(changed * 100)}% (about 1 in {number(1 / changed)}).")
    return "at least 95% of answers exact to the unit shown; noise is still added."
