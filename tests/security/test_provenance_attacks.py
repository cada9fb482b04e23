"""The provenance attacks, tried as a hostile analyst would, embedded and over the service (``kernel``): rows of
one dataset saved declaring another as their source keep their true lineage (the true owner sees the copy) and
cannot be queried with differential privacy; one person's values copied under made-up keys cannot be queried
with differential privacy either; a respondent-level table made of rows repeated ten times never passes."""

from __future__ import annotations

import pytest
from factories import admissions, record
from helpers import ANALYST, DATASET, OTHER_OWNER, OWNER, PROJECT, Unchanged

from workbench.errors import InvalidInput

OTHER = "dhsc.admissions"


def second_dataset(desk) -> None:
    """A second dataset, of another owner, granted to the project, and a privacy budget on both."""
    desk(OTHER_OWNER).catalogue.register(record(localId=OTHER), admissions())
    request = desk(ANALYST).project(PROJECT).request_access(OTHER, justification="Compare")
    desk(OTHER_OWNER).owner.decide(request["id"], "approve")
    desk(OWNER).dp.set_budget(DATASET, 3.0)
    desk(OTHER_OWNER).dp.set_budget(OTHER, 3.0)


def test_a_laundered_lineage_keeps_the_true_source_and_dp_refuses_it(kernel, desk) -> None:
    second_dataset(desk)
    project = kernel(ANALYST).project(PROJECT)
    rows = project.load(DATASET, ["age_band", "cost"])
    saved = project.save(rows, "laundered", derived_from=[OTHER])
    assert DATASET in saved["sources"] and OTHER in saved["sources"]
    unchanged = Unchanged(desk(OWNER))
    with pytest.raises(InvalidInput, match="saved from a kernel"):
        project.dp.crosstab("laundered", "age_band", epsilon=1.0)
    unchanged.check()
    report = desk(OWNER).owner.usage(DATASET)
    assert "laundered" in set(report.derived["name"])  # the true owner sees the copy


def test_forged_person_keys_cannot_buy_differential_privacy(kernel, desk) -> None:
    desk(OWNER).dp.set_budget(DATASET, 3.0)
    project = kernel(ANALYST).project(PROJECT)
    one = project.load(DATASET, ["age_band", "cost"]).iloc[[0]]
    forged = one.loc[one.index.repeat(2000)].reset_index(drop=True)
    forged["nhs_number"] = [f"fake{i}" for i in range(len(forged))]
    project.save(forged, "forged", derived_from=[DATASET])
    unchanged = Unchanged(desk(OWNER))
    with pytest.raises(InvalidInput, match=r"saved from a kernel.*project\.derive"):
        project.dp.mean("forged", "cost", bounds=(0, 10_000), epsilon=0.5)
    unchanged.check()
    assert project.dp.budget().set_index("dataset_id").loc[DATASET, "spent"].max() == 0


def test_rows_repeated_ten_times_never_make_a_passing_table(kernel) -> None:
    project = kernel(ANALYST).project(PROJECT)
    rows = project.load(DATASET, ["age_band", "length_of_stay", "cost"])
    repeated = rows.loc[rows.index.repeat(10)].reset_index(drop=True)
    table = project.tables.crosstab(repeated, "age_band", "length_of_stay")
    assert table.status != "pass"
    assert table.status == "fail" or any("person" in r for r in table.properties.get("review_reasons", []))
