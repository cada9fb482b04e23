"""Tables made from a frame the analyst supplied are judged as such: the disclosure rules count the persons of the
frame's person key (this project's pseudonyms of the lineage dataset's ``personKey``); without that key the table
goes to a checker, never ``pass``; grouping by an identifier is refused. The ``analyst_supplied_review`` setting
sends every analyst-supplied table and model to a checker (on by default under ``workbench serve``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import record
from helpers import ADMIN, ANALYST, OTHER_PROJECT, OWNER, PROJECT, events, snapshot

from workbench import disclosure as sdc
from workbench.errors import InvalidInput
from workbench.outputs.settings import reviews_analyst_supplied
from workbench.outputs.tables import ANALYST_SUPPLIED

SURVEY = "dhsc.survey"


def _survey_record() -> dict:
    return record(localId=SURVEY, identifier="https://data.example.invalid/dataset/survey", title="Household survey",
                  summary="Respondents of a household survey, one row per respondent.", personKey="case_id",
                  columns=[
                      {"name": "case_id", "type": "string", "role": "record_identifier", "description": "Case"},
                      {"name": "dob", "type": "date", "role": "quasi_identifier", "description": "Date of birth"},
                      {"name": "la_code", "type": "string", "role": "quasi_identifier", "description": "Area"},
                      {"name": "sex", "type": "category", "role": "quasi_identifier", "description": "Sex",
                       "categories": ["F", "M"]},
                      {"name": "income", "type": "float", "role": "sensitive", "description": "Income"}])


def _survey_rows(n: int = 300, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "case_id": [f"LFS{i:07d}" for i in rng.choice(9_000_000, n, replace=False)],
        "dob": pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), unit="D"),
        "la_code": rng.choice([f"E0{i}" for i in range(10)], n).astype(object),
        "sex": rng.choice(["F", "M"], n).astype(object),
        "income": rng.lognormal(10, 0.5, n)})


@pytest.fixture
def survey(governed):
    """The survey registered by OWNER and granted to PROJECT; ANALYST's project."""
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows())
    request = governed(ANALYST).project(PROJECT).request_access(SURVEY, None, justification="Needed for it")
    governed(OWNER).owner.decide(request["id"], "approve")
    return governed(ANALYST).project(PROJECT)


def test_a_frame_keeping_its_person_key_is_judged_on_persons(survey, governed) -> None:
    governed(ADMIN).disclosure.update_settings(threshold=20)  # about 15 people (30 rows) a cell
    data = survey.load(SURVEY)
    assert "case_id" in data.columns
    twice = pd.concat([data, data], ignore_index=True)  # every respondent twice: 600 rows, 300 people
    twice.attrs = data.attrs
    out = survey.tables.crosstab(twice, "la_code", "sex", name="people")
    expected = sdc.crosstab(twice["la_code"], twice["sex"], persons=twice["case_id"], settings=out.settings)
    assert out.properties["privacy_unit"] == "person" and not out.review_reasons
    np.testing.assert_array_equal(out.measures["threshold"].to_numpy(), expected.measures["threshold"].to_numpy())
    rows = sdc.crosstab(twice["la_code"], twice["sex"], settings=out.settings)
    assert out.flags["threshold"].to_numpy().sum() > rows.flags["threshold"].to_numpy().sum()
    assert out.status == expected.status
    stored = survey.outputs.get(1)
    assert stored.properties["privacy_unit"] == "person" and stored.status == out.status


