"""In a real browser: two output checkers independent of the project open the Output checking widget, review a
submitted request (its context, the table with flagged cells highlighted, the checks and aids), approve it,
conclude it and release it, each confirmed in a dialog; the package is written and its path shown. After a
reload a checker finds the released request under Released and in History, and sees its table as released
(blank cells, a legend in words) beside the full counts marked not released. Screenshots in tests/ui/artefacts/."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest

ANALYST, PROJECT = "sanjay.patel", "m1-economic-inactivity"  # leads the demo's first project
FIRST, SECOND = "mark.davies", "nadia.rahman"  # output checkers outside that project
CONTEXT = {"shown": "ILO status by region", "population": "LFS respondents aged 16-64, 2025",
           "purpose": "Mission 1 evaluation report", "differences": "First release"}


def workspace_as(home: Path, user: str):
    import workbench

    saved = os.environ.get("WORKBENCH_USER")
    os.environ["WORKBENCH_USER"] = user
    try:
        return workbench.connect(home, create=False)
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_USER", None)
        else:
            os.environ["WORKBENCH_USER"] = saved


@pytest.fixture
def submitted(lab) -> int:
    """A request waiting for checking, made through the Python API as the project's lead."""
    with workspace_as(lab.home, ANALYST) as ws:
        project = ws.project(PROJECT)
        table = project.tables.crosstab(project.load("ons.lfs"), "region", "ilo_status",
                                        name="ILO status by region (browser test)")
        if table.status != "pass":
            table.request_exception("Regional ILO status is published by ONS at this level.")
        return project.outputs.submit([table], title="Inactivity by region (browser)", context=CONTEXT).id


def shot(page, name: str) -> None:
    from conftest import _artefacts

    page.screenshot(path=str(_artefacts() / f"{name}.png"), full_page=True)


def open_from_palette(page) -> None:
    page.keyboard.press("Control+Shift+C")
    page.wait_for_selector(".lm-CommandPalette-input", state="visible")
    page.fill(".lm-CommandPalette-input", "Workbench: Output checking")
    page.keyboard.press("Enter")
    page.wait_for_selector(".wb-checking .wb-queue, .wb-checking .wb-queue-section p")


def open_request(page, request_id: int) -> None:
    """Open the request from the queue (in a page that shows no request yet)."""
    page.click(f".wb-queue tr[data-request='{request_id}'] button.wb-open-request")
    page.wait_for_selector(".wb-review-detail .wb-checked-table")


def review_and_approve(page, status: str) -> None:
    """Approve the open request's output with a comment."""
    output = page.locator(".wb-review-detail .wb-output").first
    if status == "fail":  # approving against the automatic result: the widget asks for a comment first
        output.locator("button.wb-decide-approve").click()
        assert "comment" in output.locator(".wb-decision-result.wb-error").inner_text()
    output.locator("textarea.wb-comment").fill("Regional level, as ONS publishes; exception accepted")
    output.locator("button.wb-decide-approve").click()
    confirm(page, "approve output", accept=False)  # Cancel sends nothing
    assert "not sent: you cancelled" in output.locator(".wb-decision-result").inner_text()
    output.locator("button.wb-decide-approve:not([disabled])").click()
    confirm(page, "approve output")
    page.wait_for_selector(".wb-checking > .wb-status-line.wb-ok")
    page.wait_for_selector(".wb-output .wb-why-not")  # the request is shown again with my review in


def confirm(page, question: str, accept: bool = True) -> str:
    """Answer the confirmation dialog (its title holds ``question``): its accept or its Cancel button; returns
    the dialog's text."""
    dialog = page.wait_for_selector(".jp-Dialog")
    text = dialog.inner_text()
    assert question in text.lower(), text
    page.click(".jp-Dialog .jp-Dialog-button.jp-mod-accept" if accept else ".jp-Dialog .jp-Dialog-button.jp-mod-reject")
    page.wait_for_selector(".jp-Dialog", state="detached")
    return text


