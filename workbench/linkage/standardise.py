"""Standardisation: the same value written two ways becomes one value before anything is compared.

Case, whitespace, punctuation and diacritics are removed from text; given names also get a nickname group;
UK postcodes lose their spacing and gain sector and district; dates become eight digits (YYYYMMDD) whatever
their type, so a pandas 2 ``datetime64[ns]`` and a pandas 3 ``datetime64[us]`` column give the same values.
Work is done once per distinct value, never per record, and both frames share one coding so comparisons are
on integers.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jellyfish
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import InvalidInput
from workbench.linkage.nicknames import nickname_index
from workbench.linkage.progress import steps

if TYPE_CHECKING:

    from workbench.linkage.spec import Field, LinkageSpec

try:  # pandas' own string hash table (what pd.factorize uses for text without missing values)
    from pandas._libs.hashtable import StringHashTable as _StringHashTable
    from pandas._libs.lib import is_string_array as _is_string_array
except ImportError:  # pragma: no cover - a pandas without them: pd.factorize throughout
    _StringHashTable = None

_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_NON_ALNUM = re.compile(r"[^0-9a-z ]+")
_SPACES = re.compile(r"\s+")
# the same cleaning over many values joined by newlines, one expression pass for all of them
_NON_ALNUM_LINES = re.compile(r"[^0-9a-z \n]+")
_NON_ALNUM_UPPER_LINES = re.compile(r"[^0-9A-Z\n]+")
_SPACE_RUNS = re.compile(r" +\n *|\n +| {2,}")  # only where there are spaces to drop
# an O third from the end between two letters or digits either side; written to start with the O, which the
# expression engine then finds by a quick scan (the same matches as "(?<=[0-9A-Z]{2})O(?=[0-9A-Z]{2}$)")
_INWARD_LETTER_O = re.compile(r"(?m)O(?=[0-9A-Z]{2}$)(?<=[0-9A-Z]{2}O)")


def clean_text(value: str) -> str:
    """Lower case, diacritics and punctuation removed, whitespace collapsed: "  O'Brien-Smith " → "obrien smith"."""
    if value.isascii():
        text = value.lower()
        if text.replace(" ", "").isalnum():  # only letters, digits and spaces: no expression needed
            return " ".join(text.split())
    else:
        text = unicodedata.normalize("NFKD", value)
        text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _NON_ALNUM.sub(lambda m: " " if "-" in m.group(0) else "", text)
    return _SPACES.sub(" ", text).strip()


def clean_postcode(value: str) -> str:
    """Upper case with no spaces or punctuation: "sw1a 1aa" → "SW1A1AA" (letter O read as zero in the inward digit)."""
    text = re.sub(r"[^0-9A-Z]", "", value.upper())
    if len(text) >= 5 and text[-3] == "O":
        text = text[:-3] + "0" + text[-2:]
    return text


def postcode_parts(value: str) -> tuple[str, str]:
    """(sector, district) of a cleaned postcode; for non-UK codes, the code less one and less two characters."""
    match = _UK_POSTCODE.match(value)
    if match:
        outward, inward = match.groups()
        return outward + " " + inward[0], outward
    return value[:-1], value[:-2]


def _postcode_parts_many(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``postcode_parts`` of every value at once, in Arrow's C++ string kernels, as codes (numbered in order of
    first appearance, as ``pd.factorize`` numbers them): (sectors, districts, and each value's length)."""
    text = pa.array(values, type=pa.string())
    # a UK postcode's inward code is its last three characters: a match, then slices (quicker than captures)
    is_uk = pc.match_substring_regex(text, _UK_POSTCODE.pattern)
    outward = pc.utf8_slice_codeunits(text, 0, -3)
    sector = pc.if_else(is_uk, pc.binary_join_element_wise(outward, pc.utf8_slice_codeunits(text, -3, -2), " "),
                        pc.utf8_slice_codeunits(text, 0, -1))
    district = pc.if_else(is_uk, outward, pc.utf8_slice_codeunits(text, 0, -2))

    def codes(parts: pa.Array) -> np.ndarray:
        return pc.dictionary_encode(parts).indices.to_numpy().astype(np.int64)

    return codes(sector), codes(district), pc.utf8_length(text).to_numpy().astype(np.int64)


