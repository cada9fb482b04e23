"""Which linkage engine builds the person index: the operator's choice in the workspace's ``workspace.json``,

    {"person_index": {"engine": "splink-spark",
                      "spark": {"master": "spark://index-cluster:7077", "conf": {"spark.executor.memory": "8g"},
                                "checkpoint_dir": "/srv/workbench/spark-checkpoints"}}}

``default`` (the workbench's own engine, when nothing is configured), ``splink`` (Splink on DuckDB, in the
service's process) or ``splink-spark`` (Splink on the Spark cluster named here). Every engine gets the same
records, spec and blocking rules from the index service and its result goes through the same acceptance, so the
engine changes where the pairs are compared, not what is linked. The Spark session is the service's own: one on
another master, already running in the process, is refused rather than used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.config import WORKSPACE_FILE, workspace_settings
from workbench.errors import InvalidInput

if TYPE_CHECKING:
    from pathlib import Path

# the index's engine names → the linkage engine that runs them
ENGINES: dict[str, str] = {"default": "recordlinkage", "splink": "splink", "splink-spark": "splink-spark"}
SECTION = "person_index"
_SPARK_KEYS = ("master", "conf", "checkpoint_dir")


@dataclass(frozen=True)
class IndexEngine:
    """The configured engine (its index name) and, for ``splink-spark``, the service's Spark cluster."""

    name: str = "default"
    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()
    checkpoint_dir: str | None = None

    @property
    def linkage(self) -> str:
        """The name ``workbench.linkage.link.link`` knows it by."""
        return ENGINES[self.name]

    def describe(self) -> dict[str, Any]:
        """What ``status()`` shows: the engine and, on Spark, the master (never the rest of the configuration)."""
        return {"engine": self.name, **({"spark_master": self.master} if self.name == "splink-spark" else {})}


def _refuse(home: Path, message: str) -> InvalidInput:
    return InvalidInput(f"{message} (in {home / WORKSPACE_FILE}, section \"{SECTION}\"; see docs/linkage.md, "
                        "\"The person index on Spark\").", field="person_index.engine")


def configured(home: Path) -> IndexEngine:
    """The workspace's engine, checked (an unknown name, or Spark without a master, is refused); starts nothing."""
    settings = workspace_settings(home, SECTION)
    unknown = sorted(set(settings) - {"engine", "spark"})
    if unknown:
        raise _refuse(home, f"unknown person index setting(s) {', '.join(map(repr, unknown))}: use \"engine\" and, "
                            "for splink-spark, \"spark\"")
    name = settings.get("engine", "default")
    if name not in ENGINES:
        raise _refuse(home, f"person_index.engine {name!r} is not one of {', '.join(ENGINES)}")
    if name != "splink-spark":
        return IndexEngine(name)
    spark = settings.get("spark")
    if not isinstance(spark, dict) or not isinstance(spark.get("master"), str) or not spark["master"].strip():
        raise _refuse(home, 'person_index.engine "splink-spark" needs the service\'s Spark cluster: give '
                            '"spark": {"master": "spark://host:7077"} (or "local[*]" for Spark on the service\'s '
                            "own machine)")
    extra = sorted(set(spark) - set(_SPARK_KEYS))
    if extra:
        raise _refuse(home, f"unknown Spark setting(s) {', '.join(map(repr, extra))}: use {', '.join(_SPARK_KEYS)}")
    conf = spark.get("conf", {})
    if not isinstance(conf, dict) or not all(isinstance(k, str) and k.startswith("spark.") and
                                             isinstance(v, str | int | float | bool) for k, v in conf.items()):
        raise _refuse(home, 'person_index.spark.conf must map Spark settings ("spark.…") to text, numbers or '
                            "true/false")
    checkpoint = spark.get("checkpoint_dir")
    if checkpoint is not None and (not isinstance(checkpoint, str) or not checkpoint.strip()):
        raise _refuse(home, "person_index.spark.checkpoint_dir must be a folder on the cluster's shared storage")
    values = tuple(sorted((k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in conf.items()))
    return IndexEngine(name, master=spark["master"].strip(), conf=values, checkpoint_dir=checkpoint)


def start(engine: IndexEngine) -> None:
    """Before an update reads any record: for Splink on Spark, the service's Spark session on the configured
    master (started once, then reused), refused with what to install or fix when there is none to be had."""
    if engine.name != "splink-spark" or engine.master is None:
        return
    from workbench.linkage.engine_splink_spark import _MISSING, _java_found

    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError:
        raise InvalidInput(_MISSING.format(what="pyspark"), field="person_index.engine") from None
    if not _java_found():
        raise InvalidInput(_MISSING.format(what="a Java runtime (none on the PATH or in JAVA_HOME)"),
                           field="person_index.engine")
    builder = (SparkSession.builder.master(engine.master).appName("workbench-person-index")
               .config("spark.jars", similarity_jar_location())
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false"))
    for key, value in engine.conf:
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as e:  # pyspark reports a Java or master that will not start as a generic error
        raise InvalidInput(_MISSING.format(what=f"a Spark that starts (it did not on {engine.master}: {e})"),
                           field="person_index.engine") from e
    running = session.sparkContext.master
    if running != engine.master:
        raise InvalidInput(f"This process already runs a Spark session on {running!r}; the person index is linked "
                           f"only on the workspace's own Spark ({engine.master!r}): stop the other session or "
                           "configure its master.", field="person_index.engine")
    if engine.checkpoint_dir:
        session.sparkContext.setCheckpointDir(engine.checkpoint_dir)


__all__ = ["ENGINES", "IndexEngine", "configured", "start"]
