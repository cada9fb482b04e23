"""Disclosure-checked tables bound to a project: recorded as outputs, with the workspace's settings,
persisted exceptions, and ACRO/SACRO results.json written by the project and read back identically."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import ADMIN, ANALYST, DATASET, OTHER_PROJECT, PROJECT, SECOND_ANALYST, grant
from sqlalchemy import select

from workbench import disclosure as sdc
from workbench.db.schema import audit_events
from workbench.errors import AccessDenied, InvalidInput, NotFound, WorkbenchError


@pytest.fixture
def project(governed):
    grant(governed)
    return governed(ANALYST).project(PROJECT)


def same(a, b) -> None:
    """Two outputs say the same thing."""
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.safe_table, b.safe_table)
    assert a.flags.keys() == b.flags.keys()
    for rule in a.flags:
        assert (a.flags[rule].to_numpy() == b.flags[rule].to_numpy()).all(), rule
    assert (a.status, a.kind, a.method, a.exception, a.comments) == (b.status, b.kind, b.method, b.exception,
                                                                     b.comments)


def test_tables_are_checked_with_workspace_settings_and_recorded(project, governed) -> None:
    data = project.load(DATASET)
    out = project.tables.crosstab(data, "age_band", "length_of_stay", values="cost", aggfunc="mean")
    assert out.status in ("fail", "review") and out.flags["threshold"].to_numpy().any()  # 100 rows, 90 cells
    listed = project.outputs.list()
    assert list(listed["id"]) == [1] and listed.loc[0, "sources"] == [DATASET]
    assert listed.loc[0, "name"] == "crosstab: mean of cost by age_band and length_of_stay"
    same(project.outputs.get(1), out)
    governed(ADMIN).disclosure.update_settings(threshold=2)
    lenient = project.tables.crosstab(data, "age_band", "length_of_stay", name="lenient")
    assert lenient.settings.threshold == 2
    assert not lenient.flags["threshold"].to_numpy().all()
    expected = sdc.crosstab(data["age_band"], data["length_of_stay"], settings=lenient.settings)
    pd.testing.assert_frame_equal(lenient.table, expected.table)


def test_exceptions_and_comments_persist_and_are_audited(project) -> None:
    data = project.load(DATASET)
    out = project.tables.groupby_agg(data, "age_band", "cost", ["mean", "max"])
    out.request_exception("Age bands are published by NHS Digital at this level.")
    out.add_comment("Shown in figure 2.")
    stored = project.outputs.get(1)
    assert stored.exception == "Age bands are published by NHS Digital at this level."
    assert stored.comments == ["Shown in figure 2."]
    assert project.outputs.list().loc[0, "exception"] == stored.exception
    with project._ctx.db.read() as conn:
        actions = [r.action for r in conn.execute(select(audit_events).order_by(audit_events.c.seq))]
    assert actions[-3:] == ["outputs.exception", "outputs.comment", "outputs.read"]
    with pytest.raises(InvalidInput, match="justification"):
        out.request_exception(" ")


def test_results_json_written_by_the_project_reads_back_identically(project, tmp_path) -> None:
    data = project.load(DATASET)
    made = [
        project.tables.crosstab(data, "age_band", "length_of_stay", margins=True),
        project.tables.pivot_table(data, values=["cost", "length_of_stay"], index="age_band", aggfunc=["mean", "sum"]),
        project.tables.histogram(data, "cost", bins=[0, 1000, 2000, 5000, 20000]),
        project.tables.ols(data, "cost ~ length_of_stay"),
    ]
    made[0].request_exception("Margins are published.")
    path = project.outputs.to_results_json(tmp_path / "release")
    read = sdc.read_results_json(path.parent)
    assert list(read) == [f"{PROJECT}_output_{i}" for i in range(1, 5)]
    for output, back in zip(made, read.values(), strict=True):
        same(project.outputs.get(int(back.uid.rsplit("_", 1)[1])), back)
        same(output, back)
    one = project.outputs.to_results_json(tmp_path / "one", ids=[2])
    assert list(sdc.read_results_json(one.parent)) == [f"{PROJECT}_output_2"]


def test_refusals(project, governed, tmp_path) -> None:
    data = project.load(DATASET)
    with pytest.raises(InvalidInput, match="derived_from"):
        project.tables.crosstab(pd.DataFrame({"a": ["x"] * 20, "b": ["y"] * 20}), "a", "b")
    with pytest.raises(InvalidInput, match="neither a dataset granted"):
        project.tables.crosstab(data, "age_band", "cost", derived_from=["dhsc.other"])
    with pytest.raises(InvalidInput, match="nope not among the data's columns"):
        project.tables.crosstab(data, "nope", "cost")
    with project._ctx.db.read() as conn:  # a refused table touched the project's data: audited
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first()
    assert (last["action"], last["outcome"], last["actor"]) == ("outputs.create", "refused", ANALYST)
    assert last["resource"] == f"a crosstab output in project {PROJECT}"
    assert "nope not among the data's columns" in last["detail"]["reason"]
    with pytest.raises(InvalidInput, match=r"'I' at position 8 is a function call"):
        project.tables.ols(data, "cost ~ I(length_of_stay)")
    with pytest.raises(InvalidInput, match="DataFrame"):
        project.tables.crosstab([1, 2], "a", "b")
    with pytest.raises(InvalidInput, match="no outputs to write"):
        project.outputs.to_results_json(tmp_path / "empty")
    outsider = governed(SECOND_ANALYST).project(PROJECT)
    with pytest.raises(AccessDenied, match="not a member"):
        outsider.tables.crosstab(data, "age_band", "sex")  # refused before any work (no such column either)
    with pytest.raises(AccessDenied, match="not a member"):
        outsider.outputs.list()
    project.tables.crosstab(data, "age_band", "length_of_stay")
    with pytest.raises(NotFound, match="no output 9"):
        project.outputs.get(9)
    with pytest.raises(NotFound, match="no output 1"):
        governed(ANALYST).project(OTHER_PROJECT).outputs.get(1)  # an id of another project
    governed(ADMIN).project(PROJECT).update(status="closed")
    closed = governed(ANALYST).project(PROJECT)
    with pytest.raises(AccessDenied, match="closed and can only be read"):
        closed.tables.crosstab(data, "age_band", "length_of_stay")
    assert len(closed.outputs.list()) == 1  # still readable
    stored = next((closed._ctx.vault.root / "projects" / PROJECT / "outputs" / "1").glob("*.csv"))
    stored.write_text("tampered\n")
    with pytest.raises(WorkbenchError, match="changed or removed outside the workbench"):
        closed.outputs.get(1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bins": 10}, "range: give range=\\(low, high\\) from what is publicly known"),
    ({"bins": 10, "range": (0, float("nan"))}, "finite"),
    ({"bins": 10, "range": (50, 50)}, "reversed or equal"),
    ({"bins": -1, "range": (0, 100)}, "number of bins"),
])
def test_a_histogram_without_a_range_of_its_own_records_nothing(project, kwargs, message) -> None:
    data = project.load(DATASET)
    with pytest.raises(InvalidInput, match=message):
        project.tables.histogram(data, "cost", **kwargs)
    assert project.outputs.list().empty
    with project._ctx.db.read() as conn:  # the refusal touched the project's data: audited
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc())).mappings().first()
    assert (last["action"], last["outcome"]) == ("outputs.create", "refused")
