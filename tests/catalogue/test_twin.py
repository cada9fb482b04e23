"""Synthetic twins: the real schema, drawn from ε-differentially private marginals over public domains only."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from workbench.catalogue.twin import BINS, DEFAULT_ROWS, MAX_EPSILON, Marginal, plan, redraw, synthesise
from workbench.demo._world_catalogue import DATASETS
from workbench.demo.world import build_world
from workbench.errors import InvalidInput

BANDS = ["0-17", "18-64", "65+"]


def col(name: str, kind: str = "string", role: str = "other", **extra: object) -> dict:
    return {"name": name, "type": kind, "role": role, "description": "", **extra}


def mixed_frame(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "record_id": [f"R{i:06d}" for i in rng.permutation(n)],
        "nhs_number": [f"{x:010d}" for x in rng.integers(10**9, 10**10, n)],
        "band": pd.Categorical(rng.choice(BANDS, n), categories=BANDS),
        "nights": pd.Series(rng.poisson(3, n), dtype="Int64").where(rng.random(n) > 0.1, pd.NA),
        "cost": np.round(rng.lognormal(7, 1, n), 2),
        "emergency": rng.random(n) < 0.4,
        "admitted": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "note": [f"free text {i}" for i in range(n)],
        "weight": rng.random(n),
    })


MIXED_COLUMNS = [col("record_id", role="record_identifier"), col("nhs_number", role="direct_identifier"),
                 col("band", "category", "quasi_identifier", categories=BANDS),
                 col("nights", "integer", "sensitive", lowerBound=0, upperBound=30),
                 col("cost", "float", "sensitive", lowerBound=0, upperBound=20000),
                 col("emergency", "boolean", "sensitive"),
                 col("admitted", "date", "quasi_identifier", earliestDate="2024-01-01", latestDate="2025-12-31"),
                 col("note"), col("weight", "float")]


def same_schema(twin: pa.Table, real: pa.Table) -> bool:
    """Same fields and types, and the same pandas description bar what it says of the data (numbers of
    categories, the index's length)."""
    def described(table: pa.Table) -> dict:
        meta = json.loads((table.schema.metadata or {}).get(b"pandas", b"{}"))
        for column in meta.get("columns", []):
            (column.get("metadata") or {}).pop("num_categories", None)
        meta.pop("index_columns", None)
        return meta

    return twin.schema.equals(real.schema) and described(twin) == described(real)


def mixed() -> pa.Table:
    return pa.Table.from_pandas(mixed_frame(), preserve_index=False)


# ----- shape of the twin -----------------------------------------------------------------------------------
def test_twin_has_the_real_schema_names_order_types_and_metadata() -> None:
    real = mixed()
    twin = synthesise(real, MIXED_COLUMNS, epsilon=1.0).table
    assert twin.schema.field("weight").nullable
    assert same_schema(twin, real)
    assert pa.types.is_dictionary(twin.schema.field("band").type)
    assert twin.num_rows == real.num_rows
    back = twin.to_pandas()
    assert list(back.columns) == list(mixed_frame().columns)
    assert back["nights"].dtype == "Int64" and isinstance(back["band"].dtype, pd.CategoricalDtype)


def test_the_stored_pandas_description_tells_nothing_of_the_data() -> None:
    frame = mixed_frame().assign(band=lambda f: f["band"].cat.remove_unused_categories().cat.add_categories("x"))
    real = pa.Table.from_pandas(frame.set_index(pd.RangeIndex(1000, 1500)))  # 4 categories, index to 1500
    twin = synthesise(real, MIXED_COLUMNS, epsilon=1.0, rows=7).table
    meta = json.loads(twin.schema.metadata[b"pandas"])
    assert {c["name"]: c["metadata"] for c in meta["columns"]}["band"]["num_categories"] is None
    assert meta["index_columns"] == [{"kind": "range", "name": None, "start": 0, "stop": 7, "step": 1}]
    back = twin.to_pandas()
    assert list(back.index) == list(range(7)) and isinstance(back["band"].dtype, pd.CategoricalDtype)


def test_every_column_is_made_from_its_public_domain_alone() -> None:
    """Which columns are measured (and cost ε), made up or left out follows from the schema, never the data."""
    kinds = {m.name: m.kind for m in plan(MIXED_COLUMNS)}
    assert kinds == {"record_id": "made up", "nhs_number": "made up", "band": "categories", "nights": "bins",
                     "cost": "bins", "emergency": "categories", "admitted": "bins", "note": "made up",
                     "weight": "left out"}
    made = synthesise(mixed(), MIXED_COLUMNS, epsilon=1.0)
    spent = {m.name: m.epsilon for m in made.marginals}
    assert made.epsilon == pytest.approx(1.0) and sum(spent.values()) == pytest.approx(1.0)
    assert {k: v for k, v in spent.items() if v} == {k: pytest.approx(0.2) for k in
                                                     ("band", "nights", "cost", "emergency", "admitted")}
    reasons = {m.name: m.reason for m in made.marginals}
    assert "no declared lowerBound and upperBound" in reasons["weight"] and "free text" in reasons["note"]
    twin = made.table
    assert twin.column("weight").null_count == twin.num_rows  # no bounds: left out
    assert set(twin.column("band").drop_null().to_pylist()) <= set(BANDS)
    nights = np.array(twin.column("nights").drop_null().to_pylist())
    assert nights.min() >= 0 and nights.max() <= 30
    cost = np.array(twin.column("cost").drop_null().to_pylist())
    assert cost.min() >= 0 and cost.max() <= 20000
    admitted = twin.column("admitted").drop_null().to_pandas()
    assert admitted.min() >= pd.Timestamp("2024-01-01") and admitted.max() <= pd.Timestamp("2025-12-31")
    assert (admitted.dt.time == dt.time(0)).all()  # whole days
    real = mixed()
    for name in ("record_id", "nhs_number", "note"):
        assert not set(twin.column(name).to_pylist()) & set(real.column(name).to_pylist())
    assert len(made.marginals[3].counts) == BINS + 1  # 31 whole numbers in 20 bins, and missing


def test_made_up_columns_do_not_depend_on_the_data() -> None:
    one = mixed()
    other = pa.Table.from_pandas(mixed_frame(seed=9), preserve_index=False)
    for name in ("record_id", "nhs_number", "note"):
        assert synthesise(one, MIXED_COLUMNS, epsilon=1.0, seed=3).table.column(name).equals(
            synthesise(other, MIXED_COLUMNS, epsilon=1.0, seed=3).table.column(name))


def test_twins_data_as_the_vault_stores_it(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(mixed_frame(3000), preserve_index=False), tmp_path / "d.parquet",
                   row_group_size=700)  # read back in several chunks
    real = pq.read_table(tmp_path / "d.parquet")
    assert real.column("cost").num_chunks > 1
    twin = synthesise(real, MIXED_COLUMNS, epsilon=1.0).table
    assert same_schema(twin, real)
    pq.write_table(twin, tmp_path / "twin.parquet")
    assert pq.read_table(tmp_path / "twin.parquet").equals(twin)


def test_other_arrow_types_keep_their_types() -> None:
    n = 300
    real = pa.table({
        "code": pa.array([f"c{i % 3}" for i in range(n)], pa.large_string()),
        "label": pa.array([f"L{i}" for i in range(n)], pa.string_view()),
        "small": pa.array(np.arange(n) % 7, pa.int8()),
        "ratio": pa.array(np.linspace(0, 1, n), pa.float32()),
        "day": pa.array(np.arange(n) % 50 + 19_000, pa.int32()).cast(pa.date32()),
        "when": pa.array(np.arange(n, dtype=np.int64) * 3_600_000_000).cast(pa.timestamp("us", tz="Europe/London")),
        "blob": pa.array([b"x"] * n, pa.binary()),
        "coded": pa.array(np.arange(n) % 4, pa.int16()),
    })
    columns = [col("code", "category", categories=["c0", "c1", "c2"]), col("label"),
               col("small", "integer", lowerBound=0, upperBound=6), col("ratio", "float", lowerBound=0, upperBound=1),
               col("day", "date", earliestDate="2022-01-01", latestDate="2022-12-31"),
               col("when", "date", earliestDate="1970-01-01", latestDate="1970-02-01"), col("blob"),
               col("coded", "category", categories=["0", "1", "2", "3"])]
    made = synthesise(real, columns, epsilon=5.0, rows=400)
    twin = made.table
    assert twin.schema == real.schema and twin.num_rows == 400
    assert twin.column("blob").null_count == 400  # a type a twin cannot imitate comes out missing
    assert set(twin.column("coded").drop_null().to_pylist()) <= {0, 1, 2, 3}  # categories cast to the stored type
    assert set(twin.column("code").drop_null().to_pylist()) <= {"c0", "c1", "c2"}
    assert set(twin.column("small").drop_null().to_pylist()) <= set(range(7))


def test_declared_domain_that_does_not_fit_the_stored_type_is_left_out_and_costs_nothing() -> None:
    real = pa.table({"n": [1, 2, 3] * 10, "band": ["a", "b", "c"] * 10})
    columns = [col("n", "category", categories=["one", "two"]), col("band", "category", categories=["a", "b", "c"])]
    made = synthesise(real, columns, epsilon=1.0)
    assert made.marginals[0].kind == "left out" and "do not fit the stored type int64" in made.marginals[0].reason
    assert made.table.column("n").null_count == 30
    assert made.epsilon == pytest.approx(0.5)  # only what was measured is spent (ε split over two, one measured)


def test_rows_default_to_the_real_count_capped() -> None:
    small = pa.table({"id": [f"A{i:03d}" for i in range(30)]})
    big = pa.table({"id": [f"A{i:06d}" for i in range(DEFAULT_ROWS + 500)]})
    assert synthesise(small, [col("id")], epsilon=1.0).table.num_rows == 30
    assert synthesise(big, [col("id")], epsilon=1.0).table.num_rows == DEFAULT_ROWS
    assert synthesise(small, [col("id")], epsilon=1.0, rows=75).table.num_rows == 75
    assert synthesise(small, [col("id")], epsilon=1.0, rows=0).table.num_rows == 0


def test_redrawing_from_released_marginals_is_deterministic_and_applies_the_threshold() -> None:
    real = mixed()
    made = synthesise(real, MIXED_COLUMNS, epsilon=2.0, seed=4)
    again = redraw(made.marginals, real.schema, rows=real.num_rows, seed=4)
    assert again.equals(made.table)
    band = made.marginals[2]
    threshold = sorted(band.counts[:3])[1] + 1  # above the two smaller noisy band counts
    thinned = redraw(made.marginals, real.schema, rows=500, min_count=threshold, seed=4)
    kept = {b for b, c in zip(BANDS, band.counts, strict=False) if c >= threshold}
    assert set(thinned.column("band").drop_null().to_pylist()) == kept


def test_columns_are_sampled_independently() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, 5000)
    real = pa.table({"x": x, "y": x})  # perfectly correlated
    columns = [col("x", "integer", lowerBound=0, upperBound=9), col("y", "integer", lowerBound=0, upperBound=9)]
    made = synthesise(real, columns, epsilon=2.0, rows=5000)
    assert len(made.marginals[0].counts) == 10 + 1  # few whole numbers: one bin each, and missing
    assert abs(made.table.to_pandas().corr().loc["x", "y"]) < 0.05


