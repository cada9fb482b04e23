"""plotly figures of workbench objects: catalogue coverage, a dataset's completeness, DP accuracy against ε."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from workbench.catalogue.entry import Entry

from workbench.widgets.labels import code_label, date, number

MISSIONS = [1, 2, 3, 4, 5]


def coverage_figure(counts: pd.DataFrame) -> Any:
    """Heatmap of datasets by mission (columns) and department (rows), from ``Catalogue.coverage()``."""
    import plotly.graph_objects as go

    departments = sorted(set(counts["department"]))
    cells = {(r.department, r.mission): r.datasets for r in counts.itertuples()}
    z = [[cells.get((d, m), 0) for m in MISSIONS] for d in departments]
    figure = go.Figure(go.Heatmap(z=z, x=[f"Mission {m}" for m in MISSIONS], y=departments, colorscale="Blues",
                                  text=z, texttemplate="%{text}",
                                  hovertemplate="%{y}, %{x}: %{z} datasets<extra></extra>"))
    figure.update_layout(title="Catalogue coverage: datasets by mission and department",
                         height=max(300, 36 * len(departments) + 120), margin={"l": 90, "r": 20, "t": 60, "b": 40})
    return figure


def completeness_figure(entry: Entry) -> Any:
    """Horizontal bars: the share of non-missing values in each column (coloured by disclosure role)."""
    import plotly.graph_objects as go

    schema = entry.schema
    colours = {"direct_identifier": "#dc3545", "record_identifier": "#d63384", "quasi_identifier": "#fd7e14",
               "sensitive": "#6f42c1", "other": "#0d6efd"}
    figure = go.Figure()
    for role, colour in colours.items():
        part = schema[schema["role"] == role]
        if part.empty:
            continue
        figure.add_bar(x=part["completeness"].fillna(0).astype(float) * 100, y=part["name"], orientation="h",
                       name=code_label(role), marker_color=colour,
                       hovertemplate="%{y}: %{x:.0f}% complete<extra>" + code_label(role) + "</extra>")
    coverage = entry.record.get("temporalCoverage") or {}
    period = f" · covers {date(coverage.get('start'))} to {date(coverage.get('end'))}" if coverage else ""
    figure.update_layout(title=f"Completeness of {entry.title}{period}", barmode="overlay",
                         xaxis={"title": "% of rows with a value", "range": [0, 100]},
                         yaxis={"autorange": "reversed"}, height=max(260, 22 * len(schema) + 120),
                         margin={"l": 160, "r": 20, "t": 60, "b": 40}, legend={"orientation": "h"})
    return figure


def accuracy_figure(epsilons: list[float], half_widths: list[float], current: float, unit: str) -> Any:
    """The 95% half-width of a DP query against ε, the chosen ε marked. Where integer noise makes the half-width 0
    (a log axis cannot draw it) the range is shaded and labelled instead of the curve just stopping."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=epsilons, y=[w if w > 0 else None for w in half_widths], mode="lines",
                                  hovertemplate="ε %{x:,.3~r}: ± %{y:,.4~r}<extra></extra>"))
    # on a log axis plotly places shapes by value but annotations by log10(value)
    figure.add_vline(x=current, line_dash="dash")
    low, high = math.log10(min(epsilons)), math.log10(max(epsilons))
    figure.add_annotation(x=math.log10(current), y=1, xref="x", yref="paper", text=f"ε = {number(current)}",
                          showarrow=False, yanchor="bottom",
                          xanchor="right" if math.log10(current) > (low + high) / 2 else "left")  # stays inside
    exact = [e for e, w in zip(epsilons, half_widths, strict=True) if w == 0]
    if exact:
        figure.add_vrect(x0=min(exact), x1=max(epsilons), fillcolor="#198754", opacity=0.12, line_width=0)
        figure.add_annotation(x=math.log10(min(exact)), y=0.5, xref="x", yref="paper", showarrow=False,
                              xanchor="left", text="≥ 95% of<br>answers exact")
    figure.update_layout(title="Accuracy against privacy loss (nothing spent)",
                         xaxis={"title": "ε", "type": "log",
                                "range": [low, high]},
                         yaxis={"title": f"95% half-width ({unit})", "type": "log"}, height=320,
                         margin={"l": 70, "r": 20, "t": 60, "b": 50})
    return figure
