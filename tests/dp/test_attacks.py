"""``project.dp`` against a motivated attacker: a kernel that seeds every global generator, filters that match
nobody, bounds far from the data. No published quantity — value, accuracy, properties, audit detail, error —
may depend on the data except through a mechanism's noise."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from factories import patients
from helpers import ANALYST, DATASET, OWNER, PROJECT, grant, snapshot
from sqlalchemy import func, select

from workbench.db.schema import audit_events
from workbench.errors import InvalidInput

QUERIES = {
    "count": lambda dp, **kw: dp.count(DATASET, epsilon=1, **kw),
    "sum": lambda dp, **kw: dp.sum(DATASET, "cost", bounds=(0, 10_000), epsilon=1, **kw),
    "mean": lambda dp, **kw: dp.mean(DATASET, "cost", bounds=(0, 10_000), epsilon=1, **kw),
    "crosstab": lambda dp, **kw: dp.crosstab(DATASET, "age_band", epsilon=1, **kw),
    "crosstab sum": lambda dp, **kw: dp.crosstab(DATASET, "age_band", values="cost", aggfunc="sum",
                                                 bounds=(0, 10_000), epsilon=1, **kw),
    "crosstab mean": lambda dp, **kw: dp.crosstab(DATASET, "age_band", values="cost", aggfunc="mean",
                                                  bounds=(0, 10_000), epsilon=1, **kw),
    "histogram": lambda dp, **kw: dp.histogram(DATASET, "cost", bounds=(0, 10_000), bins=4, epsilon=1, **kw),
    "quantile": lambda dp, **kw: dp.quantile(DATASET, "cost", 0.5, bounds=(0, 10_000), epsilon=1, **kw),
}


@pytest.fixture
def dp(governed):
    """PROJECT may query DATASET's non-identifying columns with a generous budget."""
    grant(governed, columns=["admission_id", "age_band", "length_of_stay", "cost", "admitted"])
    owner = governed(OWNER)
    owner.dp.set_budget(DATASET, 1000.0)
    owner.dp.set_budget(DATASET, 1000.0, project=PROJECT)
    return governed


def refusals(ws) -> int:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(func.count()).select_from(audit_events)
                            .where(audit_events.c.outcome.in_(["refused", "denied"]))
                            .where(audit_events.c.action == "dp.query")).scalar_one()


