"""Linking the demo's synthetic population at scale: two department extracts of a `build_world(persons=N)`
world (by default DWP benefit claims against HES hospital episodes, linked on names, date of birth, sex and
postcode as recorded, each with its own corruption) with `workbench.linkage.link`, against a plain recordlinkage
pipeline on the same frames when it fits. Reports time, accuracy against the world's truth (per person: a link
is right when both records are the same person) and the peak memory the linkage adds to the process.

    python benchmarks/linkage_demo_population.py [--persons 1000000] [--left dwp.benefit_claims]
                                                 [--right dhsc.hes_apc] [--baseline] [--splink]

``--splink`` also runs the Splink engine on the same frames (the same chosen blocking rules and levels) after a
warm-up call, for its accuracy, and a tuned multi-level Splink pipeline from the same raw frames
(``_tuned_splink``: its own standardisation in DuckDB SQL, the default engine's chosen rules and levels fixed in
advance); then all three warm with repeats interleaved (``--repeats``, medians and ratios; goal: the default
engine at least 5x faster than the tuned Splink pipeline).
"""

from __future__ import annotations

import argparse
import gc
import time
from types import SimpleNamespace

from _febrl_like import PeakMemory
from _machine import describe

IDENTITY = {"first_name": "first_name", "last_name": "surname", "forename": "first_name", "surname": "surname",
            "dob": "dob", "sex": "sex", "postcode": "postcode"}


def identities(frame, truth):
    """The identifying columns under common names, indexed by record key, and each record's person."""
    key = truth.columns[0]
    out = frame[[key, *[c for c in frame.columns if c in IDENTITY]]].rename(columns=IDENTITY).set_index(key)
    person = truth.set_index(key)["person_id"].reindex(out.index)
    return out, person


def accuracy(left_person, right_person, result) -> dict:
    import numpy as np

    keep = result._accepted()
    correct = int((left_person.to_numpy()[result.li[keep]] == right_person.to_numpy()[result.ri[keep]]).sum())
    lc = left_person.value_counts()
    rc = right_person.value_counts()
    possible = int(np.minimum(lc, rc.reindex(lc.index).fillna(0)).sum())
    links = int(keep.sum())
    precision, recall = correct / max(links, 1), correct / max(possible, 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-12),
            "links": links, "possible": possible}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--left", default="dwp.benefit_claims")
    parser.add_argument("--right", default="dhsc.hes_apc")
    parser.add_argument("--baseline", action="store_true", help="also run a plain recordlinkage pipeline")
    parser.add_argument("--splink", action="store_true", help="also run the Splink engine (warm)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved warm repeats with --splink")
    args = parser.parse_args()
    from workbench.demo.world import build_world
    from workbench.linkage import link

    print(describe())
    start = time.perf_counter()
    world = build_world(persons=args.persons, seed=2026)
    print(f"world of {args.persons:,} persons generated in {time.perf_counter() - start:.1f} s")
    left, left_person = identities(world.datasets[args.left], world.truth[args.left])
    right, right_person = identities(world.datasets[args.right], world.truth[args.right])
    del world
    gc.collect()
    print(f"{args.left}: {len(left):,} records; {args.right}: {len(right):,} records")
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = link(left, right, progress=False)
        elapsed = time.perf_counter() - start
    quality = accuracy(left_person, right_person, result)
    print(f"workbench: {elapsed:.1f} s, {len(result.li):,} candidate pairs, {quality['links']:,} links, "
          f"precision {quality['precision']:.4f}, recall {quality['recall']:.4f} of {quality['possible']:,} "
          f"possible, F1 {quality['f1']:.4f}; peak memory +{memory.added_mib:.0f} MiB "
          f"(process peak {memory.peak / 2**30:.2f} GiB)")
    print("blocking rules chosen from the data:")
    print(result.blocking.to_string(index=False))
    print(f"estimated recall of the chosen rules: {result.blocking.attrs.get('estimated_recall', float('nan')):.4f}")
    if args.splink:
        from _tuned_splink import interleaved, settings_for, tuned_splink

        from workbench.linkage.standardise import prepare_fields

        # the tuned user's fixed settings: the rules the default engine chose, its fields and training rules
        settings = settings_for(result.spec, prepare_fields(result.spec, left, right, False))
        del result
        gc.collect()
        small = left.iloc[:2000], right.iloc[:2000]
        link(*small, engine="splink", progress=False)  # warm Splink and DuckDB
        start = time.perf_counter()
        splink = link(left, right, engine="splink", progress=False)
        splink_elapsed = time.perf_counter() - start
        sq = accuracy(left_person, right_person, splink)
        print(f"splink engine: {splink_elapsed:.1f} s, {len(splink.li):,} candidate pairs, precision "
              f"{sq['precision']:.4f}, recall {sq['recall']:.4f}, F1 {sq['f1']:.4f} (difference "
              f"{abs(quality['f1'] - sq['f1']):.4f}); Splink/default time {splink_elapsed / elapsed:.1f}x")
        del splink
        gc.collect()
        start = time.perf_counter()
        li, ri, _weight, accepted = tuned_splink(left, right, settings)
        tuned_elapsed = time.perf_counter() - start
        tq = accuracy(left_person, right_person, SimpleNamespace(li=li, ri=ri, _accepted=lambda: accepted))
        print(f"tuned Splink pipeline (first call): {tuned_elapsed:.1f} s, {li.size:,} pairs predicted at weight "
              f">= -10, precision {tq['precision']:.4f}, recall {tq['recall']:.4f}, F1 {tq['f1']:.4f}")
        interleaved(left, right, settings, args.repeats, progress=False)
        result = None
    if args.baseline:
        import recordlinkage

        del result
        gc.collect()
        with PeakMemory() as memory:
            start = time.perf_counter()
            indexer = recordlinkage.Index()
            indexer.block(["dob", "surname"])
            indexer.block(["postcode", "first_name"])
            pairs = indexer.index(left, right)
            compare = recordlinkage.Compare()
            compare.string("first_name", "first_name", method="jarowinkler", threshold=0.85)
            compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
            compare.exact("dob", "dob")
            compare.exact("sex", "sex")
            compare.exact("postcode", "postcode")
            found = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(compare.compute(pairs, left, right))
            base = time.perf_counter() - start
        lp = left_person.reindex(found.get_level_values(0)).to_numpy()
        rp = right_person.reindex(found.get_level_values(1)).to_numpy()
        print(f"plain recordlinkage: {base:.1f} s, {len(pairs):,} pairs, {len(found):,} links, precision "
              f"{(lp == rp).mean():.4f}; peak memory +{memory.added_mib:.0f} MiB; time ratio workbench/plain "
              f"{elapsed / base:.2f}x")


if __name__ == "__main__":
    main()
