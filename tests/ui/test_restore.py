"""In a real browser: the Workbench panels open before a reload are open after it (JupyterLab's layout restorer),
and the served extension is this tree's build, with its settings."""

from __future__ import annotations

import json
import secrets
import time

from conftest import Lab, open_lab


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