# ----- the privacy of it -------------------------------------------------------------------------------------
def test_the_released_counts_are_noisy_not_the_exact_marginals() -> None:
    real = mixed()
    truth = [int(x) for x in pd.Series(mixed_frame()["band"]).value_counts().reindex(BANDS)] + [0]
    released = [synthesise(real, MIXED_COLUMNS, epsilon=1.0).marginals[2].counts for _ in range(20)]
    assert sum(r != truth for r in released) >= 18
    assert len({tuple(r) for r in released}) >= 18  # fresh noise each time


def test_noise_comes_from_secret_randomness_not_numpys_global_generator() -> None:
    real = mixed()
    np.random.seed(7)
    random.seed(7)
    first = synthesise(real, MIXED_COLUMNS, epsilon=1.0).marginals
    np.random.seed(7)
    random.seed(7)
    second = synthesise(real, MIXED_COLUMNS, epsilon=1.0).marginals
    assert [m.counts for m in first] != [m.counts for m in second]


def _rare_counts(with_rare: bool, repeats: int, epsilon: float) -> np.ndarray:
    values = ["common"] * 5 + (["rare"] if with_rare else [])
    real = pa.table({"c": values})
    columns = [col("c", "category", categories=["common", "rare"])]
    return np.array([synthesise(real, columns, epsilon=epsilon, rows=1).marginals[0].counts[1]
                     for _ in range(repeats)])


