"""Identifying columns of many records at once, for the person index: normalised once per distinct value (Arrow's
dictionary encoding, then one expression pass over all distinct values), keyed fingerprints combined from the
hashes of distinct values, and fingerprints as text or numbers without a Python object per record.

The results equal the per-value cleaners' (``clean_text``, ``clean_postcode``, ``clean_date`` and the identifier
rule): values that are not plain ASCII text take those cleaners one at a time, and so do types other than text and
whole numbers; everything else is cleaned by expressions written to give the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.linkage.standardise import clean_date, clean_postcode, clean_text

# a field missing from a record, or not held by the dataset, in fingerprints: hashed as empty text (no value is
# empty once normalised), as fingerprints have always hashed it
ABSENT = ""
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UNHEX = np.full(256, 255, dtype=np.uint8)
_UNHEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_UNHEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


@dataclass
class Coded:
    """One identifying field of many records: per-record codes (-1 missing) into distinct normalised values."""

    codes: np.ndarray
    uniques: np.ndarray  # object: distinct normalised values (str), none of them None

    def values(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """The normalised value of each record (None where missing), as objects."""
        codes = self.codes if rows is None else self.codes[rows]
        return np.concatenate([self.uniques.astype(object), np.array([None], dtype=object)])[codes]


def clean_identifier(value: object) -> str | None:
    return re.sub(r"[^0-9A-Za-z]", "", str(value)).upper() or None


def cleaner(kind: str) -> Callable[[Any], str | None]:
    """The per-value cleaner of an index field kind (the reference the expressions below agree with)."""
    if kind == "date":
        return clean_date
    if kind == "postcode":
        return lambda v: clean_postcode(str(v)) or None
    if kind == "identifier":
        return clean_identifier
    if kind == "exact":
        return lambda v: clean_text(str(v)).upper() or None
    return lambda v: clean_text(str(v)) or None


def _clean_ascii(text: pa.Array, kind: str) -> pa.Array:
    """The cleaner of ``kind`` over ASCII text values, as Arrow expressions ("" where nothing is left)."""
    if kind == "identifier":
        if pc.all(pc.ascii_is_alnum(text)).as_py():  # already letters and digits only
            return pc.ascii_upper(text)
        return pc.ascii_upper(pc.replace_substring_regex(text, r"[^0-9A-Za-z]", ""))
    if kind == "postcode":
        out = pc.replace_substring(pc.ascii_upper(text), " ", "")
        if not pc.all(pc.ascii_is_alnum(out)).as_py():
            out = pc.replace_substring_regex(out, r"[^0-9A-Z]", "")
        letter_o = pc.and_(pc.equal(pc.utf8_slice_codeunits(out, -3, -2), "O"),
                           pc.greater_equal(pc.utf8_length(out), 5))
        if pc.any(letter_o).as_py():  # the letter O read as zero in the inward code's digit
            fixed = pc.replace_substring_regex(out.filter(letter_o), r"^(.{2,})O(.{2})$", "\\10\\2")  # RE2 \1 0 \2
            out = pc.replace_with_mask(out, letter_o, fixed)
        return out
    out = pc.ascii_lower(text)
    out = pc.replace_substring_regex(out, r"[^0-9a-z ]*-[^0-9a-z ]*", " ")  # a run of punctuation with a hyphen
    out = pc.replace_substring_regex(out, r"[^0-9a-z ]+", "")
    out = pc.utf8_trim(pc.replace_substring_regex(out, r" {2,}", " "), " ")
    return pc.ascii_upper(out) if kind == "exact" else out


def clean_distinct(values: pa.Array, kind: str) -> np.ndarray:
    """Each distinct value of a field cleaned as ``cleaner(kind)`` cleans it (None where nothing is left)."""
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=object)
    kind_of = values.type
    if (pa.types.is_integer(kind_of) and kind != "date") or pa.types.is_large_string(kind_of):
        values = values.cast(pa.string())
    if pa.types.is_string(values.type) and kind != "date":
        ascii_ = pc.fill_null(pc.string_is_ascii(values), False).to_numpy(zero_copy_only=False)
        cleaned = _clean_ascii(values, kind)
        cleaned = pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
        out = cleaned.to_numpy(zero_copy_only=False).astype(object)
        other = np.flatnonzero(~ascii_)
        if other.size:
            clean = cleaner(kind)
            out[other] = [clean(v) for v in values.take(pa.array(other)).to_pylist()]
        return out
    if kind == "date" and (pa.types.is_timestamp(kind_of) or pa.types.is_date(kind_of)):
        years = pc.year(values)
        if values.null_count < n and pc.min(years).as_py() >= 1000:  # four-digit years: as strftime writes them
            return pc.strftime(values, format="%Y%m%d").to_numpy(zero_copy_only=False).astype(object)
    clean = cleaner(kind)
    objects = values.to_pandas()  # the objects pandas gives (Timestamps, dates, floats), as the cleaners expect
    return np.asarray([None if _missing(v) else clean(v) for v in objects], dtype=object)


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def dictionary(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(per-record codes, -1 where null; the distinct values in order of first appearance) of one column, by
    Arrow's dictionary encoding (text of digits only as numbers, ``_digit_dictionary``)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    digits = _digit_dictionary(array)
    if digits is not None:
        return digits
    encoded = pc.dictionary_encode(array)
    codes = pc.fill_null(encoded.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    return codes, encoded.dictionary


_POWERS = 10 ** np.arange(19, dtype=np.int64)


def _digit_dictionary(array: pa.Array) -> tuple[np.ndarray, pa.Array] | None:
    """``dictionary`` of text whose values are all ASCII digits, at most 18 of them (identifiers such as NHS
    numbers), or None for any other column: each value read as a number plus ten to the power of its length (so
    "012" and "12" stay apart) and factorised as integers, which is quicker than hashing text. The codes and the
    distinct values (each taken from its first record) are those Arrow's dictionary encoding gives."""
    if not pa.types.is_string(array.type) or len(array) == array.null_count:
        return None
    if not pc.all(pc.ascii_is_decimal(array)).as_py():  # nulls aside
        return None
    lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
    if lengths.max() > 18:
        return None
    number = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False) + _POWERS[lengths]
    codes = np.full(len(array), -1, dtype=np.int64)
    if array.null_count:
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        codes[valid] = pd.factorize(number[valid])[0]
    else:
        codes = pd.factorize(number)[0].astype(np.int64)
    # codes count up from 0 in order of first appearance: a value's first record is where its code first exceeds
    # every code before it
    before = np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]])
    return codes, array.take(pa.array(np.flatnonzero(codes > before)))