def test_two_checkers_review_approve_and_release(browser, lab_as, lab, submitted) -> None:
    from conftest import open_lab

    request_id = submitted
    with workspace_as(lab.home, FIRST) as ws:
        status = ws.review.show(request_id)["outputs"][0]["status"]

    page = open_lab(browser, lab_as(FIRST))
    open_from_palette(page)
    row = page.wait_for_selector(f".wb-queue tr[data-request='{request_id}']")
    assert "Inactivity by region (browser)" in row.inner_text()
    queued = row.inner_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}|_", queued), queued  # "6 December 2026", "Submitted"
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}", queued) and "Submitted" in queued, queued
    open_request(page, request_id)
    assert page.inner_text(".wb-context [data-context='population']") == CONTEXT["population"]
    flagged = int(page.get_attribute(".wb-checked", "data-flagged"))
    assert flagged == page.locator(".wb-checked-table td.wb-flagged").count()
    assert (flagged > 0) == (status != "pass")
    assert page.inner_text(".wb-aids").startswith("min ")
    checks = {"pass": "Passes", "fail": "Fails", "review": "Needs review"}
    assert page.inner_text(".wb-output .wb-check") == checks[status]
    title = page.inner_text(".wb-request-title .wb-status")
    assert title[:1].isupper() and "_" not in title, title  # "Submitted", never a raw status code
    meta = page.inner_text(".wb-review-detail .wb-result-meta")
    assert "dea-2017" not in meta and "Digital Economy Act 2017" in meta, meta  # the gateway in words
    shot(page, "output-checking-request")
    review_and_approve(page, status)
    reviews = page.inner_text(".wb-output .wb-reviews")
    assert f"{FIRST}: Approved — Regional level" in reviews and "1 of 2 reviews in" in reviews  # blind: only mine
    assert "you reviewed it" in page.inner_text(".wb-output .wb-why-not")
    page.context.close()

    page = open_lab(browser, lab_as(SECOND))
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")  # the side entry
    page.click("#workbench-usage button.wb-open-checking")
    open_request(page, request_id)
    review_and_approve(page, status)
    reviews = page.inner_text(".wb-output .wb-reviews")
    assert f"{FIRST}: Approved" in reviews and f"{SECOND}: Approved" in reviews  # all in: no longer blind
    page.click("button.wb-conclude-reject")
    assert "rejected" in page.wait_for_selector(".wb-conclude-result.wb-error").inner_text()
    page.click("button.wb-conclude-approve")
    confirm(page, "approve request")
    page.wait_for_selector("button.wb-release-button")
    shot(page, "output-checking-approved")
    page.click("button.wb-release-button")
    confirm(page, "release request")
    package = page.wait_for_selector(".wb-release .wb-package").inner_text()
    assert package.endswith(f"releases/{PROJECT}/request-{request_id}")
    assert "results.json" in page.inner_text(".wb-release table.wb-manifest")
    facts = page.inner_text(".wb-release dl.wb-facts")
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\.\d{6}|T\d{2}:", facts), facts  # released at: a date in words
    assert re.search(r"Released at\s+\d{1,2} [A-Z][a-z]+ \d{4}", facts), facts
    assert page.locator(".wb-release .wb-ok").count() == 1
    shot(page, "output-checking-released")
    page.context.close()

    assert (Path(package) / "manifest.json").is_file()
    with workspace_as(lab.home, SECOND) as ws:
        assert ws.review.manifest(request_id)["problems"] == []


def test_a_refusal_shows_as_its_message(browser, lab_as, lab, submitted) -> None:
    from conftest import open_lab

    page = open_lab(browser, lab_as("ruth.sinclair"))  # output checker, but a member of the project
    open_from_palette(page)
    assert page.locator(f".wb-queue tr[data-request='{submitted}']").count() == 0
    page.context.close()
    page = open_lab(browser, lab_as(ANALYST))  # not an output checker at all: My outputs opens instead
    page.keyboard.press("Control+Shift+C")
    page.wait_for_selector(".lm-CommandPalette-input", state="visible")
    page.fill(".lm-CommandPalette-input", "Workbench: Output checking")
    page.keyboard.press("Enter")
    page.wait_for_selector("#workbench-my-outputs .wb-my-outputs-body", state="visible")
    assert page.locator(".wb-checking").count() == 0
    shot(page, "output-checking-refused")
    page.context.close()


def test_usage_and_audit_sections(browser, lab_as, lab) -> None:
    from conftest import open_lab

    with workspace_as(lab.home, ANALYST) as ws:
        owner = ws.catalogue["ons.lfs"].owner
    page = open_lab(browser, lab_as(owner))
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
    page.fill("#workbench-usage input[name='dataset']", "ons.lfs")
    page.click("#workbench-usage button.wb-show-usage")
    page.wait_for_selector("#workbench-usage .wb-usage h4")
    assert page.locator("#workbench-usage table.wb-usage-grants").count() == 1
    page.click("#workbench-usage button.wb-verify-audit")
    assert "admin" in page.wait_for_selector("#workbench-usage .wb-audit-result .wb-error").inner_text()
    shot(page, "usage-panel")
    page.context.close()
    page = open_lab(browser, lab_as("alex.reid"))  # the demo's admin
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
    page.click("#workbench-usage button.wb-verify-audit")
    assert "whole" in page.wait_for_selector("#workbench-usage .wb-audit-result .wb-ok").inner_text()
    page.context.close()


