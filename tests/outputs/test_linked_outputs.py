"""The linked-table check when a table is recorded in a project (``outputs.linked``): a table that, with the
project's other recorded tables of the same rows, gives back a suppressed cell fails with rule ``linked`` naming
them; tables of other filters or sources are not linked; tables from frames the analyst supplied get the manual
linked-table review note."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import record
from helpers import ANALYST, OTHER_OWNER, PROJECT, events

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


def test_tables_of_other_filters_or_sources_are_not_linked(survey_desk) -> None:
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
