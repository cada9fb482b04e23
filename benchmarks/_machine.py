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


def _status(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_memory(runs: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float] | None]:
    """Each run once more, measuring the process's peak resident memory while it runs: (peak RSS MiB, MiB over the
    RSS it started from). Linux resets the high-water mark on request (``/proc/self/clear_refs``), so the kernel
    itself records the peak, with no sampling; elsewhere (or when refused) the answer is None. Memory that an
    allocator kept from an earlier run is reused without adding to the RSS, so the second figure is a lower bound."""
    out: dict[str, tuple[float, float] | None] = {}
    for label, run in runs.items():
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            out[label] = None
            continue
        start = _status("VmRSS")
        run()
        peak = _status("VmHWM")
        out[label] = None if start is None or peak is None else (peak / 2**20, (peak - start) / 2**20)
    return out


def memory_line(label: str, memory: tuple[float, float] | None) -> str:
    if memory is None:
        return f"  {label:<24} peak RSS not measured (no /proc/self/clear_refs)"
    return f"  {label:<24} peak RSS {memory[0]:7.0f} MiB ({max(memory[1], 0.0):+.0f} MiB over its start)"