@pytest.mark.parametrize("method", ["crosstab", "groupby_agg"])
def test_the_duplicated_rows_attack_never_passes(survey, governed, method) -> None:
    """300 respondents, each row ten times, grouped by respondent-level columns: 3,000 rows, one person a cell."""
    data = survey.load(SURVEY)
    copies = data.loc[data.index.repeat(10)].reset_index(drop=True)
    copies.attrs = data.attrs
    groups = ["dob", "la_code", "sex"]

    def table(frame: pd.DataFrame, by: list[str], name: str):
        if method == "crosstab":
            return survey.tables.crosstab(frame, by[:-1], by[-1], name=name)
        return survey.tables.groupby_agg(frame, by, "income", ["mean", "count"], name=name)

    # as it is: the key counts one person per cell
    kept = table(copies, groups, "kept")
    assert kept.status != "pass" and kept.status_before_mitigation == "fail"
    assert "threshold" in kept.failing_rules and kept.properties["privacy_unit"] == "person"
    # the key dropped: the rows may not be people, so a checker looks (never pass)
    dropped = table(copies.drop(columns="case_id"), groups, "dropped")
    assert dropped.status in ("review", "fail") and dropped.properties["privacy_unit"] == "row"
    assert any("carries no person key ('case_id')" in r for r in dropped.review_reasons)
    assert "keep the key column" in dropped.explain()
    # the key replaced by values the analyst made up: not this project's pseudonyms, so not trusted
    forged = copies.assign(case_id=[f"{i:020x}" for i in range(len(copies))])
    made_up = table(forged, groups, "forged")
    assert made_up.status in ("review", "fail") and made_up.properties["privacy_unit"] == "row"
    assert any("are not this project's pseudonyms of dhsc.survey" in r for r in made_up.review_reasons)
    # grouped by the key itself: refused, audited, nothing recorded
    before = snapshot(governed(ADMIN))
    with pytest.raises(InvalidInput, match=r"'case_id' is a record identifier of dhsc\.survey") as caught:
        table(copies, ["case_id", *groups], "by person")
    assert "group by other columns" in str(caught.value)
    assert snapshot(governed(ADMIN)) == before
    last = events(governed(ADMIN))[-1]
    assert (last["action"], last["outcome"]) == ("outputs.create", "refused")


def test_without_a_declared_person_key_the_record_identifier_names_the_person(governed) -> None:
    """A dataset that declares no personKey has a row per person: its record identifier counts them."""
    undeclared = {k: v for k, v in _survey_record().items() if k != "personKey"}
    governed(OWNER).catalogue.register(undeclared, _survey_rows())
    asked = governed(ANALYST).project(PROJECT).request_access(SURVEY, None, justification="Needed for it")
    governed(OWNER).owner.decide(asked["id"], "approve")
    project = governed(ANALYST).project(PROJECT)
    data = project.load(SURVEY)
    copies = data.loc[data.index.repeat(10)].reset_index(drop=True)
    copies.attrs = data.attrs
    out = project.tables.crosstab(copies, ["dob", "la_code"], "sex")
    assert out.properties["privacy_unit"] == "person" and out.status_before_mitigation == "fail"
    dropped = project.tables.crosstab(copies.drop(columns="case_id"), ["dob", "la_code"], "sex")
    assert dropped.status != "pass" and any("('case_id')" in r for r in dropped.review_reasons)


def test_a_key_missing_in_some_rows_sends_the_table_to_review(survey) -> None:
    data = survey.load(SURVEY)
    data.loc[data.index[:5], "case_id"] = None
    out = survey.tables.crosstab(data, "la_code", "sex")
    assert out.status != "pass" and out.properties["privacy_unit"] == "row"
    assert any("missing in 5 row(s)" in r for r in out.review_reasons)


def test_histograms_and_pivot_tables_count_persons_too(survey) -> None:
    data = survey.load(SURVEY)
    twice = pd.concat([data, data], ignore_index=True)
    twice.attrs = data.attrs
    pivot = survey.tables.pivot_table(twice, values="income", index="la_code", columns="sex", aggfunc="sum")
    histogram = survey.tables.histogram(twice, "income", bins=[0, 10_000, 20_000, 40_000, 1e7])
    for out in (pivot, histogram):
        assert out.properties["privacy_unit"] == "person" and not out.review_reasons
    with pytest.raises(InvalidInput, match="record identifier"):
        survey.tables.histogram(twice.assign(n=1), "case_id")