class _Tripwire:
    """Stands in for a global generator: any use fails the test, naming what was used."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{self._what}.{name} was used: a kernel can seed and replay it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{self._what} was called: a kernel can seed and replay it")


@contextmanager
def global_generators_forbidden() -> Iterator[None]:
    """numpy's global RandomState and ``random``'s hidden instance, and every module function bound to them,
    replaced by tripwires — only inside the block, so that the test runner's own seeding (pytest-randomly seeds
    ``random`` around every test) finds them restored."""
    with pytest.MonkeyPatch.context() as patch:
        numpy_global = np.random.mtrand._rand
        for name in dir(np.random):
            if getattr(getattr(np.random, name), "__self__", None) is numpy_global:
                patch.setattr(np.random, name, _Tripwire(f"np.random.{name}"))
        patch.setattr(np.random.mtrand, "_rand", _Tripwire("np.random.mtrand._rand"))
        python_global = random._inst  # type: ignore[attr-defined]
        for name in dir(random):
            if getattr(getattr(random, name), "__self__", None) is python_global:
                patch.setattr(random, name, _Tripwire(f"random.{name}"))
        patch.setattr(random, "_inst", _Tripwire("random._inst"))
        yield


@pytest.mark.parametrize("kind", list(QUERIES))
def test_no_dp_query_draws_from_a_global_generator(dp, kind) -> None:
    project = dp(ANALYST).project(PROJECT)
    with global_generators_forbidden():
        with pytest.raises(AssertionError, match="seed and replay"):  # the tripwires are armed
            np.random.random()
        out = QUERIES[kind](project.dp)
    assert out.kind == "dp" and np.isfinite(out.table.to_numpy(dtype=float)).any()


def test_seeding_every_global_generator_before_identical_queries_replays_nothing(dp) -> None:
    """The attack that recovered exact values: seed the kernel's generators, ask twice, compare. Under identical
    seeds the answers still vary as independent draws do."""
    project = dp(ANALYST).project(PROJECT)
    answers: dict[str, list[float]] = {"quantile": [], "count": []}
    for _ in range(6):
        np.random.seed(20)
        random.seed(20)
        answers["quantile"].append(float(project.dp.quantile(DATASET, "cost", 0.5, bounds=(0, 10_000),
                                                             epsilon=0.5).table.iat[0, 0]))
        np.random.seed(20)
        random.seed(20)
        answers["count"].append(float(project.dp.count(DATASET, epsilon=0.1).table.iat[0, 0]))
    # six equal answers by chance: at most 0.1^5 for the count, less for the quantile over 100,001 candidates
    assert len(set(answers["quantile"])) > 1 and len(set(answers["count"])) > 1


PUBLIC_BUT_NOISY = {"ledger", "remaining", "counts", "query"}  # noisy counts of a mean; the spec; the budget


@pytest.mark.parametrize("kind", list(QUERIES))
def test_a_filter_matching_nobody_publishes_nothing_that_says_so(dp, kind) -> None:
    """The same query on a filter keeping every row, one keeping a few and one keeping none: each is answered
    (no "no rows" error, an oracle for a count of 0), and every published property but the noisy values is the
    same — the accuracy, widths and notes come from the spec, never the rows."""
    project = dp(ANALYST).project(PROJECT)
    wheres = [None, {"age_band": "65+"}, {"cost": {">": 1e12}}]  # the last matches no row
    outputs = [QUERIES[kind](project.dp, where=where) for where in wheres]
    published = []
    for out in outputs:
        props = dict(out.properties["dp"])
        if kind.endswith("mean"):  # a mean's width is computed from its noisy counts: post-processing
            props.pop("half_width")
        published.append({k: v for k, v in props.items() if k not in PUBLIC_BUT_NOISY})
        assert out.table.shape == outputs[0].table.shape and list(out.table.index) == list(outputs[0].table.index)
    assert published[0] == published[1] == published[2]
    with dp(OWNER)._ctx.db.read() as conn:
        spends = [row.detail for row in conn.execute(select(audit_events).where(audit_events.c.action == "dp.spend")
                                                     .order_by(audit_events.c.seq))]
    assert [sorted(d) for d in spends] == [sorted(spends[0])] * 3
    assert {d["epsilon"] for d in spends} == {1.0}


@pytest.mark.parametrize("kind", ["sum", "mean", "histogram", "quantile", "crosstab mean"])
def test_bounds_far_from_every_value_are_answered_like_any_other(dp, kind) -> None:
    """Bounds excluding all the data cannot be refused without telling that fact (an oracle on the values): the
    catalogue declares no range, so such bounds are answered — values clipped into them — with the same published
    accuracy as bounds of the same width and size around the data."""
    project = dp(ANALYST).project(PROJECT)

    def query(bounds: tuple[float, float]) -> dict:
        call = {"sum": lambda: project.dp.sum(DATASET, "cost", bounds=bounds, epsilon=1),
                "mean": lambda: project.dp.mean(DATASET, "cost", bounds=bounds, epsilon=1),
                "histogram": lambda: project.dp.histogram(DATASET, "cost", bounds=bounds, epsilon=1, bins=4),
                "quantile": lambda: project.dp.quantile(DATASET, "cost", 0.5, bounds=bounds, epsilon=1),
                "crosstab mean": lambda: project.dp.crosstab(DATASET, "age_band", values="cost", aggfunc="mean",
                                                             bounds=bounds, epsilon=1)}[kind]
        props = dict(call().properties["dp"])
        if kind.endswith("mean"):
            props.pop("half_width")
        return {k: v for k, v in props.items() if k not in PUBLIC_BUT_NOISY}

    assert query((-10_000.0, 0.0)) == query((0.0, 10_000.0))  # every cost is above 0


def test_a_quantile_states_its_accuracy_before_and_after_alike_whatever_the_bounds(dp) -> None:
    """Preview and result state the same rank half-width and grid step, from the spec alone; with bounds (0, 1e8)
    on costs of a few thousand the answer still lands within the stated interval."""
    project = dp(ANALYST).project(PROJECT)
    preview = project.dp.quantile(DATASET, "cost", 0.5, bounds=(0, 1e8), epsilon=1, preview=True)
    out = project.dp.quantile(DATASET, "cost", 0.5, bounds=(0, 1e8), epsilon=1)
    props = out.properties["dp"]
    assert preview.half_width.iat[0, 0] == props["rank_half_width"] and props["resolution"] == 1000.0
    assert "1000" in preview.note and "ranks" in preview.note and props["accuracy_note"] == preview.note
    assert "grid step of 1,000" in out._repr_html_()
    costs = np.sort(patients()["cost"].to_numpy())  # one row per person at contributions=1: the first admissions
    assert costs[0] - 500 <= out.table.iat[0, 0] <= costs[-1] + 500


REFUSED = [
    ("epsilon tiny", lambda dp: dp.count(DATASET, epsilon=1e-12), r"below 1e-06.*from 1e-06 to 100"),
    ("epsilon huge", lambda dp: dp.count(DATASET, epsilon=1e6), r"above 100.*from 1e-06 to 100"),
    ("epsilon just above", lambda dp: dp.quantile(DATASET, "cost", 0.5, bounds=(0, 1), epsilon=100.001),
     "above 100"),
    ("epsilon inf", lambda dp: dp.sum(DATASET, "cost", bounds=(0, 1), epsilon=float("inf")), "from 1e-06 to 100"),
    ("epsilon nan", lambda dp: dp.mean(DATASET, "cost", bounds=(0, 1), epsilon=float("nan")), "from 1e-06 to 100"),
    ("epsilon huge, preview", lambda dp: dp.count(DATASET, epsilon=1e6, preview=True), "above 100"),
    ("noise past exact integers", lambda dp: dp.sum(DATASET, "cost", bounds=(0, 1e15), epsilon=1e-6,
                                                    contributions=1000), r"too small for bounds.*from 0\.0001 to 100"),
    ("noise past exact integers, mean", lambda dp: dp.crosstab(DATASET, "age_band", values="cost", aggfunc="mean",
                                                               bounds=(0, 1e15), epsilon=1e-5,
                                                               contributions=1000), "too small for bounds"),
    ("bounds too narrow for their size", lambda dp: dp.quantile(DATASET, "cost", 0.5, bounds=(1e15 - 1, 1e15),
                                                                epsilon=1), "too narrow"),
    ("bounds equal", lambda dp: dp.histogram(DATASET, "cost", bounds=(5, 5), epsilon=1), "reversed or equal"),
    ("bounds reversed", lambda dp: dp.quantile(DATASET, "cost", 0.5, bounds=(10, 0), epsilon=1), "reversed"),
    ("bounds nan", lambda dp: dp.sum(DATASET, "cost", bounds=(float("nan"), 1), epsilon=1), "finite"),
    ("bounds huge", lambda dp: dp.sum(DATASET, "cost", bounds=(0, 1e16), epsilon=1), "no larger than 1e\\+15"),
    ("bounds subnormal", lambda dp: dp.sum(DATASET, "cost", bounds=(0, 1e-320), epsilon=1), "too small to scale"),
    ("bounds subnormal, quantile", lambda dp: dp.quantile(DATASET, "cost", 0.5, bounds=(-1e-310, 1e-310),
                                                          epsilon=1), "at least 1e-100"),
]


@pytest.mark.parametrize(("case", "call", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_epsilon_and_bounds_outside_what_is_accepted_are_refused_saying_the_range(dp, case, call,
                                                                                 message) -> None:
    analyst = dp(ANALYST)
    state, audited = snapshot(analyst), refusals(analyst)
    with pytest.raises(InvalidInput, match=message):
        call(analyst.project(PROJECT).dp)
    assert snapshot(analyst) == state and refusals(analyst) == audited + 1


def test_epsilon_at_either_end_of_the_accepted_range_is_answered(dp) -> None:
    project = dp(ANALYST).project(PROJECT)
    assert project.dp.count(DATASET, epsilon=1e-6).kind == "dp"
    assert project.dp.sum(DATASET, "cost", bounds=(0, 10_000), epsilon=100).kind == "dp"
    assert project.dp.sum(DATASET, "cost", bounds=(0, 1e15), epsilon=0.1, contributions=1000).kind == "dp"


def test_a_result_on_a_frame_cut_by_where_releases_no_hash_of_its_rows(dp) -> None:
    """A frame derived with a narrow filter holds a row or none; the SHA-256 of its file, recorded as the result's
    origin and released with it, could be checked against the few files each guess would make. The origin names the
    frame by version and by how it was made (its source's file hash, columns, filter) instead — the same for a
    frame of no rows as for a frame of many."""
    from helpers import OTHER_PROJECT

    from workbench.db.schema import outputs

    grant(dp, OTHER_PROJECT, ["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    dp(OWNER).dp.set_budget(DATASET, 10.0, project=OTHER_PROJECT)
    project = dp(ANALYST).project(OTHER_PROJECT)
    origins = []
    for name, where in (("nobody", {"cost": {">": 1e12}}), ("everybody", {"cost": {">=": 0}})):
        project.derive(DATASET, columns=["nhs_number", "age_band", "cost"], where=where, new_name=name)
        out = project.dp.count(name, epsilon=0.5)
        with dp(OWNER)._ctx.db.read() as conn:
            origins.append(conn.execute(select(outputs.c.origin).where(
                outputs.c.id == int(out.uid.rsplit("_", 1)[-1]))).scalar_one())
    for origin in origins:
        assert origin["sha256"] is None and origin["kind"] == "saved"
        assert len(origin["frame_spec"]["sha256"]) == 64  # the dataset's file, as registered
    assert origins[0]["frame_spec"]["sha256"] == origins[1]["frame_spec"]["sha256"]
    everything = {k: v for k, v in origins[0].items() if k not in ("source", "spec", "frame_spec")}
    assert everything == {k: v for k, v in origins[1].items() if k not in ("source", "spec", "frame_spec")}


def test_a_mean_s_preview_on_a_derived_frame_does_not_show_the_frame_s_size(dp) -> None:
    """A frame's row count is the exact size of the filter that made it; the preview shows the width for an
    example size instead, the same for a frame of no rows as for one of many."""
    from helpers import OTHER_PROJECT

    grant(dp, OTHER_PROJECT, ["nhs_number", "age_band", "cost"], identifiers=["nhs_number"])
    dp(OWNER).dp.set_budget(DATASET, 10.0, project=OTHER_PROJECT)
    project = dp(ANALYST).project(OTHER_PROJECT)
    previews = []
    for name, where in (("nobody", {"cost": {">": 1e12}}), ("some", {"age_band": "65+"})):
        project.derive(DATASET, columns=["nhs_number", "age_band", "cost"], where=where, new_name=name)
        previews.append(project.dp.mean(name, "cost", bounds=(0, 10_000), epsilon=1, preview=True))
    assert previews[0].note == previews[1].note and "declares no row count" in previews[0].note
    assert previews[0].half_width.equals(previews[1].half_width)
