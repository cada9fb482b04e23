"""The demo story carried to a release: a demo analyst takes a table and a DP result of their project to a
released package with two output checkers' reviews, and the dataset's owner sees the release."""

from __future__ import annotations

import pytest

from workbench.errors import AccessDenied
from workbench.outputs.release import verify_package

ANALYST, CHECKERS, PROJECT = "sanjay.patel", ("mark.davies", "nadia.rahman"), "m1-economic-inactivity"
MEMBER_CHECKER = "ruth.sinclair"  # the project's own reviewer: never one of its output checkers


def test_demo_table_and_dp_result_to_a_released_package(demo_as) -> None:
    analyst = demo_as(ANALYST)
    project = analyst.project(PROJECT)
    lfs = project.load("ons.lfs")
    table = project.tables.crosstab(lfs, "region", "ilo_status", name="ILO status by region")
    dp = project.dp.crosstab("ons.lfs", "region", epsilon=0.5, name="DP respondents by region")
    if table.status != "pass":
        table.request_exception("Regional ILO status is published by ONS at this level.")
    request = project.outputs.submit([table, dp], title="Inactivity by region", context={
        "shown": "ILO status by region", "population": "LFS respondents aged 16-64",
        "purpose": "Mission 1 evaluation report", "differences": "First release"})
    for checker in CHECKERS:
        desk = demo_as(checker).review
        assert request.id in set(desk.queue()["id"])
        for output_id in request.outputs:
            desk.decide(request.id, output_id, "approve", "Regional level, exception accepted")
    with pytest.raises(AccessDenied, match="member of project m1-economic-inactivity"):
        demo_as(MEMBER_CHECKER).review.decide(request.id, request.outputs[0], "approve", "Mine to check")
    demo_as(CHECKERS[0]).review.conclude(request.id, "approve")
    released = demo_as(CHECKERS[1]).review.release(request.id)
    assert verify_package(released["package"]) == []
    owner = demo_as(ANALYST).catalogue["ons.lfs"].owner
    usage = demo_as(owner).owner.usage("ons.lfs").releases
    usage = usage[usage["request_id"] == request.id]  # only this request's outputs
    assert list(usage["output"]) == ["ILO status by region", "DP respondents by region"]
    assert set(usage["project_id"]) == {PROJECT}
