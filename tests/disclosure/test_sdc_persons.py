"""Disclosure rules that count people: with ``persons=`` the threshold counts distinct persons per cell and margin,
and dominance, p% and negatives judge each person's summed contribution — so duplicated rows, or one person's many
small rows, are seen for what they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.errors import InvalidInput


def _people(n_people: int, copies: int, seed: int = 1) -> pd.DataFrame:
    """``n_people`` respondents, each row repeated ``copies`` times (one person, several rows)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"pid": np.arange(n_people), "region": rng.choice(["North", "South"], n_people),
                          "sex": rng.choice(["F", "M"], n_people), "income": rng.lognormal(10, 0.3, n_people)})
    return frame.loc[frame.index.repeat(copies)].reset_index(drop=True)


def test_duplicated_rows_of_few_people_fail_the_threshold_that_rows_would_pass() -> None:
    frame = _people(30, 10)  # 300 rows, 30 people: about 7 per cell
    by_rows = sdc.crosstab(frame.region, frame.sex)
    by_persons = sdc.crosstab(frame.region, frame.sex, persons=frame.pid)
    assert by_rows.status == "pass"
    assert by_persons.status_before_mitigation == "fail"
    assert by_persons.flags["threshold"].to_numpy().all()
    distinct = frame.groupby(["region", "sex"]).pid.nunique().unstack()
    np.testing.assert_array_equal(by_persons.measures["threshold"].to_numpy(), distinct.to_numpy())
    # the table itself is what pandas gives: rows, not persons
    pd.testing.assert_frame_equal(by_persons.table, pd.crosstab(frame.region, frame.sex))
    assert by_persons.properties["privacy_unit"] == "person" and by_rows.properties["privacy_unit"] == "row"
    reasons = by_persons.failures()["reason"]
    assert reasons.str.contains("persons, fewer than 10").all() and not reasons.str.contains("records").any()
    assert "cells with fewer than 10 persons" in by_persons.explain()
    assert "records" not in by_persons.explain()


def test_one_person_with_many_small_rows_dominates_the_cell() -> None:
    # 20 people with one row of 1; person 0 also has 60 more rows of 10: no row dominates, the person does
    frame = pd.DataFrame({"pid": list(range(20)) + [0] * 60, "value": [1.0] * 20 + [10.0] * 60})
    frame["group"], frame["col"] = "g", "c"
    by_rows = sdc.crosstab(frame.group, frame.col, values=frame.value, aggfunc="sum",
                           settings=DisclosureSettings(threshold=5))
    by_persons = sdc.crosstab(frame.group, frame.col, values=frame.value, aggfunc="sum", persons=frame.pid,
                              settings=DisclosureSettings(threshold=5))
    assert "dominance" not in by_rows.failing_rules
    assert {"dominance", "p_percent"} <= set(by_persons.failing_rules)
    share = by_persons.measures["dominance"].iat[0, 0]
    assert share == pytest.approx((601 + 1) / 620)
    assert "largest persons' contributions" in by_persons.failures().set_index("rule").loc["dominance", "reason"]


def test_margins_count_a_person_once_across_the_cells_of_a_row() -> None:
    # six people, each with a row in both columns of row "a"; twenty people in row "b", one column each
    a = pd.DataFrame({"pid": np.repeat(np.arange(6), 2), "row": "a", "col": ["x", "y"] * 6})
    b = pd.DataFrame({"pid": np.arange(100, 120), "row": "b", "col": ["x", "y"] * 10})
    frame = pd.concat([a, b], ignore_index=True)
    frame["value"] = 5.0
    out = sdc.crosstab(frame.row, frame.col, margins=True, persons=frame.pid,
                       settings=DisclosureSettings(threshold=7, mitigation="none"))
    counts = out.flags["threshold"]
    measures = out.measures["threshold"]
    assert counts.loc["a", "All"] and measures.loc["a", "All"] == 6  # not 12: the same six people
    assert not counts.loc["b", "All"]
    # column totals: x holds the six of row a and ten of row b → 16 persons; grand total 26 persons
    table = sdc.crosstab(frame.row, frame.col, margins=True, persons=frame.pid,
                         settings=DisclosureSettings(threshold=30, mitigation="none"))
    assert table.measures["threshold"].loc["All", "x"] == 16
    assert table.measures["threshold"].loc["All", "All"] == 26
    assert table.table.loc["All", "All"] == 32  # the table counts rows


def test_negatives_are_judged_on_each_persons_sum() -> None:
    rows = [(0, 5.0), (0, -2.0)] + [(i, 3.0) for i in range(1, 12)]
    frame = pd.DataFrame(rows, columns=["pid", "value"]).assign(g="g", c="c")
    by_rows = sdc.crosstab(frame.g, frame.c, values=frame.value, aggfunc="sum")
    by_persons = sdc.crosstab(frame.g, frame.c, values=frame.value, aggfunc="sum", persons=frame.pid)
    assert "negative" in by_rows.failing_rules
    assert "negative" not in by_persons.failing_rules  # person 0 contributes 3 in all
    frame.loc[0, "value"] = 1.0  # person 0: 1 - 2 = -1
    negative = sdc.crosstab(frame.g, frame.c, values=frame.value, aggfunc="sum", persons=frame.pid)
    assert "negative" in negative.failing_rules
    assert "1 persons whose contributions sum to a negative" in negative.explain()