@pytest.fixture
def approved_with_small_cells(lab) -> int:
    """An approved request whose table has cells too small to release (so its released table has blanks): made
    through the Python API, reviewed by two checkers and concluded by a third party checker."""
    with workspace_as(lab.home, ANALYST) as ws:
        project = ws.project(PROJECT)
        table = project.tables.crosstab(project.load("ons.lfs"), "region", "age",
                                        name="Respondents by region and age (browser test)")
        if table.status != "pass":
            table.request_exception("Suppressed as the rules require; the rest is published by ONS.")
        request_id = project.outputs.submit([table], title="Respondents by region and age (browser)",
                                            context=CONTEXT).id
    for checker in (FIRST, SECOND):
        with workspace_as(lab.home, checker) as ws:
            for output in ws.review.show(request_id)["outputs"]:
                ws.review.decide(request_id, output["id"], "approve", "Small cells are suppressed")
    with workspace_as(lab.home, FIRST) as ws:
        ws.review.conclude(request_id, "approve")
    return request_id


def test_release_is_confirmed_and_found_again_after_a_reload(browser, lab_as, lab, approved_with_small_cells):
    from conftest import open_lab

    request_id = approved_with_small_cells
    page = open_lab(browser, lab_as(SECOND))
    open_from_palette(page)
    open_request(page, request_id)
    page.click("button.wb-release-button")
    text = confirm(page, f"release request {request_id}", accept=False)  # Cancel keeps it approved
    assert "You cannot undo a release." in text
    assert "not released: you cancelled" in page.inner_text(".wb-conclude-result")
    assert page.inner_text(".wb-request-title .wb-status") == "Approved"
    page.wait_for_selector("button.wb-release-button:not([disabled])")
    page.click("button.wb-release-button")
    page.wait_for_selector(".jp-Dialog")
    shot(page, "output-checking-release-confirmation")
    confirm(page, f"release request {request_id}")
    page.wait_for_selector(".wb-release .wb-package")
    assert page.inner_text(".wb-request-title .wb-status") == "Released"
    page.context.close()

    page = open_lab(browser, lab_as(SECOND))  # a fresh page: the lab reloaded
    open_from_palette(page)
    assert page.locator(f".wb-queue tr[data-request='{request_id}']").count() == 0  # no longer being checked
    page.click(".wb-tabs button.wb-tab-released")
    row = page.wait_for_selector(f".wb-released-requests tr[data-request='{request_id}']")
    assert SECOND in row.inner_text() and "Respondents by region and age" in row.inner_text()
    shot(page, "output-checking-released-tab")
    page.click(".wb-tabs button.wb-tab-history")
    row = page.wait_for_selector(f".wb-history tr[data-request='{request_id}']")
    assert row.get_attribute("data-status") == "released"
    assert row.inner_text().count(FIRST) == 1 and SECOND in row.inner_text()  # decided by FIRST, released by SECOND
    assert page.locator(".wb-released-section").is_hidden()
    shot(page, "output-checking-history-tab")
    page.click(".wb-tabs button.wb-tab-released")
    page.click(f".wb-released-requests tr[data-request='{request_id}'] button.wb-open-request")
    page.wait_for_selector(".wb-review-detail .wb-release .wb-package")
    with page.expect_download() as caught:  # the checker collects the package from the widget too
        page.click(".wb-review-detail button.wb-download-package")
    assert caught.value.suggested_filename == f"{PROJECT}-request-{request_id}.zip"
    names = zipfile.ZipFile(io.BytesIO(Path(caught.value.path()).read_bytes())).namelist()
    assert f"{PROJECT}-request-{request_id}/manifest.json" in names, names

    released = page.locator(".wb-review-detail .wb-pane-released").first
    assert released.locator("h5").inner_text() == "As it will be released"
    blanks = released.locator("td.wb-blank")
    assert blanks.count() > 0 and set(blanks.all_inner_texts()) == {""}
    assert "Blank: suppressed, left empty in the released file" in released.locator(".wb-released-legend").inner_text()
    full = page.locator(".wb-review-detail .wb-pane-checked").first
    assert "not released" in full.locator("h5").inner_text().lower()
    legend = full.locator(".wb-checked-legend")
    assert legend.is_visible() and "Fails a rule: Fewer records than the threshold" in legend.inner_text()
    page.locator(".wb-review-detail .wb-tables").first.scroll_into_view_if_needed()
    shot(page, "output-checking-as-released")
    page.context.close()
