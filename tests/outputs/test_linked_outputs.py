"""The linked-table check when a table is recorded in a project (``outputs.linked``): a table that, with the
project's other recorded tables of the same source, whatever their filters and however many blocks of values they
hold, gives back a suppressed cell fails with rule ``linked`` naming them; tables of other sources are not linked;
tables from frames the analyst supplied, and blocks no LP adds up, get the manual linked-table review note."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from checking import CONTEXT, submitted
from factories import record
from helpers import ADMIN, ANALYST, CHECKER, OTHER_OWNER, PROJECT, events

SURVEY = "ons.survey"
STATUSES = ("emp", "inact", "unemp")
# one small cell, A/F/unemp = 3; every region × status and sex × status cell is 10 or more
COUNTS = {("A", "F"): (30, 20, 3), ("A", "M"): (32, 25, 20), ("B", "F"): (28, 22, 12), ("B", "M"): (35, 30, 18),
          ("C", "F"): (40, 26, 20), ("C", "M"): (41, 27, 22), ("D", "F"): (38, 29, 19), ("D", "M"): (44, 31, 24)}
COLUMNS = [
    {"name": "person_id", "type": "string", "role": "other", "description": "Random record id"},
    {"name": "region", "type": "category", "role": "quasi_identifier", "description": "Region",
     "categories": ["A", "B", "C", "D"]},
    {"name": "sex", "type": "category", "role": "quasi_identifier", "description": "Sex", "categories": ["F", "M"]},
    {"name": "status", "type": "category", "role": "sensitive", "description": "Economic status",
     "categories": list(STATUSES)},
]


def survey() -> pd.DataFrame:
    rows = [(region, sex, status) for (region, sex), counts in COUNTS.items()
            for status, n in zip(STATUSES, counts, strict=True) for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["region", "sex", "status"])
    frame.insert(0, "person_id", [f"P{i:05d}" for i in range(len(frame))])
    return frame


@pytest.fixture
def survey_desk(desk):
    """``desk`` plus OTHER_OWNER's survey (region, sex, economic status), granted to PROJECT."""
    desk(OTHER_OWNER).catalogue.register(record(localId=SURVEY, title="Labour survey", columns=COLUMNS), survey())
    request = desk(ANALYST).project(PROJECT).request_access(SURVEY, ["region", "sex", "status"],
                                                            justification="Economic status by region")
    desk(OTHER_OWNER).owner.decide(request["id"], "approve")
    return desk


def number(output) -> int:
    return int(output.uid.rsplit("_", 1)[-1])