def clean_date(value: object) -> str | None:
    """Eight digits YYYYMMDD from a date, a datetime, or text such as 1980-04-09, 09/04/1980 or 19800409."""
    if isinstance(value, str) and value.isascii():  # the common forms without an expression
        if len(value) == 8 and value.isdigit():
            return value
        if (len(value) == 10 and not value[4].isdigit() and not value[7].isdigit()
                and (digits := value[:4] + value[5:7] + value[8:]).isdigit()):
            return digits
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    text = str(value).strip()
    if not text:
        return None
    parts = re.split(r"[^0-9]+", text)
    parts = [p for p in parts if p]
    if len(parts) == 3:
        if len(parts[0]) == 4:  # year first
            y, m, d = parts
        elif len(parts[2]) == 4:  # UK order: day, month, year
            d, m, y = parts
        else:
            return "".join(parts)
        return f"{int(y):04d}{int(m):02d}{int(d):02d}"[:8] if len(y) == 4 else None
    digits = "".join(parts)
    return digits or None


@dataclass
class Prepared:
    """One field of both frames, standardised: integer codes per record (-1 missing) into shared ``uniques``."""

    field: Field
    left: np.ndarray
    right: np.ndarray
    uniques: np.ndarray
    # per unique value (nickname group, y/m/d, parts); ``field`` here is still dataclasses.field
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # type: ignore[operator]  # see above
    # a given name's surname field, to see names written the other way round
    partner: Prepared | None = None

    def key(self, transform: str, side: str) -> np.ndarray:
        """Per-record blocking key codes (-1 where missing) for ``transform`` of this field."""
        codes = self.left if side == "left" else self.right
        if transform == "value":
            return codes
        slot = f"key:{transform}"
        if slot not in self.extra:
            self.extra[slot] = _transform_codes(self, transform)
        if f"{slot}:{side}" not in self.extra:  # kept: several rules use the same key
            self.extra[f"{slot}:{side}"] = np.append(self.extra[slot], -1)[codes].astype(np.int64)  # -1 reads -1
        return self.extra[f"{slot}:{side}"]


def _transform_codes(prepared: Prepared, transform: str) -> np.ndarray:
    """Codes of a transform of each unique value (e.g. soundex), -1 where it has none."""
    values = prepared.uniques
    slices = {"initial": (0, 1), "first3": (0, 3), "year": (0, 4), "month_day": (4, 8), "year_month": (0, 6)}
    if transform in (*slices, "date_unordered") and len(values):
        text = prepared.extra.get("arrow")
        if text is None:
            text = prepared.extra["arrow"] = pa.array(values, type=pa.string())
        if pc.all(pc.string_is_ascii(text)).as_py():  # then Arrow's slices are Python's
            return _arrow_key_codes(text, transform, slices.get(transform))
    if transform == "initial":
        keys = [v[:1] for v in values]
    elif transform == "first3":
        keys = [v[:3] for v in values]
    elif transform == "soundex":
        keys = [jellyfish.soundex(v) if v else "" for v in values]
    elif transform in ("year", "month_day", "year_month"):
        keys = [v[:4] if transform == "year" else v[4:8] if transform == "month_day" else v[:6] for v in values]
    elif transform == "date_unordered":  # year with day and month in either order: a transposed date still meets
        keys = [v[:4] + min(v[4:6], v[6:8]) + max(v[4:6], v[6:8]) if len(v) == 8 else "" for v in values]
    elif transform in ("sector", "district") and "length" in prepared.extra:
        # the parts prepare() coded already; a part is empty only for a code of one (sector) or two characters
        lengths = prepared.extra["length"]
        codes = prepared.extra[transform]
        return np.where(lengths <= (1 if transform == "sector" else 2), -1, codes)
    elif transform in ("sector", "district"):
        keys = [postcode_parts(v)[0 if transform == "sector" else 1] for v in values]
    else:
        raise InvalidInput(f"spec: unknown blocking transform {transform!r}.", field="spec")
    codes, _ = pd.factorize(np.asarray(keys, dtype=object))
    codes[np.asarray([k == "" for k in keys], dtype=bool)] = -1
    return codes.astype(np.int64)


