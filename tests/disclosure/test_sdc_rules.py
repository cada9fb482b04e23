"""Each rule pinned on hand-computed cells: first on statistics directly, then through a table whose every
cell was worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure import rules
from workbench.disclosure.settings import DisclosureSettings
from workbench.disclosure.stats import CellStats, group_stats

S = DisclosureSettings()


def stats(cells: list[list[float]], count: list[int] | None = None) -> CellStats:
    """Statistics of cells given as lists of contributions (NaN = a record whose value is missing)."""
    gid = np.concatenate([np.full(len(c), i) for i, c in enumerate(cells)]).astype(np.int64)
    values = np.concatenate([np.asarray(c, dtype=float) for c in cells])
    return group_stats(gid, len(cells), values, top=3)


def test_one_pass_gives_count_total_largest_negatives_and_missing() -> None:
    s = stats([[5, 1, np.nan, 3], [2, 2, 2], [-4, 9], [np.nan]])
    assert s.count.tolist() == [4, 3, 2, 1]  # the missing value is still a record
    assert s.n_valid.tolist() == [3, 3, 2, 0]
    assert s.missing.tolist() == [1, 0, 0, 1]
    assert s.total.tolist() == [9, 6, 5, 0]
    assert s.negatives.tolist() == [0, 0, 1, 0]
    assert s.top.tolist() == [[5, 3, 1], [2, 2, 2], [9, -4, 0], [0, 0, 0]]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_largest_contributions_with_ties_match_a_sort(n) -> None:
    rng = np.random.default_rng(n)
    gid = rng.integers(0, 50, 2000)
    values = rng.integers(0, 6, 2000).astype(float)  # many ties
    found = group_stats(gid, 50, values, top=n).top
    for g in range(50):
        expected = np.sort(values[gid == g])[::-1][:n]
        assert found[g, :len(expected)].tolist() == expected.tolist()


def test_threshold_counts_records_and_ignores_empty_cells() -> None:
    s = CellStats(count=np.array([0, 1, 9, 10, 25]))
    assert rules.threshold(s, S).tolist() == [False, True, True, False, False]
    assert rules.threshold(s, DisclosureSettings(threshold=26)).tolist() == [False, True, True, True, True]


def test_zeros_flags_empty_cells() -> None:
    assert rules.zeros(CellStats(count=np.array([0, 1, 3])), S).tolist() == [True, False, False]


def test_dominance_two_largest_share_at_or_over_k() -> None:
    s = stats([[1000] + [10] * 9,        # top 2: 1010 / 1090 = 92.7% -> fails
               [450, 450] + [10] * 10,   # 900 / 1000 = 90% exactly -> fails (>= k)
               [400, 400] + [20] * 10,   # 800 / 1000 = 80% -> passes
               [0, 0, 0],                # nothing to dominate
               [500, -20, 10]])          # negative: undefined here
    assert rules.dominance(s, S).tolist() == [True, True, False, False, False]
    assert np.round(rules.dominance_share(s, S)[:3], 3).tolist() == [0.927, 0.9, 0.8]
    three = DisclosureSettings(dominance_n=3, dominance_k=0.95)
    assert rules.dominance(s, three).tolist() == [False, False, False, False, False]  # 1020/1090 = 93.6%


def test_p_percent_remainder_under_p_of_the_largest() -> None:
    s = stats([[1000, 10] + [10] * 8,   # rest 80 < 100 -> fails
               [1000, 10] + [10] * 10,  # rest 100, not < 100 -> passes
               [70, 30],                # two contributors: rest 0 -> fails
               [55],                    # one contributor -> fails
               [9, 9, 9, -1]])          # negative: undefined here
    assert rules.p_percent(s, S).tolist() == [True, False, True, True, False]
    assert np.round(rules.p_ratio(s, S)[:3], 3).tolist() == [0.08, 0.1, 0.0]


def test_negative_and_missing() -> None:
    s = stats([[1, -1, 5], [np.nan, 3], [4, 4]])
    assert rules.negative(s, S).tolist() == [True, False, False]
    assert rules.missing(s, S).tolist() == [False, True, False]


def test_which_rules_apply_to_which_tables() -> None:
    assert rules.applicable(None, False, S) == ["threshold", "zeros"]
    assert rules.applicable("count", True, S) == ["threshold", "zeros"]
    magnitude = ["threshold", "zeros", "dominance", "p_percent", "all_same", "negative"]
    assert rules.applicable("mean", True, S) == magnitude
    assert rules.applicable("median", True, S) == magnitude
    assert rules.applicable("mode", True, DisclosureSettings(missing=True)) == ["threshold", "zeros", "all_same",
                                                                               "missing"]
    assert rules.applicable(None, False, DisclosureSettings(zeros=False)) == ["threshold"]
    assert rules.applicable("sum", True, DisclosureSettings(zeros=False))[:2] == ["threshold", "dominance"]


# ----- a mean table worked out by hand ------------------------------------------------------------------
def hand_table() -> pd.DataFrame:
    cells = {
        ("A", "x"): [10.0, 11.0] * 6 + [np.nan] * 2,  # 14 records: passes everything
        ("A", "y"): [1000.0] + [10.0] * 9,          # 10 records: dominance 92.7%, p: rest 80 < 100
        ("B", "x"): [500.0, 450.0] + [10.0] * 9,    # 11 records: dominance 91.3%; p: rest 90 >= 50
        ("B", "y"): [50.0, 51.0] * 4 + [52.0, np.nan],  # 10 records but 9 values: threshold (as ACRO)
        ("C", "x"): [50.0, 51.0] * 4 + [np.nan],    # 9 records, 8 values: threshold
        ("C", "y"): [30.0] * 11 + [-5.0],           # negative contribution: review
    }
    rows = [(a, b, v) for (a, b), values in cells.items() for v in values]
    return pd.DataFrame(rows, columns=["a", "b", "x"])


def test_a_hand_computed_mean_table() -> None:
    df = hand_table()
    out = sdc.crosstab(df.a, df.b, values=df.x, aggfunc="mean")
    pd.testing.assert_frame_equal(out.table, pd.crosstab(df.a, df.b, values=df.x, aggfunc="mean"))
    expected = {
        "threshold": [[False, False], [False, True], [True, False]],
        "dominance": [[False, True], [True, False], [False, False]],
        "p_percent": [[False, True], [False, False], [False, False]],
        "all_same": [[False, False], [False, False], [False, False]],
        "negative": [[False, False], [False, False], [False, True]],
    }
    assert list(out.flags) == ["threshold", "zeros", "dominance", "p_percent", "negative", "all_same"]
    assert not out.flags["zeros"].to_numpy().any()
    for name, grid in expected.items():
        assert out.flags[name].to_numpy().tolist() == grid, name
        assert out.flags[name].index.equals(out.table.index) and out.flags[name].columns.equals(out.table.columns)
    assert out.status_before_mitigation == "fail" and out.status == "review"
    assert out.measures["threshold"].loc["C", "x"] == 8  # the records with a value: a missing one adds nothing
    assert round(out.measures["dominance"].loc["A", "y"], 4) == round(1010 / 1090, 4)
    reasons = out.failures()
    assert set(reasons["rule"]) == {"threshold", "dominance", "p_percent", "negative"}
    assert round(out.table.loc["A", "x"], 1) == 10.5
    assert "8 records with a value, fewer than 10" in out.explain()
    assert "92.7% of the total" in out.explain()

    with_missing = sdc.crosstab(df.a, df.b, values=df.x, aggfunc="mean", settings=DisclosureSettings(missing=True))
    assert with_missing.flags["missing"].to_numpy().tolist() == [[True, False], [False, True], [True, False]]


def test_negative_values_alone_send_a_table_to_review() -> None:
    df = pd.DataFrame({"a": ["A"] * 12 + ["B"] * 12, "b": ["x"] * 24,
                       "x": [5.0] * 11 + [-3.0] + [4.0, 4.5] * 6})
    out = sdc.crosstab(df.a, df.b, values=df.x, aggfunc="sum")
    assert out.status == "review" and out.status_before_mitigation == "review"
    assert out.flags["negative"].to_numpy().ravel().tolist() == [True, False]
    assert not out.flags["dominance"].to_numpy().any()
    assert out.mitigation == {"method": "none"}
    pd.testing.assert_frame_equal(out.safe_table, out.table)
    failing = sdc.crosstab(df.a, df.b, values=df.x, aggfunc="sum", settings=DisclosureSettings(negative="fail"))
    assert failing.status_before_mitigation == "fail"


@pytest.mark.parametrize("aggfunc", ["mean", "sum", "median", "std", "max"])
def test_empty_cells_fail_in_value_tables_as_in_frequency_tables(aggfunc: str) -> None:
    """An empty cell of a mean (sum...) table tells that nobody has the combination, as a 0 count does: the zeros
    rule flags it (ACRO's MinimumThresholdCheck fails it too: a count of 0 is under the threshold)."""
    a = pd.Series(["A"] * 30 + ["B"] * 20, name="a")
    b = pd.Series(["x"] * 15 + ["y"] * 15 + ["x"] * 20, name="b")
    freq = sdc.crosstab(a, b)
    assert freq.table.loc["B", "y"] == 0
    assert freq.flags["zeros"].to_numpy().tolist() == [[False, False], [False, True]]
    assert sdc.crosstab(a, b, settings=DisclosureSettings(zeros=False)).status == "pass"
    values = pd.Series(range(50), dtype=float)
    table = sdc.crosstab(a, b, values=values, aggfunc=aggfunc)
    assert table.flags["zeros"].to_numpy().tolist() == [[False, False], [False, True]]
    assert table.status_before_mitigation == "fail" and "B × y: no records" in table.explain()
    assert pd.isna(table.safe_table.loc["B", "y"])
    pivot = sdc.pivot_table(pd.DataFrame({"a": a, "b": b, "v": values}), values="v", index="a", columns="b",
                            aggfunc=aggfunc)
    assert pivot.flags["zeros"].to_numpy().tolist() == [[False, False], [False, True]]
    lenient = sdc.crosstab(a, b, values=values, aggfunc=aggfunc, settings=DisclosureSettings(zeros=False))
    assert lenient.status == "pass"


def test_all_values_the_same_fails_a_magnitude_cell() -> None:
    """15 identical incomes: the mean is each person's income. ACRO's AllSameValuesCheck (0.4's
    all-values-are-same); a single value is the threshold's business, and float noise is not a difference."""
    s = stats([[500.0] * 15, [500.0] * 14 + [501.0], [0.0] * 12, [7.0], [0.1 + 0.2] * 6 + [0.3] * 6,
               [3.0, 3.0, np.nan], [-2.0] * 11])
    assert rules.all_same(s, S).tolist() == [True, False, True, False, True, True, True]
    cells = pd.DataFrame({"a": ["A"] * 15 + ["B"] * 15, "b": "x",
                          "v": [500.0] * 15 + list(np.arange(15.0) * 100 + 400)})
    out = sdc.crosstab(cells.a, cells.b, values=cells.v, aggfunc="mean")
    assert out.flags["all_same"].to_numpy().ravel().tolist() == [True, False]
    assert out.status_before_mitigation == "fail" and pd.isna(out.safe_table.loc["A", "x"])
    assert "A × x: all 15 contributions are the same" in out.explain()
    by_person = sdc.crosstab(cells.a, cells.b, values=cells.v, aggfunc="sum", persons=pd.Series(range(30)))
    assert by_person.flags["all_same"].to_numpy().ravel().tolist() == [True, False]
    # counting persons: every row of A holds 500, though the persons' sums differ (1, 2 or 3 rows each) ...
    persons = pd.Series([0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 6, 7, 8, *range(100, 115)])
    rows_same = sdc.crosstab(cells.a, cells.b, values=cells.v, aggfunc="mean", persons=persons, margins=True)
    assert rows_same.flags["all_same"].to_numpy().tolist() == [[True, True], [False, False], [False, False]]
    # ... and B's persons each sum to 1000 from different rows
    paired = pd.DataFrame({"a": "B", "b": "x", "v": [400.0, 600.0, 300.0, 700.0, 1000.0] * 3})
    sums_same = sdc.crosstab(paired.a, paired.b, values=paired.v, aggfunc="sum",
                             persons=pd.Series([0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8]))
    assert sums_same.flags["all_same"].to_numpy().tolist() == [[True]]
    assert "all_same" not in sdc.crosstab(cells.a, cells.b, values=cells.v, aggfunc="count").flags


def test_a_mode_every_contributor_shares_fails() -> None:
    """ACRO 0.4's all-values-are-same check was for mode tables: a cell whose values are all one category tells
    each person's category. Text values too, and a missing value is no different value."""
    frame = pd.DataFrame({"a": ["A"] * 12 + ["B"] * 12, "b": "x",
                          "band": ["16-24"] * 11 + [None] + ["16-24", "50+"] * 6})
    out = sdc.crosstab(frame.a, frame.b, values=frame.band, aggfunc="mode")
    assert out.table.loc["A", "x"] == "16-24"
    assert out.flags["all_same"].to_numpy().ravel().tolist() == [True, False]
    assert pd.isna(out.safe_table.loc["A", "x"])
    pivot = sdc.pivot_table(frame, values="band", index="a", columns="b", aggfunc="mode")
    assert pivot.flags["all_same"].to_numpy().ravel().tolist() == [True, False]
    grouped = sdc.groupby_agg(frame, by="a", values="band", aggfunc=["count", "mode"])
    assert grouped.flags["all_same"].to_numpy().tolist() == [[False, True], [False, False]]


def test_a_passing_table() -> None:
    a = pd.Series(["A"] * 20 + ["B"] * 20, name="a")
    b = pd.Series((["x"] * 10 + ["y"] * 10) * 2, name="b")
    out = sdc.crosstab(a, b, values=pd.Series(np.arange(40.0) + 10), aggfunc="mean")
    assert out.status == "pass" and out.failing_rules == []
    assert out.explain().endswith("Every rule is met.")
    pd.testing.assert_frame_equal(out.safe_table, out.table)


@pytest.mark.parametrize("aggfunc", ["mean", "sum", "median", "max", "count"])
def test_records_without_a_value_do_not_make_up_the_threshold(aggfunc) -> None:
    """A cell of twelve records of which three have a value publishes a statistic of three people (its maximum is
    one of them): it fails the threshold, as ACRO (which counts the values) fails it; so does a cell of records
    none of which has a value, which reads as empty."""
    frame = pd.DataFrame({"a": ["x"] * 12 + ["y"] * 12 + ["z"] * 12,
                          "v": [100.0, 90.0, 80.0] + [np.nan] * 9 + list(np.arange(12) * 10 + 50.0)
                          + [np.nan] * 12})
    out = sdc.groupby_agg(frame, "a", "v", aggfunc)
    assert out.flags["threshold"].to_numpy().ravel().tolist() == [True, False, True]
    assert out.safe_table.loc["x"].isna().all()
    assert "3 records with a value, fewer than 10" in out.explain()