def test_a_region_by_status_table_fails_beside_the_region_by_sex_by_status_one(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    detail = project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status", name="status by region, sex")
    assert detail.status == "review" and "linked" not in detail.flags  # suppressed, and alone it is safe
    margin = project.tables.crosstab(SURVEY, index="region", columns="status", name="status by region")
    assert margin.status == "fail" and "linked" in margin.failing_rules
    assert margin.flags["linked"].loc["A"].tolist() == [False, False, True]  # the cells over A/F/unemp
    text = margin.explain()
    assert f"output {number(detail)} 'status by region, sex'" in text and "region=A, sex=F, status=unemp" in text
    assert "linked" in margin.summary()
    stored = project.outputs.get(number(margin))  # as a checker reads it
    assert stored.status == "fail" and "linked" in stored.failing_rules and "Linked tables:" in stored.explain()
    listed = project.outputs.list().set_index("name")
    assert listed.loc["status by region", "status"] == "fail"
    created = [e for e in events(survey_desk(ANALYST)) if e["action"] == "outputs.create"]
    assert created[-1]["detail"]["status"] == "fail" and created[-1]["detail"]["linked"] == [number(detail)]


def test_the_order_does_not_matter_and_a_sex_by_status_table_passes(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    by_sex = project.tables.crosstab(SURVEY, index="sex", columns="status")
    assert by_sex.status == "pass"
    project.tables.crosstab(SURVEY, index="region", columns="status")
    detail = project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    assert detail.status == "fail" and "linked" in detail.flags  # given back by the region × status table
    assert not detail.review_reasons


def test_margins_shown_in_a_table_link_it_too(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    with_totals = project.tables.crosstab(SURVEY, index="sex", columns="region", margins=True)
    assert "linked" not in with_totals.flags  # sex × region totals give nothing back
    assert project.tables.crosstab(SURVEY, index="region", columns="status", margins=True).status == "fail"


def test_tables_of_other_sources_or_of_filters_giving_nothing_back_are_not_flagged(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    filtered = project.tables.crosstab(SURVEY, index="region", columns="status", where={"sex": "M"})
    assert "linked" not in filtered.flags and not filtered.review_reasons
    project.derive(SURVEY, columns=["region", "sex", "status"], where={"region": ["A", "B", "C", "D"]},
                   new_name="copy")
    other = project.tables.crosstab("copy", index="region", columns="status")
    assert "linked" not in other.flags and other.status == "pass"
    means = project.tables.pivot_table(SURVEY, values="status", index="region", aggfunc="count")
    assert "linked" not in means.flags  # a count of another thing (non-missing status): other cells


def test_tables_from_frames_the_analyst_supplied_get_the_manual_note(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    frame = project.load(SURVEY)
    first = project.tables.crosstab(frame, index=["region", "sex"], columns="status")
    assert not any("linked tables" in r for r in first.review_reasons)  # nothing else of the same data yet
    second = project.tables.crosstab(frame, index="sex", columns="status", name="status by sex")
    assert "linked" not in second.flags
    assert any("linked tables" in r and f"output {number(first)}" in r for r in second.review_reasons)
    assert second.status == "review"


def test_an_analyst_supplied_pair_that_gives_a_cell_back_fails(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    frame = project.load(SURVEY)
    project.tables.crosstab(frame, index=["region", "sex"], columns="status")
    margin = project.tables.crosstab(frame, index="region", columns="status")
    assert margin.status == "fail" and "linked" in margin.flags


def test_a_computed_table_beside_an_analyst_supplied_one_is_noted(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    supplied = project.tables.crosstab(project.load(SURVEY), index="sex", columns="status")
    computed = project.tables.crosstab(SURVEY, index="region", columns="status")
    assert any(f"output {number(supplied)}" in r for r in computed.review_reasons)


def test_the_linked_rule_through_the_kernel(kernel, survey_desk) -> None:
    project = kernel(ANALYST).project(PROJECT)
    project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status", name="status by region, sex")
    margin = project.tables.crosstab(SURVEY, index="region", columns="status")
    assert margin.status == "fail" and "linked" in margin.failing_rules
    assert "'status by region, sex'" in margin.explain()


def test_a_check_that_runs_out_of_time_asks_for_a_person(survey_desk, monkeypatch) -> None:
    from workbench.outputs import linked

    monkeypatch.setattr(linked, "SECONDS", 0.0)
    project = survey_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    margin = project.tables.crosstab(SURVEY, index="region", columns="status")
    assert margin.status == "review" and "linked" not in margin.flags
    assert any(r.startswith("linked tables:") and "took more than" in r for r in margin.review_reasons)


INCOME_SURVEY = "ons.survey_income"


def survey_with_income() -> pd.DataFrame:
    frame = survey()
    frame["income"] = np.random.default_rng(3).uniform(100, 200, len(frame)).round(2)
    return frame


@pytest.fixture
def income_desk(desk):
    """``desk`` plus OTHER_OWNER's survey with an income column, granted to PROJECT."""
    columns = [*COLUMNS, {"name": "income", "type": "float", "role": "sensitive", "description": "Income"}]
    desk(OTHER_OWNER).catalogue.register(record(localId=INCOME_SURVEY, title="Labour survey with income",
                                                columns=columns), survey_with_income())
    request = desk(ANALYST).project(PROJECT).request_access(INCOME_SURVEY, ["region", "sex", "status", "income"],
                                                            justification="Income by region")
    desk(OTHER_OWNER).owner.decide(request["id"], "approve")
    return desk


@pytest.mark.parametrize("where", [{"sex": ["F", "M"]}, {"region": ["A", "B", "C", "D"]}, {"status": list(STATUSES)}],
                         ids=["sex", "region", "status"])
def test_a_margin_filtered_to_all_the_rows_is_linked_to_the_unfiltered_detail(survey_desk, where) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    detail = project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    assert detail.status == "review"
    margin = project.tables.crosstab(SURVEY, index="region", columns="status", where=where)
    assert margin.status == "fail" and "linked" in margin.failing_rules
    assert "region=A, sex=F, status=unemp" in margin.explain()


def test_overlapping_filters_are_linked(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    detail = project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status", where={"region": ["A", "B"]})
    assert detail.status == "review"
    margin = project.tables.crosstab(SURVEY, index="region", columns="status", where={"region": ["A", "C"]})
    assert margin.status == "fail" and "linked" in margin.failing_rules


def test_tables_filtered_on_a_column_no_table_shows_add_up_to_the_unfiltered_one(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    women = project.tables.crosstab(SURVEY, index="region", columns="status", where={"sex": "F"})
    assert women.status == "review" and "linked" not in women.flags  # A/unemp (3) suppressed
    everyone = project.tables.crosstab(SURVEY, index="region", columns="status")
    assert everyone.status == "pass"  # the rows that are not women: unknown
    men = project.tables.crosstab(SURVEY, index="region", columns="status", where={"sex": "M"})
    # sex is only ever F or M in the source, never missing: everyone − men = women
    assert men.status == "fail" and "linked" in men.failing_rules
    assert "region=A, status=unemp" in men.explain()


def test_a_pivot_of_several_aggregations_is_split_into_its_blocks(income_desk) -> None:
    project = income_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(INCOME_SURVEY, index=["region", "sex"], columns="status")
    sums = project.tables.crosstab(INCOME_SURVEY, index=["region", "sex"], columns="status", values="income",
                                   aggfunc="sum")
    assert "linked" not in sums.flags
    pivot = project.tables.pivot_table(INCOME_SURVEY, values="income", index="region", columns="status",
                                       aggfunc=["sum", "count"])
    assert pivot.status == "fail" and "linked" in pivot.failing_rules
    assert "region=A, sex=F, status=unemp" in pivot.explain()


def test_a_mean_beside_its_counts_is_a_sum(income_desk) -> None:
    project = income_desk(ANALYST).project(PROJECT)
    detail = project.tables.crosstab(INCOME_SURVEY, index=["region", "sex"], columns="status", values="income",
                                     aggfunc="sum")
    assert detail.status == "review"
    mean = project.tables.crosstab(INCOME_SURVEY, index="region", columns="status", values="income",
                                   aggfunc="mean")
    assert mean.status == "review" and "linked" not in mean.flags  # its counts are not published: a person checks
    assert any(r.startswith("linked tables:") and "mean whose counts" in r for r in mean.review_reasons)
    counts = project.tables.crosstab(INCOME_SURVEY, index="region", columns="status", where={"sex": ["F", "M"]})
    assert counts.status == "fail" and "linked" in counts.failing_rules  # mean × count: region × status sums


def test_a_median_beside_a_suppressed_table_asks_for_a_person(income_desk) -> None:
    project = income_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(INCOME_SURVEY, index=["region", "sex"], columns="status", values="income",
                            aggfunc="sum")
    median = project.tables.pivot_table(INCOME_SURVEY, values="income", index="region", columns="status",
                                        aggfunc="median")
    assert median.status == "review" and "linked" not in median.flags
    assert any(r.startswith("linked tables:") and "a median" in r for r in median.review_reasons)


def test_a_filtered_table_that_gives_nothing_back_passes(survey_desk) -> None:
    project = survey_desk(ANALYST).project(PROJECT)
    project.tables.crosstab(SURVEY, index=["region", "sex"], columns="status")
    males = project.tables.crosstab(SURVEY, index="region", columns="status", where={"sex": "M"})
    older = project.tables.crosstab(SURVEY, index="sex", columns="status", where={"region": ["B", "C", "D"]})
    assert males.status == "pass" and older.status == "pass" and not older.review_reasons


def test_range_filters_are_cut_at_every_bound(income_desk) -> None:
    project = income_desk(ANALYST).project(PROJECT)
    poorer = project.tables.crosstab(INCOME_SURVEY, index="region", columns="status", where={"income": {"<": 110}})
    assert poorer.status == "review" and poorer.suppressed.to_numpy().any()
    richer = project.tables.crosstab(INCOME_SURVEY, index="region", columns="status", where={"income": {">=": 110}})
    assert richer.status == "pass"  # the two share no row
    everyone = project.tables.crosstab(INCOME_SURVEY, index="region", columns="status")
    # income is never missing: everyone − richer = poorer, suppressed cells and all
    assert everyone.status == "fail" and "linked" in everyone.failing_rules


def test_the_facts_only_the_check_reads_are_never_shown_or_released(survey_desk) -> None:
    """A filtered table's record keeps, for the check, the filter column's labels in the whole source and which
    columns have missing values; the checker's view (and so the package) never carries them."""
    project = survey_desk(ANALYST).project(PROJECT)
    table = project.tables.crosstab(SURVEY, index="region", columns="status", where={"sex": ["F"]})
    request = submitted(survey_desk, outputs=[table], context=CONTEXT)
    shown = survey_desk(CHECKER).review.show(request.id)
    text = json.dumps(shown, default=str)
    assert '"filtered"' not in text and '"complete"' not in text
    assert shown["outputs"][0]["provenance"]["spec"]["where"] == {"sex": ["F"]}


# A rounded table: its small counts are rounded, not withheld, and their rounding is all their protection.
ROUNDED = "ons.rounded"
ROUNDED_COUNTS = {"A": (24, 3, 24), "B": (18, 13, 15)}  # A/inact = 3 is rounded to 5, B/inact = 13 to 15
ROUNDED_COLUMNS = [
    {"name": "region", "type": "category", "role": "quasi_identifier", "description": "Region",
     "categories": ["A", "B"]},
    {"name": "country", "type": "category", "role": "other", "description": "Country", "categories": ["UK"]},
    {"name": "status", "type": "category", "role": "sensitive", "description": "Economic status",
     "categories": list(STATUSES)},
]


@pytest.fixture
def rounding_desk(desk):
    """``desk`` rounding failing counts to base 5, with a small survey granted to PROJECT."""
    desk(ADMIN).disclosure.update_settings(mitigation="round")
    rows = [(region, "UK", status) for region, counts in ROUNDED_COUNTS.items()
            for status, n in zip(STATUSES, counts, strict=True) for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["region", "country", "status"])
    desk(OTHER_OWNER).catalogue.register(record(localId=ROUNDED, title="Small survey", columns=ROUNDED_COLUMNS), frame)
    request = desk(ANALYST).project(PROJECT).request_access(ROUNDED, ["region", "country", "status"],
                                                            justification="Economic status by region")
    desk(OTHER_OWNER).owner.decide(request["id"], "approve")
    return desk


@pytest.mark.parametrize("detail_first", [True, False])
def test_a_rounded_count_given_back_by_an_exact_total_elsewhere_fails(rounding_desk, detail_first) -> None:
    """A/inact = 3 is published as 5 (3 to 7) and B/inact = 13 as 15 (13 to 17); a one-way table publishes the
    inact total, 16, exactly (every cell passes): only A/inact = 3 fits. In either order the second table fails."""
    project = rounding_desk(ANALYST).project(PROJECT)

    def detail():
        return project.tables.crosstab(ROUNDED, index="region", columns="status", name="status by region")

    def total():
        return project.tables.crosstab(ROUNDED, index="status", columns="country", name="status")

    first = detail() if detail_first else total()
    assert "linked" not in first.flags
    second = total() if detail_first else detail()
    assert second.status == "fail" and "linked" in second.failing_rules
    assert "region=A, status=inact" in second.explain()
