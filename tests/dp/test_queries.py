"""``project.dp`` through the real services (SQLite and PostgreSQL): answers from declared categories, clipped
contributions, recorded outputs, accuracy before spending, budgets that survive a restart, and refusals that
change nothing, spend nothing and are audited."""

from __future__ import annotations

import copy
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from helpers import (
    ADMIN,
    ANALYST,
    DATASET,
    OTHER_OWNER,
    OTHER_PROJECT,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    grant,
    snapshot,
)
from sqlalchemy import func, select, update

from workbench.db.schema import audit_events, dp_spends, grants
from workbench.errors import AccessDenied, BudgetExceeded, InvalidInput, NotFound


@pytest.fixture
def dp(governed):
    """PROJECT holds a grant for DATASET's non-identifying columns and budgets: 3 across projects, 2 for it."""
    grant(governed, columns=["admission_id", "age_band", "length_of_stay", "cost", "admitted"])
    owner = governed(OWNER)
    owner.dp.set_budget(DATASET, 3.0)
    owner.dp.set_budget(DATASET, 2.0, project=PROJECT)
    return governed


def spent(ws) -> float:
    with ws._ctx.db.read() as conn:
        return float(conn.execute(select(func.coalesce(func.sum(dp_spends.c.epsilon), 0.0))).scalar_one())


def refusals(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)
                            .where(audit_events.c.outcome.in_(["refused", "denied"]))
                            .where(audit_events.c.action == "dp.query")).scalar_one()


def test_crosstab_cells_come_from_declared_categories_and_the_output_is_recorded(dp) -> None:
    project = dp(ANALYST).project(PROJECT)
    out = project.dp.crosstab(DATASET, "age_band", epsilon=0.5)
    assert list(out.table.index) == ["0-17", "18-64", "65+"] and out.table.index.name == "age_band"
    assert out.kind == "dp" and out.method == "dp_crosstab" and out.status == "pass"
    assert (out.table.to_numpy() >= 0).all() and np.issubdtype(out.table.to_numpy().dtype, np.integer)
    props = out.properties["dp"]
    assert props["epsilon"] == 0.5 and props["delta"] == 0.0 and props["ledger"]
    assert "Geometric" in props["mechanism"] and "nhs_number" in props["privacy_unit"]
    assert props["half_width"] == [[6.0]] * 3  # ε 0.5, one row per person: P(|noise| > 6) < 5%
    assert props["remaining"] == {DATASET: pytest.approx(1.5)}
    html = out._repr_html_()
    assert "± 6" in html and "ε = 0.5" in html
    listed = project.outputs.list()
    assert list(listed["kind"]) == ["dp"]
    again = project.outputs.get(int(listed["id"].iloc[0]))
    assert again.properties["dp"]["ledger"] == props["ledger"]
    pd.testing.assert_frame_equal(again.table, out.table, check_dtype=False)
    with dp(ADMIN)._ctx.db.read() as conn:
        row = conn.execute(select(dp_spends)).mappings().one()
    assert row["output_id"] == int(listed["id"].iloc[0]) and row["username"] == ANALYST
    assert row["query"]["index"] == ["age_band"]


def test_a_declared_category_with_no_rows_still_gets_its_cell(dp, connect_as) -> None:
    from factories import patient_record, patients

    columns = patient_record()["columns"]
    for column in columns:
        if column["name"] == "age_band":
            column["categories"] = ["0-17", "18-64", "65+", "unused"]
    dp(OWNER).catalogue.register(patient_record(columns=columns), patients())
    out = dp(ANALYST).project(PROJECT).dp.crosstab(DATASET, "age_band", epsilon=0.5)
    assert list(out.table.index) == ["0-17", "18-64", "65+", "unused"]


def test_contributions_are_clipped_per_person(dp) -> None:
    """100 admissions of 50 patients: at ε = 50 the noise is tiny, so the count shows the clip."""
    dp(OWNER).dp.set_budget(DATASET, 500.0)
    dp(OWNER).dp.set_budget(DATASET, 500.0, project=PROJECT)
    project = dp(ANALYST).project(PROJECT)
    one = int(project.dp.count(DATASET, epsilon=50).table.iat[0, 0])
    two = int(project.dp.count(DATASET, epsilon=50, contributions=2).table.iat[0, 0])
    assert abs(one - 50) <= 1 and abs(two - 100) <= 2