@pytest.mark.slow
def test_a_category_seen_once_is_not_reliably_present_and_its_count_is_geometric_noise() -> None:
    """On a tiny dataset and its neighbour without the one person in 'rare': the twin shows 'rare' (noisy count
    ≥ 1) with probabilities within e^ε of each other, and the count's spread is the Geometric mechanism's."""
    epsilon, repeats = 1.0, 1500
    once, never = _rare_counts(True, repeats, epsilon), _rare_counts(False, repeats, epsilon)
    p_once, p_never = (once >= 1).mean(), (never >= 1).mean()
    alpha = math.exp(-epsilon)
    assert p_once == pytest.approx(1 / (1 + alpha), abs=0.05)  # 0.73: often, not reliably, present
    assert p_never == pytest.approx(alpha / (1 + alpha), abs=0.05)  # 0.27: also shown when nobody has it
    assert p_once / p_never <= math.exp(epsilon) * 1.3
    common = np.array([synthesise(pa.table({"c": ["common"] * 40}), [col("c", "category",
                                                                          categories=["common", "rare"])],
                                  epsilon=epsilon, rows=1).marginals[0].counts[0] for _ in range(repeats)])
    variance = 2 * alpha / (1 - alpha) ** 2  # of two-sided Geometric noise; counts near 40 are never clipped
    assert common.mean() == pytest.approx(40, abs=0.15)
    assert common.var() == pytest.approx(variance, rel=0.2)


