"""Department-typical errors in personal identifiers, applied independently to each person-level dataset.

Record linkage is only worth demonstrating when identifiers disagree the way they do between real departments:
informal first names, maiden names, transposed dates, stale addresses, keyboard slips, gaps and formatting.
Errors that stick to a person within one department (the name they registered under, an address not updated)
are drawn once per person; slips made when a record is keyed are drawn per record. Everything works on whole
arrays so a million records take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from workbench.demo._world_reference import KEYBOARD_NEIGHBOURS, NICKNAMES, POSTCODE_UNIT_LETTERS

KINDS = frozenset({
    "nickname", "maiden_name", "swap_names", "dob_day_month", "dob_year", "dob_digits", "stale_postcode",
    "typo_first", "typo_last", "case_whitespace", "postcode_format", "postcode_typo", "missing_first",
    "missing_last", "missing_dob", "missing_postcode", "missing_sex",
})


@dataclass(frozen=True)
class CorruptionProfile:
    """Rates (fractions) of each kind of identifier error in one department's records, keyed by kind.

    Person-level kinds: ``nickname`` (of people whose first name has a short form), ``maiden_name`` (of
    people known under a previous surname), ``swap_names``, ``dob_day_month`` (of people born on day 1-12),
    ``dob_year``, ``dob_digits``, ``stale_postcode``. The rest are per record. ``upper_case_names``: the
    department stores names in upper case.
    """

    rates: dict[str, float]
    upper_case_names: bool = False

    def __post_init__(self) -> None:
        if set(self.rates) != KINDS:
            raise ValueError(f"a corruption profile gives a rate for each of {sorted(KINDS)}")


def _profiles() -> dict[str, CorruptionProfile]:
    """Each person-level dataset's profile, kept as data in corruption.yaml beside this module."""
    with (Path(__file__).parent / "corruption.yaml").open(encoding="utf-8") as handle:
        rows: dict[str, dict] = yaml.safe_load(handle)
    return {local_id: CorruptionProfile(upper_case_names=row.pop("upper_case_names", False), rates=row)
            for local_id, row in rows.items()}


PROFILES = _profiles()


def _nickname_tables() -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """Flatten the nickname table into (name -> group, group start, group size, all forms)."""
    index: dict[str, int] = {}
    starts: list[int] = []
    sizes: list[int] = []
    forms: list[str] = []
    for i, (name, variants) in enumerate(NICKNAMES.items()):
        index[name] = i
        starts.append(len(forms))
        sizes.append(len(variants))
        forms.extend(variants)
    return index, np.array(starts), np.array(sizes), np.array(forms, dtype=object)


_NICK_INDEX, _NICK_START, _NICK_SIZE, _NICK_FORMS = _nickname_tables()


def _neighbour_table() -> tuple[np.ndarray, np.ndarray]:
    """Code point -> neighbouring lower-case keys, as a padded matrix and a count per code point."""
    width = max(len(v) for v in KEYBOARD_NEIGHBOURS.values())
    table = np.zeros((128, width), dtype=np.uint32)
    count = np.zeros(128, dtype=np.int64)
    for key, near in KEYBOARD_NEIGHBOURS.items():
        table[ord(key), : len(near)] = [ord(c) for c in near]
        count[ord(key)] = len(near)
    return table, count


_NEAR, _NEAR_COUNT = _neighbour_table()