def test_sum_mean_histogram_and_quantile(dp) -> None:
    owner = dp(OWNER)
    owner.dp.set_budget(DATASET, 500.0)
    owner.dp.set_budget(DATASET, 500.0, project=PROJECT)
    project = dp(ANALYST).project(PROJECT)
    total = project.dp.sum(DATASET, "length_of_stay", bounds=(0, 30), epsilon=50, contributions=2)
    mean = project.dp.mean(DATASET, "cost", bounds=(0, 10_000), epsilon=50, contributions=2)
    hist = project.dp.histogram(DATASET, "length_of_stay", bounds=(0, 30), bins=3, epsilon=50, contributions=2)
    median = project.dp.quantile(DATASET, "length_of_stay", 0.5, bounds=(0, 30), epsilon=50, contributions=2)
    from factories import patients

    truth = patients()
    assert abs(total.table.iat[0, 0] - truth["length_of_stay"].sum()) < 12  # 10 noise scales: fails 1 in 20,000
    assert abs(mean.table.iat[0, 0] - truth["cost"].mean()) < 100
    assert list(hist.table.index) == ["[0, 10)", "[10, 20)", "[20, 30)"]
    assert abs(int(hist.table.to_numpy().sum()) - 100) <= 6
    assert 5 <= median.table.iat[0, 0] <= 25
    assert mean.properties["dp"]["approximate_interval"] is True
    assert median.properties["dp"]["rank_half_width"] > 0


def test_crosstab_of_a_bounded_mean_is_noisy_sum_over_noisy_count(dp) -> None:
    owner = dp(OWNER)
    owner.dp.set_budget(DATASET, 500.0)
    owner.dp.set_budget(DATASET, 500.0, project=PROJECT)
    out = dp(ANALYST).project(PROJECT).dp.crosstab(DATASET, "age_band", values="length_of_stay", aggfunc="mean",
                                                   bounds=(0, 30), epsilon=100, contributions=2)
    from factories import patients

    truth = patients().groupby("age_band")["length_of_stay"].mean()
    for band in truth.index:
        assert abs(out.table.loc[band].iat[0] - truth[band]) < 3
    assert out.properties["dp"]["counts"]  # the noisy counts used as denominators are kept for the checker


def test_preview_spends_nothing_and_does_not_touch_the_data(dp) -> None:
    analyst = dp(ANALYST)
    analyst._ctx.vault.dataset_path(DATASET).rename(analyst._ctx.vault.dataset_path(DATASET).with_suffix(".gone"))
    state = snapshot(analyst)
    accuracy = analyst.project(PROJECT).dp.crosstab(DATASET, "age_band", epsilon=0.5, preview=True)
    assert accuracy.noise_scale == 2.0 and list(accuracy.half_width["count"]) == [6.0, 6.0, 6.0]
    assert accuracy.remaining == {DATASET: 2.0}
    mean = analyst.project(PROJECT).dp.mean(DATASET, "cost", bounds=(0, 1000), epsilon=1, preview=True)
    assert mean.half_width.iat[0, 0] > 0 and "n =" in mean.note
    assert "nothing spent" in accuracy._repr_html_()
    assert ">Age band<" in accuracy._repr_html_() and "± 6<" in accuracy._repr_html_()
    assert snapshot(analyst) == state


def test_budget_view_composes_sequentially_and_survives_a_restart(dp, connect_as) -> None:
    project = dp(ANALYST).project(PROJECT)
    project.dp.count(DATASET, epsilon=0.5)
    project.dp.crosstab(DATASET, "age_band", epsilon=0.25)
    budget = project.dp.budget().set_index("scope")
    assert budget.loc[PROJECT, "spent"] == pytest.approx(0.75) and budget.loc[PROJECT, "queries"] == 2
    assert budget.loc["all projects", "remaining"] == pytest.approx(2.25)
    reopened = connect_as(ANALYST)  # a new connection: what was spent is in the database, not the process
    again = reopened.project(PROJECT).dp.budget().set_index("scope")
    assert again.loc[PROJECT, "remaining"] == pytest.approx(1.25)
    with pytest.raises(BudgetExceeded, match=r"1\.25 remaining"):
        reopened.project(PROJECT).dp.count(DATASET, epsilon=1.5)


