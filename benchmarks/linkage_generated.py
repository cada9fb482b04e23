"""A FEBRL-style generated linkage (100,000 × 100,000 records, 50,000 true links, one to three modifications per
duplicate): `workbench.linkage.link` with an inferred spec against a plain recordlinkage pipeline (blocks,
binary comparisons, ECM) in the same run, with time, F1 and the peak memory each adds to the process.
Goal: F1 >= 0.99 in <= 10 s end to end on 2 cores. With ``--splink``: a tuned multi-level Splink pipeline from
the same raw frames (``_tuned_splink``: its own standardisation in DuckDB SQL, the blocking rules the default
engine chose and its comparison levels fixed in advance, u sampling, EM, predict, threshold and one-to-one) and the
workbench's Splink engine (which shares the workbench's standardisation and choice of blocking), all warm, repeats
interleaved, medians and ratios (goal: the default engine at least 5x faster than the tuned Splink pipeline).

    python benchmarks/linkage_generated.py [--records 100000] [--matches 50000] [--splink] [--repeats 3]
                                           [--no-baseline]
"""

from __future__ import annotations

import argparse
import gc
import time

import pandas as pd
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
    gc.collect()
    if args.splink:
        from _tuned_splink import interleaved, settings_for, tuned_splink

        from workbench.linkage.standardise import prepare_fields

        # the tuned user's fixed settings: the rules the default engine chose, its fields and training rules
        settings = settings_for(result.spec, prepare_fields(result.spec, left, right, False))
        del result
        gc.collect()
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = link(left, right, engine="splink")  # the first call: also warms Splink and DuckDB
            splink_elapsed = time.perf_counter() - start
        print(f"workbench (splink engine, first call): {splink_elapsed:.2f} s, F1 {result.evaluate(truth)['f1']:.4f}, "
              f"peak memory +{memory.added_mib:.0f} MiB")
        del result
        gc.collect()
        with PeakMemory() as memory:
            start = time.perf_counter()
            li, ri, _weight, accepted = tuned_splink(left, right, settings)
            tuned_elapsed = time.perf_counter() - start
        found = pd.MultiIndex.from_arrays([left.index[li[accepted]], right.index[ri[accepted]]])
        print(f"tuned Splink pipeline (first call): {tuned_elapsed:.2f} s, F1 {f1(found, truth):.4f}, {li.size:,} "
              f"pairs predicted at weight >= -10, peak memory +{memory.added_mib:.0f} MiB")
        interleaved(left, right, settings, args.repeats)
    result = None
    gc.collect()
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