def test_grouping_by_a_direct_identifier_is_refused(governed) -> None:
    from helpers import grant

    grant(governed, project=OTHER_PROJECT, columns=["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    project = governed(ANALYST).project(OTHER_PROJECT)
    data = project.load("dhsc.patients")
    assert "nhs_number" in data.columns
    with pytest.raises(InvalidInput, match=r"'nhs_number' is a direct identifier of dhsc\.patients"):
        project.tables.pivot_table(data, values="cost", index=["age_band", "nhs_number"])
    # kept, the NHS number counts the patients (50 people, 100 admissions)
    governed(ADMIN).disclosure.update_settings(threshold=40)  # every group fails: its measure is kept
    out = project.tables.groupby_agg(data, "age_band", "cost", "sum")
    assert out.properties["privacy_unit"] == "person" and not out.review_reasons
    per_person = data.groupby(["age_band", "nhs_number"]).size().groupby("age_band").size()
    np.testing.assert_array_equal(out.measures["threshold"].to_numpy().ravel(), per_person.to_numpy())


def test_the_setting_sends_every_analyst_supplied_output_to_review(survey, governed) -> None:
    data = survey.load(SURVEY)
    model = survey.tables.ols(data, "income ~ sex")
    assert model.status == "pass" and not model.review_reasons  # embedded: off by default
    assert governed(ADMIN).review.settings()["analyst_supplied_review"] is None
    governed(ADMIN).review.update_settings(analyst_supplied_review=True)
    reviewed = survey.tables.ols(data, "income ~ sex", name="reviewed")
    assert reviewed.status == "review" and reviewed.review_reasons == [ANALYST_SUPPLIED]
    assert survey.outputs.get(2).status == "review"
    assert "Review: made from a frame the analyst supplied" in survey.outputs.get(2).explain()
    table = survey.tables.crosstab(data, "la_code", "sex", name="table")
    assert table.status != "pass" and ANALYST_SUPPLIED in table.review_reasons
    governed(ADMIN).review.update_settings(analyst_supplied_review=False)
    assert survey.tables.ols(data, "income ~ sex", name="again").status == "pass"
    with pytest.raises(InvalidInput, match="analyst_supplied_review: 1 is not True, False or None"):
        governed(ADMIN).review.update_settings(analyst_supplied_review=1)


def test_the_default_follows_the_service_mode(survey) -> None:
    assert reviews_analyst_supplied({"analyst_supplied_review": None}, service=True)
    assert not reviews_analyst_supplied({"analyst_supplied_review": None}, service=False)
    assert not reviews_analyst_supplied({"analyst_supplied_review": False}, service=True)
    assert reviews_analyst_supplied({"analyst_supplied_review": True}, service=False)
    survey._ctx.service = True  # as `workbench serve` opens its workspace
    served = survey.tables.ols(survey.load(SURVEY), "income ~ sex")
    assert served.status == "review" and served.review_reasons == [ANALYST_SUPPLIED]


def test_a_served_workspace_reviews_analyst_supplied_models(kernel, governed, request) -> None:
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows())
    asked = governed(ANALYST).project(PROJECT).request_access(SURVEY, None, justification="Needed for it")
    governed(OWNER).owner.decide(asked["id"], "approve")
    project = kernel(ANALYST).project(PROJECT)
    out = project.tables.ols(project.load(SURVEY), "income ~ sex")
    served = request.node.callspec.params["kernel"] == "remote"  # `workbench serve`: on by default
    assert type(kernel(ANALYST)).__module__.startswith("workbench.remote") == served
    assert out.status == ("review" if served else "pass")
    assert out.review_reasons == ([ANALYST_SUPPLIED] if served else [])


def test_a_frame_of_a_pinned_older_version_is_judged_on_its_persons(survey, governed) -> None:
    """The person key's pseudonyms are checked against the version the project's grant covers, not the current
    one: respondents only in version 1 are still this project's pseudonyms of the data it loaded."""
    grant_id = int(governed(OWNER).owner.grants(SURVEY)["id"].iloc[0])
    governed(OWNER).owner.pin(grant_id, 1)
    governed(OWNER).catalogue.register(_survey_record(), _survey_rows(seed=6))  # other respondents: version 2
    governed(ADMIN).disclosure.update_settings(threshold=20)
    data = survey.load(SURVEY)
    assert len(data) == 300
    twice = pd.concat([data, data], ignore_index=True)
    twice.attrs = data.attrs
    out = survey.tables.crosstab(twice, "la_code", "sex", name="people of version 1")
    assert out.properties["privacy_unit"] == "person" and not out.review_reasons