def _arrow_key_codes(text: pa.Array, transform: str, cut: tuple[int, int] | None) -> np.ndarray:
    """``_transform_codes`` of a slice of ASCII values, or of ``date_unordered``, in Arrow's string kernels: the
    same keys, numbered in the same order (of first appearance), -1 where the key is empty."""
    if cut is not None:
        keys = pc.utf8_slice_codeunits(text, *cut)
    else:  # year, then month and day in either order, for values of eight characters
        first, second = pc.utf8_slice_codeunits(text, 4, 6), pc.utf8_slice_codeunits(text, 6, 8)
        in_order = pc.less_equal(first, second)
        keys = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 4), pc.if_else(in_order, first, second),
                                           pc.if_else(in_order, second, first), "")
        keys = pc.if_else(pc.equal(pc.utf8_length(text), 8), keys, "")
    codes = pc.dictionary_encode(keys).indices.to_numpy().astype(np.int64)
    codes[pc.equal(keys, "").to_numpy(zero_copy_only=False)] = -1
    return codes


def _refuse_undecodable(value: str, column: str, side: str) -> None:
    raise InvalidInput(f"{side}: column {column!r} holds text with undecodable characters (U+FFFD, e.g. "
                       f"{value[:20]!r}): the file was read with the wrong encoding; read it again with the "
                       "right one (e.g. encoding='latin-1').", field=side)


