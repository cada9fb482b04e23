"""The vectorised forms of standardisation and comparison give the same answers as the one-value-at-a-time
definitions they replace: postcode parts and dates in Arrow's kernels, dense blocking keys, date digit differences
by bit operations, and the character-count test that lets most identifier pairs skip Levenshtein."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from workbench.linkage.blocking import _dense, _distinct
from workbench.linkage.compare import _digit_differences, _may_be_near
from workbench.linkage.standardise import (
    _dates_of_text,
    _postcode_parts_many,
    _year_month_day,
    clean_date,
    postcode_parts,
)


def test_postcode_parts_of_many_match_one_at_a_time() -> None:
    values = np.array(["SW1A1AA", "LS61AB", "M11AA", "A", "AB", "ABC", "12345", "B2OAA", "EC1A1BB", "W1A0AX",
                       "XYZ12", "GIR0AA", "CV27ZA"], dtype=object)
    sectors, districts, lengths = _postcode_parts_many(values)
    parts = [postcode_parts(v) for v in values]
    # codes numbered in order of first appearance, as pandas numbers them
    assert sectors.tolist() == pd.factorize(np.array([p[0] for p in parts], dtype=object))[0].tolist()
    assert districts.tolist() == pd.factorize(np.array([p[1] for p in parts], dtype=object))[0].tolist()
    assert lengths.tolist() == [len(v) for v in values]


def test_dates_of_text_match_clean_date() -> None:
    values = ["1980-04-09", "19800409", "09/04/1980", "1980/4/9", "", " 1980-04-09", "abc", "1980-04-0x",
              "1980\u201304\u201309", "12345", "1980-04-091", "9/4/1980", "1980.04.09"]
    assert _dates_of_text(values) == [clean_date(v) for v in values]
    ymd = _year_month_day(np.array(["19800409", "123", "20001231", "1980040x"], dtype=object))
    assert ymd.tolist() == [[1980, 4, 9], [-1, -1, -1], [2000, 12, 31], [-1, -1, -1]]


def test_dense_codes_keep_equality() -> None:
    rng = np.random.default_rng(3)
    for top in (50, 5_000, 10**9):  # through the table, and by hashing when the numbers are spread wide
        numbers = rng.integers(0, top, 2_000)
        dense = _dense(numbers)
        assert dense.min() == 0 and dense.max() == np.unique(numbers).size - 1
        assert (np.equal.outer(dense, dense) == np.equal.outer(numbers, numbers)).all()
        assert _distinct(numbers).tolist() == np.unique(numbers).tolist()


def test_digit_differences_count_differing_digits() -> None:
    uniques = np.array(["19800409", "19800490", "20001231", "1980040", "", "19800409", "29811409"], dtype=object)
    prepared = SimpleNamespace(uniques=uniques, extra={})
    a, b = np.repeat(np.arange(uniques.size), uniques.size), np.tile(np.arange(uniques.size), uniques.size)
    expected = [sum(x != y for x, y in zip(uniques[i], uniques[j], strict=True))
                if len(uniques[i]) == 8 and len(uniques[j]) == 8 else 99 for i, j in zip(a, b, strict=True)]
    assert _digit_differences(prepared, a, b).tolist() == expected


def test_identifiers_within_two_edits_are_never_skipped() -> None:
    rng = np.random.default_rng(5)
    ids = ["".join(rng.choice(list("0123456789AB"), int(rng.integers(5, 9)))) for _ in range(300)]
    ids[1], ids[2], ids[3] = ids[0][:-1], ids[0][1:] + "7", ids[0][::-1]
    uniques = np.array(ids, dtype=object)
    a, b = np.repeat(np.arange(300), 300), np.tile(np.arange(300), 300)
    near = _may_be_near(SimpleNamespace(uniques=uniques, extra={}), a, b)
    distance = np.array([Levenshtein.distance(ids[i], ids[j]) for i, j in zip(a, b, strict=True)])
    assert not ((distance <= 2) & ~near).any()
    assert near.mean() < 0.2  # and most pairs are skipped
    accented = SimpleNamespace(uniques=np.array(["É1", "E1"], dtype=object), extra={})
    assert _may_be_near(accented, np.array([0]), np.array([1])).all()  # not ASCII: nothing skipped


def test_identifiers_with_a_rare_character_are_counted_like_the_others() -> None:
    rng = np.random.default_rng(6)
    # digits in every value, letters in a few: the letters are counted only for pairs where one has any
    ids = sorted({f"{x:07d}" for x in rng.integers(0, 10**7, 2_000)} | {"AB12345", "1234567X", "X1234567", "Q"})
    uniques = np.array(ids, dtype=object)
    a, b = rng.integers(0, uniques.size, 50_000), rng.integers(0, uniques.size, 50_000)
    a[:40], b[:40] = uniques.size - 1, np.arange(40)
    near = _may_be_near(SimpleNamespace(uniques=uniques, extra={}), a, b)
    counts = [np.array([v.count(c) for c in "0123456789ABQX"]) for v in ids]
    expected = [np.abs(counts[i] - counts[j]).sum() <= 4 for i, j in zip(a, b, strict=True)]
    assert near.tolist() == expected


def test_postcodes_and_identifiers_are_cleaned_alike_with_and_without_the_expression() -> None:
    from workbench.linkage.standardise import _standardise_many, _standardise_unique

    values = ["sw1a 1aa", "B2O 4AA", "ls6 1ab", "OX1 2JD", "W1A-0AX", "e1  6an", "GIR 0AA", "CBO1OO", "ÉC1A 1BB",
              "o", "", "12 345", "ab\tcd"]
    for kind in ("postcode", "identifier"):
        assert _standardise_many(kind, values) == [_standardise_unique(kind, v) for v in values]
        plain = [v for v in values if v.isascii() and "-" not in v and "\t" not in v]
        assert _standardise_many(kind, plain) == [_standardise_unique(kind, v) for v in plain]


def test_patterns_counted_in_a_table_match_a_sort() -> None:
    from workbench.linkage.fellegi_sunter import patterns

    rng = np.random.default_rng(7)
    for rows, fields, top in ((5_000, 4, 4), (3, 2, 2), (2_000, 12, 5)):  # the last by a sort (too many patterns)
        matrix = rng.integers(-1, top, (rows, fields)).astype(np.int8)
        pats, counts, inverse = patterns(matrix)
        code = np.zeros(rows, dtype=np.int64)
        for j in range(fields):
            code = code * (top + 1) + matrix[:, j] + 1
        _, first, expected_inverse, expected_counts = np.unique(code, return_index=True, return_inverse=True,
                                                                return_counts=True)
        assert (pats == matrix[first]).all() and pats.dtype == matrix.dtype
        assert counts.tolist() == expected_counts.tolist() and (inverse == expected_inverse).all()


def test_text_is_cleaned_alike_with_and_without_the_expressions() -> None:
    from workbench.linkage.standardise import _standardise_many, _standardise_unique

    clean = ["anne", "mary jane", "o brien", "smith 2"]
    messy = [*clean, "O'Brien-Smith", "  Anne ", "mary  jane", "José", "x\u00a0y", "", "-", "a - b", 42]
    for kind in ("given_name", "surname", "string"):
        for values in (clean, [v.upper() for v in clean], messy, [*clean, " "]):
            assert _standardise_many(kind, values) == [_standardise_unique(kind, v) for v in values]


def test_first_occurrences_and_one_to_one_match_the_sorting_forms() -> None:
    from workbench.linkage.result import ASSIGNABLE_WEIGHT, first_of_each, one_to_one

    rng = np.random.default_rng(8)
    keys = rng.integers(0, 300, 5_000)
    expected = np.zeros(keys.size, dtype=bool)
    expected[np.unique(keys, return_index=True)[1]] = True
    assert (first_of_each(keys) == expected).all() and first_of_each(keys[:0]).size == 0
    assert (first_of_each(keys * 10**6) == expected).all()  # spread wide: by a sort

    def greedy(li: np.ndarray, ri: np.ndarray, weight: np.ndarray) -> np.ndarray:  # one pair at a time
        keep, used_left, used_right = np.zeros(li.size, dtype=bool), set(), set()
        for k in np.argsort(-weight, kind="stable"):
            if weight[k] >= ASSIGNABLE_WEIGHT and li[k] not in used_left and ri[k] not in used_right:
                keep[k] = True
                used_left.add(li[k])
                used_right.add(ri[k])
        return keep

    for _ in range(5):
        li, ri = rng.integers(0, 200, 3_000), rng.integers(0, 200, 3_000)
        weight = np.round(rng.normal(0, 8, 3_000), 1)  # ties too
        assert (one_to_one(li, ri, weight) == greedy(li, ri, weight)).all()


def test_slice_keys_in_arrow_match_python_slices() -> None:
    from workbench.linkage.standardise import _transform_codes

    values = ["19800409", "19801204", "1980", "", "ab", "1980-4-9", "20001312", "abcdefgh", "2000011", "x"]
    for transform in ("initial", "first3", "year", "month_day", "year_month", "date_unordered"):
        fast = _transform_codes(SimpleNamespace(uniques=np.array(values, dtype=object), extra={}), transform)
        # one value not ASCII: every key sliced in Python (the earlier values keep their codes)
        slow = _transform_codes(SimpleNamespace(uniques=np.array([*values, "é"], dtype=object), extra={}), transform)
        assert fast.tolist() == slow[:-1].tolist()


def test_distinct_numbers_through_a_table_match_hashing() -> None:
    from workbench.linkage.compare import _distinct_numbers

    rng = np.random.default_rng(9)
    for span in (50, 40_000, 10**12):  # small spans through a table, wide ones hashed
        numbers = rng.integers(0, span, 20_000)
        inverse, distinct = _distinct_numbers(numbers, span)
        assert (np.asarray(distinct)[inverse] == numbers).all()
        assert sorted(np.asarray(distinct).tolist()) == np.unique(numbers).tolist()


def test_dates_as_numbers_find_transposed_and_year_off_dates_as_their_parts_do() -> None:
    from workbench.linkage.compare import _date_numbers

    uniques = np.array(["19800409", "19800904", "19810409", "19790409", "19800410", "19801204", "20001231",
                        "1980040", "", "00000101", "00010101", "00009999", "99999999", "19800404"], dtype=object)
    prepared = SimpleNamespace(uniques=uniques, extra={"ymd": _year_month_day(uniques)})
    written, swapped = _date_numbers(prepared)
    (yl, ml, dl), (yr, mr, dr) = (np.repeat(prepared.extra["ymd"], uniques.size, axis=0).T,
                                  np.tile(prepared.extra["ymd"], (uniques.size, 1)).T)
    a, b = np.repeat(np.arange(uniques.size), uniques.size), np.tile(np.arange(uniques.size), uniques.size)
    valid = (yl >= 0) & (yr >= 0)
    assert ((written[a] == swapped[b]) == (valid & (yl == yr) & (ml == dr) & (dl == mr))).all()
    assert ((np.abs(written[a] - written[b]) == 10_000)
            == (valid & (ml == mr) & (dl == dr) & (np.abs(yl - yr) == 1))).all()


def test_given_name_and_surname_swapped_are_found_only_when_both_are() -> None:
    from workbench.linkage.compare import levels
    from workbench.linkage.spec import Field, LinkageSpec
    from workbench.linkage.standardise import prepare_fields

    left = pd.DataFrame({"given_name": ["john", "mary", "smith", "anne", "brown"],
                         "surname": ["smith", "jones", "brown", None, "kelly"]})
    right = pd.DataFrame({"given_name": ["smith", "jones", "john", "zed", "kelly"],
                          "surname": ["john", "mary", "smith", "anne", "brown"]})
    fields = (Field("given_name", "given_name", "given_name", "given_name"),
              Field("surname", "surname", "surname", "surname"))
    prepared = prepare_fields(LinkageSpec(fields=fields, blocking=(("surname",),)), left, right, False)
    li, ri = np.repeat(np.arange(5), 5), np.tile(np.arange(5), 5)
    got = levels(prepared["given_name"], li, ri)
    lg, ls = left["given_name"].to_numpy()[li], left["surname"].to_numpy()[li]
    rg, rs = right["given_name"].to_numpy()[ri], right["surname"].to_numpy()[ri]
    swapped = (lg == rs) & (ls == rg)  # None never equals a name
    assert swapped.sum() == 3  # john smith, mary jones, brown kelly; smith brown / john smith only one way
    assert ((got == 1) == swapped).all()
