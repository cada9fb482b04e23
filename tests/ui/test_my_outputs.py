"""In a real browser: an analyst opens My outputs, follows a released request (its status, the checkers' reviews,
its files) and downloads its package as a zip and one of its files; the bytes are those of the package the
checkers wrote. Opening output checking as an analyst opens My outputs. Screenshots in tests/ui/artefacts/."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from test_output_checking import ANALYST, CONTEXT, FIRST, PROJECT, SECOND, shot, workspace_as


@pytest.fixture
def released(lab) -> int:
    """A request of the demo's first project, reviewed by two checkers, approved and released (Python API)."""
    with workspace_as(lab.home, ANALYST) as ws:
        project = ws.project(PROJECT)
        table = project.tables.crosstab(project.load("ons.lfs"), "region", "ilo_status",
                                        name="ILO status by region (my outputs)")
        if table.status != "pass":
            table.request_exception("Regional ILO status is published by ONS at this level.")
        request_id = project.outputs.submit([table], title="Inactivity by region (my outputs)", context=CONTEXT).id
    for checker in (FIRST, SECOND):
        with workspace_as(lab.home, checker) as ws:
            output_id = ws.review.show(request_id)["outputs"][0]["id"]
            ws.review.decide(request_id, output_id, "approve", "Regional level, as ONS publishes")
    with workspace_as(lab.home, SECOND) as ws:
        ws.review.conclude(request_id, "approve")
        ws.review.release(request_id)
    return request_id


def package_folder(lab, request_id: int) -> Path:
    return Path(lab.home) / "releases" / PROJECT / f"request-{request_id}"


def test_an_analyst_downloads_a_released_package(browser, lab_as, lab, released) -> None:
    from conftest import open_lab

    folder = package_folder(lab, released)
    manifest = json.loads((folder / "manifest.json").read_text())
    page = open_lab(browser, lab_as(ANALYST))
    page.click("li.lm-TabBar-tab[data-id='workbench-my-outputs']")
    card = page.wait_for_selector(f"#workbench-my-outputs article[data-request='{released}']")
    assert card.get_attribute("data-status") == "released"
    assert "Released" in card.inner_text() and "Inactivity by region (my outputs)" in card.inner_text()
    reviews = f"#workbench-my-outputs article[data-request='{released}'] .wb-my-reviews"
    page.click(f"{reviews} summary")  # the reviews, one click away
    assert f"{FIRST} approved output" in page.inner_text(reviews)
    names = [a.inner_text() for a in card.query_selector_all("a.wb-file-link")]
    assert "manifest.json" in names and "results.json" in names
    shot(page, "my-outputs-released")

    with page.expect_download() as caught:
        card.query_selector("button.wb-download-package").click()
    download = caught.value
    assert download.suggested_filename == f"{PROJECT}-request-{released}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    top = f"{PROJECT}-request-{released}"
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(archive.read(f"{top}/{name}")).hexdigest() == entry["sha256"], name
    assert archive.read(f"{top}/manifest.json") == (folder / "manifest.json").read_bytes()

    with page.expect_download() as caught:
        card.query_selector("a.wb-file-link[data-file='results.json']").click()
    assert caught.value.suggested_filename == "results.json"
    assert Path(caught.value.path()).read_bytes() == (folder / "results.json").read_bytes()
    assert card.query_selector(".wb-download-result.wb-error") is None
    shot(page, "my-outputs-downloaded")
    page.context.close()


def test_output_checking_as_an_analyst_opens_my_outputs(browser, lab_as, lab) -> None:
    from conftest import open_lab

    page = open_lab(browser, lab_as(ANALYST))
    page.keyboard.press("Control+Shift+C")
    page.wait_for_selector(".lm-CommandPalette-input", state="visible")
    page.fill(".lm-CommandPalette-input", "Workbench: Output checking")
    page.keyboard.press("Enter")
    page.wait_for_selector("#workbench-my-outputs .wb-my-outputs-body", state="visible")
    assert page.locator(".wb-checking").count() == 0  # no role error in the main area
    assert page.locator("#workbench-my-outputs .wb-error").count() == 0
    shot(page, "my-outputs-from-output-checking")
    page.context.close()


def test_my_outputs_comes_back_after_a_reload(browser, lab_as, lab) -> None:
    import secrets
    import time

    from conftest import open_lab
    from test_restore import saved_layout

    analyst = lab_as(ANALYST)
    workspace = f"my-outputs-{secrets.token_hex(4)}"
    page = open_lab(browser, analyst, workspace)
    try:
        page.click("li.lm-TabBar-tab[data-id='workbench-my-outputs']")
        page.wait_for_selector("#workbench-my-outputs .wb-my-outputs-body", state="visible")
        deadline = time.monotonic() + 30
        while '"current": "workbench-my-outputs"' not in saved_layout(page, analyst, workspace):
            assert time.monotonic() < deadline, "the layout with My outputs was never saved"
            time.sleep(0.5)
        page.reload()
        page.wait_for_selector("#workbench-my-outputs .wb-my-outputs-body", state="visible", timeout=90_000)
        tab = page.locator("li.lm-TabBar-tab[data-id='workbench-my-outputs']")
        assert tab.get_attribute("aria-selected") == "true"
        shot(page, "my-outputs-after-reload")
    finally:
        page.context.close()