def _raw_values(frame: pd.DataFrame, column: str, side: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """A column as per-record codes (-1 missing) into its distinct str / date values, refusing what cannot be
    linked. Types are checked and numbers written as text once per distinct value, never per record."""
    series = frame[column]
    if isinstance(series, pd.DataFrame):
        raise InvalidInput(f"{side}: column {column!r} appears more than once; rename the duplicates.",
                           field=side)
    if pd.api.types.is_datetime64_any_dtype(series):
        # whatever the unit (ns in pandas 2, us in pandas 3)
        codes, days = pd.factorize(series.to_numpy().astype("datetime64[D]"), use_na_sentinel=True)
        text = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D")
        return codes.astype(np.int64), np.asarray([t.replace("-", "") for t in text.tolist()], dtype=object)
    codes, distinct = pd.factorize(series, use_na_sentinel=True)  # None, NaN, NA, NaT: -1
    codes = codes.astype(np.int64)
    distinct = np.asarray(distinct, dtype=object)
    if pd.api.types.infer_dtype(distinct, skipna=True) == "string":  # text only: the checks below in C
        if len(distinct) and "\ufffd" in distinct[0]:
            _refuse_undecodable(distinct[0], column, side)
        return codes, distinct
    # NaN (kept as a value by the factorisation where it is not float's own) is missing: None below
    values = [None if isinstance(v, float) and v != v else v for v in distinct.tolist()]
    present = [v for v in values if v is not None]
    types = {"text" if isinstance(v, str) else "bytes" if isinstance(v, bytes) else
             "number" if isinstance(v, int | float | np.integer | np.floating) else
             "date" if hasattr(v, "strftime") else type(v).__name__ for v in present}
    if "bytes" in types:
        sample = next(v for v in present if isinstance(v, bytes))
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{side}: column {column!r} holds bytes that are not UTF-8 text (e.g. "
                               f"{sample[:20]!r}); decode it first, e.g. "
                               f"frame[{column!r}].str.decode('latin-1').", field=side) from None
        raise InvalidInput(f"{side}: column {column!r} holds bytes, not text; decode it first, e.g. "
                           f"frame[{column!r}].str.decode('utf-8').", field=side)
    if len(types) > 1 and not (types <= {"text", "date"} and kind == "date"):
        raise InvalidInput(f"{side}: column {column!r} mixes {' and '.join(sorted(types))} values; convert it to "
                           f"one type first, e.g. frame[{column!r}].astype('string').", field=side)
    if types - {"text", "number", "date"}:
        raise InvalidInput(f"{side}: column {column!r} holds {', '.join(sorted(types))} values that cannot be "
                           "compared; convert it to text first.", field=side)
    for v in present:
        if isinstance(v, str) and "\ufffd" in v:
            _refuse_undecodable(v, column, side)
        break
    if types == {"number"}:
        whole = all(float(v).is_integer() for v in present)
        values = [None if v is None else str(int(v)) if whole else str(v) for v in values]
    return codes, np.asarray(values, dtype=object)


def _standardise_unique(kind: str, value: object) -> str | None:
    if kind == "date":
        return clean_date(value)
    if kind == "postcode":
        return clean_postcode(str(value)) or None
    if kind == "numeric":
        return str(value).strip() or None
    if kind == "identifier":
        if isinstance(value, str) and value.isascii() and value.isalnum():
            return value.upper()
        return re.sub(r"[^0-9A-Za-z]", "", str(value)).upper() or None
    return clean_text(str(value)) or None


def _standardise_many(kind: str, values: list[object]) -> list[str | None]:
    """``_standardise_unique`` of every value, as one pass of each expression over the values joined by
    newlines where the kind allows (text, postcodes, identifiers): the same results without a Python call per
    value. Values holding a newline themselves, or of other kinds, go one at a time."""
    texts_only = [v for v in values if isinstance(v, str)] if kind == "date" else []
    if values and len(texts_only) == len(values):
        return _dates_of_text(texts_only)
    if kind in ("date", "numeric") or not values:
        return [_standardise_unique(kind, v) for v in values]
    try:
        texts: list[str] = values  # type: ignore[assignment]  # checked by the join: text only
        joined = "\n".join(texts)
    except TypeError:
        texts = [str(v) for v in values]
        joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return [_standardise_unique(kind, v) for v in values]
    if kind in ("postcode", "identifier"):
        out = _upper_alnum_lines(joined)
        if kind == "postcode" and "O" in out:
            out = _INWARD_LETTER_O.sub("0", out)
    else:
        if not joined.isascii():  # diacritics off, value by value, only where there are any
            texts = [t if t.isascii() else "".join(c for c in unicodedata.normalize("NFKD", t)
                                                   if not unicodedata.combining(c)) for t in texts]
            joined = "\n".join(texts)
        out = joined.lower()
        # the expressions only where they would change something: punctuation, or spaces to drop
        if not (out.isascii() and out.replace(" ", "").replace("\n", "").isalnum()):
            out = _NON_ALNUM_LINES.sub(lambda m: " " if "-" in m.group(0) else "", out)
        if "  " in out or " \n" in out or "\n " in out:
            out = _SPACE_RUNS.sub(lambda m: "\n" if "\n" in m.group(0) else " ", out)
        out = out.strip(" ")
    lines: list[str | None] = out.split("\n")  # type: ignore[assignment]  # empty ones become None below
    return lines if "" not in lines else [t or None for t in lines]


def _upper_alnum_lines(joined: str) -> str:
    """Upper case without anything but letters, digits and the newlines between values (as
    ``_NON_ALNUM_UPPER_LINES`` removes), without the expression when only spaces are to go (the usual case)."""
    out = joined.upper()
    if " " in out:
        out = out.replace(" ", "")
    if out.isascii() and out.replace("\n", "").isalnum():  # ASCII letters (upper case by now) and digits only
        return out
    return _NON_ALNUM_UPPER_LINES.sub("", out)


def _dates_of_text(values: list[str]) -> list[str | None]:
    """``clean_date`` of many texts: the usual forms (eight digits, or year-month-day with any separators) in
    Arrow's string kernels, the rest one at a time."""
    text = pa.array(values, type=pa.string())
    usual = pc.or_(pc.match_substring_regex(text, "^[0-9]{8}$"),
                   pc.match_substring_regex(text, "^[0-9]{4}[^0-9][0-9]{2}[^0-9][0-9]{2}$"))
    digits = pc.if_else(usual, pc.replace_substring_regex(text, "[^0-9]", ""), pa.scalar(None, pa.string()))
    out = digits.to_pylist()
    for i in np.flatnonzero(~usual.to_numpy(zero_copy_only=False)).tolist():
        out[i] = clean_date(values[i])
    return out


def _year_month_day(uniques: np.ndarray) -> np.ndarray:
    """(year, month, day) of each eight-digit date, -1s for any other value."""
    ymd = np.full((len(uniques), 3), -1, dtype=np.int64)
    if not len(uniques):
        return ymd
    text = pa.array(uniques, type=pa.string())
    ok = pc.match_substring_regex(text, "^[0-9]{8}$")
    eight = text.filter(ok)
    rows = np.flatnonzero(ok.to_numpy(zero_copy_only=False))
    for i, (start, stop) in enumerate(((0, 4), (4, 6), (6, 8))):
        ymd[rows, i] = pc.cast(pc.utf8_slice_codeunits(eight, start, stop), pa.int64()).to_numpy()
    return ymd


def _factorize_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=True)`` of an object array (the same codes, in order of first
    appearance, and distinct values), through pandas' string hash table whenever every value is text or missing:
    pandas takes that table itself only when nothing is missing, and its general one is about twice as slow."""
    if _StringHashTable is not None and len(values) and _is_string_array(values, skipna=True):
        distinct, codes = _StringHashTable(len(values)).factorize(values, na_sentinel=-1)
        return codes, distinct
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(distinct, dtype=object)


def _text_of_both(left: pd.DataFrame, right: pd.DataFrame, f: Field) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-record codes of both sides (left then right) into their shared distinct values, when both columns
    hold only text; None otherwise (each side is then read and checked on its own)."""
    a, b = left.get(f.left), right.get(f.right)
    if not isinstance(a, pd.Series) or not isinstance(b, pd.Series):
        return None
    if not all(pd.api.types.is_object_dtype(x) or pd.api.types.is_string_dtype(x) for x in (a, b)):
        return None
    both = np.concatenate([a.to_numpy(dtype=object), b.to_numpy(dtype=object)])  # one copy, no Series made
    codes, distinct = _factorize_text(both)
    if pd.api.types.infer_dtype(distinct, skipna=True) != "string":
        return None
    for side, part in (("left", codes[:len(a)]), ("right", codes[len(a):])):
        present = part[part >= 0]
        if present.size and "\ufffd" in distinct[present[0]]:
            _refuse_undecodable(distinct[present[0]], f.left if side == "left" else f.right, side)
    return codes.astype(np.int64), distinct


