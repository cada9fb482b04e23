"""Checker and owner views of provenance: every view of a request opens each output with where its numbers came
from (computed by the workbench from a spec, or an analyst-supplied frame with its tracked lineage), then the
table as it will be released beside the unmitigated one; the release manifest carries the class and origin; the
owner's usage report lists the outputs made from the dataset with their class."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checking import CONTEXT, record_table
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, OWNER, PROJECT, cli_runner, snapshot
from sqlalchemy import select

from workbench.db.schema import datasets
from workbench.disclosure.tables import crosstab
from workbench.errors import DisclosureRisk
from workbench.outputs.provenance_view import blocked_html, released_cells, version_label
from workbench.outputs.release import MANIFEST
from workbench.server.handlers import review_detail

SHA = "3f" * 32


def catalogue_row(ws):
    with ws._ctx.db.read() as conn:
        return conn.execute(select(datasets.c.title, datasets.c.modified).where(datasets.c.id == DATASET)).one()


def dataset_version(ws) -> str:
    return str(catalogue_row(ws).modified)


def computed_origin(ws, **spec) -> dict:
    """The origin a table made by spec records (see the provenance data model)."""
    return {"source": DATASET, "kind": "dataset", "version": dataset_version(ws), "sha256": SHA,
            "datasets": [DATASET], "spec": {"method": "crosstab", "index": "age_band", "columns": "length_of_stay",
                                            **spec}}


def record_computed(connect, name: str = "computed by age and stay", **spec):
    """An output recorded as the tables-by-spec service records one: with its origin."""
    ws = connect(ANALYST)
    project = ws.project(PROJECT)
    data = project.load(DATASET)
    output = crosstab(data["age_band"], data["length_of_stay"], settings=ws.disclosure.settings())
    return project.outputs.record(output, name=name, derived_from=[DATASET], origin=computed_origin(ws, **spec))


def submit(connect, outputs):
    return connect(ANALYST).project(PROJECT).outputs.submit(outputs, title="Admissions", context=CONTEXT)


def test_the_checker_sees_provenance_first_then_both_tables(desk) -> None:
    computed = record_computed(desk, where={"age_band": ["18-64", "65+"]})
    supplied = record_table(desk)
    request = submit(desk, [computed, supplied])
    detail = desk(CHECKER).review.show(request.id)
    first, second = detail["outputs"]
    version = dataset_version(desk(ANALYST))

    assert list(first)[:2] == ["id", "provenance"]
    assert first["provenance"] == {
        "class": "computed", "headline": f"Computed by the workbench from {DATASET}, version {version_label(version)}",
        "note": None,
        "source": DATASET, "source_kind": "dataset", "version": version, "sha256": SHA,
        "spec": {"method": "crosstab", "index": "age_band", "columns": "length_of_stay",
                 "where": {"age_band": ["18-64", "65+"]}},
        "lineage": None, "declared": None,
        # the dataset's data version (its only one), whatever version text the origin recorded
        "datasets": [{"id": DATASET, "title": catalogue_row(desk(ANALYST)).title, "version": "1"}]}
    lineage = second["provenance"]
    assert lineage["class"] == "analyst-supplied" and lineage["headline"] == "Analyst-supplied frame"
    assert lineage["lineage"] == [DATASET] and lineage["declared"] == [DATASET] and lineage["spec"] is None
    assert lineage["datasets"][0]["version"] == "1" and "kernel" in lineage["note"]

    for output in (first, second):  # the released table beside the unmitigated one, cell for cell
        released, checked = output["released_table"], output["table"]
        assert released["columns"] == checked["columns"]
        assert [r["label"] for r in released["rows"]] == [r["label"] for r in checked["rows"]]
        for row, before in zip(released["rows"], checked["rows"], strict=True):
            for cell, raw in zip(row["cells"], before["cells"], strict=True):
                assert cell["changed"] == (cell["value"] != raw["value"])
                if raw["suppressed"] or raw["flags"]:
                    assert cell["value"] is None and cell["changed"]
    assert any(c["changed"] for r in second["released_table"]["rows"] for c in r["cells"])  # the fixture fails

    html = detail._repr_html_()
    assert html.index("Computed by the workbench from") < html.index("As it will be released") \
        < html.index("Unmitigated, as checked")
    assert "Analyst-supplied frame" in html and "Lineage (tracked by the workbench): " + DATASET in html
    assert ">Supplied by the analyst</span>" in html and ">Computed</span>" in html  # the badges, not the codes
    assert f"version {version_label(version)}" in html and f"version {version}" not in html
    assert SHA in html and "&quot;where&quot;" in html
    assert "wb-blocked" not in html  # nothing blocked: nothing said

    rest = json.loads(json.dumps(review_detail(desk(CHECKER), request.id), default=str))
    assert rest["outputs"][0]["provenance"]["class"] == "computed" and rest["outputs"][0]["released_table"]
    assert rest["outputs"][1]["released"]["provenance"] == "analyst-supplied"


def test_the_release_manifest_carries_class_and_origin(desk) -> None:
    computed = record_computed(desk)
    supplied = record_table(desk, name="supplied")
    for output in (computed, supplied):
        if output.status != "pass":
            output.request_exception("Published at this level in the annual report")
    request = submit(desk, [computed, supplied])
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            desk(checker).review.decide(request.id, output_id, "approve", "Safe: published level")
    desk(CHECKER3).review.conclude(request.id, "approve", "Two approvals")
    shown = desk(CHECKER3).review.show(request.id)
    folder = Path(desk(CHECKER3).review.release(request.id)["package"])
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    first, second = manifest["outputs"]
    assert first["provenance"] == "computed" and first["origin"] == computed_origin(desk(ANALYST))
    assert second["provenance"] == "analyst-supplied"
    assert second["origin"] == {"lineage": [DATASET], "declared": [DATASET]}
    for released, view in zip(manifest["outputs"], shown["outputs"], strict=True):  # what the checker was shown
        assert released["origin"] == view["released"]["origin"]


def test_an_identifier_in_a_computed_spec_cannot_be_released(desk) -> None:
    """A ``where`` value leaves in the manifest, so the text screen reads it too."""
    output = record_computed(desk, where={"age_band": "patient 9434765919"})
    request = submit(desk, [output])
    detail = desk(CHECKER).review.show(request.id)
    assert any("spec" in p and "NHS number" in p for p in detail["outputs"][0]["text_check"])
    for checker in (CHECKER, CHECKER2):
        desk(checker).review.decide(request.id, request.outputs[0], "approve", "checked")
    desk(CHECKER3).review.conclude(request.id, "approve", "ok")
    before = snapshot(desk(ADMIN))
    with pytest.raises(DisclosureRisk, match="NHS number"):
        desk(CHECKER3).review.release(request.id)
    assert snapshot(desk(ADMIN)) == before



def test_the_terminal_shows_provenance_under_each_output(desk, monkeypatch, capsys) -> None:
    request = submit(desk, [record_computed(desk), record_table(desk)])
    code, terminal, _ = cli_runner(desk, monkeypatch, capsys)(CHECKER, "review", "show", str(request.id))
    assert code == 0
    version = dataset_version(desk(ANALYST))
    words = version_label(version)  # a date version reads as a date: "12 May 2026"
    assert words != version and words.split()[-1] == version[:4]
    assert f"  COMPUTED: Computed by the workbench from {DATASET}, version {words}" in terminal
    assert f"  ANALYST-SUPPLIED: Analyst-supplied frame\n  source datasets: {DATASET} (version 1)" in terminal
    assert "BLOCKED" not in terminal


def test_blocked_outputs_are_shown_prominently_only_when_present() -> None:
    blocked = [{"output": 7, "dataset": DATASET, "reason": "the grant was revoked on 2026-12-01"}]
    html = blocked_html(blocked)
    assert "wb-blocked" in html and "Output 7" in html and "revoked" in html and DATASET in html
    assert blocked_html(blocked, 7) == html and blocked_html(blocked, 8) == ""
    assert blocked_html(None) == "" and blocked_html([]) == ""


def test_blocked_list_in_the_detail_is_rendered_in_every_view(desk, monkeypatch, capsys) -> None:
    from workbench.outputs import review

    request = submit(desk, [record_table(desk)])
    output_id = request.outputs[0]
    shown = review.Review._detail

    def with_blocked(self, conn, row, needed):
        detail = shown(self, conn, row, needed)
        return {**detail, "blocked": [{"output": output_id, "dataset": DATASET, "reason": "grant expired"}]}

    monkeypatch.setattr(review.Review, "_detail", with_blocked)
    html = desk(CHECKER).review.show(request.id)._repr_html_()
    assert html.count("wb-blocked") == 2 and "grant expired" in html  # above the request, and on the output
    widget = desk(CHECKER).review.widget()
    widget.queue.value = request.id
    assert "grant expired" in widget.header.value and "grant expired" in widget.panels[output_id].html.value
    code, terminal, _ = cli_runner(desk, monkeypatch, capsys)(CHECKER, "review", "show", str(request.id))
    assert code == 0 and f"BLOCKED: output {output_id}: {DATASET} — grant expired" in terminal


def test_the_widget_opens_each_output_with_its_provenance(desk) -> None:
    request = submit(desk, [record_computed(desk)])
    widget = desk(CHECKER).review.widget()
    widget.queue.value = request.id
    html = widget.panels[request.outputs[0]].html.value
    assert html.index("Computed by the workbench from") < html.index("As it will be released")
    assert "wb-blocked" not in widget.header.value


def test_released_cells_mark_what_mitigation_changed(desk) -> None:
    output = record_table(desk)
    cells = released_cells(output)
    assert cells["total_rows"] == len(output.safe_table)
    changed = sum(c["changed"] for r in cells["rows"] for c in r["cells"])
    assert changed == int((output.safe_table.isna() & output.table.notna()).to_numpy().sum()) > 0


def test_the_owner_sees_outputs_from_the_dataset_with_their_class(desk) -> None:
    computed = record_computed(desk)
    supplied = record_table(desk, name="supplied")
    report = desk(OWNER).owner.usage(DATASET)
    outputs = report.outputs.set_index("output_id")
    assert outputs.loc[int(computed.uid.rsplit("_", 1)[1]), "provenance"] == "computed"
    assert outputs.loc[int(computed.uid.rsplit("_", 1)[1]), "source"] == DATASET
    assert outputs.loc[int(supplied.uid.rsplit("_", 1)[1]), "provenance"] == "analyst-supplied"
    assert list(report.outputs.columns[:6]) == ["project_id", "output_id", "name", "kind", "provenance", "source"]
    html = report._repr_html_()
    assert "Outputs made from it" in html and "analyst-supplied" in html and "computed" in html
    assert "provenance" in report.releases.columns
