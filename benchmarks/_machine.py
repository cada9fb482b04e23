"""Describe the machine a benchmark ran on, for docs/benchmarks.md, and time its contenders side by side."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable


def describe() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
            f"Python {sys.version.split()[0]}")


def interleaved(runs: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Each run once to warm it, then ``repeats`` rounds of every run in turn (so a slow spell of the machine
    falls on all of them); returns the median and the best seconds of each."""
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for label, run in runs.items():
            start = time.perf_counter()
            run()
            samples[label].append(time.perf_counter() - start)
    return ({label: statistics.median(values) for label, values in samples.items()},
            {label: min(values) for label, values in samples.items()})