def prepare(f: Field, left: pd.DataFrame, right: pd.DataFrame, dedupe: bool = False) -> Prepared:
    """Standardise one field of both frames onto shared integer codes (``dedupe``: right is left)."""
    both = None if dedupe else _text_of_both(left, right, f)
    if both is not None:  # text on both sides (the usual case): one factorisation of both
        codes, distinct = both
        codes_left, codes_right = codes[:len(left)], codes[len(left):]
        shared = np.arange(len(distinct), dtype=np.int64)
    else:
        codes_left, distinct_left = _raw_values(left, f.left, "left", f.kind)
        if dedupe:
            codes_right, distinct_right = codes_left, distinct_left[:0]
        else:
            codes_right, distinct_right = _raw_values(right, f.right, "right", f.kind)
        # the two sides' distinct values onto one coding
        shared, distinct = pd.factorize(pd.Series(np.concatenate([distinct_left, distinct_right]), dtype=object),
                                        use_na_sentinel=True)
        shared = shared.astype(np.int64)
    # each distinct value standardised once
    cleaned = np.asarray(_standardise_many(f.kind, distinct.tolist()), dtype=object)
    # distinct raw values may standardise to the same value (or to nothing): recode, unless standardising
    # changed none of them (then they are still distinct, in the same order)
    distinct = np.asarray(distinct, dtype=object)
    if len(cleaned) and cleaned.shape == distinct.shape and bool((cleaned == distinct).all()):
        recode, uniques = np.arange(len(cleaned), dtype=np.int64), cleaned
    else:
        recode, uniques = _factorize_text(cleaned)
        recode = recode.astype(np.int64)
    via = np.where(shared >= 0, recode[np.maximum(shared, 0)], -1)

    def records(codes: np.ndarray, via: np.ndarray) -> np.ndarray:
        return np.append(via, -1)[codes].astype(np.int64)  # -1 (missing) reads the -1 appended

    via_left, via_right = (via, via) if both is not None else (via[:len(distinct_left)], via[len(distinct_left):])
    out_left = records(codes_left, via_left)
    out_right = out_left if dedupe else records(codes_right, via_right)
    uniques = np.asarray(uniques, dtype=object)
    prepared = Prepared(f, out_left, out_right, uniques)
    if f.kind == "given_name":
        index = nickname_index()
        prepared.extra["group"] = np.asarray([index.get(v.split(" ")[0], -1) for v in uniques], dtype=np.int64)
    elif f.kind == "date":
        prepared.extra["ymd"] = _year_month_day(uniques)
    elif f.kind == "postcode":
        prepared.extra["sector"], prepared.extra["district"], prepared.extra["length"] = _postcode_parts_many(uniques)
    elif f.kind == "numeric":
        prepared.extra["number"] = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(float)
    return prepared


