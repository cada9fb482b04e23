"""In a real browser: an output checker opens a request holding a table the workbench computed from a spec and
one made from an analyst-supplied frame. Each output opens with its provenance (class, source and version,
datasets, spec or lineage), then the table as it will be released beside the unmitigated one. Screenshots of the
panel are kept in tests/ui/artefacts/provenance-checking-panel*.png."""

from __future__ import annotations

import hashlib
import re

import pytest
from test_output_checking import ANALYST, CONTEXT, FIRST, PROJECT, open_from_palette, shot, workspace_as

from workbench.labels import date

SOURCE = "ons.lfs"


@pytest.fixture
def provenance_request(lab) -> tuple[int, str]:
    """A submitted request of two outputs of the same table: one recorded with the origin a table made by spec
    records, one from the analyst's frame. Returns the request id and the source's version."""
    from sqlalchemy import select

    from workbench.db.schema import datasets
    from workbench.disclosure.tables import crosstab

    with workspace_as(lab.home, ANALYST) as ws:
        project = ws.project(PROJECT)
        frame = project.load(SOURCE)
        with ws._ctx.db.read() as conn:
            version = str(conn.execute(select(datasets.c.modified).where(datasets.c.id == SOURCE)).scalar_one())
        where = {"age": {">=": 16, "<": 65}}
        rows = frame[(frame["age"] >= 16) & (frame["age"] < 65)]
        output = crosstab(rows["region"], rows["ilo_status"], settings=ws.disclosure.settings())
        origin = {"source": SOURCE, "kind": "dataset", "version": version,
                  "sha256": hashlib.sha256(b"ons.lfs as stored").hexdigest(), "datasets": [SOURCE],
                  "spec": {"method": "crosstab", "index": "region", "columns": "ilo_status", "where": where}}
        computed = project.outputs.record(output, name="ILO status by region, 16-64 (by spec)",
                                          derived_from=[SOURCE], origin=origin)
        supplied = project.tables.crosstab(frame, "region", "ilo_status", name="ILO status by region (frame)")
        for table in (computed, supplied):
            if table.status != "pass":
                table.request_exception("Regional ILO status is published by ONS at this level.")
        request = project.outputs.submit([computed, supplied], title="Provenance in the checking panel",
                                         context=CONTEXT)
        return request.id, version


def test_the_checker_panel_shows_provenance_first_and_both_tables(browser, lab_as, lab, provenance_request) -> None:
    from conftest import open_lab

    request_id, version = provenance_request
    page = open_lab(browser, lab_as(FIRST))
    open_from_palette(page)
    page.click(f".wb-queue tr[data-request='{request_id}'] button.wb-open-request")
    page.wait_for_selector(".wb-review-detail .wb-provenance")
    computed, supplied = page.locator(".wb-review-detail .wb-output").all()

    headline = computed.locator(".wb-provenance-headline").inner_text()
    assert f"Computed by the workbench from {SOURCE}, version {date(version)}" in headline  # a date, in words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", headline)
    assert computed.locator(".wb-provenance-class").inner_text() == "Computed"
    assert supplied.locator(".wb-provenance-class").inner_text() == "Supplied by the analyst"  # not the code
    for output in (computed, supplied):  # the check summary opens with the check in words, not its code
        summary = output.locator(".wb-summary").inner_text()
        assert summary.startswith(("Passes", "Fails", "Needs review")), summary
        assert not re.match(r"(pass|fail|review)\b", summary) and "; review:" not in summary, summary
    # the version of the data the project's load read: its number (the origin above was recorded with a date)
    assert computed.locator(".wb-provenance-datasets").inner_text() == f"{SOURCE} (version 1)"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", computed.locator(".wb-provenance-datasets").inner_text())
    assert '">="' in computed.locator(".wb-provenance-spec").inner_text()
    assert "Analyst-supplied frame" in supplied.locator(".wb-provenance-headline").inner_text()
    assert supplied.locator(".wb-provenance-lineage").inner_text() == SOURCE
    assert page.locator(".wb-blocked").count() == 0  # nothing blocked, nothing said

    for output in (computed, supplied):  # provenance before the tables, the released table left of the checked
        provenance = output.locator(".wb-provenance").bounding_box()
        released = output.locator(".wb-pane-released").bounding_box()
        checked = output.locator(".wb-pane-checked").bounding_box()
        assert provenance["y"] < released["y"]
        assert released["x"] + released["width"] <= checked["x"] and abs(released["y"] - checked["y"]) < 2
        assert output.locator(".wb-pane-released h5").inner_text() == "As it will be released"
        changed = int(output.locator(".wb-released-table").get_attribute("data-changed"))
        assert changed == output.locator("table.wb-safe-table td[data-changed]").count()
    computed.locator("h4").scroll_into_view_if_needed()
    shot(page, "provenance-checking-panel")
    supplied.locator("h4").evaluate("node => node.scrollIntoView()")
    shot(page, "provenance-checking-panel-analyst-supplied")
    page.context.close()