def test_dataset_wide_budget_caps_every_project_together(dp) -> None:
    grant(dp, OTHER_PROJECT, ["age_band"])
    dp(OWNER).dp.set_budget(DATASET, 2.0, project=OTHER_PROJECT)
    dp(ANALYST).project(PROJECT).dp.count(DATASET, epsilon=2.0)
    other = dp(SECOND_ANALYST).project(OTHER_PROJECT)
    other.dp.count(DATASET, epsilon=0.75)
    with pytest.raises(BudgetExceeded, match=r"all projects has ε = 0\.25 remaining"):
        other.dp.count(DATASET, epsilon=0.5)
    usage = dp(OWNER).owner.usage(DATASET).privacy.set_index("project_id")
    assert usage.loc[PROJECT, "epsilon_spent"] == 2.0 and usage.loc[PROJECT, "epsilon_budget"] == 2.0
    assert usage.loc["all projects", "epsilon_spent"] == 2.75 and usage.loc["all projects", "queries"] == 2
    assert "Privacy budget spent" in dp(OWNER).owner.usage(DATASET)._repr_html_()


def test_dp_on_a_derived_frame_is_charged_to_its_sources_and_needs_the_person_key(dp) -> None:
    """A frame the workbench derived keeps the (pseudonymised) NHS number as its person key; DP on it clips by
    that key and is charged to the dataset it came from."""
    grant(dp, OTHER_PROJECT, ["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    dp(OWNER).dp.set_budget(DATASET, 1.0, project=OTHER_PROJECT)
    analyst = dp(ANALYST)
    project = analyst.project(OTHER_PROJECT)
    saved = project.derive(DATASET, columns=["nhs_number", "age_band", "cost"], new_name="costs")
    assert saved["sources"] == [DATASET] and saved["rows"] == 100
    out = project.dp.crosstab("costs", "age_band", epsilon=0.5)
    assert out.properties["dp"]["datasets"] == [DATASET] and "nhs_number" in out.properties["dp"]["privacy_unit"]
    assert 0 <= out.table["count"].sum() <= 70  # 50 patients at most once each, give or take the noise
    budget = project.dp.budget().set_index("scope")
    assert budget.loc[OTHER_PROJECT, "spent"] == 0.5 and budget.loc["all projects", "spent"] == 0.5
    row = project.outputs.list().iloc[-1]
    assert row["provenance"] == "computed"
    project.derive(DATASET, columns=["age_band", "cost"], new_name="anonymous")
    state = snapshot(analyst)
    with pytest.raises(InvalidInput, match="no column identifying the person"):
        project.dp.count("anonymous", epsilon=0.1)
    assert snapshot(analyst) == state


def test_a_frame_derived_from_a_dataset_of_one_row_per_person_keeps_rows_as_people(dp) -> None:
    """A dataset without personKey holds one row per person (its owner declares it): a frame the workbench derives
    from it keeps that, so DP may query it; the derivation records it in its spec."""
    from factories import admissions, record

    dp(OTHER_OWNER).catalogue.register(record(localId="dhsc.admissions"), admissions())
    request = dp(ANALYST).project(PROJECT).request_access("dhsc.admissions", justification="Costs")
    dp(OTHER_OWNER).owner.decide(request["id"], "approve")
    dp(OTHER_OWNER).dp.set_budget("dhsc.admissions", 2.0)
    project = dp(ANALYST).project(PROJECT)
    project.derive("dhsc.admissions", columns=["age_band", "cost"], where={"cost": {">": 100}}, new_name="dear")
    out = project.dp.crosstab("dear", "age_band", epsilon=0.5)
    assert out.properties["dp"]["datasets"] == ["dhsc.admissions"]
    assert "one row per person" in out.properties["dp"]["privacy_unit"]


def test_dp_on_a_workbench_frame_of_two_datasets_is_charged_to_both(dp) -> None:
    """A frame the workbench made from two datasets (as a linkage result is) spends both datasets' budgets, and
    its origin names both; a lapsed grant of either stops it."""
    from factories import admissions, record

    from workbench.governance.project_data import ProjectData

    dp(OTHER_OWNER).catalogue.register(record(localId="dhsc.admissions"), admissions())
    request = dp(ANALYST).project(PROJECT).request_access("dhsc.admissions", justification="Linked")
    dp(OTHER_OWNER).owner.decide(request["id"], "approve")
    dp(OTHER_OWNER).dp.set_budget("dhsc.admissions", 2.0)
    analyst = dp(ANALYST)
    frame = pd.DataFrame({"link_key": [f"k{i % 40}" for i in range(80)], "age_band": ["0-17", "65+"] * 40})
    with analyst._ctx.write() as conn:
        ProjectData(analyst._ctx, PROJECT).save_derived(
            conn, frame, "linked", sources=[DATASET, "dhsc.admissions"], person_key="link_key",
            spec={"source": DATASET}, made_by="workbench", action="data.derive")
    project = analyst.project(PROJECT)
    out = project.dp.crosstab("linked", "age_band", epsilon=0.25, contributions=2)
    with analyst._ctx.db.read() as conn:
        charged = sorted(conn.execute(select(dp_spends.c.dataset_id, dp_spends.c.epsilon)).all())
    assert charged == [("dhsc.admissions", 0.25), (DATASET, 0.25)]
    assert out.properties["dp"]["datasets"] == [DATASET, "dhsc.admissions"]
    assert "link_key" in out.properties["dp"]["privacy_unit"]
    grant_id = int(project.grants().set_index("dataset_id").loc["dhsc.admissions", "id"])
    dp(OTHER_OWNER).owner.revoke(grant_id, reason="Ended")
    state = snapshot(analyst)
    with pytest.raises(AccessDenied, match="revoked"):
        project.dp.count("linked", epsilon=0.1)
    assert snapshot(analyst) == state


def test_dp_on_a_frame_saved_from_a_kernel_is_refused_saying_what_to_do(dp) -> None:
    """The fake-key attack: one patient's values copied under 2,000 made-up keys, saved from the kernel; DP on
    it would reveal that patient's values, so it is refused, audited, nothing spent."""
    grant(dp, OTHER_PROJECT, ["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    dp(OWNER).dp.set_budget(DATASET, 1.0, project=OTHER_PROJECT)
    analyst = dp(ANALYST)
    project = analyst.project(OTHER_PROJECT)
    one = project.load(DATASET, ["nhs_number", "age_band", "cost"]).iloc[[0]]
    forged = one.loc[one.index.repeat(2000)].reset_index(drop=True)
    forged["nhs_number"] = [f"fake{i}" for i in range(len(forged))]
    project.save(forged, "forged", derived_from=[DATASET])
    state, audited = snapshot(analyst), refusals(analyst)
    with pytest.raises(InvalidInput, match=r"saved from a kernel.*project\.derive") as refused:
        project.dp.mean("forged", "cost", bounds=(0, 10_000), epsilon=0.5)
    assert "where=" in str(refused.value)
    assert snapshot(analyst) == state and refusals(analyst) == audited + 1 and spent(analyst) == 0


def test_laundering_a_budget_through_a_saved_frame_is_refused(governed, connect_as) -> None:
    """Rows of one dataset saved declaring another as their source: DP on the saved frame is refused, so neither
    dataset's budget is spent behind its owner's back."""
    from factories import admissions, record

    grant(governed, columns=["admission_id", "age_band", "cost"])
    governed(OTHER_OWNER).catalogue.register(record(localId="dhsc.admissions"), admissions())
    other = governed(ANALYST).project(PROJECT).request_access("dhsc.admissions", justification="Compare")
    governed(OTHER_OWNER).owner.decide(other["id"], "approve")
    governed(OWNER).dp.set_budget(DATASET, 3.0)
    governed(OTHER_OWNER).dp.set_budget("dhsc.admissions", 3.0)
    analyst = governed(ANALYST)
    project = analyst.project(PROJECT)
    rows = project.load(DATASET, ["age_band", "cost"])
    project.save(rows, "laundered", derived_from=["dhsc.admissions"])
    state = snapshot(analyst)
    with pytest.raises(InvalidInput, match="saved from a kernel"):
        project.dp.crosstab("laundered", "age_band", epsilon=1.0)
    assert snapshot(analyst) == state and spent(analyst) == 0


def test_a_quantile_publishes_nothing_that_counts_the_rows_it_read(dp) -> None:
    """The rank half-width comes from the rows the catalogue declares, so two filters keeping different numbers of
    rows publish the same width (a width from the rows read would tell how many matched: a membership oracle)."""
    owner = dp(OWNER)
    owner.dp.set_budget(DATASET, 500.0)
    owner.dp.set_budget(DATASET, 500.0, project=PROJECT)
    project = dp(ANALYST).project(PROJECT)
    widths = {project.dp.quantile(DATASET, "cost", 0.5, bounds=(0, 10_000), epsilon=1, where=where)
              .properties["dp"]["rank_half_width"] for where in ({"age_band": "65+"}, {"age_band": ["0-17", "18-64"]},
                                                                 None)}
    assert len(widths) == 1


def test_where_takes_lists_and_ranges_pushed_into_the_read(dp) -> None:
    project = dp(ANALYST).project(PROJECT)
    out = project.dp.count(DATASET, epsilon=1, where={"age_band": ["18-64", "65+"], "cost": {">=": 0, "<": 1e9}})
    assert out.properties["dp"]["query"]["where"] == {"age_band": ["18-64", "65+"], "cost": {">=": 0, "<": 1e9}}
    with pytest.raises(InvalidInput, match="a range takes only"):
        project.dp.count(DATASET, epsilon=0.1, where={"cost": {"!=": 3}})
    with pytest.raises(InvalidInput, match="direct identifier"):
        project.dp.count(DATASET, epsilon=0.1, where={"surname": "Surname1"})


BAD = [
    ("epsilon zero", lambda dp: dp.count(DATASET, epsilon=0), InvalidInput, "epsilon"),
    ("epsilon negative", lambda dp: dp.count(DATASET, epsilon=-1), InvalidInput, "epsilon"),
    ("epsilon NaN", lambda dp: dp.count(DATASET, epsilon=math.nan), InvalidInput, "epsilon"),
    ("epsilon inf", lambda dp: dp.count(DATASET, epsilon=math.inf), InvalidInput, "epsilon"),
    ("epsilon text", lambda dp: dp.count(DATASET, epsilon="1"), InvalidInput, "epsilon"),
    ("bounds missing", lambda dp: dp.sum(DATASET, "cost", bounds=None, epsilon=0.1), InvalidInput, "never"),
    ("bounds reversed", lambda dp: dp.sum(DATASET, "cost", bounds=(100, 0), epsilon=0.1), InvalidInput,
     "reversed"),
    ("bounds infinite", lambda dp: dp.mean(DATASET, "cost", bounds=(0, math.inf), epsilon=0.1), InvalidInput,
     "finite"),
    ("categories not declared", lambda dp: dp.crosstab(DATASET, "admission_id", epsilon=0.1), InvalidInput,
     "no categories declared"),
    ("not numeric", lambda dp: dp.sum(DATASET, "age_band", bounds=(0, 1), epsilon=0.1), InvalidInput,
     "not numeric"),
    ("direct identifier", lambda dp: dp.crosstab(DATASET, "surname", epsilon=0.1), InvalidInput,
     "direct identifier"),
    ("unknown column", lambda dp: dp.crosstab(DATASET, "postcode", epsilon=0.1), InvalidInput, "not a column"),
    ("unknown dataset", lambda dp: dp.count("dhsc.nothing", epsilon=0.1), NotFound, "No dataset"),
    ("contributions zero", lambda dp: dp.count(DATASET, epsilon=0.1, contributions=0), InvalidInput,
     "contributions"),
    ("quantile out of range", lambda dp: dp.quantile(DATASET, "cost", 1.5, bounds=(0, 1), epsilon=0.1),
     InvalidInput, "quantile"),
    ("bins outside bounds", lambda dp: dp.histogram(DATASET, "cost", bounds=(0, 10), bins=[0, 5, 20],
                                                    epsilon=0.1), InvalidInput, "within the bounds"),
    ("weights not offered", lambda dp: dp.histogram(DATASET, "cost", bounds=(0, 10), epsilon=0.1, weights=[1]),
     TypeError, "weights"),
    ("column not granted", lambda dp: dp.sum(DATASET, "length_of_stay", bounds=(0, 30), epsilon=0.1),
     AccessDenied, "outside project p-alpha's grant"),
    ("exhausted budget", lambda dp: dp.count(DATASET, epsilon=1.5), BudgetExceeded, "remaining"),
]


@pytest.mark.parametrize(("case", "call", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_refusals_are_clear_spend_nothing_change_nothing_and_are_audited(governed, case, call, error,
                                                                          message) -> None:
    grant(governed, columns=["admission_id", "age_band", "cost"])
    owner = governed(OWNER)
    owner.dp.set_budget(DATASET, 3.0)
    owner.dp.set_budget(DATASET, 1.0, project=PROJECT)
    analyst = governed(ANALYST)
    state, audited = snapshot(analyst), refusals(analyst)
    with pytest.raises(error, match=message):
        call(analyst.project(PROJECT).dp)
    assert snapshot(analyst) == state
    if error is not TypeError:  # a Python signature error never reaches the workbench
        assert refusals(analyst) == audited + 1


def test_no_budget_set_means_no_query(governed) -> None:
    grant(governed, columns=["age_band"])
    analyst = governed(ANALYST)
    with pytest.raises(BudgetExceeded, match=r"No privacy budget is set for dhsc\.patients"):
        analyst.project(PROJECT).dp.count(DATASET, epsilon=0.1)
    assert spent(analyst) == 0


@pytest.mark.parametrize("lapse", ["expired", "revoked"])
def test_a_lapsed_grant_stops_queries(dp, lapse) -> None:
    admin = dp(ADMIN)
    if lapse == "revoked":
        grant_id = dp(ANALYST).project(PROJECT).grants()["id"].iloc[0]
        dp(OWNER).owner.revoke(int(grant_id), reason="Review")
    else:
        with admin._ctx.db.write() as conn:
            conn.execute(update(grants).values(expires=date(2026, 1, 31)))
    analyst = dp(ANALYST)
    state, audited = snapshot(analyst), refusals(analyst)
    with pytest.raises(AccessDenied, match=lapse if lapse == "revoked" else "expired"):
        analyst.project(PROJECT).dp.count(DATASET, epsilon=0.1)
    assert snapshot(analyst) == state and refusals(analyst) == audited + 1


def test_budgets_are_set_by_owners_delegates_and_admins_and_checked(dp) -> None:
    owner = dp(OWNER)
    with pytest.raises(InvalidInput, match="epsilon"):
        owner.dp.set_budget(DATASET, -1)
    with pytest.raises(InvalidInput, match="delta"):
        owner.dp.set_budget(DATASET, 1, delta=1.5)
    with pytest.raises(NotFound):
        owner.dp.set_budget(DATASET, 1, project="p-nothing")
    with pytest.raises(AccessDenied, match="privacy budget"):
        dp(ANALYST).dp.set_budget(DATASET, 100)
    owner.owner.delegate(DATASET, SECOND_ANALYST)
    dp(SECOND_ANALYST).dp.set_budget(DATASET, 4.0)
    dp(ADMIN).dp.set_budget(DATASET, 1.0, project=PROJECT)
    frame = owner.dp.budgets(DATASET).set_index("scope")
    assert frame.loc["all projects", "epsilon"] == 4.0 and frame.loc[PROJECT, "set_by"] == ADMIN
    owner.dp.set_budget(DATASET, 0.0, project=PROJECT)  # zero stops every further query
    with pytest.raises(BudgetExceeded):
        dp(ANALYST).project(PROJECT).dp.count(DATASET, epsilon=0.01)


def test_numbers_made_outside_project_dp_cannot_be_recorded_as_dp_results(dp) -> None:
    analyst = dp(ANALYST)
    project = analyst.project(PROJECT)
    real = project.dp.count(DATASET, epsilon=0.1)
    forged = copy.copy(real)
    forged.table = real.table * 0 + 12345
    state = snapshot(analyst)
    with pytest.raises(InvalidInput, match="recorded by the workbench itself"):
        project.outputs.record(forged, name="forged", derived_from=[DATASET])  # its ledger entry is taken
    forged.properties = {"dp": {**real.properties["dp"], "ledger": []}}
    with pytest.raises(InvalidInput, match="recorded by the workbench itself"):
        project.outputs.record(forged, name="forged", derived_from=[DATASET])
    assert snapshot(analyst) == state


def test_the_demo_sets_budgets_and_spends_some_on_a_dp_table(demo_as) -> None:
    project = demo_as("sanjay.patel").project("m1-economic-inactivity")
    budget = project.dp.budget().set_index(["dataset_id", "scope"])
    assert budget.loc[("ons.lfs", "m1-economic-inactivity"), "spent"] == 0.5  # the demo's one DP table
    assert budget.loc[("ons.lfs", "all projects"), "epsilon"] == 10
    outputs = project.outputs.list()
    assert "dp" in set(outputs["kind"])


def test_a_query_the_budget_cannot_pay_is_refused_before_any_data_is_read(dp) -> None:
    analyst = dp(ANALYST)
    path = analyst._ctx.vault.dataset_path(DATASET)
    path.rename(path.with_suffix(".gone"))  # reading it now would fail with NotFound
    with pytest.raises(BudgetExceeded, match="remaining"):
        analyst.project(PROJECT).dp.count(DATASET, epsilon=2.5)
    assert spent(analyst) == 0