def keyboard_typos(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One keyboard slip per string: adjacent-key substitution, deletion, doubled insertion or transposition.

    Works on a fixed-width code-point matrix, so there is no Python loop per string. Strings must be
    non-empty; the first letter is left alone (people rarely mistype it).
    """
    n = len(values)
    if n == 0:
        return values
    text = np.asarray(values, dtype=str)
    k = text.dtype.itemsize // 4
    w = k + 2
    codes = np.zeros((n, w), dtype=np.uint32)
    codes[:, :k] = text.view(np.uint32).reshape(n, k)
    length = (codes != 0).sum(axis=1)
    rows = np.arange(n)
    cols = np.arange(w)[None, :]
    kind = rng.integers(0, 4, n)                       # 0 substitute, 1 delete, 2 insert, 3 transpose
    kind = np.where((length < 4) & ((kind == 1) | (kind == 3)), 0, kind)
    kind = np.where(length < 2, 2, kind)
    last = np.maximum(length - 1, 1)
    pos = np.where(length >= 2, 1 + np.floor(rng.random(n) * (last - (kind == 3))).astype(np.int64), 0)
    pos = np.minimum(pos, np.maximum(length - 1, 0))

    char = codes[rows, pos]
    upper = (char >= 65) & (char <= 90)
    lower = np.where(upper, char + 32, char)
    lower_idx = np.where(lower < 128, lower, 0).astype(np.int64)
    cnt = _NEAR_COUNT[lower_idx]
    pick = np.floor(rng.random(n) * np.maximum(cnt, 1)).astype(np.int64)
    near = np.where(cnt > 0, _NEAR[lower_idx, pick], lower)
    near = np.where(upper, near - 32, near).astype(np.uint32)

    out = codes.copy()
    sub = kind == 0
    out[rows[sub], pos[sub]] = near[sub]
    dele = kind == 1
    if dele.any():
        src = np.minimum(cols + (cols >= pos[dele, None]), w - 1)
        out[dele] = np.take_along_axis(codes[dele], src, axis=1)
    ins = kind == 2
    if ins.any():
        p = pos[ins, None]
        src = np.where(cols > p + 1, cols - 1, cols)
        block = np.take_along_axis(codes[ins], np.minimum(src, w - 1), axis=1)
        doubled = rng.random(int(ins.sum())) < 0.5
        block[np.arange(block.shape[0]), pos[ins] + 1] = np.where(doubled, char[ins], near[ins])
        out[ins] = block
    tra = kind == 3
    if tra.any():
        r, p = rows[tra], pos[tra]
        out[r, p], out[r, p + 1] = codes[r, p + 1], codes[r, p]
    return np.ascontiguousarray(out).view(f"<U{w}").ravel().astype(object)


def _pick(rng: np.random.Generator, n: int, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
    mask = rng.random(n) < rate
    return mask if eligible is None else mask & eligible


def _change_case(values: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Upper, lower, leading or trailing space on the masked strings (in place)."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return
    how = rng.integers(0, 4, idx.size)
    s = pd.Series(values[idx], dtype=object)
    out = np.where(how == 0, s.str.upper(), np.where(how == 1, s.str.lower(),
                   np.where(how == 2, " " + s, s + " ")))
    values[idx] = out


def _shift_years(dob: pd.DatetimeIndex, years: np.ndarray) -> np.ndarray:
    """Dates with the year replaced (29 February falls back to the 28th)."""
    month, day = dob.month.to_numpy(), dob.day.to_numpy()
    day = np.where((month == 2) & (day == 29), 28, day)
    parts = pd.DataFrame({"year": years, "month": month, "day": day})
    return pd.to_datetime(parts, errors="coerce").to_numpy(dtype="datetime64[ns]")


def corrupt_identities(truth: dict[str, np.ndarray], person: np.ndarray, profile: CorruptionProfile,
                       rng: np.random.Generator, reference_year: int) -> dict[str, np.ndarray]:
    """Return one department's copy of the identifiers for records belonging to ``person``.

    ``truth`` holds population arrays: first_name, last_name, previous_last_name, dob (datetime64[ns]), sex,
    postcode, previous_postcode, la_code, previous_la_code. ``person`` gives, per record, the population
    row. The result has the same keys (without the previous_* ones), one value per record.
    """
    rate = profile.rates
    people, inverse = np.unique(person, return_inverse=True)
    m = people.size

    first = truth["first_name"][people].copy()
    last = truth["last_name"][people].copy()
    prev_last = truth["previous_last_name"][people]
    dob = truth["dob"][people].copy()
    sex = truth["sex"][people].copy()
    postcode = truth["postcode"][people].copy()
    la = truth["la_code"][people].copy()

    # Persistent: how this department came to know the person.
    group = pd.Series(first, dtype=object).map(_NICK_INDEX).to_numpy(dtype=float)
    nick = _pick(rng, m, rate["nickname"], ~np.isnan(group))
    g = group[nick].astype(np.int64)
    first[nick] = _NICK_FORMS[_NICK_START[g] + np.floor(rng.random(g.size) * _NICK_SIZE[g]).astype(np.int64)]

    has_prev = pd.notna(prev_last)
    maiden = _pick(rng, m, rate["maiden_name"], has_prev)
    last[maiden] = prev_last[maiden]

    swap = _pick(rng, m, rate["swap_names"])
    first[swap], last[swap] = last[swap], first[swap]

    when = pd.DatetimeIndex(dob)
    year, month, day = when.year.to_numpy(), when.month.to_numpy(), when.day.to_numpy()
    dm = _pick(rng, m, rate["dob_day_month"], (day <= 12) & (day != month))
    if dm.any():
        parts = pd.DataFrame({"year": year[dm], "month": day[dm], "day": month[dm]})
        dob[dm] = pd.to_datetime(parts).to_numpy(dtype="datetime64[ns]")
    off = _pick(rng, m, rate["dob_year"], ~dm)
    if off.any():
        shifted = year[off] + rng.choice(np.array([-1, 1]), off.sum())
        dob[off] = _shift_years(when[off], np.minimum(shifted, reference_year))
    tens, units = (year // 10) % 10, year % 10
    swapped_year = year - tens * 10 - units + units * 10 + tens
    digits = _pick(rng, m, rate["dob_digits"], ~dm & ~off & (tens != units) & (swapped_year <= reference_year))
    if digits.any():
        dob[digits] = _shift_years(when[digits], swapped_year[digits])

    stale = _pick(rng, m, rate["stale_postcode"])
    postcode[stale] = truth["previous_postcode"][people][stale]
    la[stale] = truth["previous_la_code"][people][stale]

    # Expand to records; then slips made when each record was keyed.
    first, last, dob, sex, postcode, la = (a[inverse] for a in (first, last, dob, sex, postcode, la))
    n = first.size
    for values, typos in ((first, rate["typo_first"]), (last, rate["typo_last"])):
        mask = _pick(rng, n, typos)
        if mask.any():
            values[mask] = keyboard_typos(values[mask], rng)
    if profile.upper_case_names:
        first = pd.Series(first, dtype=object).str.upper().to_numpy(dtype=object)
        last = pd.Series(last, dtype=object).str.upper().to_numpy(dtype=object)
    which = rng.random(n) < 0.5
    glitch = _pick(rng, n, rate["case_whitespace"])
    _change_case(first, glitch & which, rng)
    _change_case(last, glitch & ~which, rng)

    fmt = np.flatnonzero(_pick(rng, n, rate["postcode_format"]))
    if fmt.size:
        s = pd.Series(postcode[fmt], dtype=object)
        postcode[fmt] = np.where(rng.random(fmt.size) < 0.6, s.str.replace(" ", "", regex=False), s.str.lower())
    typo = np.flatnonzero(_pick(rng, n, rate["postcode_typo"]))
    if typo.size:
        letters = np.array(list(POSTCODE_UNIT_LETTERS), dtype=object)
        s = pd.Series(postcode[typo], dtype=object)
        postcode[typo] = (s.str[:-1] + letters[rng.integers(0, len(letters), typo.size)]).to_numpy(dtype=object)

    first[_pick(rng, n, rate["missing_first"])] = None
    last[_pick(rng, n, rate["missing_last"])] = None
    dob[_pick(rng, n, rate["missing_dob"])] = np.datetime64("NaT")
    gone = _pick(rng, n, rate["missing_postcode"])
    postcode[gone] = None
    la[gone] = None
    sex[_pick(rng, n, rate["missing_sex"])] = None
    return {"first_name": first, "last_name": last, "dob": dob, "sex": sex, "postcode": postcode,
            "la_code": la}
