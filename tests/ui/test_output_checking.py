"""In a real browser: two output checkers independent of the project open the Output checking widget, review a
submitted request (its context, the table with flagged cells highlighted, the checks and aids), approve it,
conclude it and release it; the package is written and its path shown. Screenshots in tests/ui/artefacts/."""

from __future__ import annotations

import os
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
    page.wait_for_selector(".wb-checking > .wb-status-line.wb-ok")
    page.wait_for_selector(".wb-output .wb-why-not")  # the request is shown again with my review in


def test_two_checkers_review_approve_and_release(browser, lab_as, lab, submitted) -> None:
    from conftest import open_lab

    request_id = submitted
    with workspace_as(lab.home, FIRST) as ws:
        status = ws.review.show(request_id)["outputs"][0]["status"]

    page = open_lab(browser, lab_as(FIRST))
    open_from_palette(page)
    row = page.wait_for_selector(f".wb-queue tr[data-request='{request_id}']")
    assert "Inactivity by region (browser)" in row.inner_text()
    open_request(page, request_id)
    assert page.inner_text(".wb-context [data-context='population']") == CONTEXT["population"]
    flagged = int(page.get_attribute(".wb-checked", "data-flagged"))
    assert flagged == page.locator(".wb-checked-table td.wb-flagged").count()
    assert (flagged > 0) == (status != "pass")
    assert page.inner_text(".wb-aids").startswith("min ")
    assert page.inner_text(".wb-output .wb-check") == status
    shot(page, "output-checking-request")
    review_and_approve(page, status)
    reviews = page.inner_text(".wb-output .wb-reviews")
    assert f"{FIRST}: approve — Regional level" in reviews and "1 of 2 reviews in" in reviews  # blind: only mine
    assert "you reviewed it" in page.inner_text(".wb-output .wb-why-not")
    page.context.close()

    page = open_lab(browser, lab_as(SECOND))
    page.click("li.lm-TabBar-tab[data-id='workbench-usage']")  # the side entry
    page.click("#workbench-usage button.wb-open-checking")
    open_request(page, request_id)
    review_and_approve(page, status)
    reviews = page.inner_text(".wb-output .wb-reviews")
    assert f"{FIRST}: approve" in reviews and f"{SECOND}: approve" in reviews  # all in: no longer blind
    page.click("button.wb-conclude-reject")
    assert "rejected" in page.wait_for_selector(".wb-conclude-result.wb-error").inner_text()
    page.click("button.wb-conclude-approve")
    page.wait_for_selector("button.wb-release-button")
    shot(page, "output-checking-approved")
    page.click("button.wb-release-button")
    package = page.wait_for_selector(".wb-release .wb-package").inner_text()
    assert package.endswith(f"releases/{PROJECT}/request-{request_id}")
    assert "results.json" in page.inner_text(".wb-release table.wb-manifest")
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
