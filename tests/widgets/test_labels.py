"""Widgets speak to people: codes as labels, columns as headers, numbers with separators, dates as dates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from factories import record
from helpers import ANALYST, DATASET, OWNER

from workbench.widgets.labels import code_label, date, header, number, percent, table_html

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
SCIENTIFIC = re.compile(r"\de[+-]\d")
RAW_CODES = ("freq:", "INTERNAL", "OFFICIAL", "TOP_SECRET", "NOT_APPLICABLE", "nhs-act-2006-s251",
             "direct_identifier", "department-of-health-and-social-care", "NaT", "nan")


@pytest.mark.parametrize(("code", "label"), [
    ("freq:monthly", "Monthly"), ("freq:annual", "Yearly"), ("freq:threeTimesAYear", "3 times a year"),
    ("TOP_SECRET", "Top secret"), ("NOT_APPLICABLE", "Not applicable"), ("INTERNAL", "Internal"),
    ("dea-2017-research", "Research power (Digital Economy Act 2017)"), ("output_checker", "Output checker"),
    ("data_owner", "Data owner"), ("partially_reviewed", "Partially reviewed"), ("approved", "Approved"),
    ("quasi_identifier", "Quasi-identifier"), (None, "—"), (float("nan"), "—"),
])
def test_codes_read_as_labels(code, label) -> None:
    assert code_label(code) == label


def test_headers_numbers_and_dates_read_as_people_write_them() -> None:
    assert [header(c) for c in ("project_id", "epsilon_spent", "decided_by", "some_new_field")] == [
        "Project", "ε spent", "Decided by", "Some new field"]
    assert [number(x) for x in (345272, 88650.3, np.int64(1_000_000), 0.012345, 2.5, 0, None, np.nan, 6.0)] == [
        "345,272", "88,650", "1,000,000", "0.0123", "2.5", "0", "—", "—", "6"]
    assert number(8.865e4) == "88,650" and not SCIENTIFIC.search(number(1.5e21))
    assert percent(0.873) == "87%" and percent(None) == "—"
    assert date("2027-03-31") == "31 March 2027"
    assert date("2026-12-06T14:05:09.123456+00:00", time=True) == "6 December 2026, 2:05pm"
    assert date(pd.NaT) == "—" and date(None, missing="never") == "never" and date("") == "—"


def test_a_frame_renders_with_headers_and_formatted_cells() -> None:
    frame = pd.DataFrame({"project_id": ["p-alpha"], "epsilon_spent": [88650.25], "status": ["partially_reviewed"],
                          "decided_at": [pd.NaT], "expires_at": ["2027-03-31T00:00:00.000001"],
                          "rows": [345272]})
    html = table_html(frame)
    assert "<th style='text-align:left'>Project</th>" in html and "ε spent" in html and "88,650" in html
    assert "Partially reviewed" in html and "31 March 2027" in html and "345,272" in html and "—" in html
    assert "project_id" not in html and "NaT" not in html and not ISO.search(html) and not SCIENTIFIC.search(html)


@pytest.fixture
def browser(governed):
    owner = governed(OWNER)
    owner.catalogue.register(record(localId="dhsc.secret", identifier="https://x.invalid/secret",
                                    title="Secret survey", dataOwner=OWNER, securityClassification="TOP_SECRET"))
    return governed(ANALYST).catalogue.browse()


def test_the_browser_shows_labels_not_codes(browser) -> None:
    classifications = [label for label, _ in browser.classification.options]
    assert classifications == ["Classification: any", "Official (1)", "Top secret (1)"]
    assert [label for label, _ in browser.access_rights.options] == ["Access: any", "Internal (2)"]
    browser.classification.value = "TOP_SECRET"  # the filter still uses the code
    assert [value for _, value in browser.results.options] == ["dhsc.secret"]
    browser.classification.value = "any"
    browser.search.value = "nhs_number"
    browser.results.value = DATASET
    detail = browser.detail.value
    for label in ("Monthly", "Internal", "Official", "Section 251 support (NHS Act 2006)", "1 October 2026",
                  "1 January 2024 to 30 September 2026", "Direct identifier", "Complete", "100%", "Whole number",
                  "Text"):
        assert label in detail, label
    body = detail.split("</h3>", 1)[1]  # the heading keeps the dataset's id, which code needs
    for raw in RAW_CODES:
        assert raw not in body, raw
    assert not ISO.search(body) and not SCIENTIFIC.search(body)
    assert "<th style='text-align:left'>name</th>" not in body and "Name" in body
    assert "2024-01-01" not in browser.figure.layout.title.text


def test_a_sent_request_says_where_to_follow_it_in_words(browser) -> None:
    browser.search.value = "nhs_number"
    browser.results.value = DATASET
    browser.request_button.click()
    assert ("nhs_number (direct identifier)", "nhs_number") in browser.form_columns.options
    browser.form_columns.value = ("age_band",)
    browser.form_justification.value = "Admissions by age band"
    assert browser.submit_request() is not None
    message = browser.message.value
    assert "My requests" in message and "ws." not in message and "()" not in message


def test_the_twin_preview_formats_its_values(browser) -> None:
    browser.search.value = "nhs_number"
    browser.results.value = DATASET
    browser.twin_button.click()
    table = browser.twin.value
    assert "<table" in table and "NaT" not in table and ">nan<" not in table and not SCIENTIFIC.search(table)


def test_clerical_review_shows_dates_as_dates_and_missing_as_a_dash() -> None:
    from factories import linkable_people

    from workbench.linkage import link

    left, right, _truth = linkable_people()
    left["postcode"] = left["postcode"].where(left.index == 0)  # almost all missing: shown as a dash, not nan
    review = link(left.set_index("ref"), right.set_index("ref"), threshold=-5.0).review(n=6)
    pair = review.pair_view.value
    assert re.search(r"\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) \d{4}", pair)
    assert "00:00:00" not in pair and not ISO.search(pair) and "None" not in pair and ">nan<" not in pair
    assert "—" in pair


def test_the_accuracy_explorer_never_writes_scientific_notation(governed) -> None:
    from helpers import PROJECT, grant

    grant(governed, columns=["age_band", "cost"])
    governed(OWNER).dp.set_budget(DATASET, 2.0)
    explorer = governed(ANALYST).project(PROJECT).dp.explore("sum", DATASET, "cost", bounds=(0, 1_000_000),
                                                             epsilon=0.01)
    assert "± " in explorer.summary.value and not SCIENTIFIC.search(explorer.summary.value)
    assert re.search(r"± \d{1,3}(,\d{3})+ ", explorer.summary.value)  # a large width, with separators


def test_dp_accuracy_shows_a_labelled_table_of_formatted_widths() -> None:
    """The accuracy view of a DP query (``preview=True``): its grouping column as a header, each cell's width as
    "± 88,650", never a DataFrame's raw header, 88650.3 or 8.865e+04."""
    from workbench.dp.queries import Accuracy

    widths = pd.DataFrame({"sum": [88650.3, 0.012345, np.nan]},
                          index=pd.Index(["North East", "London", "Wales"], name="region_code"))
    accuracy = Accuracy(method="sum", source="ons.lfs", epsilon=0.25, mechanism="Geometric (counts)",
                        noise_scale=88650.3, half_width=widths, remaining={"ons.lfs": 1.75})
    html = accuracy._repr_html_()
    assert "<th style='text-align:left'>Region code</th>" in html  # not region_code
    assert "95% of answers within" in html and ">sum<" not in html
    assert "± 88,650" in html and "± 0.0123" in html and "—" in html
    assert "Noise scale 88,650" in html and "ons.lfs: ε 1.75" in html and "ε = 0.25" in html
    assert not SCIENTIFIC.search(html) and "88650" not in html and "nan" not in html.lower()
    assert 'class="dataframe"' not in html  # not DataFrame.to_html

    crosstab = pd.DataFrame([[6.0, 12.5]], columns=pd.Index(["employed", "inactive"], name="ilo_status"),
                            index=pd.Index(["North East"], name="region"))
    html = Accuracy(method="crosstab", source="ons.lfs", epsilon=0.5, mechanism="Geometric (counts)",
                    noise_scale=2.0, half_width=crosstab, remaining={})._repr_html_()
    assert ">Region<" in html and ">employed<" in html and "± 6<" in html and "± 12.5<" in html


