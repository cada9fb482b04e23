"""Synthetic twins: the real schema, per-column marginals, and nothing that gives a real row or rare value away."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from workbench.catalogue.twin import DEFAULT_ROWS, synthesise
from workbench.demo._world_catalogue import DATASETS
from workbench.demo.world import build_world
from workbench.errors import InvalidInput

K = 10
NUMERIC = ("integer", "float", "date")


def col(name: str, kind: str = "string", role: str = "other", **extra: object) -> dict:
    return {"name": name, "type": kind, "role": role, "description": "", **extra}


def shape(value: str) -> str:
    """Digits, upper- and lower-case letters as classes; everything else as itself."""
    return re.sub("[a-z]", "a", re.sub("[A-Z]", "A", re.sub("[0-9]", "9", value)))


def rows_of(table: pa.Table) -> set[tuple]:
    return set(zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True))


def assert_reveals_nothing(real: pa.Table, twin: pa.Table, columns: list[dict], k: int = K) -> None:
    """No twin row is a real row, and every twin value is one the real column holds at least ``k`` times, a fake
    that equals no real value, or (numbers and dates) lies between the k-th smallest and k-th largest real value."""
    assert not rows_of(real) & rows_of(twin)
    for spec in columns:
        name, kind = spec["name"], spec["type"]
        real_values = [v for v in real.column(name).to_pylist() if v is not None]
        counts = Counter(real_values)
        emitted = {v for v in twin.column(name).to_pylist() if v is not None}
        if spec["role"] == "direct_identifier" and kind in ("string", "integer"):
            assert not emitted & set(counts), f"{name}: a real identifier leaked"
            continue
        ordered = sorted(real_values)
        for value in emitted - {v for v, c in counts.items() if c >= k}:
            if kind in NUMERIC:
                assert ordered[k - 1] <= value <= ordered[-k], f"{name}: {value!r} outside the inner range"
            else:
                assert kind == "string" and value not in counts, f"{name}: rare value {value!r} leaked"


# ----- shape of the twin -----------------------------------------------------------------------------------
def mixed_frame(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "record_id": [f"R{i:06d}" for i in rng.permutation(n)],
        "nhs_number": [f"{x:010d}" for x in rng.integers(10**9, 10**10, n)],
        "band": pd.Categorical(rng.choice(["0-17", "18-64", "65+"], n), categories=["0-17", "18-64", "65+"]),
        "nights": pd.Series(rng.poisson(3, n), dtype="Int64").where(rng.random(n) > 0.1, pd.NA),
        "cost": np.round(rng.lognormal(7, 1, n), 2),
        "emergency": rng.random(n) < 0.4,
        "admitted": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
    })


MIXED_COLUMNS = [col("record_id"), col("nhs_number", role="direct_identifier"),
                 col("band", "category", "quasi_identifier", categories=["0-17", "18-64", "65+"]),
                 col("nights", "integer", "sensitive"), col("cost", "float", "sensitive"),
                 col("emergency", "boolean", "sensitive"), col("admitted", "date", "quasi_identifier")]


def test_twin_has_the_real_schema_names_order_types_and_metadata() -> None:
    real = pa.Table.from_pandas(mixed_frame(), preserve_index=False)
    twin = synthesise(real, MIXED_COLUMNS)
    assert twin.schema.equals(real.schema, check_metadata=True)
    assert pa.types.is_dictionary(twin.schema.field("band").type)
    assert twin.num_rows == real.num_rows
    back = twin.to_pandas()
    assert list(back.columns) == list(mixed_frame().columns)
    assert back["nights"].dtype == "Int64" and isinstance(back["band"].dtype, pd.CategoricalDtype)
    assert_reveals_nothing(real, twin, MIXED_COLUMNS)


def test_twins_data_as_the_vault_stores_it(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(mixed_frame(3000), preserve_index=False), tmp_path / "d.parquet",
                   row_group_size=700)  # read back in several chunks
    real = pq.read_table(tmp_path / "d.parquet")
    assert real.column("cost").num_chunks > 1
    twin = synthesise(real, MIXED_COLUMNS)
    assert twin.schema.equals(real.schema, check_metadata=True)
    assert_reveals_nothing(real, twin, MIXED_COLUMNS)
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
    })
    columns = [col("code"), col("label"), col("small", "integer"), col("ratio", "float"), col("day", "date"),
               col("when", "date"), col("blob")]
    twin = synthesise(real, columns, rows=400)
    assert twin.schema == real.schema and twin.num_rows == 400
    assert twin.column("blob").null_count == 400  # a type a twin cannot imitate comes out missing
    assert_reveals_nothing(real, twin, columns[:-1])


def test_rows_default_to_the_real_count_capped() -> None:
    small = pa.table({"id": [f"A{i:03d}" for i in range(30)]})
    big = pa.table({"id": [f"A{i:06d}" for i in range(DEFAULT_ROWS + 500)]})
    assert synthesise(small, [col("id")]).num_rows == 30
    assert synthesise(big, [col("id")]).num_rows == DEFAULT_ROWS
    assert synthesise(small, [col("id")], rows=75).num_rows == 75
    assert synthesise(small, [col("id")], rows=0).num_rows == 0


def test_the_same_seed_gives_the_same_twin() -> None:
    real = pa.Table.from_pandas(mixed_frame(), preserve_index=False)
    assert synthesise(real, MIXED_COLUMNS, seed=4).equals(synthesise(real, MIXED_COLUMNS, seed=4))
    assert not synthesise(real, MIXED_COLUMNS, seed=4).equals(synthesise(real, MIXED_COLUMNS, seed=5))


# ----- no real row -----------------------------------------------------------------------------------------
def test_no_real_row_in_a_table_where_chance_collisions_are_likely() -> None:
    # Five of the six (flag, colour) pairs are real, each 40 times; independent draws are new only 8 times in 100.
    pairs = [(True, "red"), (True, "green"), (True, "blue"), (False, "red"), (False, "green")] * 40
    real = pa.table({"flag": [p[0] for p in pairs], "colour": [p[1] for p in pairs]})
    columns = [col("flag", "boolean"), col("colour", "category", categories=["red", "green", "blue"])]
    twin = synthesise(real, columns, rows=1000)
    assert not rows_of(real) & rows_of(twin)
    assert rows_of(twin) == {(False, "blue")}
    assert twin.num_rows == 1000


def test_a_table_whose_every_possible_row_is_real_gives_an_empty_twin() -> None:
    real = pa.table({"flag": [True, False] * 20, "other": [True] * 20 + [False] * 20})
    columns = [col("flag", "boolean"), col("other", "boolean")]
    assert not rows_of(real) - {(True, True), (False, True), (True, False), (False, False)}
    twin = synthesise(real, columns, rows=50)
    assert twin.num_rows == 0 and twin.schema == real.schema


def test_missing_values_count_as_equal_when_matching_rows() -> None:
    real = pa.table({"a": pa.array([None] * 30 + ["x"] * 30, pa.string()), "b": [1] * 60})
    twin = synthesise(real, [col("a"), col("b", "integer")], rows=200)
    assert twin.num_rows == 0  # (None, 1) and ("x", 1) are both real rows


# ----- rare values -----------------------------------------------------------------------------------------
def test_a_category_seen_fewer_than_min_count_times_never_appears() -> None:
    values = ["nine"] * 9 + ["ten"] * 10 + ["many"] * 200
    real = pa.table({"id": [f"X{i:04d}" for i in range(219)], "c": values, "s": values,
                     "b": [True] * 9 + [False] * 210})
    columns = [col("id"), col("c", "category", categories=["nine", "ten", "many", "never"]), col("s"),
               col("b", "boolean")]
    twin = synthesise(real, columns, rows=5000, seed=1)
    for name in ("c", "s"):
        seen = Counter(twin.column(name).to_pylist())
        assert "nine" not in seen and "never" not in seen
        assert seen["ten"] > 0 and seen["many"] > seen["ten"]
    assert set(twin.column("b").to_pylist()) == {False}
    assert_reveals_nothing(real, twin, columns)
    assert "nine" in synthesise(real, columns, rows=5000, min_count=9).column("c").to_pylist()


def test_a_category_column_with_no_frequent_value_comes_out_missing() -> None:
    real = pa.table({"c": ["a", "b", "c"] * 3, "n": list(range(9))})
    twin = synthesise(real, [col("c", "category", categories=["a", "b", "c"]), col("n", "integer")], rows=20)
    assert twin.column("c").null_count == 20 and twin.column("n").null_count == 20


def test_numeric_extremes_never_appear() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    ages = np.append(rng.integers(20, 60, n - 1), 117)
    pay = np.append(np.round(rng.normal(500, 80, n - 1), 2), 1_000_000.0)
    days = np.append(rng.integers(0, 3650, n - 1), 40_000) + np.datetime64("2010-01-01")
    real = pa.table({"age": ages, "pay": pay, "day": pa.array(days.astype("datetime64[ns]"))})
    columns = [col("age", "integer"), col("pay", "float"), col("day", "date")]
    twin = synthesise(real, columns, rows=20_000, seed=2)
    for name, values in (("age", ages), ("pay", pay), ("day", days.astype("datetime64[ns]"))):
        drawn = twin.column(name).to_numpy()
        ordered = np.sort(values)
        assert ordered[K - 1] <= drawn.min() and drawn.max() <= ordered[-K]
    assert twin.column("age").type == pa.int64()
    pennies = twin.column("pay").to_numpy() * 100
    assert np.allclose(pennies, np.round(pennies))  # recorded to the penny, twinned to the penny
    assert_reveals_nothing(real, twin, columns)


def test_dates_recorded_as_days_stay_whole_days() -> None:
    days = np.arange(400) + np.datetime64("2020-01-01")
    real = pa.table({"day": pa.array(days.astype("datetime64[ns]"))})
    drawn = synthesise(real, [col("day", "date")], rows=500).column("day").to_pandas()
    assert (drawn == drawn.dt.normalize()).all()


# ----- identifiers -----------------------------------------------------------------------------------------
def test_direct_identifiers_are_fake_and_keep_their_shape() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    names = ["O'Neil", "Smith", "Jones", "van Dyke", "Li"]
    real = pa.table({
        "nhs_number": [f"{x:010d}" for x in rng.integers(10**9, 10**10, n)],
        "postcode": [f"{a}{b} {c}{d}" for a, b, c, d in zip(rng.choice(["LS", "B", "NE"], n), rng.integers(1, 30, n),
                                                             rng.integers(0, 10, n), rng.choice(["AB", "XY"], n),
                                                             strict=True)],
        "first_name": rng.choice(names, n),  # each name hundreds of times: frequent, still never shown
        "staff_number": rng.integers(10_000, 99_999, n),
    })
    columns = [col(name, "integer" if name == "staff_number" else "string", "direct_identifier")
               for name in real.column_names]
    twin = synthesise(real, columns, rows=3000)
    assert_reveals_nothing(real, twin, columns)
    for name in ("nhs_number", "postcode", "first_name"):
        real_values = set(real.column(name).to_pylist())
        drawn = twin.column(name).to_pylist()
        assert twin.column(name).null_count == 0
        assert not set(drawn) & real_values
        assert {shape(v) for v in drawn} <= {shape(v) for v in real_values}
    staff = twin.column("staff_number").to_numpy()
    assert ((staff >= 10_000) & (staff <= 99_999)).all()
    assert not set(staff.tolist()) & set(real.column("staff_number").to_pylist())


def test_high_cardinality_strings_are_fake_but_frequent_values_are_kept() -> None:
    ids = [f"EP{i:08d}" for i in range(1000)]
    areas = ["E06000001"] * 600 + [f"E0900{i:04d}" for i in range(400)]  # one frequent code, 400 seen once
    real = pa.table({"episode_id": ids, "area": areas})
    columns = [col("episode_id"), col("area", role="quasi_identifier")]
    twin = synthesise(real, columns)
    assert_reveals_nothing(real, twin, columns)
    assert not set(twin.column("episode_id").to_pylist()) & set(ids)
    assert {shape(v) for v in twin.column("episode_id").to_pylist()} == {"AA99999999"}
    area = Counter(twin.column("area").to_pylist())
    assert 0.5 < area["E06000001"] / twin.num_rows < 0.7  # the frequent code keeps its share
    assert {shape(v) for v in area} == {"A99999999"}


# ----- marginals -------------------------------------------------------------------------------------------
def test_null_rates_and_frequencies_are_roughly_preserved() -> None:
    rng = np.random.default_rng(9)
    n = 20_000
    real = pa.table({
        "id": [f"P{i:05d}" for i in range(n)],  # fake in the twin, so no twin row can equal a real one
        "group": pa.array(rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]), mask=rng.random(n) < 0.2),
        "value": pa.array(rng.normal(50, 10, n), mask=rng.random(n) < 0.35),
    })
    twin = synthesise(real, [col("id"), col("group", "category", categories=["a", "b", "c"]), col("value", "float")],
                      rows=20_000, seed=3)
    assert abs(twin.column("group").null_count / n - 0.2) < 0.02
    assert abs(twin.column("value").null_count / n - 0.35) < 0.02
    shares = Counter(v for v in twin.column("group").to_pylist() if v is not None)
    total = sum(shares.values())
    assert abs(shares["a"] / total - 0.6) < 0.02 and abs(shares["c"] / total - 0.1) < 0.02
    drawn = twin.column("value").drop_null().to_numpy()
    assert abs(np.median(drawn) - 50) < 1 and 8 < drawn.std() < 11


def test_columns_are_sampled_independently() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 5000)
    real = pa.table({"x": x, "y": x * 2 + rng.normal(0, 0.1, 5000)})
    twin = synthesise(real, [col("x", "float"), col("y", "float")], seed=1)
    assert abs(np.corrcoef(real.column("x"), real.column("y"))[0, 1]) > 0.9
    assert abs(np.corrcoef(twin.column("x"), twin.column("y"))[0, 1]) < 0.05


# ----- edges and refusals ----------------------------------------------------------------------------------
def test_an_empty_table_gives_an_empty_twin_or_missing_rows() -> None:
    real = pa.Table.from_pandas(mixed_frame().iloc[:0], preserve_index=False)
    twin = synthesise(real, MIXED_COLUMNS)
    assert twin.num_rows == 0 and twin.schema.equals(real.schema, check_metadata=True)
    padded = synthesise(real, MIXED_COLUMNS, rows=5)
    assert padded.num_rows == 5 and all(c.null_count == 5 for c in padded.columns)


def test_a_not_null_field_left_missing_is_marked_nullable() -> None:
    schema = pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("n", pa.int64(), nullable=False)])
    real = pa.Table.from_arrays([pa.array([f"A{i}" for i in range(50)]), pa.array([1, 2] * 25)], schema=schema)
    twin = synthesise(real, [col("id"), col("n", "integer")], min_count=30)
    assert not twin.schema.field("id").nullable and twin.column("id").null_count == 0
    assert twin.schema.field("n").nullable and twin.column("n").null_count == 50
    twin.validate(full=True)


def test_a_table_too_small_to_summarise_gives_fakes_and_missing_values() -> None:
    real = pa.table({"name": ["Ann", "Bob", "Cy"], "age": [30, 40, 50], "sex": ["F", "M", "M"]})
    columns = [col("name", role="direct_identifier"), col("age", "integer"), col("sex", "category",
                                                                                  categories=["F", "M"])]
    twin = synthesise(real, columns, rows=10)
    assert twin.column("age").null_count == 10 and twin.column("sex").null_count == 10
    assert not set(twin.column("name").to_pylist()) & {"Ann", "Bob", "Cy", None}


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
])
def test_refusals(columns: list[dict], kwargs: dict, field: str, message: str) -> None:
    real = pa.table({"a": ["x"] * 20})
    with pytest.raises(InvalidInput, match=re.escape(message)) as caught:
        synthesise(real, columns, **kwargs)
    assert caught.value.field == field


def test_refuses_columns_in_another_order_and_data_that_is_not_a_table() -> None:
    real = pa.table({"a": [1], "b": [2]})
    with pytest.raises(InvalidInput, match="another order than the data") as caught:
        synthesise(real, [col("b", "integer"), col("a", "integer")])
    assert caught.value.field == "columns"
    with pytest.raises(InvalidInput, match="expected a pyarrow Table, got DataFrame") as caught:
        synthesise(real.to_pandas(), [col("a", "integer"), col("b", "integer")])
    assert caught.value.field == "table"


# ----- the demo world ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_tables() -> dict[str, pa.Table]:
    world = build_world(persons=1000, seed=5)
    return {local_id: pa.Table.from_pandas(frame, preserve_index=False) for local_id, frame in world.datasets.items()}


def test_every_demo_dataset_has_a_twin_that_reveals_nothing(world_tables: dict[str, pa.Table]) -> None:
    assert len(world_tables) == 15
    for local_id, real in world_tables.items():
        columns = DATASETS[local_id]["columns"]
        twin = synthesise(real, columns, seed=1)
        assert twin.schema.equals(real.schema, check_metadata=True), local_id
        assert twin.num_rows == min(real.num_rows, DEFAULT_ROWS), local_id
        assert_reveals_nothing(real, twin, columns)
        for spec in columns:
            if spec["type"] == "category":
                assert set(twin.column(spec["name"]).drop_null().to_pylist()) <= set(spec["categories"])
        twin.to_pandas()  # opens as a DataFrame like the real data


def test_demo_identifiers_keep_their_formats(world_tables: dict[str, pa.Table]) -> None:
    for local_id, real in world_tables.items():
        twin = synthesise(real, DATASETS[local_id]["columns"], seed=2)
        for spec in DATASETS[local_id]["columns"]:
            if spec["role"] == "direct_identifier":
                shapes = {shape(v) for v in real.column(spec["name"]).drop_null().to_pylist()}
                assert {shape(v) for v in twin.column(spec["name"]).drop_null().to_pylist()} <= shapes
    hes = synthesise(world_tables["dhsc.hes_apc"], DATASETS["dhsc.hes_apc"]["columns"], seed=2)
    assert all(re.fullmatch(r"\d{10}", v) for v in hes.column("nhs_number").drop_null().to_pylist())
    assert hes.column("admission_date").drop_null().to_pandas().dt.time.eq(dt.time(0)).all()
