"""The demo story carried to a release: a demo analyst takes a table and a DP result of their project to a
released package with two output checkers' reviews, and the dataset's owner sees the release."""

from __future__ import annotations

import shutil

import pytest

import workbench
from workbench.errors import AccessDenied
from workbench.outputs.release import verify_package

ANALYST, CHECKERS, PROJECT = "sanjay.patel", ("mark.davies", "nadia.rahman"), "m1-economic-inactivity"
MEMBER_CHECKER = "ruth.sinclair"  # the project's own reviewer: never one of its output checkers


@pytest.fixture
def demo_copy(demo_home, tmp_path, monkeypatch):
    """A private copy of the shared demo workspace (this test changes it)."""
    home = tmp_path / "demo"
    shutil.copytree(demo_home, home)
    opened = []

    def connect(user: str):
        monkeypatch.setenv("WORKBENCH_USER", user)
        opened.append(workbench.connect(home, create=False))
        return opened[-1]

    yield connect
    for ws in opened:
        ws.close()


def test_demo_table_and_dp_result_to_a_released_package(demo_copy) -> None:
    analyst = demo_copy(ANALYST)
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
        desk = demo_copy(checker).review
        assert request.id in set(desk.queue()["id"])
        for output_id in request.outputs:
            desk.decide(request.id, output_id, "approve", "Regional level, exception accepted")
    with pytest.raises(AccessDenied, match="member of project m1-economic-inactivity"):
        demo_copy(MEMBER_CHECKER).review.decide(request.id, request.outputs[0], "approve", "Mine to check")
    demo_copy(CHECKERS[0]).review.conclude(request.id, "approve")
    released = demo_copy(CHECKERS[1]).review.release(request.id)
    assert verify_package(released["package"]) == []
    owner = demo_copy(ANALYST).catalogue["ons.lfs"].owner
    usage = demo_copy(owner).owner.usage("ons.lfs").releases
    usage = usage[usage["request_id"] == request.id]  # the demo's notebooks may have released others
    assert list(usage["output"]) == ["ILO status by region", "DP respondents by region"]
    assert set(usage["project_id"]) == {PROJECT}