def test_a_dp_result_shows_large_values_without_scientific_notation() -> None:
    """A DP result's cells read "88,650 ± 1,234" (not 8.865e+04 ± 1.23e+03)."""
    from workbench.disclosure.output import Output
    from workbench.disclosure.settings import DisclosureSettings

    table = pd.DataFrame({"sum": [88650.3, 12.0]}, index=pd.Index(["a", "b"], name="region"))
    output = Output(kind="dp", method="dp_sum", table=table, flags={}, status="pass", safe_table=table,
                    settings=DisclosureSettings(),
                    properties={"dp": {"epsilon": 0.5, "mechanism": "Geometric", "privacy_unit": "a person",
                                       "half_width": [[1234.4], [2.5]], "rank_half_width": 12345.0,
                                       "resolution": 100000.0}})
    html = output._repr_html_()
    assert "88,650 ± 1,234" in html and "12 ± 2.5" in html and "ε = 0.5" in html
    assert "±12,345 ranks" in html and "grid step of 100,000" in html
    assert not SCIENTIFIC.search(html), html


def test_a_checked_table_shows_counts_with_separators_and_its_check_in_words() -> None:
    """An SDC table in a notebook: 345,272 and 88,650 (not 345272 or 8.865e+04), "Passes" (not pass)."""
    from workbench.disclosure.tables import crosstab

    frame = pd.DataFrame({"region": ["North"] * 30 + ["South"] * 30, "sex": ["F", "M"] * 30})
    output = crosstab(frame["region"], frame["sex"])
    output.table.iloc[0, 0] = 345272
    html = output._repr_html_()
    assert ">345,272<" in html
    assert any(f">{label}</span>" in html for label in ("Passes", "Fails", "Needs review")), html
    assert "345272" not in html and not SCIENTIFIC.search(html)
