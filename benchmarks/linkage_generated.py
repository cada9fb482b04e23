"""A FEBRL-style generated linkage (100,000 × 100,000 records, 50,000 true links, one to three modifications per
duplicate): `workbench.linkage.link` with an inferred spec against a plain recordlinkage pipeline (blocks,
binary comparisons, ECM) in the same run, with time, F1 and the peak memory each adds to the process.
Goal: F1 >= 0.99 in <= 10 s end to end on 2 cores. With ``--splink``: the multi-level Splink engine on the same
pairs (same blocking rules, levels, term frequencies), both engines warm, repeats interleaved, medians and their
ratio (goal: the default engine at least 5x faster).

    python benchmarks/linkage_generated.py [--records 100000] [--matches 50000] [--splink] [--repeats 3]
                                           [--no-baseline]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from _febrl_like import PeakMemory, f1, generate, plain_recordlinkage
from _machine import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--matches", type=int, default=50_000)
    parser.add_argument("--splink", action="store_true", help="also run the Splink engine")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved warm repeats with --splink")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    import recordlinkage  # noqa: F401
    import splink  # noqa: F401

    from workbench.linkage import link

    print(describe())
    left, right, truth = generate(args.records, args.records, args.matches)
    print(f"{len(left):,} × {len(right):,} records, {len(truth):,} true links")
    gc.collect()
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = link(left, right)
        elapsed = time.perf_counter() - start
    quality = result.evaluate(truth)
    print(f"workbench (recordlinkage engine): {elapsed:.2f} s, F1 {quality['f1']:.4f} (precision "
          f"{quality['precision']:.4f}, recall {quality['recall']:.4f}), {len(result.li):,} candidate pairs, "
          f"peak memory +{memory.added_mib:.0f} MiB")
    del result
    gc.collect()
    if args.splink:
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = link(left, right, engine="splink")  # the first call: also warms Splink and DuckDB
            splink_elapsed = time.perf_counter() - start
        print(f"workbench (splink engine, first call): {splink_elapsed:.2f} s, F1 {result.evaluate(truth)['f1']:.4f}, "
              f"peak memory +{memory.added_mib:.0f} MiB")
        del result
        gc.collect()
        ours, theirs = [], []
        for _ in range(args.repeats):  # warm, interleaved
            start = time.perf_counter()
            link(left, right)
            ours.append(time.perf_counter() - start)
            gc.collect()
            start = time.perf_counter()
            link(left, right, engine="splink")
            theirs.append(time.perf_counter() - start)
            gc.collect()
        print(f"warm medians of {args.repeats}, interleaved: default engine {statistics.median(ours):.2f} s, Splink "
              f"engine {statistics.median(theirs):.2f} s; Splink/default time "
              f"{statistics.median(theirs) / statistics.median(ours):.1f}x")
    if not args.no_baseline:
        with PeakMemory() as memory:
            start = time.perf_counter()
            found = plain_recordlinkage(left, right)
            base = time.perf_counter() - start
        print(f"plain recordlinkage (blocks, binary comparisons, ECM): {base:.2f} s, F1 {f1(found, truth):.4f}, "
              f"peak memory +{memory.added_mib:.0f} MiB")
        print(f"time ratio workbench/plain: {elapsed / base:.2f}x")


if __name__ == "__main__":
    main()
