"""Identifying columns cleaned once per distinct value with Arrow expressions give exactly what the per-value
cleaners give, and fingerprints combined from distinct values' hashes equal pandas' hash of the whole columns."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from workbench.person_index import columns

AWKWARD = ["  O'Brien-Smith ", "sw1a 1aa", "SW1A 1OA", "ab-", "--x--", "a'-b", "a . b", "a\tb", "ß", "Émile Zola",
           "straße", "ﬁsh", "", "  ", "x\ny", "123", "A1-B2", "é-e", "o'neil", "mc  donald", "LS1O 1AA", "L O 12",
           "ab.-.cd", "-", "'", "İstanbul", "abco12", "o12", "xo 1aa", "ﬁo12", "AB-O12", " sw1a  1aa ", "O12AB"]


@pytest.mark.parametrize("kind", ["given_name", "surname", "exact", "postcode", "identifier", "date"])
def test_distinct_values_clean_as_the_per_value_cleaners(kind: str) -> None:
    clean = columns.cleaner(kind)
    assert columns.clean_distinct(pa.array(AWKWARD), kind).tolist() == [clean(v) for v in AWKWARD]


def test_dates_of_any_type_clean_as_strftime_writes_them() -> None:
    stamps = pa.array([dt.datetime(1980, 4, 9), dt.datetime(2001, 12, 31, 23, 59), None], pa.timestamp("ns"))
    assert columns.clean_distinct(stamps, "date").tolist() == ["19800409", "20011231", None]
    days = pa.array([dt.date(1980, 4, 9), dt.date(999, 1, 2)], pa.date32())  # a three-digit year: one at a time
    assert columns.clean_distinct(days, "date").tolist() == [columns.cleaner("date")(v) for v in days.to_pylist()]
    numbers = pa.array([9100000001, None], pa.int64())
    assert columns.normalise_column(numbers, "identifier").values().tolist() == ["9100000001", None]


def test_values_that_clean_alike_share_a_code() -> None:
    coded = columns.normalise_column(pa.array(["LS1 4AB", "ls14ab", None, "!!"]), "postcode")
    assert coded.codes.tolist() == [0, 0, -1, -1] and coded.uniques.tolist() == ["LS14AB"]


def test_fingerprints_equal_pandas_hash_of_the_columns_as_text() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"key": [f"R{i}" for i in range(500)],
                          "surname": rng.choice(["smith", "jones", None], 500),
                          "dob": rng.choice(["19800409", None], 500)})
    hash_key = hmac.new(b"k" * 32, b"test", hashlib.sha256).hexdigest()[:16]
    coded = [columns.normalise_column(pa.array(frame[f]), "surname") for f in ("surname", "dob")]
    ours = columns.keyed_hashes(frame["key"].to_numpy(dtype=object), [coded[0], None, coded[1]], hash_key)
    reference = pd.DataFrame({"key": frame["key"], "surname": frame["surname"], "absent": None,
                              "dob": frame["dob"]}).fillna(columns.ABSENT).astype(str)
    assert (ours == pd.util.hash_pandas_object(reference, index=False, hash_key=hash_key).to_numpy()).all()
    text = columns.hex_text(ours)
    assert text.to_pylist() == [f"{h:016x}" for h in ours.tolist()]
    back, valid = columns.from_hex(pa.array([*text.to_pylist(), "f", None]))
    assert (back[:500] == ours).all() and valid.tolist() == [True] * 500 + [False, False]


def test_text_of_digits_is_coded_as_arrow_codes_it() -> None:
    """Identifiers of digits only are factorised as numbers: the same codes and distinct values as Arrow's
    dictionary encoding, leading zeros kept apart; other text (letters, signs, 19 digits) is encoded as before."""
    for values in (["0012", "12", None, "12", "0012", "7", "007", None, "9" * 18],
                   ["12", "+12", "12"], ["1", "9" * 19, "1"], ["١٢", "12"], [None, None], []):
        array = pa.array(values, pa.string())
        codes, distinct = columns.dictionary(array)
        encoded = pa.compute.dictionary_encode(array)
        assert codes.tolist() == [-1 if c is None else c for c in encoded.indices.to_pylist()]
        assert distinct.to_pylist() == encoded.dictionary.to_pylist()
    coded = columns.normalise_column(pa.array(["0012", "12", None, "0012"]), "identifier")
    assert coded.codes.tolist() == [0, 1, -1, 0] and coded.uniques.tolist() == ["0012", "12"]


@pytest.mark.parametrize("values", [["9434765919", "9434765919", None, "0123456789"], ["AB123456C", "ab123456c"],
                                    ["A1", "A 1", ""], ["X9"]])
def test_identifiers_already_clean_keep_their_codes(values: list[str | None]) -> None:
    coded = columns.normalise_column(pa.array(values, pa.string()), "identifier")
    clean = columns.cleaner("identifier")
    assert coded.values().tolist() == [None if v is None else clean(v) for v in values]
    assert len(set(coded.uniques.tolist())) == len(coded.uniques)