def normalise_column(column: pa.ChunkedArray | pa.Array, kind: str) -> Coded:
    """One identifying column normalised once per distinct value."""
    codes, distinct = dictionary(column)
    if (kind == "identifier" and pa.types.is_string(distinct.type) and len(distinct)
            and pc.all(pc.ascii_is_alnum(distinct)).as_py() and pc.all(pc.equal(pc.ascii_upper(distinct),
                                                                                   distinct)).as_py()):
        # already upper-case letters and digits (NHS numbers): each value cleans to itself, so they stay distinct
        return Coded(codes=codes, uniques=distinct.to_numpy(zero_copy_only=False).astype(object))
    cleaned = clean_distinct(distinct, kind)
    # distinct raw values may clean to one value, or to nothing: recode onto distinct cleaned values
    recode, uniques = pd.factorize(pd.Series(cleaned, dtype=object), use_na_sentinel=True)
    via = np.append(recode.astype(np.int64), -1)
    return Coded(codes=via[codes], uniques=np.asarray(uniques, dtype=object))


def frame(coded: dict[str, Coded], rows: np.ndarray | None = None) -> pd.DataFrame:
    """Normalised fields as a frame of objects (None where missing), of ``rows`` or every record."""
    return pd.DataFrame({name: c.values(rows) for name, c in coded.items()})