def _reference(frame: pd.DataFrame, rows: str, cols: str, value: str, n: int) -> dict[str, pd.DataFrame]:
    """Per cell, margin and grand total: distinct persons, and the n largest per-person sums' share of the total."""
    def stats(keys: list[str]) -> pd.DataFrame:
        grouped = frame.groupby([*keys, "pid"])[value].sum() if keys else frame.groupby("pid")[value].sum()
        by = grouped.groupby(level=list(range(len(keys)))) if keys else None
        if by is None:
            return pd.DataFrame({"persons": [grouped.size],
                                 "share": [grouped.nlargest(n).sum() / grouped.sum()]})
        return pd.DataFrame({"persons": by.size(), "share": by.apply(lambda s: s.nlargest(n).sum() / s.sum())})
    return {"cells": stats([rows, cols]), "rows": stats([rows]), "cols": stats([cols]), "all": stats([])}


def test_the_person_statistics_match_a_plain_groupby() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame({"pid": rng.integers(0, 400, n), "r": rng.choice(list("abcd"), n),
                          "c": rng.choice(list("xyz"), n), "v": rng.lognormal(3, 1.5, n)})
    settings = DisclosureSettings(threshold=10_000, dominance_k=0.01, mitigation="none")  # every cell fails: measures
    out = sdc.crosstab(frame.r, frame.c, values=frame.v, aggfunc="sum", margins=True, persons=frame.pid,
                       settings=settings)
    ref = _reference(frame, "r", "c", "v", settings.dominance_n)
    persons, shares = out.measures["threshold"], out.measures["dominance"]
    for (r, c), row in ref["cells"].iterrows():
        assert persons.loc[r, c] == row.persons and shares.loc[r, c] == pytest.approx(row.share)
    for r, row in ref["rows"].iterrows():
        assert persons.loc[r, "All"] == row.persons and shares.loc[r, "All"] == pytest.approx(row.share)
    for c, row in ref["cols"].iterrows():
        assert persons.loc["All", c] == row.persons and shares.loc["All", c] == pytest.approx(row.share)
    assert persons.loc["All", "All"] == ref["all"].persons[0]
    assert shares.loc["All", "All"] == pytest.approx(ref["all"].share[0])
    # the same through pandas' own table (pivot_table) and with text keys
    pivot = sdc.pivot_table(frame, values="v", index="r", columns="c", aggfunc="sum", margins=True,
                            persons=frame.pid.map("p{:04d}".format), settings=settings)
    np.testing.assert_array_equal(pivot.measures["threshold"].to_numpy(), persons.to_numpy())
    np.testing.assert_allclose(pivot.measures["dominance"].to_numpy(), shares.to_numpy())


def test_pivot_groupby_and_histogram_take_persons() -> None:
    frame = _people(30, 10, seed=4)
    settings = DisclosureSettings(threshold=20)  # 30 people: every cell, group and bin has fewer
    for out in (sdc.pivot_table(frame, values="income", index="region", columns="sex", aggfunc="mean",
                                persons=frame.pid, settings=settings),
                sdc.groupby_agg(frame, "region", "income", ["mean", "count"], persons=frame.pid, settings=settings),
                sdc.histogram(frame.income, bins=[0, 20_000, 40_000, 1e9], persons=frame.pid, settings=settings)):
        assert out.properties["privacy_unit"] == "person"
        assert out.status_before_mitigation == "fail" and "threshold" in out.failing_rules, out.method
        assert np.nanmax(out.measures["threshold"].to_numpy(dtype=float)) <= 30
    rows = sdc.groupby_agg(frame, "region", "income", ["mean", "count"], settings=settings)
    assert rows.properties["privacy_unit"] == "row" and "threshold" not in rows.failing_rules


def test_a_person_key_per_row_is_required() -> None:
    frame = _people(30, 2)
    with pytest.raises(InvalidInput, match="one person key per row") as caught:
        sdc.crosstab(frame.region, frame.sex, persons=frame.pid[:10])
    assert caught.value.field == "persons"
    keys = frame.pid.astype(object)
    keys.iloc[3] = None
    with pytest.raises(InvalidInput, match="no person key"):
        sdc.pivot_table(frame, values="income", index="region", persons=keys)
    with pytest.raises(InvalidInput, match="person key of each row"):
        sdc.groupby_agg(frame, "region", "income", persons="pid")


def test_one_row_per_person_gives_the_row_rules() -> None:
    frame = _people(400, 1, seed=9)
    for kwargs in ({}, {"values": frame.income, "aggfunc": "sum", "margins": True}):
        rows = sdc.crosstab(frame.region, frame.sex, **kwargs)
        persons = sdc.crosstab(frame.region, frame.sex, persons=frame.pid, **kwargs)
        for name, flag in rows.flags.items():
            pd.testing.assert_frame_equal(flag, persons.flags[name])
            pd.testing.assert_frame_equal(rows.measures[name], persons.measures[name])
        pd.testing.assert_frame_equal(rows.safe_table, persons.safe_table)


@pytest.mark.slow
def test_an_output_can_be_sent_to_review_and_keeps_the_reason(tmp_path) -> None:
    frame = _people(400, 1, seed=2)
    passing = sdc.crosstab(frame.region, frame.sex)
    failing = sdc.crosstab(frame.region, frame.sex, settings=DisclosureSettings(threshold=500, mitigation="none"))
    for out in (passing, failing):
        out.require_review("rows may not be people")
        out.require_review("rows may not be people")  # once is enough
    assert (passing.status, passing.status_before_mitigation) == ("review", "review")
    assert failing.status == "fail"
    assert passing.review_reasons == ["rows may not be people"]
    assert "Review: rows may not be people" in passing.explain()
    assert "review: rows may not be people" in passing.summary() and "rows may not be people" in passing._repr_html_()
    back = sdc.read_results_json(sdc.to_results_json([passing], tmp_path / "out").parent)
    (read,) = back.values()
    assert read.status == "review" and read.review_reasons == ["rows may not be people"]
    assert read.privacy_unit == "row"