def prepare_fields(spec: LinkageSpec, left: pd.DataFrame, right: pd.DataFrame, dedupe: bool,
                   progress: bool | None = None) -> dict[str, Prepared]:
    """Every field of ``spec`` standardised, refusing a field missing in every record of a side."""
    prepared = {}
    for f in steps(spec.fields, "standardising", progress):
        p = prepare(f, left, right, dedupe)
        empty = [side for side, codes in (("left", p.left), ("right", p.right)) if (codes < 0).all()]
        if empty:
            raise InvalidInput(f"{empty[0]}: field {f.name!r} (column {f.left if empty[0] == 'left' else f.right!r})"
                               " is missing in every record, so it cannot be compared; drop it from the spec or "
                               "fill it.", field=empty[0])
        prepared[f.name] = p
    given = [p for p in prepared.values() if p.field.kind == "given_name"]
    surnames = [p for p in prepared.values() if p.field.kind == "surname"]
    if given and surnames:
        link_swapped_names(given[0], surnames[0])
    return prepared


def link_swapped_names(given: Prepared, surname: Prepared) -> None:
    """Let ``given`` see when a pair's given name and surname are swapped: each field's values coded in the
    other's coding (-1 where the other never has that value)."""
    def recode(values: np.ndarray, other: np.ndarray) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(other.tolist())}
        return np.asarray([lookup.get(v, -1) for v in values.tolist()], dtype=np.int64)

    given.partner = surname
    given.extra["as_surname"] = recode(given.uniques, surname.uniques)
    given.extra["surname_as_given"] = recode(surname.uniques, given.uniques)
