"""Linked tables: an attacker's LP over several published tables of the same rows (``disclosure.linked``).

A region × sex × status table whose suppression protects it on its own gives its suppressed cell back once the
region × status table of the same rows is published beside it; a sex × status table does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import disclosure as sdc
from workbench.disclosure import linked
from workbench.disclosure.linked import LinkedTable, attack, from_output

STATUSES = ("emp", "inact", "unemp")
# one small cell, A/F/unemp = 3; every region × status and sex × status cell is 10 or more
COUNTS = {("A", "F"): (30, 20, 3), ("A", "M"): (32, 25, 20), ("B", "F"): (28, 22, 12), ("B", "M"): (35, 30, 18),
          ("C", "F"): (40, 26, 20), ("C", "M"): (41, 27, 22), ("D", "F"): (38, 29, 19), ("D", "M"): (44, 31, 24)}
DIMS = ["region", "sex", "status", "age"]


def survey() -> pd.DataFrame:
    """The people behind COUNTS, each with an age band split so that region × status × age has no small cell."""
    rows = []
    for (region, sex), counts in COUNTS.items():
        for status, n in zip(STATUSES, counts, strict=True):
            small = (region, sex, status) == ("A", "F", "unemp")
            rows += [(region, sex, status, "young" if i % 2 and not small else "old") for i in range(n)]
    return pd.DataFrame(rows, columns=DIMS)


def table(frame: pd.DataFrame, index: list[str], columns: str, **options) -> LinkedTable:
    out = sdc.crosstab([frame[c] for c in index], frame[columns], **options)
    return from_output(out, " × ".join([*index, columns]), DIMS)


def exact_lp_bounds(tables: list[LinkedTable], cell: tuple[int, int]) -> tuple[float, float]:
    """The naive attacker: every joint cell a variable, one equality per published cell, one LP each way."""
    from scipy.optimize import linprog

    dims = sorted({d for t in tables for d in t.dims})
    cats = {d: sorted({c[t.dims.index(d)] for t in tables if d in t.dims for c in t.coords
                       if c[t.dims.index(d)] is not None}) for d in dims}
    joint = pd.MultiIndex.from_product([cats[d] for d in dims], names=dims).to_frame(index=False)
    rows, rhs, target = [], [], None
    for k, t in enumerate(tables):
        for i, coords in enumerate(t.coords):
            mask = np.ones(len(joint), dtype=bool)
            for d, label in zip(t.dims, coords, strict=True):
                if label is not None:
                    mask &= (joint[d] == label).to_numpy()
            if (k, i) == cell:
                target = mask.astype(float)
            elif not np.isnan(t.low[i]):
                rows.append(mask.astype(float))
                rhs.append(t.low[i])
    low = linprog(target, A_eq=np.array(rows), b_eq=rhs, bounds=(0, None), method="highs")
    high = linprog(-target, A_eq=np.array(rows), b_eq=rhs, bounds=(0, None), method="highs")
    return float(low.fun), float(-high.fun)


def test_a_region_by_status_table_gives_back_the_cells_suppressed_in_region_by_sex_by_status() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    assert np.isnan(detail.low).sum() >= 4  # the small cell and the three that protect it
    assert attack([detail]).recovered == []  # alone, the table is protected
    found = attack([detail, table(frame, ["region"], "status")])
    assert found.feasible and len(found.recovered) == 1
    hit = found.recovered[0]
    assert detail.coords[hit.cell] == ("A", "F", "unemp") and hit.low == pytest.approx(3) == hit.high
    assert exact_lp_bounds([detail, table(frame, ["region"], "status")], (0, hit.cell)) == pytest.approx((3, 3))


def test_a_sex_by_status_table_gives_nothing_back() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    found = attack([detail, table(frame, ["sex"], "status")])
    assert found.feasible and found.recovered == [] and found.targets == 1


def test_margins_published_inside_a_table_are_equations_too() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    with_margins = table(frame, ["region"], "status", margins=True)
    assert sum(any(c is None for c in coords) for coords in with_margins.coords) == 4 + 3 + 1  # the All row and column
    assert len(attack([detail, with_margins]).recovered) == 1


def test_tables_that_only_share_a_margin_are_solved_together() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    by_age = table(frame, ["region", "age"], "status")  # neither nests in the other; they share region × status
    assert not np.isnan(by_age.low).any()
    found = attack([detail, by_age])
    assert [detail.coords[r.cell] for r in found.recovered] == [("A", "F", "unemp")]


def test_rows_dropped_for_a_missing_key_are_allowed_for() -> None:
    frame = survey()
    frame.loc[frame.index[:5], "sex"] = None  # dropped from region × sex × status, counted in region × status
    detail = table(frame, ["region", "sex"], "status")
    found = attack([detail, table(frame, ["region"], "status")])
    assert found.feasible and found.with_missing


def test_many_targets_need_few_solves() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"region": rng.choice(list("ABCDEFGH"), 3000), "sex": rng.choice(["F", "M"], 3000),
                          "status": rng.choice(STATUSES, 3000, p=[0.7, 0.25, 0.05]),
                          "age": rng.choice(["young", "old", "mid"], 3000)})
    tables = [table(frame, ["region", "sex"], "status"), table(frame, ["region", "age"], "status"),
              table(frame, ["sex", "age"], "status")]
    found = attack(tables)
    assert found.feasible and found.targets > 5 and found.solves < 2 * found.targets + 2
    for hit in found.recovered:  # whatever it claims, the naive LP agrees with
        low, high = exact_lp_bounds(tables, (hit.table, hit.cell))
        assert low == pytest.approx(hit.low, abs=1e-6) and high == pytest.approx(hit.high, abs=1e-6)


def test_a_table_of_several_value_blocks_is_not_one_linked_table() -> None:
    frame = survey().assign(x=1.0)
    out = sdc.pivot_table(frame, values="x", index="region", columns="status", aggfunc=["sum", "count"])
    with pytest.raises(ValueError, match="more than one block"):
        from_output(out, "t", DIMS)


def test_too_many_joint_cells_is_said_not_guessed(monkeypatch) -> None:
    frame = survey()
    monkeypatch.setattr(linked, "MAX_JOINT_CELLS", 10)
    with pytest.raises(linked.TooLarge):
        attack([table(frame, ["region", "sex"], "status"), table(frame, ["region"], "status")])


def test_the_search_can_stop_at_the_first_recovered_cells() -> None:
    frame = survey()
    tables = [table(frame, ["region", "sex"], "status"), table(frame, ["region"], "status")]
    everything = attack(tables)
    first = attack(tables, enough=1)
    assert len(first.recovered) == 1 and first.recovered == everything.recovered[:1]


def test_tables_of_other_rows_are_not_one_population() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    men = table(frame[frame["sex"] == "M"], ["region"], "status")  # the same dimensions, other rows
    assert not attack([detail, men]).feasible
    twice = table(frame.iloc[5:], ["region", "sex"], "status")  # A/F/emp published as 30 and as 25
    assert not attack([detail, twice]).feasible


def test_the_search_stops_at_its_time_limit_and_says_so() -> None:
    frame = survey()
    found = attack([table(frame, ["region", "sex"], "status"), table(frame, ["region"], "status")], seconds=0)
    assert not found.finished and found.recovered == []


def filtered(frame: pd.DataFrame, index: list[str], columns: str, keep: dict[str, list[str]],
             domain: dict[str, list[str]] | None = None) -> LinkedTable:
    """A table of the rows whose labels ``keep`` lists, told so (``restrict``) as the attacker is."""
    rows = frame
    for column, labels in keep.items():
        rows = rows[rows[column].isin(labels)]
    out = sdc.crosstab([rows[c] for c in index], rows[columns])
    return from_output(out, "filtered", DIMS, restrict=list(keep.items()), domain=list((domain or {}).items()))


def test_a_margin_of_a_filter_that_keeps_every_row_is_linked() -> None:
    frame = survey()
    detail = table(frame, ["region", "sex"], "status")
    margin = filtered(frame, ["region"], "status", {"sex": ["F", "M"]})
    found = attack([detail, margin])
    assert [detail.coords[r.cell] for r in found.recovered] == [("A", "F", "unemp")]


def test_overlapping_filters_share_the_rows_they_both_keep() -> None:
    frame = survey()
    detail = filtered(frame, ["region", "sex"], "status", {"region": ["A", "B"]})
    margin = filtered(frame, ["region"], "status", {"region": ["A", "C"]})
    found = attack([detail, margin])
    assert [detail.coords[r.cell] for r in found.recovered] == [("A", "F", "unemp")]


def test_rows_outside_every_filter_are_unknown_unless_the_labels_are() -> None:
    frame = survey()
    women = filtered(frame, ["region"], "status", {"sex": ["F"]})
    men = filtered(frame, ["region"], "status", {"sex": ["M"]})
    everyone = table(frame, ["region"], "status")
    # rows of another sex may be in everyone: A/F/unemp is only known to be at most everyone − men
    assert [(r.low, r.high) for r in attack([women, men, everyone]).recovered] == [(0, 3)]
    women = filtered(frame, ["region"], "status", {"sex": ["F"]}, domain={"sex": ["F", "M"]})
    assert [(r.low, r.high) for r in attack([women, men, everyone]).recovered] == [(3, 3)]
    missing = filtered(frame, ["region"], "status", {"sex": ["F"]}, domain={"sex": ["F", "M", linked.OTHER]})
    assert [(r.low, r.high) for r in attack([missing, men, everyone]).recovered] == [(0, 3)]


def test_each_block_of_a_table_is_a_table() -> None:
    frame = survey()
    frame["x"] = np.random.default_rng(3).uniform(100, 200, len(frame))
    out = sdc.pivot_table(frame, values="x", index="region", columns="status", aggfunc=["sum", "count"])
    assert linked.blocks(out, DIMS) == [("sum",), ("count",)]
    counts = from_output(out, "t", DIMS, block=("count",))
    assert counts.dims == ("region", "status") and len(counts.coords) == 12
    assert counts.value[counts.coords.index(("A", "unemp"))] == 23
    found = attack([table(frame, ["region", "sex"], "status"), counts])
    assert len(found.recovered) == 1
