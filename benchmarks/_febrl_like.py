"""FEBRL-style synthetic linkage data at any size, a plain recordlinkage pipeline to compare with, and a peak
memory sampler. Shared by the linkage benchmarks.

Like FEBRL's generator: original records (names, address, postcode, date of birth, an identity number) and
duplicates of some of them with one to three modifications each (keyboard typos, deleted, inserted or
transposed characters, missing values, given name and surname swapped, a nickname, a day and month swapped,
a postcode digit changed, a new identity number).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

NICKNAMES = {"william": "bill", "robert": "bob", "james": "jim", "thomas": "tom", "michael": "mike",
             "elizabeth": "liz", "margaret": "maggie", "katherine": "kate", "richard": "dick", "edward": "ted"}
FIELDS = ["given_name", "surname", "street_number", "address_1", "suburb", "postcode", "state", "date_of_birth",
          "soc_sec_id"]


def _pools() -> dict[str, np.ndarray]:
    from faker.providers.address.en_GB import Provider as Address
    from faker.providers.person.en_GB import Provider as Person

    first = sorted({n.lower() for n in (*Person.first_names_male, *Person.first_names_female)} | set(NICKNAMES))
    last = sorted({n.lower() for n in Person.last_names})
    suffixes = ["street", "road", "avenue", "close", "lane", "crescent", "drive", "place", "way", "grove"]
    streets = [f"{n} {s}" for n in last[:300] for s in suffixes]
    towns = [f"{p}{s}" for p in ("ash", "brook", "church", "east", "green", "hill", "king", "new", "north", "oak",
                                 "red", "stan", "west", "wood", "mill", "long") for s in
             ("ford", "field", "ton", "ley", "bury", "ham", "wick", "worth", "by", "stead")]
    return {"first": np.array(first, dtype=object), "last": np.array(last, dtype=object),
            "street": np.array(streets, dtype=object), "town": np.array(towns, dtype=object),
            "county": np.array(Address.counties if hasattr(Address, "counties") else ["county"], dtype=object)}


def _originals(n: int, rng: np.random.Generator) -> pd.DataFrame:
    pools = _pools()
    # name frequencies are skewed, as in real registers
    def skewed(pool: np.ndarray, size: int) -> np.ndarray:
        weights = 1.0 / np.arange(1, pool.size + 1) ** 0.8
        return pool[rng.choice(pool.size, size, p=weights / weights.sum())]

    dob = np.datetime64("1930-01-01") + rng.integers(0, 80 * 365, n).astype("timedelta64[D]")
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    area = np.array(["LS", "M", "B", "S", "L", "NE", "BS", "CF", "G", "EH", "SW", "N", "E", "W", "SE", "NW", "OX",
                     "CB", "YO", "HU"])
    postcode = (area[rng.integers(0, area.size, n)].astype(object) + rng.integers(1, 30, n).astype(str)
                + " " + rng.integers(0, 10, n).astype(str) + letters[rng.integers(0, 20, n)]
                + letters[rng.integers(0, 20, n)])
    return pd.DataFrame({
        "given_name": skewed(pools["first"], n), "surname": skewed(pools["last"], n),
        "street_number": rng.integers(1, 300, n).astype(str).astype(object),
        "address_1": pools["street"][rng.integers(0, pools["street"].size, n)],
        "suburb": pools["town"][rng.integers(0, pools["town"].size, n)],
        "postcode": postcode, "state": pools["county"][rng.integers(0, pools["county"].size, n)],
        "date_of_birth": np.datetime_as_string(dob).astype(object),
        "soc_sec_id": rng.choice(np.arange(1_000_000, 9_999_999), n, replace=False).astype(str).astype(object),
    })


def _typo(value: str, rng: np.random.Generator) -> str:
    if not value:
        return value
    i = int(rng.integers(0, len(value)))
    kind = rng.integers(0, 4)
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    if kind == 0:
        return value[:i] + letter + value[i + 1:]
    if kind == 1 and len(value) > 2:
        return value[:i] + value[i + 1:]
    if kind == 2:
        return value[:i] + letter + value[i:]
    if i + 1 < len(value):
        return value[:i] + value[i + 1] + value[i] + value[i + 2:]
    return value


def _corrupt(record: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    out = dict(record)
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.random()
        field = FIELDS[int(rng.integers(0, len(FIELDS)))]
        if kind < 0.45 and isinstance(out[field], str):
            out[field] = _typo(out[field], rng)
        elif kind < 0.60:
            out[field] = None
        elif kind < 0.65:
            out["given_name"], out["surname"] = out["surname"], out["given_name"]
        elif kind < 0.72 and out["given_name"] in NICKNAMES:
            out["given_name"] = NICKNAMES[out["given_name"]]
        elif kind < 0.80 and out["date_of_birth"] and out["date_of_birth"].count("-") == 2 \
                and out["date_of_birth"].replace("-", "").isdigit():
            y, m, d = out["date_of_birth"].split("-")
            out["date_of_birth"] = f"{y}-{d}-{m}" if int(d) <= 12 else f"{int(y) + 1}-{m}-{d}"
        elif kind < 0.90 and out["postcode"]:
            p = out["postcode"]
            i = int(rng.integers(0, len(p)))
            out["postcode"] = p[:i] + (str(int(rng.integers(0, 10))) if p[i].isdigit() else p[i]) + p[i + 1:]
        else:
            out["soc_sec_id"] = str(int(rng.integers(1_000_000, 9_999_999)))
    return out


def generate(n_left: int, n_right: int, n_matches: int, seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                   pd.MultiIndex]:
    """Left (originals), right (corrupted duplicates of ``n_matches`` of them plus others) and the true links."""
    rng = np.random.default_rng(seed)
    people = _originals(n_left + n_right - n_matches, rng)
    left = people.iloc[:n_left].reset_index(drop=True)
    matched = rng.choice(n_left, n_matches, replace=False)
    dups = pd.DataFrame([_corrupt(r, rng) for r in left.iloc[matched].to_dict("records")])
    others = people.iloc[n_left:].reset_index(drop=True)
    right = pd.concat([dups, others], ignore_index=True)
    order = rng.permutation(len(right))
    right = right.iloc[order].reset_index(drop=True)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    left.index = pd.Index([f"a{i}" for i in range(len(left))], name="rec_id")
    right.index = pd.Index([f"b{i}" for i in range(len(right))], name="rec_id")
    links = pd.MultiIndex.from_arrays([left.index[matched], right.index[position[:n_matches]]])
    return left, right, links


def plain_recordlinkage(left: pd.DataFrame, right: pd.DataFrame) -> pd.MultiIndex:
    """The usual recordlinkage pipeline: blocks, binary string comparisons, the ECM classifier."""
    import recordlinkage

    indexer = recordlinkage.Index()
    indexer.block("date_of_birth")
    indexer.block(["surname", "given_name"])
    indexer.block("postcode")
    pairs = indexer.index(left, right)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
    compare.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    features = compare.compute(pairs, left, right)
    return recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)


def f1(found: pd.MultiIndex, truth: pd.MultiIndex) -> float:
    found_set, true_set = set(found.tolist()), set(truth.tolist())
    hits = len(found_set & true_set)
    if not hits:
        return 0.0
    precision, recall = hits / len(found_set), hits / len(true_set)
    return 2 * precision * recall / (precision + recall)


class PeakMemory:
    """Peak resident memory of this process while the block runs, sampled every 5 ms from /proc."""

    def __init__(self) -> None:
        self.peak = self.start = _rss()
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.peak = self.start = _rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
