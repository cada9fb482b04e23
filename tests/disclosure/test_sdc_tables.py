"""Tables: the same table pandas gives, flags aligned with it (margins too), and bad input refused clearly —
never a silent pass."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure import DisclosureSettings
from workbench.disclosure import suppression as suppression_module
from workbench.errors import InvalidInput


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "region": rng.choice(["North", "South", "East", "West", "Isles"], n, p=[.4, .3, .2, .07, .03]),
        "sex": rng.choice(["F", "M"], n),
        "band": rng.choice(["16-24", "25-49", "50+"], n, p=[.2, .5, .3]),
        "income": rng.lognormal(10, 1, n),
        "hours": rng.integers(0, 60, n).astype(float),
    })
    frame.loc[rng.random(n) < 0.05, "income"] = np.nan
    return frame


CROSSTAB_CASES = [
    {},
    {"margins": True},
    {"values": "income", "aggfunc": "mean"},
    {"values": "income", "aggfunc": "mean", "margins": True},
    {"values": "income", "aggfunc": "sum", "margins": True},
    {"values": "income", "aggfunc": "count"},
    {"values": "income", "aggfunc": "median"},
    {"values": "income", "aggfunc": "min", "margins": True},
    {"values": "income", "aggfunc": "max"},
    {"values": "income", "aggfunc": "std"},
    {"normalize": True},
    {"normalize": "index", "margins": True},
    {"normalize": "columns", "margins": True},
    {"dropna": False},
    {"rownames": ["r"], "colnames": ["c"]},
]


@pytest.mark.parametrize("kwargs", CROSSTAB_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "counts")
@pytest.mark.parametrize("categorical", [False, True], ids=["object", "categorical"])
def test_crosstab_gives_pandas_table_and_aligned_flags(data, kwargs, categorical) -> None:
    kwargs = dict(kwargs)
    if "values" in kwargs:
        kwargs["values"] = data[kwargs["values"]]
    region = data.region.astype(pd.CategoricalDtype(["North", "South", "East", "West", "Isles", "Unused"])) \
        if categorical else data.region
    out = sdc.crosstab(region, data.sex, **kwargs)
    pd.testing.assert_frame_equal(out.table, pd.crosstab(region, data.sex, **kwargs))
    for name, flag in out.flags.items():
        assert flag.index.equals(out.table.index) and flag.columns.equals(out.table.columns), name
        assert flag.dtypes.eq(bool).all()
    assert out.safe_table.index.equals(out.table.index)
    assert out.status in ("pass", "fail", "review")
    assert out.flags["threshold"].loc["Isles"].any()  # about 12 people over two columns


def test_margins_are_checked_like_cells() -> None:
    a = pd.Series(["A"] * 30 + ["B"] * 6 + ["C"] * 25, name="a")
    b = pd.Series(["x"] * 15 + ["y"] * 15 + ["x"] * 3 + ["y"] * 3 + ["x"] * 12 + ["y"] * 13, name="b")
    out = sdc.crosstab(a, b, margins=True)
    assert out.table.loc["B", "All"] == 6
    expected = [[False, False, False],   # A: 15, 15, 30
                [True, True, True],      # B: 3, 3, and its row total 6 also fails
                [False, False, False],   # C: 12, 13, 25
                [False, False, False]]   # All: 30, 31, 61
    assert out.flags["threshold"].to_numpy().tolist() == expected
    assert out.flags["threshold"].loc["B", "All"]
    safe = out.safe_table
    assert safe.loc["B"].isna().all()
    # the totals row is still consistent: B's cells and total cannot be recovered (two rows suppressed)
    assert out.suppressed.to_numpy().sum() > 3


def test_crosstab_with_several_row_keys(data) -> None:
    out = sdc.crosstab([data.region, data.band], data.sex, values=data.income, aggfunc="mean", margins=True)
    expected = pd.crosstab([data.region, data.band], data.sex, values=data.income, aggfunc="mean", margins=True)
    pd.testing.assert_frame_equal(out.table, expected)
    assert isinstance(out.table.index, pd.MultiIndex)
    counts = pd.crosstab([data.region, data.band], data.sex)
    valid = pd.crosstab([data.region, data.band], data.sex, values=data.income, aggfunc="count").fillna(0)
    small = (counts > 0) & (valid < 10)  # in a table of values the threshold counts the records with a value
    assert out.flags["threshold"].iloc[:-1, :-1].to_numpy().tolist() == small.to_numpy().tolist()
    cols = sdc.crosstab(data.sex, [data.region, data.band])
    pd.testing.assert_frame_equal(cols.table, pd.crosstab(data.sex, [data.region, data.band]))


def test_unused_categories_and_empty_cells() -> None:
    a = pd.Series(pd.Categorical(["x"] * 12 + ["y"] * 12, categories=["x", "y", "z"]), name="a")
    b = pd.Series(["p"] * 12 + ["q"] * 12, name="b")
    values = pd.Series(np.arange(24.0))
    freq = sdc.crosstab(a, b)
    pd.testing.assert_frame_equal(freq.table, pd.crosstab(a, b))
    assert freq.flags["zeros"].to_numpy().tolist() == [[False, True], [True, False]]
    count = sdc.crosstab(a, b, values=values, aggfunc="count")
    pd.testing.assert_frame_equal(count.table, pd.crosstab(a, b, values=values, aggfunc="count"))
    assert "z" in count.table.index  # pandas shows the unused category here...
    assert count.flags["zeros"].loc["z"].all()  # ...and its empty cells are flagged
    total = sdc.crosstab(a, b, values=values, aggfunc="sum")
    assert total.table.loc["z"].eq(0).all() and not total.flags["threshold"].loc["z"].any()


def test_mode_tables(data) -> None:
    out = sdc.crosstab(data.region, data.sex, values=data.hours, aggfunc="mode")
    expected = data.groupby(["region", "sex"]).hours.agg(lambda s: s.mode().iloc[0]).unstack()
    pd.testing.assert_frame_equal(out.table, expected, check_names=False)
    text = sdc.crosstab(data.region, data.sex, values=data.band, aggfunc="mode")
    assert text.table.loc["North", "F"] in {"16-24", "25-49", "50+"}
    assert list(text.flags) == ["threshold", "zeros", "all_same"]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([], []), {}, "no rows"),
    ((pd.Series([], dtype=object), pd.Series([], dtype=object)), {}, "no rows"),
    ((["a", "b"], ["x"]), {}, "different lengths"),
    ((pd.Series(["a", "b"]), pd.Series(["x", "y"], index=[5, 6])), {}, "different indexes"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, 2.0, 3.0], "aggfunc": "mean"}, "different lengths"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, 2.0], "aggfunc": "average"}, "'average' is not supported"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, 2.0], "aggfunc": np.mean}, "mean is not supported"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, 2.0]}, "values need an aggfunc"),
    ((["a", "b"], ["x", "y"]), {"aggfunc": "sum"}, "aggfunc needs values"),
    ((["a", "b"], ["x", "y"]), {"values": ["1", "two"], "aggfunc": "mean"}, "not numbers"),
    ((["a", "b"], ["x", "y"]), {"values": pd.Series(["u", "v"], dtype="string"), "aggfunc": "sum"}, "not numbers"),
    ((["a", "b"], ["x", "y"]), {"values": [np.nan, np.nan], "aggfunc": "mean"}, "every value is missing"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, np.inf], "aggfunc": "mean"}, "infinite"),
    ((["a", "b"], ["x", "y"]), {"values": [1.0, 2.0], "aggfunc": "sum", "rownames": ["p", "q"]}, "rownames"),
])
def test_bad_input_is_refused_clearly(args, kwargs, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        sdc.crosstab(*args, **kwargs)


def test_text_numbers_are_accepted_and_counted_tables_take_any_values() -> None:
    a, b = ["a"] * 12, ["x"] * 12
    assert sdc.crosstab(a, b, values=["3"] * 12, aggfunc="mean").table.iloc[0, 0] == 3.0
    assert sdc.crosstab(a, b, values=["u"] * 12, aggfunc="count").table.iloc[0, 0] == 12


def test_a_million_cell_table(monkeypatch) -> None:
    rng = np.random.default_rng(8)
    n = 1_500_000
    a = pd.Series(rng.integers(0, 1000, n), name="a")
    b = pd.Series(rng.integers(0, 1000, n), name="b")
    out = sdc.crosstab(a, b)
    assert out.table.shape == (1000, 1000)
    counts = np.bincount(a.to_numpy() * 1000 + b.to_numpy(), minlength=1_000_000).reshape(1000, 1000)
    assert (out.table.to_numpy() == counts).all()
    assert (out.flags["threshold"].to_numpy() == ((counts > 0) & (counts < 10))).all()
    assert (out.flags["zeros"].to_numpy() == (counts == 0)).all()
    # nearly every cell fails: suppression would be meaningless, so the output fails and says why
    assert out.status == "fail" and "too many to protect" in out.mitigation["note"]
    assert "make the table coarser" in out.explain()


def test_pivot_table_with_several_values_and_aggfuncs(data) -> None:
    kwargs = {"values": ["income", "hours"], "index": "region", "columns": "sex",
              "aggfunc": ["mean", "count", "max"], "margins": True}
    out = sdc.pivot_table(data, **kwargs)
    pd.testing.assert_frame_equal(out.table, pd.pivot_table(data, observed=False, **kwargs))
    flags = out.flags
    assert "dominance" in flags and "zeros" in flags
    assert not flags["dominance"]["count"].to_numpy().any()  # count blocks are frequency tables
    counts = pd.crosstab(data.region, data.sex, margins=True).to_numpy()
    for agg in ("mean", "count", "max"):
        for value in ("income", "hours"):  # the threshold counts the records with a value of each value column
            valid = pd.crosstab(data.region, data.sex, values=data[value], aggfunc="count", margins=True)
            small = (counts > 0) & (valid.fillna(0).to_numpy() < 10)
            assert flags["threshold"][agg][value].to_numpy().tolist() == small.tolist()
    # the same cells are withheld in every block
    blocks = [out.suppressed[agg][value].to_numpy() for agg in ("mean", "count", "max") for value in
              ("income", "hours")]
    assert all((b == blocks[0]).all() for b in blocks)


@pytest.mark.parametrize("kwargs", [
    {"values": "income", "index": "region", "columns": "sex"},
    {"values": "income", "index": ["region", "band"], "columns": "sex", "aggfunc": "sum"},
    {"values": ["income", "hours"], "index": "region", "aggfunc": "median"},
    {"values": "income", "index": "region", "aggfunc": ["mean", "std"]},
    {"values": "income", "index": "region", "columns": ["sex", "band"], "margins": True},
    {"index": "region", "columns": "sex", "aggfunc": "sum"},
])
def test_pivot_table_shapes_match_pandas(data, kwargs) -> None:
    source = data if "values" in kwargs else data[["region", "sex", "income", "hours"]]
    out = sdc.pivot_table(source, **kwargs)
    pd.testing.assert_frame_equal(out.table, pd.pivot_table(source, observed=False, **kwargs))
    assert all(f.shape == out.table.shape for f in out.flags.values())


def test_pivot_table_refusals(data) -> None:
    with pytest.raises(InvalidInput, match="no column 'salary'"):
        sdc.pivot_table(data, values="salary", index="region")
    with pytest.raises(InvalidInput, match="index: name at least one column"):
        sdc.pivot_table(data, values="income", columns="sex")
    with pytest.raises(InvalidInput, match=r"values 'band'.*not numbers"):
        sdc.pivot_table(data, values="band", index="region")
    with pytest.raises(InvalidInput, match="no rows"):
        sdc.pivot_table(data.iloc[:0], values="income", index="region")
    with pytest.raises(InvalidInput, match="listed twice"):
        sdc.pivot_table(data, values="income", index="region", aggfunc=["mean", "mean"])


def test_groupby_agg(data) -> None:
    out = sdc.groupby_agg(data, by=["region", "band"], values=["income"], aggfunc=["mean", "count"])
    expected = data.groupby(["region", "band"])[["income"]].agg(["mean", "count"])
    pd.testing.assert_frame_equal(out.table, expected)
    sizes = data.groupby(["region", "band"]).size()
    small = ((sizes > 0) & (sizes < 10)).to_numpy()
    assert out.flags["threshold"].to_numpy().tolist() == np.repeat(small[:, None], 2, axis=1).tolist()
    assert out.status == "review"
    # each withheld group is protected by a second one: no group can be worked out from the grand total
    withheld = out.suppressed.to_numpy()[:, 0]
    assert withheld.sum() >= 2 and withheld[small].all()
    with pytest.raises(InvalidInput, match="by: no column"):
        sdc.groupby_agg(data, by="nope", values="income")


def test_histogram_shows_every_bin_of_the_range_given_and_checks_edges() -> None:
    rng = np.random.default_rng(2)
    x = pd.Series(rng.normal(50, 10, 1000), name="age")
    chosen = sdc.histogram(x, bins=np.arange(-100, 201, 10))
    assert chosen.table.index[0].left == -100 and chosen.table.index[-1].right == 200  # no bin trimmed
    assert len(chosen.table) == 30
    assert not chosen.flags["edges"].to_numpy().any()
    counts, _ = np.histogram(x, bins=np.arange(-100, 201, 10))
    assert chosen.table["count"].tolist() == counts.tolist()
    small = chosen.table["count"].between(1, 9).to_numpy()
    assert chosen.flags["threshold"].to_numpy()[:, 0].tolist() == small.tolist()
    assert chosen.flags["zeros"].to_numpy()[:, 0].tolist() == (counts == 0).tolist()
    by_range = sdc.histogram(x, bins=30, range=(-100, 200))
    pd.testing.assert_frame_equal(by_range.table, chosen.table)
    with pytest.raises(InvalidInput, match="no value falls inside"):
        sdc.histogram(x, bins=5, range=(500, 600))
    with pytest.raises(InvalidInput, match="bins"):
        sdc.histogram(x, bins=-3, range=(0, 100))
    with pytest.raises(InvalidInput, match="no values"):
        sdc.histogram([], range=(0, 100))


def test_histogram_end_bins_no_longer_show_the_smallest_and_largest_values() -> None:
    x = pd.Series([23.7, 31.0, 35.5, 38.2, 41.0, 44.4, 47.9, 52.3, 58.8, 61.2, 66.6, 87.1] * 3, name="age")
    out = sdc.histogram(x, bins=12, range=(0, 120))
    labels = [float(v) for interval in out.table.index for v in (interval.left, interval.right)]
    assert x.min() not in labels and x.max() not in labels
    assert (out.table.index[0].left, out.table.index[-1].right) == (0, 120)
    assert out.table["count"].iloc[0] == 0 and out.table["count"].iloc[-1] == 0  # empty end bins stay
    assert not out.flags["edges"].to_numpy().any()


@pytest.mark.parametrize("shift", [0.0, 1e-9, -1e-9, 1e-7])
def test_edges_on_the_extremes_fail_even_when_nudged(shift) -> None:
    x = pd.Series(np.random.default_rng(4).normal(50, 10, 500), name="age")
    low, high = float(x.min()) - shift, float(x.max()) + shift
    out = sdc.histogram(x, bins=10, range=(low, high))
    assert out.flags["edges"].iloc[[0, -1], 0].tolist() == [True, True]
    assert out.status == "fail"
    assert "equals the smallest or largest value" in out.explain()
    # edges chosen around the data's extremes (the lowest and highest filled bins) fail as well
    inner = sdc.histogram(x, bins=[0, low, 50, high, 200])
    flagged = inner.flags["edges"].to_numpy()[:, 0]
    assert flagged.sum() == 2 and not flagged[0 if shift >= 0 else 1]
    # far enough off (a thousandth of the range) the edges say nothing about the values
    wide = sdc.histogram(x, bins=10, range=(low - 1e-3 * (high - low), high + 1e-3 * (high - low)))
    assert not wide.flags["edges"].to_numpy().any()


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"bins": 10}, "range", "publicly known"),
    ({"bins": 10, "range": None}, "range", "never|outer bin edges"),
    ({"bins": 0, "range": (0, 100)}, "bins", "number of bins"),
    ({"bins": -5, "range": (0, 100)}, "bins", "number of bins"),
    ({"bins": 2.5, "range": (0, 100)}, "bins", "not float"),
    ({"bins": None, "range": (0, 100)}, "bins", "not NoneType"),
    ({"bins": 10, "range": (0, float("inf"))}, "range", "finite"),
    ({"bins": 10, "range": (float("nan"), 1)}, "range", "finite"),
    ({"bins": 10, "range": (-1e308, 1e308)}, "range", "finite"),
    ({"bins": 10, "range": (5, 5)}, "range", "reversed or equal"),
    ({"bins": 10, "range": (100, 0)}, "range", "reversed or equal"),
    ({"bins": 10, "range": (0,)}, "range", "pair of numbers"),
    ({"bins": 10, "range": ("low", "high")}, "range", "pair of numbers"),
    ({"bins": [0, 10, 10, 20]}, "bins", "increase strictly"),
    ({"bins": [0, 10, float("inf")]}, "bins", "finite"),
    ({"bins": [0, 10, 20], "range": (0, 20)}, "range", "already fix the range"),
])
def test_histogram_bad_bins_and_ranges_are_refused(kwargs, field, message) -> None:
    x = pd.Series(np.arange(100.0), name="v")
    with pytest.raises(InvalidInput, match=message) as caught:
        sdc.histogram(x, **kwargs)
    assert caught.value.field == field


def test_rounding_rounds_cells_and_makes_totals_from_the_rounded_cells() -> None:
    a = pd.Series(["A"] * 23 + ["B"] * 4 + ["C"] * 31, name="a")
    b = pd.Series(["x"] * 12 + ["y"] * 11 + ["x"] * 2 + ["y"] * 2 + ["x"] * 16 + ["y"] * 15, name="b")
    out = sdc.crosstab(a, b, margins=True, settings=DisclosureSettings(mitigation="round"))
    assert out.mitigation["method"] == "round" and out.mitigation["base"] == 5 and out.status == "review"
    assert out.mitigation["totals"] == "sums of the rounded cells"
    assert "totals the sums of the rounded cells" in out.summary()
    safe = out.safe_table
    assert (safe.to_numpy() % 5 == 0).all()
    assert safe.loc["A", "x"] == 10 and safe.loc["A", "y"] == 10
    assert safe.loc["A", "All"] == 20  # the rounded cells' sum, not the true total 23 rounded (25)
    assert safe.loc["All", "All"] == 50  # 10 + 10 + 0 + 0 + 15 + 15, not 58 rounded (60)
    inner = safe.drop(index="All", columns="All")
    assert (safe.loc["All"].drop("All") == inner.sum()).all() and (safe["All"].drop("All") == inner.sum(axis=1)).all()
    means = sdc.crosstab(a, b, values=pd.Series(np.arange(58.0)), aggfunc="mean",
                         settings=DisclosureSettings(mitigation="round"))
    assert means.mitigation["method"] == "suppress" and "rounding applies to" in means.mitigation["note"]


def test_rounded_pivot_tables_add_up_at_every_level() -> None:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"r1": rng.choice(["a", "b"], 300), "r2": rng.choice(["p", "q", "s"], 300),
                          "c1": rng.choice(["x", "y"], 300), "c2": rng.choice(["u", "v"], 300),
                          "n": np.ones(300)})
    frame.loc[:3, ["r1", "r2", "c1", "c2"]] = ["b", "s", "y", "v"]  # a small cell
    out = sdc.pivot_table(frame, values="n", index=["r1", "r2"], columns=["c1", "c2"], aggfunc="count",
                          margins=True, settings=DisclosureSettings(mitigation="round", rounding_base=3))
    assert out.flags["threshold"].to_numpy().any() and out.mitigation["method"] == "round"
    safe = out.safe_table.astype(float)
    assert (safe.to_numpy() % 3 == 0).all()
    cells, totals = safe.iloc[:-1, :-1], safe.iloc[:-1, -1]
    assert safe.columns[-1] == ("All", "") and safe.index[-1] == ("All", "")
    assert np.array_equal(totals.to_numpy(), cells.sum(axis=1).to_numpy())
    assert np.array_equal(safe.iloc[-1].to_numpy(), safe.iloc[:-1].sum().to_numpy())
    grouped = sdc.groupby_agg(frame, by=["r1", "r2", "c1", "c2"], values="n", aggfunc="count",
                              settings=DisclosureSettings(mitigation="round"))
    assert (grouped.safe_table.to_numpy() % 5 == 0).all()


def test_rounding_suppresses_failing_cells_of_sum_tables() -> None:
    a = pd.Series(["A"] * 20 + ["B"] * 20 + ["C"] * 3, name="a")
    b = pd.Series(["x", "y"] * 20 + ["x"] * 3, name="b")
    values = pd.Series(np.r_[1000.0 + np.arange(40), [40_000.0, 40_555.0, 41_000.0]])  # C, x: 3 people, 121555
    out = sdc.crosstab(a, b, values=values, aggfunc="sum", margins=True,
                       settings=DisclosureSettings(mitigation="round"))
    assert out.table.loc["C", "x"] == 121_555 and out.flags["threshold"].loc["C", "x"]
    safe = out.safe_table
    assert np.isnan(safe.loc["C", "x"])  # suppressed, never published rounded
    # the cell, its row total, and the empty cell C, y (zeros); then secondary cells
    assert out.mitigation["primary"] == 3 and out.mitigation["secondary"] >= 1
    shown = safe.to_numpy()
    assert not np.isin([121_555, 121_550, 121_560], shown).any()
    published = shown[np.isfinite(shown)]
    assert (published % 5 == 0).all()
    # with what is left, C, x is not pinned down: its row and column each hide a second cell
    hidden = out.suppressed.to_numpy()
    assert hidden[2].sum() >= 2 and hidden[:, 0].sum() >= 2


def test_rounding_still_suppresses_dominated_cells() -> None:
    a = pd.Series(["A"] * 24 + ["B"] * 24 + ["C"] * 24, name="a")
    b = pd.Series(["x", "y"] * 36, name="b")
    values = pd.Series(5.0 + np.arange(72) % 4)  # varied: identical contributions would fail all_same
    values[0] = 10_000.0  # A, x is dominated by one person
    out = sdc.crosstab(a, b, values=values, aggfunc="sum", settings=DisclosureSettings(mitigation="round"))
    assert out.flags["dominance"].loc["A", "x"]
    assert np.isnan(out.safe_table.loc["A", "x"]) and out.mitigation["primary"] == 1
    # one person's 10,000 cannot hide among cells of 30 on both sides: the totals must be withheld
    assert out.mitigation["secondary"] >= 1 or out.mitigation.get("withheld_totals")


def test_checks_only_workspace_keeps_failing_outputs_failing() -> None:
    a = pd.Series(["A"] * 20 + ["B"] * 3, name="a")
    b = pd.Series(["x"] * 23, name="b")
    out = sdc.crosstab(a, b, settings=DisclosureSettings(mitigation="none"))
    assert out.status == "fail" and out.mitigation["method"] == "none" and "checks only" in out.mitigation["note"]
    pd.testing.assert_frame_equal(out.safe_table, out.table)


def test_suppression_gives_up_clearly_beyond_its_limit(monkeypatch) -> None:
    monkeypatch.setattr(suppression_module, "MAX_PRIMARY", 1)
    a = pd.Series(["A"] * 20 + ["B"] * 3 + ["C"] * 3, name="a")
    b = pd.Series(["x", "y"] * 13, name="b")
    out = sdc.crosstab(a, b)
    assert out.status == "fail" and "too many to protect" in out.mitigation["note"]


def test_withheld_totals_are_named_when_the_table_has_no_margins() -> None:
    # one row: the only way to protect a cell is a second cell of the row (the row total is known)
    a = pd.Series(["A"] * 43, name="a")
    b = pd.Series(["x"] * 20 + ["y"] * 20 + ["z"] * 3, name="b")
    out = sdc.crosstab(a, b)
    assert out.suppressed.to_numpy().sum() == 2 and out.suppressed.loc["A", "z"]
    single = sdc.crosstab(pd.Series(["A"] * 3, name="a"), pd.Series(["x"] * 3, name="b"))
    assert single.safe_table.isna().all().all()
    assert "the grand total" in single.mitigation.get("withheld_totals", ["the grand total"])


def test_exception_request_and_presentation() -> None:
    a = pd.Series(["A"] * 20 + ["B"] * 4 + ["C"] * 15, name="a")
    b = pd.Series(["x", "y"] * 19 + ["x"], name="b")
    out = sdc.crosstab(a, b, values=pd.Series(np.arange(39.0) + 1), aggfunc="mean")
    with pytest.raises(InvalidInput, match="justification"):
        out.request_exception("  ")
    out.request_exception("The B counts are published by ONS in table X.")
    out.add_comment("Mean hours by site.")
    assert out.exception == "The B counts are published by ONS in table X."
    text = out.explain()
    assert "B × x: 2 records with a value, fewer than 10" in text and "Exception requested: The B counts" in text
    page = out._repr_html_()
    assert ">Needs review</span>" in page and "(before mitigation: fails)" in page
    assert 'title="threshold"' in page and "#f8d7da" in page  # failing cells highlighted per rule
    assert html.escape("cells with fewer than 10 records") in page
    assert "suppressed to protect another cell" in page or out.mitigation["secondary"] == 0
    assert "status=review" in repr(out)


def test_a_table_with_no_complete_row_is_refused() -> None:
    with pytest.raises(InvalidInput, match="The table is empty"):
        sdc.crosstab(pd.Series([np.nan, np.nan]), pd.Series(["x", "y"]))
    with pytest.raises(InvalidInput, match="The table is empty"):
        sdc.crosstab(pd.Series([np.nan, np.nan]), pd.Series(["x", "y"]), margins=True)
