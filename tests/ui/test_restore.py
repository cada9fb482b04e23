"""In a real browser: the Workbench panels open before a reload are open after it (JupyterLab's layout restorer),
each side panel keeps the width its user gave it (also after a reload), and the served extension is this tree's
build, with its settings."""

from __future__ import annotations

import json
import secrets
import time

from conftest import Lab, _artefacts, open_lab
from test_owner_forms import narrow_left_panel


def saved_layout(page, lab: Lab, workspace: str) -> str:
    """The workspace's saved state as the server holds it (what a reload restores)."""
    answer = page.request.get(f"{lab.url}/lab/api/workspaces/{workspace}?token={lab.token}")
    return json.dumps(answer.json()) if answer.ok else ""


def test_open_panels_come_back_after_a_reload(browser, lab_as) -> None:
    lab = lab_as("mark.davies")  # an output checker: for anyone else "Open output checking" opens My outputs
    workspace = f"restore-{secrets.token_hex(4)}"
    page = open_lab(browser, lab, workspace)
    try:
        page.click("li.lm-TabBar-tab[data-id='workbench-usage']")
        page.click("#workbench-usage .wb-open-checking")
        page.wait_for_selector("#workbench-output-checking-area .wb-queue-section", state="visible")
        deadline = time.monotonic() + 30
        while not all(name in saved_layout(page, lab, workspace)
                      for name in ("workbench-output-checking", "workbench-usage")):
            assert time.monotonic() < deadline, "the layout with the panels was never saved"
            time.sleep(0.5)

        page.reload()
        page.wait_for_selector("#workbench-output-checking-area .wb-queue-section", state="visible", timeout=90_000)
        page.wait_for_selector("#workbench-usage .wb-open-checking", state="visible")
        assert page.locator("li.lm-TabBar-tab[data-id='workbench-usage']").get_attribute("aria-selected") == "true"
    finally:
        page.context.close()


def test_the_extension_served_is_this_tree_s_build_with_its_settings(browser, lab: Lab) -> None:
    page = open_lab(browser, lab)
    try:
        answer = page.request.get(f"{lab.url}/lab/api/settings/workbench-labextension:plugin?token={lab.token}")
        assert answer.ok, answer.text()
        schema = answer.json()["schema"]["properties"]
        assert (schema["searchDelay"]["default"], schema["pageSize"]["default"]) == (100, 50)
    finally:
        page.context.close()


def _left_width(page) -> int:
    return page.eval_on_selector("#jp-left-stack", "e => e.offsetWidth")


def _show(page, panel: str) -> None:
    """Bring a side panel to the front (clicking the tab of the panel already shown would fold the area away)."""
    tab = page.locator(f"li.lm-TabBar-tab[data-id='{panel}']")
    if tab.get_attribute("aria-selected") != "true" or not page.is_visible(f"#{panel}"):
        tab.click()
    page.wait_for_selector(f"#{panel}", state="visible")


def _width_is(page, width: int) -> None:
    page.wait_for_function(f"Math.abs(document.querySelector('#jp-left-stack').offsetWidth - {width}) <= 4")


def test_each_side_panel_keeps_its_own_width_after_a_reload(browser, lab: Lab) -> None:
    workspace = f"widths-{secrets.token_hex(4)}"
    page = open_lab(browser, lab, workspace)
    try:
        _show(page, "workbench-catalogue")
        narrow_left_panel(page, 460)  # widened to read a schema
        _show(page, "workbench-requests")
        narrow_left_panel(page, 270)  # kept narrow
        _show(page, "workbench-catalogue")
        _width_is(page, 460)
        deadline = time.monotonic() + 30
        while '"current": "workbench-catalogue"' not in saved_layout(page, lab, workspace).replace('":"', '": "'):
            assert time.monotonic() < deadline, "the layout with the catalogue shown was never saved"
            time.sleep(0.5)

        page.reload()
        page.wait_for_selector("#workbench-catalogue", state="visible", timeout=90_000)
        _width_is(page, 460)
        _show(page, "workbench-requests")
        _width_is(page, 270)
        _show(page, "workbench-usage")  # never resized: it takes the area's width as it is
        _width_is(page, 270)
        _show(page, "workbench-catalogue")
        _width_is(page, 460)
        assert abs(_left_width(page) - 460) <= 4
    finally:
        page.screenshot(path=str(_artefacts() / "panel-width-after-reload.png"))
        page.context.close()
