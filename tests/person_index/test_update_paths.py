"""The update's faster steps give what the straightforward ones give: the persons near some records (each rule's
look-ups and dictionaries shared between rules), the postcode parts it keys them by, the conflicting-identity
warnings (counted in Arrow) and each record's old row found by its fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.linkage.standardise import postcode_parts
from workbench.person_index import columns
from workbench.person_index.columns import Coded
from workbench.person_index.service import (
    INDEX_FIELDS,
    PERSON_SCHEMA,
    _conflicts,
    _keys,
    _matching,
    _mixed,
    _Persons,
    _spec,
)


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    given = np.array(["ann", "bob", "cat", "dan", "eve", "fay", None], dtype=object)
    surname = np.array(["smith", "jones", "brown", "taylor", "wilson", None], dtype=object)
    dob = np.array(["19800101", "19800102", "19900315", "20010704", None], dtype=object)
    postcode = np.array(["AB12CD", "AB12CE", "XY99ZZ", "LS16JL", None], dtype=object)
    nhs = np.array([f"{i:010d}" for i in range(40)] + [None], dtype=object)
    return pd.DataFrame({"given_name": rng.choice(given, n), "surname": rng.choice(surname, n),
                         "dob": rng.choice(dob, n), "sex": rng.choice(np.array(["M", "F", None], dtype=object), n),
                         "postcode": rng.choice(postcode, n), "nhs_number": rng.choice(nhs, n),
                         "nino": np.full(n, None, dtype=object)})


def _persons(frame: pd.DataFrame) -> _Persons:
    ids = pa.array([f"wbp_{i:016x}" for i in range(len(frame))], type=pa.string())
    fields = {f: pa.array(frame[f].to_numpy(dtype=object), type=pa.string()) for f in INDEX_FIELDS}
    return _Persons(pa.table({"index_id": ids, **fields}, schema=PERSON_SCHEMA))


def _near_reference(persons: _Persons, records: pd.DataFrame, rules: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """Each rule on its own: every person's keys made and compared with the records'."""
    keep = np.zeros(len(persons), dtype=bool)
    table = persons.table
    for rule in rules:
        record_parts, person_parts, sizes = [], [], []
        for key in rule:
            name, _, transform = key.partition(":")
            r_codes, r_distinct = columns.dictionary(pa.array(records[name].to_numpy(dtype=object), pa.string()))
            r_keys = _keys(r_distinct, transform or "value")
            wanted = pd.Index(pd.unique(r_keys[pd.notna(r_keys)]))
            p_codes, p_distinct = columns.dictionary(table.column(name))
            record_parts.append(np.append(wanted.get_indexer(r_keys), -1)[r_codes])
            person_parts.append(np.append(wanted.get_indexer(_keys(p_distinct, transform or "value")), -1)[p_codes])
            sizes.append(max(len(wanted), 1))
        record_key, record_ok = _mixed(record_parts, sizes)
        person_key, person_ok = _mixed(person_parts, sizes)
        keep |= person_ok & np.isin(person_key, np.unique(record_key[record_ok]))
    return keep


def test_near_equals_every_rule_made_on_its_own() -> None:
    persons = _persons(_people(3000, 1))
    for seed in range(2, 7):
        records = _people(25, seed)
        spec = _spec([f for f in INDEX_FIELDS if f != "nino"], one_to_one=False)
        assert any(len(rule) > 1 for rule in spec.blocking)
        found = persons.near(records, spec)
        assert found.any() and not found.all()
        np.testing.assert_array_equal(found, _near_reference(persons, records, spec.blocking))


def _conflicts_reference(coded: dict[str, Coded], person_at: np.ndarray, persons: _Persons) -> dict[str, int]:
    """Per identity field, persons with two values among their records, or one the index holds otherwise."""
    out = {}
    for f in ("nhs_number", "nino"):
        if f not in coded:
            continue
        values = coded[f].values()
        held = persons.table.column(f).to_pylist()
        seen: dict[int, set[str]] = {}
        for at, value in zip(person_at, values, strict=True):
            if at >= 0 and value is not None:
                seen.setdefault(int(at), set()).add(value)
        clashes = sum(1 for at, v in seen.items() if len(v) > 1 or (held[at] is not None and held[at] not in v))
        if clashes:
            out[f] = clashes
    return out


def test_conflicts_count_as_each_person_checked_on_its_own() -> None:
    people = _people(200, 8)
    persons = _persons(people)
    rng = np.random.default_rng(9)
    for _ in range(5):
        records = _people(600, int(rng.integers(1000)))
        coded = {f: columns.normalise_column(pa.array(records[f].to_numpy(dtype=object), pa.string()),
                                             INDEX_FIELDS[f]) for f in ("nhs_number", "postcode")}
        person_at = rng.integers(-1, len(people), len(records))
        expected = _conflicts_reference(coded, person_at, persons)
        warnings = _conflicts(coded, person_at, persons)
        assert len(warnings) == len(expected)
        if expected:
            assert f"{expected['nhs_number']:,} person(s)" in warnings[0]
    assert _conflicts({"nhs_number": Coded(np.full(3, -1), np.empty(0, dtype=object))}, np.zeros(3, np.int64),
                      persons) == []


def test_postcode_parts_are_the_engines() -> None:
    """Sector and district keys made in Arrow (a match, then slices) are the engine's ``postcode_parts``; an empty
    part is no key."""
    values = ["SW1A1AA", "AB12CD", "LS16JL", "W1A0AX", "XY99ZZ", "E11AA", "ZZ99", "1234567", "A", "AB", "ABC",
              "AA11AAA", "W1AA1AA", "E1É1AA", "", None]
    for transform, part in (("sector", 0), ("district", 1)):
        expected = [None if v is None else postcode_parts(v)[part] or None for v in values]
        assert _keys(pa.array(values, pa.string()), transform).tolist() == expected


def test_matching_finds_each_fingerprints_first_usable_old_row() -> None:
    rng = np.random.default_rng(3)
    old = rng.integers(0, 50, 400).astype(np.uint64)
    usable = rng.random(400) > 0.2
    for new in (old.copy(), rng.permutation(old), rng.integers(0, 60, 500).astype(np.uint64), old[:100]):
        expected = [next((j for j in range(len(old)) if usable[j] and old[j] == f), -1) for f in new]
        in_place = [i for i in range(min(len(new), len(old))) if usable[i] and new[i] == old[i]]
        expected = [i if i in in_place else e for i, e in enumerate(expected)]
        assert _matching(new, old, usable).tolist() == expected
