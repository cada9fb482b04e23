"""The catalogue browser, driven headlessly through its widget models as a user would drive it in a notebook."""

from __future__ import annotations

import pytest
from factories import record
from helpers import ANALYST, DATASET, OWNER, PROJECT, snapshot
from sqlalchemy import select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput


@pytest.fixture
def browser(governed):
    owner = governed(OWNER)
    for i in range(45):  # enough for three pages of 20
        owner.catalogue.register(record(localId=f"dhsc.extra_{i:02d}", identifier=f"https://x.invalid/{i}",
                                        title=f"Extra survey {i:02d}", dataOwner=OWNER))
    return governed(ANALYST).catalogue.browse()


def pick(browser) -> None:
    """Search for the patients' dataset (only it has an NHS number) and choose it, as a user would."""
    browser.search.value = "nhs_number"
    browser.results.value = DATASET


def test_search_filters_and_pages(browser) -> None:
    assert browser.status.value == "Showing 1–20 of 46" and browser.previous.disabled
    browser.next.click()
    assert browser.status.value == "Showing 21–40 of 46" and not browser.previous.disabled
    browser.next.click()
    assert browser.status.value == "Showing 41–46 of 46" and browser.next.disabled
    browser.search.value = "nhs_number"
    assert browser.offset == 0 and browser.results.options[0][1] == DATASET
    browser.search.value = ""
    assert [label for label, _ in browser.mission.options] == ["Mission: any", "Mission 5 (46)"]
    browser.mission.value = 5
    assert browser.status.value == "Showing 1–20 of 46"
    browser.search.value = "zzzz"
    assert "No entries match" in browser.status.value and browser.results.options == ()
    assert browser.department.options[0][0] == "Department: any"


def test_choosing_an_entry_shows_detail_and_completeness(browser) -> None:
    pick(browser)
    assert "Patient" in browser.detail.value or DATASET in browser.detail.value
    assert "nhs_number" in browser.detail.value and "Direct identifier" in browser.detail.value
    names = {trace.name for trace in browser.figure.data}
    # the person index's person_id (linked at registration) is a record identifier
    assert names == {"Direct identifier", "Record identifier", "Quasi-identifier", "Sensitive", "Other"}
    assert not browser.request_button.disabled
    browser.results.value = None
    assert browser.request_button.disabled and browser.figure is None


def test_request_access_from_the_form_creates_an_audited_request(browser, governed) -> None:
    pick(browser)
    browser.request_button.click()
    assert browser.action.children == (browser.form,) and browser.form_project.value == PROJECT
    browser.form_submit.click()  # no columns chosen yet
    assert "Choose the columns" in browser.message.value
    browser.form_columns.value = ("age_band", "cost")
    browser.form_justification.value = "Costs by age band"
    request = browser.submit_request()
    assert request["columns"] == ["age_band", "cost"] and request["status"] == "pending"
    assert f"Request {request['id']}" in browser.message.value
    waiting = governed(OWNER).owner.requests()
    assert list(waiting["justification"]) == ["Costs by age band"]
    with governed(ANALYST)._ctx.db.read() as conn:
        actions = list(conn.execute(select(audit_events.c.action)).scalars())
    assert "access.request" in actions


def test_a_refused_request_shows_its_message_and_changes_nothing(browser, governed) -> None:
    pick(browser)
    browser.request_button.click()
    browser.form_columns.value = ("cost",)
    browser.form_justification.value = "   "
    state = snapshot(governed(ANALYST))
    assert browser.submit_request() is None
    assert "justification" in browser.message.value and "color:#b02a37" in browser.message.value
    assert snapshot(governed(ANALYST)) == state


def test_twin_and_load_code(browser, governed) -> None:
    pick(browser)
    browser.twin_button.click()
    assert "<table" in browser.twin.value and browser.action.children == (browser.twin,)
    browser.code_button.click()
    assert "your-project-id" in browser.code.value and "request access first" in browser.message.value
    from helpers import grant

    grant(governed, columns=["age_band"])
    browser.code_button.click()
    assert f"ws.project('{PROJECT}')" in browser.code.value and f"load('{DATASET}')" in browser.code.value
    compile(browser.code.value, "<load code>", "exec")


def test_people_outside_projects_are_told_why_they_cannot_request(governed) -> None:
    browser = governed(OWNER).catalogue.browse()
    pick(browser)
    browser.request_button.click()
    assert "not a lead or analyst in any project" in browser.message.value


def test_bad_page_size_is_refused(governed) -> None:
    with pytest.raises(InvalidInput, match="page_size"):
        governed(ANALYST).catalogue.browse(page_size=0)


def test_the_browser_displays_as_a_widget(browser) -> None:
    bundle = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_it_stays_quick_with_ten_thousand_entries_because_it_pages(governed, monkeypatch) -> None:
    """Only one page of rows ever reaches the widget, whatever the catalogue's size."""
    ws = governed(ANALYST)
    asked = []
    real = type(ws.catalogue).search_page

    def spy(self, *args, **kwargs):
        asked.append(kwargs["limit"])
        page = real(self, *args, **kwargs)
        return {**page, "total": 10_000}

    monkeypatch.setattr(type(ws.catalogue), "search_page", spy)
    browser = ws.catalogue.browse(page_size=25)
    browser.next.click()
    assert asked == [25, 25] and browser.status.value.endswith("of 10,000")