def _combine(arrays: Iterable[np.ndarray], count: int) -> np.ndarray:
    """Hashes of several columns into one per row, as pandas combines them for ``hash_pandas_object``."""
    mult = np.uint64(1000003)
    out: np.ndarray | None = None
    for i, a in enumerate(arrays):
        if out is None:
            out = np.zeros_like(a) + np.uint64(0x345678)
        inverse = count - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    assert out is not None
    return out + np.uint64(97531)


def value_hashes(values: np.ndarray, hash_key: str) -> np.ndarray:
    """The keyed hash of each value (text), as ``keyed_hashes`` hashes record keys and distinct field values."""
    return pd.util.hash_array(values.astype(object), hash_key=hash_key, categorize=False)


def keyed_hashes(keys: np.ndarray, fields: list[Coded | None], hash_key: str,
                 hashed: tuple[np.ndarray, list[np.ndarray | None]] | None = None) -> np.ndarray:
    """One keyed hash per record of its key (text) and each field's normalised value (ABSENT where missing or not
    held), equal to ``pandas.util.hash_pandas_object`` of those columns as NumPy text: each distinct value hashed
    once. ``hashed``: ``value_hashes`` of the keys and of each field's ``uniques`` (None for a field not held),
    when the caller made them already (alongside other work)."""
    n = len(keys)
    absent = value_hashes(np.array([ABSENT], dtype=object), hash_key)[0]

    def parts() -> Iterable[np.ndarray]:
        yield value_hashes(keys, hash_key) if hashed is None else hashed[0]
        for i, c in enumerate(fields):
            if c is None:
                yield np.full(n, absent, dtype=np.uint64)
            else:
                table = hashed[1][i] if hashed is not None else None
                table = value_hashes(c.uniques, hash_key) if table is None else table
                yield np.append(table, absent)[c.codes]

    if n == 0:
        return np.empty(0, dtype=np.uint64)
    return _combine(parts(), 1 + len(fields))


def hex_text(hashes: np.ndarray) -> pa.Array:
    """Hashes as 16 lower-case hex digits each (``"%016x"``), an Arrow string array."""
    n = len(hashes)
    raw = np.ascontiguousarray(hashes.astype(">u8")).view(np.uint8).reshape(n, 8)
    digits = np.empty((n, 16), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(digits.tobytes())])


def from_hex(text: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, valid) from fingerprints written by ``hex_text``; a value that is not 16 hex digits is not valid."""
    array = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    n = len(array)
    if n == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool)
    if pa.types.is_integer(array.type):
        return pc.fill_null(array, 0).cast(pa.uint64()).to_numpy(), array.is_valid().to_numpy(zero_copy_only=False)
    array = array.cast(pa.string())
    lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
    valid = array.is_valid().to_numpy(zero_copy_only=False) & (lengths == 16)
    if not valid.all():  # irregular values: only the regular ones are read
        out = np.zeros(n, dtype=np.uint64)
        where = np.flatnonzero(valid)
        if where.size:
            part, ok = from_hex(array.take(pa.array(where)))
            out[where], valid[where] = part, ok
        return out, valid
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset:array.offset + n + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, 16)
    nibbles = _UNHEX[data]
    valid = (nibbles != 255).all(axis=1)
    raw = ((nibbles[:, 0::2] << 4) | (nibbles[:, 1::2] & 15)).astype(np.uint8)
    return np.ascontiguousarray(raw).view(">u8").ravel().astype(np.uint64), valid


__all__ = ["ABSENT", "Coded", "clean_distinct", "clean_identifier", "cleaner", "dictionary", "frame", "from_hex",
           "hex_text", "keyed_hashes", "normalise_column", "value_hashes"]