def test_a_person_with_many_rows_counts_once() -> None:
    people = ["p0"] * 50 + [f"p{i}" for i in range(1, 21)]
    real = pa.table({"person": people, "band": ["65+"] * 50 + ["0-17"] * 20})
    columns = [col("person", role="quasi_identifier"), col("band", "category", categories=BANDS)]
    made = synthesise(real, columns, epsilon=MAX_EPSILON, person_key="person")  # all ε on one column: ~exact
    assert made.marginals[0].kind == "made up" and "person key" in made.marginals[0].reason
    assert made.marginals[1].counts == [20, 0, 1, 0]
    assert made.table.num_rows == 70  # the catalogue's row count, public


def test_a_table_too_small_to_summarise_gives_made_up_and_missing_values() -> None:
    real = pa.table({"name": ["Ann", "Bob", "Cy"], "age": [30, 40, 50], "sex": ["F", "M", "M"]})
    columns = [col("name", role="direct_identifier"), col("age", "integer"),
               col("sex", "category", categories=["F", "M"])]
    twin = synthesise(real, columns, epsilon=1.0, rows=10, min_count=10).table
    assert twin.column("age").null_count == 10 and twin.column("sex").null_count == 10
    assert not set(twin.column("name").to_pylist()) & {"Ann", "Bob", "Cy", None}


def test_an_empty_table_gives_an_empty_twin_or_missing_rows() -> None:
    real = pa.Table.from_pandas(mixed_frame().iloc[:0], preserve_index=False)
    twin = synthesise(real, MIXED_COLUMNS, epsilon=1.0, min_count=1000).table
    assert twin.num_rows == 0 and same_schema(twin, real)
    padded = synthesise(real, MIXED_COLUMNS, epsilon=1.0, rows=5, min_count=1000).table
    assert padded.num_rows == 5
    assert all(padded.column(m.name).null_count == 5 for m in plan(MIXED_COLUMNS) if m.kind != "made up")


def test_columns_the_catalogue_shows_complete_get_no_missing_values() -> None:
    real = pa.table({"n": list(range(10)) * 3})
    columns = [col("n", "integer", lowerBound=0, upperBound=9)]
    for _ in range(20):  # at ε = 0.01 the missing count's noise alone would often be in the hundreds
        made = synthesise(real, columns, epsilon=0.01, complete=frozenset({"n"}), rows=500)
        assert made.marginals[0].counts[-1] == 0 and made.table.column("n").null_count == 0
    noisy = [synthesise(real, columns, epsilon=0.01).marginals[0].counts[-1] for _ in range(20)]
    assert any(noisy)  # otherwise it is measured like any count


def test_a_not_null_field_left_missing_is_marked_nullable() -> None:
    schema = pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("n", pa.int64(), nullable=False)])
    real = pa.Table.from_arrays([pa.array([f"A{i}" for i in range(50)]), pa.array([1, 2] * 25)], schema=schema)
    twin = synthesise(real, [col("id"), col("n", "integer")], epsilon=1.0).table
    assert not twin.schema.field("id").nullable and twin.column("id").null_count == 0
    assert twin.schema.field("n").nullable and twin.column("n").null_count == 50
    twin.validate(full=True)


