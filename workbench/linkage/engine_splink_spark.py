"""The Splink engine on Spark: the Splink settings of ``engine_splink`` (written in Spark SQL) trained and scored
by Splink's Spark backend, for linkages that outgrow one machine.

The engine uses the active SparkSession when there is one (a cluster session built by the analyst, see
docs/linkage.md) and otherwise starts a local one. pyspark and a Java runtime are needed only here.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInput
from workbench.linkage.engine_splink import run_splink

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from workbench.linkage.fellegi_sunter import Model
    from workbench.linkage.spec import LinkageSpec
    from workbench.linkage.standardise import Prepared

_MISSING = ('engine "splink-spark" needs {what}; install it (pip install "workbench[spark]" brings pyspark; Java 17 '
            'from your system packages, e.g. apt-get install openjdk-17-jre-headless, with JAVA_HOME or java on the '
            'PATH), or use engine="splink" (DuckDB) on one machine.')


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and os.path.exists(os.path.join(home, "bin", "java"))) or shutil.which("java") is not None


def spark_session() -> Any:
    """The active SparkSession, or a new local one (all cores, few shuffle partitions, no UI) with Splink's
    similarity functions on its class path."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInput(_MISSING.format(what="pyspark"), field="engine") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if not _java_found():
        raise InvalidInput(_MISSING.format(what="a Java runtime (none on the PATH or in JAVA_HOME)"), field="engine")
    from splink.backends.spark import similarity_jar_location

    try:
        return (SparkSession.builder.master("local[*]").appName("workbench-linkage")
                .config("spark.jars", similarity_jar_location())
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                .getOrCreate())
    except Exception as e:  # pyspark reports a Java that will not start as a generic runtime error
        raise InvalidInput(_MISSING.format(what=f"a working Java runtime (Spark did not start: {e})"),
                           field="engine") from e


def run_splink_spark(spec: LinkageSpec, prepared: dict[str, Prepared], left: pd.DataFrame, right: pd.DataFrame,
                     dedupe: bool, *, progress: bool | None = None, seed: int = 1
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Model, list[int]]:
    """``run_splink`` on Spark: same settings, Spark SQL dialect, Splink's SparkAPI."""
    spark = spark_session()
    from splink.backends.spark import SparkAPI


    # intermediate tables are cached in memory unless the session has a checkpoint directory (a cluster's
    # shared storage), in which case Splink writes them there as parquet
    try:
        checkpointed = not spark.sparkContext._jsc.sc().getCheckpointDir().isEmpty()
    except Exception:  # a Spark Connect session has no SparkContext
        checkpointed = False
    db_api = SparkAPI(spark_session=spark, break_lineage_method=None if checkpointed else "persist")
    return run_splink(spec, prepared, left, right, dedupe, progress=progress, seed=seed, db_api=db_api,
                      dialect="spark")