# ----- refusals ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("columns", "kwargs", "field", "message"), [
    ([col("a"), col("b", "integer")], {}, "columns", "declared but not in the data: b"),
    ([], {}, "columns", "in the data but not declared: a"),
    ([col("a"), col("a")], {}, "columns", "column names repeat"),
    ([col("a", "text")], {}, "columns[0].type", "'text' is not one of"),
    ([col("a", role="secret")], {}, "columns[0].role", "'secret' is not one of"),
    ([{"type": "string"}], {}, "columns[0]", "expected a dict with a 'name'"),
    ([col("a")], {"min_count": 0}, "min_count", "1 or more"),
    ([col("a")], {"min_count": True}, "min_count", "1 or more"),
    ([col("a")], {"rows": -1}, "rows", "from 0 to"),
    ([col("a")], {"rows": 2.5}, "rows", "from 0 to"),
    ([col("a")], {"seed": -3}, "seed", "0 or more"),
    ([col("a")], {"epsilon": 0}, "epsilon", "is not a number from 1e-06 to 20"),
    ([col("a")], {"epsilon": -1.0}, "epsilon", "is not a number from"),
    ([col("a")], {"epsilon": float("nan")}, "epsilon", "is not a number from"),
    ([col("a")], {"epsilon": 1e6}, "epsilon", "is not a number from"),
    ([col("a")], {"epsilon": True}, "epsilon", "is not a number from"),
    ([col("a")], {"epsilon": "1"}, "epsilon", "is not a number from"),
    ([col("a")], {"person_key": "who"}, "person_key", "'who' is not a column of the schema"),
])
def test_refusals(columns: list[dict], kwargs: dict, field: str, message: str) -> None:
    real = pa.table({"a": ["x"] * 20})
    with pytest.raises(InvalidInput, match=re.escape(message)) as caught:
        synthesise(real, columns, **{"epsilon": 1.0, **kwargs})
    assert caught.value.field == field


def test_refuses_columns_in_another_order_and_data_that_is_not_a_table() -> None:
    real = pa.table({"a": [1], "b": [2]})
    with pytest.raises(InvalidInput, match="another order than the data") as caught:
        synthesise(real, [col("b", "integer"), col("a", "integer")], epsilon=1.0)
    assert caught.value.field == "columns"
    with pytest.raises(InvalidInput, match="expected a pyarrow Table, got DataFrame") as caught:
        synthesise(real.to_pandas(), [col("a", "integer"), col("b", "integer")], epsilon=1.0)
    assert caught.value.field == "table"


def test_marginals_travel_as_plain_data() -> None:
    made = synthesise(mixed(), MIXED_COLUMNS, epsilon=1.0)
    import dataclasses
    import json

    back = [Marginal(**m) for m in json.loads(json.dumps([dataclasses.asdict(m) for m in made.marginals]))]
    assert back == made.marginals
    assert len(back[4].domain) == BINS + 1  # float bounds: BINS equal bins


# ----- the demo world ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_tables() -> dict[str, pa.Table]:
    world = build_world(persons=1000, seed=5)
    return {local_id: pa.Table.from_pandas(frame, preserve_index=False) for local_id, frame in world.datasets.items()}


def test_every_demo_dataset_has_a_twin_with_its_schema_and_no_real_identifier(
        world_tables: dict[str, pa.Table]) -> None:
    assert len(world_tables) == 15
    for local_id, real in world_tables.items():
        entry = DATASETS[local_id]
        columns = entry["columns"]
        twin = synthesise(real, columns, epsilon=1.0, person_key=entry.get("personKey"), seed=1).table
        assert same_schema(twin, real), local_id
        assert twin.num_rows == min(real.num_rows, DEFAULT_ROWS), local_id
        for spec in columns:
            shown = set(twin.column(spec["name"]).drop_null().to_pylist())
            if spec["type"] == "category":
                assert shown <= set(spec["categories"]), (local_id, spec["name"])
            if spec["role"] in ("direct_identifier", "record_identifier"):
                assert not shown & set(real.column(spec["name"]).to_pylist()), (local_id, spec["name"])
            if spec["type"] in ("integer", "float") and "lowerBound" in spec and spec["name"] != entry.get("personKey"):
                assert shown and min(shown) >= spec["lowerBound"] and max(shown) <= spec["upperBound"], spec["name"]
        twin.to_pandas()  # opens as a DataFrame like the real data
