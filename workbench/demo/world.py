"""A seeded synthetic UK public sector: one population seen through many departments' records.

``build_world`` simulates households and people in ~40 real local authorities, gives them health, work,
benefits, schooling and offending that hang together (chronic conditions rise with age and deprivation and
push people out of work; worklessness and deprivation bring benefit claims; free school meals follow household
benefit receipt; attainment falls with free school meals and absence; offending concentrates among young men in
deprived areas), then releases what each department would hold: six person-level extracts with independently
corrupted identifiers, and open area-level statistics. It is pure: no files, no database, only Python objects.

Design notes
------------
* Every run is a function of ``(persons, seed)`` alone; numpy streams are spawned from one ``SeedSequence``.
* The true ``person_id`` never leaves ``population`` and ``truth``. Record keys (``case_id``,
  ``household_serial``, ``episode_id``, ``claim_id``, ``pupil_id``, ``staff_id``, ``vacancy_id``,
  ``offender_id``) are independent random ids that mean nothing outside their extract; they are catalogued as
  ``record_identifier``, so each project sees them only as its own pseudonyms. Rows are shuffled.
* Real-world identifiers (NHS number, NINO, UPN, PNC id, teacher reference number) exist in one dataset each,
  so linkage across departments has to use names, date of birth, sex and postcode.
* Everything is vectorised with numpy/pandas; the only loops are over local authorities, schools' phases and
  kinds of error, never over people.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from faker.providers.person.en_GB import Provider as _EnGbNames

from workbench.demo import _world_reference as ref
from workbench.demo._world_areas import build_area_datasets
from workbench.demo._world_catalogue import DATASETS, build_entries, departments, people, projects
from workbench.demo._world_corrupt import PROFILES, CorruptionProfile, corrupt_identities
from workbench.errors import InvalidInput

__all__ = ["World", "build_world"]

MIN_PERSONS, MAX_PERSONS = 1_000, 5_000_000


@dataclass
class World:
    """Everything the demo workspace and the benchmarks need, as plain Python objects."""

    departments: list[dict]
    people: list[dict]
    projects: list[dict]
    datasets: dict[str, pd.DataFrame] = field(repr=False)
    entries: dict[str, dict] = field(repr=False)
    truth: dict[str, pd.DataFrame] = field(repr=False)
    population: pd.DataFrame = field(repr=False)


# --- small helpers ------------------------------------------------------------------------------------------

_EPOCH = np.datetime64("1970-01-01", "D")


def _day(iso: str) -> int:
    """Days since 1970-01-01 for an ISO date (the simulation does date arithmetic on integers)."""
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


REF_DAY = _day(ref.REFERENCE_DATE)
REF_YEAR = int(ref.REFERENCE_DATE[:4])


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Integer days -> datetime64[ns], NaT where ``missing``."""
    out = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    if missing is not None:
        out[missing] = np.datetime64("NaT")
    return out


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = pd.DatetimeIndex(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))
    return idx.year.to_numpy(), idx.month.to_numpy(), idx.day.to_numpy()


def _age_at(dob_days: np.ndarray, at_days: np.ndarray | int) -> np.ndarray:
    """Whole years of age on the given day(s)."""
    y, m, d = _ymd(dob_days)
    ay, am, ad = _ymd(np.broadcast_to(np.asarray(at_days, dtype=np.int64), np.shape(dob_days)))
    return (ay - y - ((am < m) | ((am == m) & (ad < d)))).astype(np.int64)


def _add_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The same calendar day ``years`` later (29 February -> 28 February)."""
    y, m, d = _ymd(days)
    d = np.where((m == 2) & (d == 29), 28, d)
    parts = pd.DataFrame({"year": y + years, "month": m, "day": d})
    return (pd.to_datetime(parts).to_numpy(dtype="datetime64[D]") - _EPOCH).astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int) -> np.ndarray:
    """A uniformly random day in [lo, hi] (inclusive)."""
    lo_a = np.asarray(lo, dtype=np.int64)
    hi_a = np.asarray(hi, dtype=np.int64)
    return lo_a + np.floor(rng.random(n) * (hi_a - lo_a + 1)).astype(np.int64)


def _unique_ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` distinct random integers from [lo, hi), in random order."""
    if n > hi - lo:
        raise ValueError("range too small for the number of distinct values asked for")
    pool = np.empty(0, dtype=np.int64)
    while pool.size < n:
        pool = np.concatenate([pool, rng.integers(lo, hi, n - pool.size + n // 20 + 16)])
        _, first = np.unique(pool, return_index=True)
        pool = pool[np.sort(first)]
    return pool[:n]


def _random_ids(rng: np.random.Generator, n: int, digits: int, prefix: str = "") -> np.ndarray:
    """``n`` distinct random numeric ids with a fixed number of digits, as strings."""
    ids = _unique_ints(rng, n, 10 ** (digits - 1), 10**digits)
    return (prefix + pd.Series(ids).astype(str)).to_numpy(dtype=object)


def _digits_to_str(matrix: np.ndarray) -> np.ndarray:
    """Rows of single digits -> strings."""
    chars = np.ascontiguousarray(matrix.astype(np.uint32) + 48)
    return chars.view(f"<U{matrix.shape[1]}").ravel().astype(object)


def _nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 10-digit NHS numbers with a valid modulus 11 check digit, all starting with 9 (outside the
    ranges issued to patients in England and Wales), so no synthetic record carries a real person's number."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        body = 900_000_000 + _unique_ints(rng, int((n - out.size) * 1.15) + 32, 0, 100_000_000)
        digits = (body[:, None] // 10 ** np.arange(8, -1, -1)[None, :]) % 10
        check = 11 - (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
        check = np.where(check == 11, 0, check)
        valid = body[check != 10] * 10 + check[check != 10]
        out = np.concatenate([out, valid])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
    return pd.Series(out[:n]).astype(str).to_numpy(dtype=object)


def _ninos(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct National Insurance numbers in the valid format (two prefix letters, six digits, A-D)."""
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    bad = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
    prefixes = np.array([a + b for a in first for b in second if a + b not in bad], dtype=object)
    code = _unique_ints(rng, n, 0, prefixes.size * 4_000_000)
    six = pd.Series((code % 4_000_000) // 4).astype(str).str.zfill(6).to_numpy(dtype=object)
    suffix = np.array(list("ABCD"), dtype=object)[code % 4]
    return prefixes[code // 4_000_000] + six + suffix


def _cat(values: tuple[str, ...]) -> np.ndarray:
    return np.array(values, dtype=object)


# --- the population -------------------------------------------------------------------------------------------

_MALE = np.array(_EnGbNames.first_names_male, dtype=object)
_FEMALE = np.array(_EnGbNames.first_names_female, dtype=object)
_SURNAMES = np.array(list(_EnGbNames.last_names.keys()), dtype=object)
_SURNAME_W = np.array(list(_EnGbNames.last_names.values()), dtype=float)
_SURNAME_W /= _SURNAME_W.sum()


def _rank_weights(k: int) -> np.ndarray:
    """Faker lists first names roughly by popularity without weights: give them a Zipf-like tail."""
    w = 1.0 / (np.arange(k) + 12.0)
    return w / w.sum()


# household types: 0 single adult, 1 single pensioner, 2 couple, 3 pensioner couple, 4 couple with children,
# 5 lone parent, 6 couple with adult children, 7 shared house
_TYPE_P = np.array([0.14, 0.16, 0.16, 0.14, 0.18, 0.08, 0.09, 0.05])
_TYPE_TILT = {"older": np.array([1.0, 1.45, 1.05, 1.5, 0.8, 0.8, 1.0, 0.4]),
              "student": np.array([1.25, 0.75, 1.0, 0.7, 0.9, 1.1, 0.9, 2.8])}
_ADULTS = np.array([1, 1, 2, 2, 2, 1, 2, 0])


def _la_table() -> pd.DataFrame:
    las = pd.DataFrame([a._asdict() for a in ref.LOCAL_AUTHORITIES])
    las["england"] = las["code"].str.startswith("E")
    return las


def _district_tables(las: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lists = [d.split() for d in las["districts"]]
    flat = np.array([d for lst in lists for d in lst], dtype=object)
    sizes = np.array([len(lst) for lst in lists])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return flat, starts, sizes


def _postcodes(rng: np.random.Generator, district: np.ndarray) -> np.ndarray:
    """Plausible full postcodes ("LS6 2AB") inside the given districts."""
    n = district.size
    digits = np.array(list("0123456789"), dtype=object)
    letters = np.array(list(ref.POSTCODE_UNIT_LETTERS), dtype=object)
    return (district + " " + digits[rng.integers(0, 10, n)] + letters[rng.integers(0, letters.size, n)]
            + letters[rng.integers(0, letters.size, n)])


def _households(n: int, rng: np.random.Generator, las: pd.DataFrame) -> dict[str, np.ndarray]:
    """Households with an area, a type and a size, enough to hold exactly ``n`` people."""
    weight = las["population_k"].to_numpy(float)
    weight /= weight.sum()
    tilt = np.stack([_TYPE_TILT.get(p, np.ones(8)) if p else np.ones(8) for p in las["profile"]])
    probs = _TYPE_P * tilt
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[:, :-1]

    h = int(n / 1.8) + 64
    la = rng.choice(len(las), h, p=weight)
    htype = (rng.random(h)[:, None] > cum[la]).sum(axis=1)
    kids = np.zeros(h, dtype=np.int64)
    kids = np.where(htype == 4, 1 + rng.choice(4, h, p=[0.42, 0.40, 0.13, 0.05]), kids)
    kids = np.where(htype == 5, 1 + rng.choice(4, h, p=[0.52, 0.32, 0.12, 0.04]), kids)
    kids = np.where(htype == 6, 1 + (rng.random(h) < 0.3), kids)
    adults = np.where(htype == 7, 2 + rng.choice(3, h, p=[0.5, 0.3, 0.2]), _ADULTS[htype])
    size = adults + kids
    total = np.cumsum(size)
    if total[-1] < n:  # pragma: no cover - mean household size is ~2.3, far above 1.8
        raise RuntimeError("household simulation fell short of the requested population")
    used = int(np.searchsorted(total, n)) + 1
    return {"la": la[:used], "type": htype[:used], "adults": adults[:used], "size": size[:used],
            "start": (total - size)[:used]}


def _population(n: int, rng: np.random.Generator, las: pd.DataFrame) -> dict[str, np.ndarray]:
    """People in households, with true identifiers, an address history and latent traits."""
    hh = _households(n, rng, las)
    n_h = hh["la"].size
    hid = np.repeat(np.arange(n_h), hh["size"])[:n]
    pos = np.arange(n) - hh["start"][hid]
    htype = hh["type"][hid]
    adults = hh["adults"][hid]
    couple_h = np.isin(hh["type"], [2, 3, 4, 6])
    role = np.where(pos == 0, 0, 4)                                 # 0 reference person, 4 housemate
    role = np.where((pos == 1) & couple_h[hid], 1, role)            # 1 partner
    role = np.where((pos >= adults) & np.isin(htype, [4, 5]), 2, role)   # 2 dependent child
    role = np.where((pos >= adults) & (htype == 6), 3, role)        # 3 adult child

    # Ages: the household's reference person first, the others relative to them.
    t = hh["type"]
    b = rng.beta
    ref_age = np.select(
        [t == 0, t == 1, t == 2, t == 3, t == 4, t == 5, t == 6],
        [18 + 47 * b(1.6, 1.3, n_h), 65 + 35 * b(1.4, 3.0, n_h), 22 + 43 * b(1.8, 1.2, n_h),
         65 + 30 * b(1.3, 2.5, n_h), 25 + 30 * b(2.2, 2.0, n_h), 20 + 35 * b(2.2, 2.0, n_h),
         44 + 22 * b(2.0, 2.0, n_h)],
        18 + 17 * b(1.5, 2.5, n_h))
    parent = ref_age[hid]
    u = rng.random(n)
    partner_age = np.clip(parent - 2 + rng.normal(0, 3, n), np.where(htype == 3, 60, 18), 100)
    age_years = np.select(
        [role == 0, role == 1, role == 2, role == 3],
        [parent, partner_age, u * np.clip(parent - 18.5, 0.05, 17.99),
         18 + u * (np.minimum(30, parent - 20) - 18)],
        18 + 17 * rng.beta(1.5, 2.5, n))

    same_sex_h = rng.random(n_h) < 0.03
    ref_female_h = np.select([t == 0, t == 1, t == 5, t == 7],
                             [rng.random(n_h) < 0.5, rng.random(n_h) < 0.62, rng.random(n_h) < 0.88,
                              rng.random(n_h) < 0.5],
                             same_sex_h & (rng.random(n_h) < 0.5))
    other_female = rng.random(n) < np.where(role == 4, 0.5, 0.49)
    female = np.select([role == 0, role == 1],
                       [ref_female_h[hid], np.where(same_sex_h[hid], ref_female_h[hid], ~ref_female_h[hid])],
                       other_female)

    # Names: household surname, own (birth) surname, first names by sex.
    first = np.where(female, _FEMALE[rng.choice(_FEMALE.size, n, p=_rank_weights(_FEMALE.size))],
                     _MALE[rng.choice(_MALE.size, n, p=_rank_weights(_MALE.size))])
    house_surname = _SURNAMES[rng.choice(_SURNAMES.size, n_h, p=_SURNAME_W)]
    own = _SURNAMES[rng.choice(_SURNAMES.size, n, p=_SURNAME_W)]
    last = house_surname[hid].copy()
    prev = np.full(n, None, dtype=object)
    v = rng.random(n)
    wife = (role == 1) & female & ~same_sex_h[hid]
    took = wife & (v < 0.78)
    prev[took] = own[took]
    keeps_own = (role == 4) | ((role == 1) & ~took) | ((role == 2) & (htype == 5) & (v < 0.3))
    last[keeps_own] = own[keeps_own]
    married_before = (role == 0) & female & (
        ((htype == 0) & (age_years > 30) & (v < 0.3)) | ((htype == 1) & (v < 0.75)) | ((htype == 5) & (v < 0.4)))
    prev[married_before] = own[married_before]
    prev[prev == last] = None

    # Deprivation: the area's level with neighbourhood variation; postcodes follow it within the area.
    la_h = hh["la"]
    imd = las["imd"].to_numpy(float)
    log_score = np.log(imd[la_h]) + rng.normal(0, 0.5, n_h)
    dep_z_h = (log_score - log_score.mean()) / log_score.std()
    order = np.argsort(-log_score, kind="stable")
    decile_h = np.empty(n_h, dtype=np.int64)
    decile_h[order] = 1 + (np.arange(n_h) * 10) // n_h
    flat, starts, sizes = _district_tables(las)
    within = pd.Series(dep_z_h + rng.normal(0, 0.6, n_h)).groupby(la_h).rank(pct=True).to_numpy()
    d_idx = starts[la_h] + np.minimum((within * sizes[la_h]).astype(np.int64), sizes[la_h] - 1)
    postcode_h = _postcodes(rng, flat[d_idx])
    weight = las["population_k"].to_numpy(float) / las["population_k"].sum()
    prev_la_h = np.where(rng.random(n_h) < 0.75, la_h, rng.choice(len(las), n_h, p=weight))
    prev_d = starts[prev_la_h] + np.floor(rng.random(n_h) * sizes[prev_la_h]).astype(np.int64)
    prev_postcode_h = _postcodes(rng, flat[prev_d])

    dob = REF_DAY - np.floor(age_years * 365.2425).astype(np.int64) - 1
    age = _age_at(dob, REF_DAY)
    dep_z = dep_z_h[hid]

    # Health: chronic conditions rise with age and deprivation (with individual frailty).
    lam = np.where(age >= 18, np.exp(-2.7 + 0.043 * age + 0.3 * dep_z), 0.08 * np.exp(0.3 * dep_z))
    chronic = np.minimum(rng.poisson(lam * rng.gamma(2.0, 0.5, n)), 8)
    risk = 0.45 * dep_z + rng.normal(0, 0.9, n)

    P: dict[str, np.ndarray] = {
        "household": hid, "role": role, "htype": htype, "female": female, "age_years": age_years, "dob": dob,
        "age": age, "first_name": first, "last_name": last, "previous_last_name": prev,
        "la": la_h[hid], "previous_la": prev_la_h[hid], "postcode": postcode_h[hid],
        "previous_postcode": prev_postcode_h[hid], "dep_z": dep_z, "imd_decile": decile_h[hid],
        "chronic": chronic, "risk": risk,
    }
    _economic_activity(P, rng, n_h)
    _benefits(P, rng, n_h, dep_z_h, hh["type"])
    return P


def _economic_activity(P: dict[str, np.ndarray], rng: np.random.Generator, n_h: int) -> None:
    """ILO status, inactivity reason, occupation, hours and pay for everyone 16+ (as at the reference date)."""
    age, female, chronic, dep_z, risk = P["age"], P["female"], P["chronic"], P["dep_z"], P["risk"]
    n = age.size
    hid = P["household"]
    young_kid = np.bincount(hid, weights=(P["role"] == 2) & (age < 5), minlength=n_h)[hid] > 0
    carer_role = np.isin(P["role"], [0, 1])

    status = np.zeros(n, dtype=np.int64)                 # 0 under 16, 1 employed, 2 unemployed, 3 inactive
    reason = np.full(n, -1, dtype=np.int64)
    wa = (age >= 16) & (age <= 64)
    a = age.astype(float)
    probs = np.column_stack([
        np.interp(a, [16, 17, 18, 21, 22, 24, 25, 30], [0.8, 0.75, 0.5, 0.35, 0.15, 0.08, 0.03, 0.01]),
        _sigmoid(-4.0 + 1.2 * chronic + 0.4 * dep_z + 0.03 * (a - 40)),
        np.where(female & young_kid & carer_role, 0.25, np.where(female, 0.035, 0.008)),
        np.where(a >= 55, _sigmoid(-2.6 + 0.3 * (a - 55) - 0.2 * dep_z), 0.0),
        0.004 + 0.004 * chronic,
        np.full(n, 0.003),
        np.full(n, 0.01),
    ])
    hits = rng.random(probs.shape) < probs
    inactive = wa & hits.any(axis=1)
    reason[inactive] = hits[inactive].argmax(axis=1)
    unemployed = wa & ~inactive & (
        rng.random(n) < _sigmoid(-3.3 + 0.4 * dep_z + 0.9 * (age < 25) + 0.25 * chronic + 0.3 * risk))
    status[wa] = 1
    status[unemployed] = 2
    status[inactive] = 3
    old = age >= 65
    old_employed = old & (rng.random(n) < 0.3 * np.exp(-0.18 * (a - 65)))
    status[old] = np.where(old_employed[old], 1, 3)
    reason[old & ~old_employed] = 3

    emp = status == 1
    ft_p = np.where(female, 0.62, 0.88) * np.where(reason == 0, 0.25, 1.0) * np.where(old, 0.4, 1.0)
    ft_p = ft_p * np.where(chronic >= 2, 0.85, 1.0)
    ft = rng.random(n) < ft_p
    hours = np.where(ft, np.clip(rng.normal(39.5, 5, n), 30, 70), np.clip(rng.normal(18, 6, n), 4, 29.5))
    beta = np.array([0.35, 0.45, 0.2, 0.0, -0.1, -0.2, -0.2, -0.3, -0.35])
    fem_adj = np.array([-0.2, 0.0, 0.0, 0.6, -1.3, 0.8, 0.3, -1.0, -0.1])
    young_adj = np.array([-2.0, -1.5, -0.5, 0.0, 0.0, 0.4, 1.2, 0.0, 1.0])
    logits = (np.log(np.array(ref.SOC_SHARE))[None, :] - dep_z[:, None] * beta[None, :]
              + female[:, None] * fem_adj[None, :] + (age < 22)[:, None] * young_adj[None, :])
    soc = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
    age_factor = np.interp(a, [16, 21, 25, 35, 45, 55, 65, 75], [0.5, 0.7, 0.85, 1.0, 1.08, 1.05, 0.95, 0.9])
    pay = (np.array(ref.SOC_MEDIAN_PAY)[soc] * hours / 37.5 * np.exp(rng.normal(0, 0.3, n)) * age_factor
           * np.where(female, 0.93, 1.0))
    P["status"] = status
    P["reason"] = reason
    # Whoever is off work sick reports a health condition, whatever the simulated chronic conditions.
    P["ltc"] = (chronic >= 1) | (reason == 1) | (reason == 4)
    P["soc"] = np.where(emp, soc, -1)
    P["hours"] = np.where(emp, np.round(hours, 1), np.nan)
    P["pay"] = np.where(emp, np.round(pay, 2), np.nan)


def _benefits(P: dict[str, np.ndarray], rng: np.random.Generator, n_h: int, dep_z_h: np.ndarray,
              type_h: np.ndarray) -> None:
    """Who claims what (and since when): the truth behind the DWP extract and free school meals."""
    age, role, hid, chronic = P["age"], P["role"], P["household"], P["chronic"]
    status, reason, dep_z = P["status"], P["reason"], P["dep_z"]
    n = age.size
    ltsick = reason == 1
    claims: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    # Legacy ESA, most of it migrated to Universal Credit in 2024-26.
    esa = ltsick & (age >= 20) & (age <= 65) & (rng.random(n) < 0.45)
    esa_start = _uniform_days(rng, _day("2009-01-01"), _day("2018-12-31"), n)
    migrated = esa & (rng.random(n) < 0.6)
    esa_end = np.where(migrated, _uniform_days(rng, _day("2024-06-01"), REF_DAY - 30, n), -1)
    support = rng.random(n) < _sigmoid(-1.0 + 0.5 * chronic)
    idx = np.flatnonzero(esa)
    claims.append((idx, 2, esa_start[idx], esa_end[idx], np.where(support, 138.20, 90.50)[idx],
                   np.ones(idx.size, bool)))

    # Universal Credit per household (claimed by the reference person, or the partner if the reference
    # person is over working age).
    working = (age >= 18) & (age <= 65)
    has_wa = np.bincount(hid, weights=working, minlength=n_h) > 0
    employed_h = np.bincount(hid, weights=(status == 1), minlength=n_h)
    earn_h = np.bincount(hid, weights=np.nan_to_num(P["pay"]), minlength=n_h)
    sick_h = np.bincount(hid, weights=ltsick, minlength=n_h) > 0
    kids_h = np.bincount(hid, weights=(role == 2), minlength=n_h)
    migrated_h = np.bincount(hid, weights=migrated, minlength=n_h) > 0
    workless = has_wa & (employed_h == 0)
    low_earn = (employed_h > 0) & (earn_h < 400 + 150 * kids_h)
    p_uc = _sigmoid(-3.6 + 2.4 * workless + 1.0 * sick_h + 1.1 * (type_h == 5) + 0.45 * dep_z_h
                    + 1.2 * (kids_h > 0) + 0.5 * (kids_h >= 3) + 1.1 * low_earn)
    uc_h = has_wa & ((rng.random(n_h) < p_uc) | migrated_h)
    lead = working & ((role == 0) | ((role == 1) & ~working[np.maximum(np.arange(n) - 1, 0)]))
    first_lead = np.full(n_h, -1, dtype=np.int64)
    lead_idx = np.flatnonzero(lead)
    lead_h, at = np.unique(hid[lead_idx], return_index=True)
    first_lead[lead_h] = lead_idx[at]
    claimant_h = np.where(uc_h, first_lead, -1)
    ok = claimant_h >= 0
    h_ok = np.flatnonzero(ok)
    who = claimant_h[h_ok]
    mig_end_h = np.full(n_h, -1, dtype=np.int64)
    mig_end_h[hid[migrated]] = esa_end[migrated]
    start = np.where(mig_end_h[h_ok] > 0, mig_end_h[h_ok] + 1,
                     _uniform_days(rng, _day("2018-06-01"), REF_DAY - 14, h_ok.size))
    couple = np.isin(type_h[h_ok], [2, 3, 4, 6])
    lcw = sick_h[h_ok]
    amount = (np.where(couple, 145.0, 92.0) + 78.0 * np.minimum(kids_h[h_ok], 2) + 97.0 * lcw
              + rng.uniform(40, 180, h_ok.size) - 0.55 * np.maximum(0, earn_h[h_ok] - 100))
    claims.append((who, 0, start, np.full(who.size, -1), np.round(np.maximum(amount, 8.0), 2), lcw))
    P["uc_household"] = np.zeros(n, bool)
    P["uc_household"][:] = ok[hid]

    # Past Universal Credit claims that have ended.
    past = working & ~ok[hid] & (role != 2) & (rng.random(n) < _sigmoid(-2.8 + 0.5 * dep_z + 0.6 * (status != 1)))
    idx = np.flatnonzero(past)
    s = _uniform_days(rng, _day("2018-06-01"), _day("2025-06-30"), idx.size)
    e = np.minimum(s + 30 + rng.exponential(300, idx.size).astype(np.int64), REF_DAY - 1)
    keep = e >= _day("2019-04-01")
    idx, s, e = idx[keep], s[keep], e[keep]
    claims.append((idx, 0, s, e, np.round(rng.uniform(60, 250, idx.size), 2), np.zeros(idx.size, bool)))

    # Personal Independence Payment.
    pip = (age >= 16) & (age <= 75) & (rng.random(n) < _sigmoid(-4.6 + 0.9 * chronic + 1.8 * ltsick
                                                                  + 0.25 * dep_z) * np.where(age > 66, 0.6, 1))
    idx = np.flatnonzero(pip)
    enhanced = rng.random(idx.size) < _sigmoid(-2.0 + 0.5 * chronic[idx])
    mobility = rng.choice(np.array([0.0, 29.20, 77.05]), idx.size, p=[0.3, 0.35, 0.35])
    claims.append((idx, 1, _uniform_days(rng, _day("2014-01-01"), REF_DAY - 7, idx.size),
                   np.full(idx.size, -1), np.where(enhanced, 110.40, 73.90) + mobility, np.ones(idx.size, bool)))

    # Carer's Allowance for someone caring for another household member.
    needs = (chronic >= 2) | pip
    needs_h = np.bincount(hid, weights=needs, minlength=n_h)
    cares = ((age >= 16) & (age <= 65) & ((status != 1) | (np.nan_to_num(P["hours"]) < 16))
             & (needs_h[hid] - needs > 0) & (rng.random(n) < 0.5))
    idx = np.flatnonzero(cares)
    s = _uniform_days(rng, _day("2012-01-01"), REF_DAY - 7, idx.size)
    ended = rng.random(idx.size) < 0.2
    e = np.where(ended, _uniform_days(rng, s, REF_DAY - 1, idx.size), -1)
    keep = (e < 0) | (e >= _day("2019-04-01"))
    claims.append((idx[keep], 4, s[keep], e[keep], np.full(int(keep.sum()), 83.30), np.zeros(int(keep.sum()), bool)))

    # State Pension from State Pension age (60 for women born before 6 April 1950, 65 up to late 1954).
    dob = P["dob"]
    spa = np.where(P["female"] & (dob < _day("1950-04-06")), 60,
                   np.where(dob < _day("1953-12-06"), 65, 66))
    sp_start = _add_years(dob, spa)
    idx = np.flatnonzero(sp_start <= REF_DAY)
    new_sp = sp_start[idx] >= _day("2016-04-06")
    full = rng.random(idx.size) < 0.8
    amount = np.where(new_sp, np.where(full, 230.25, 230.25 * rng.uniform(0.5, 1, idx.size)),
                      176.45 * np.where(full, 1.0, rng.uniform(0.6, 1, idx.size)) + rng.uniform(0, 60, idx.size))
    claims.append((idx, 3, sp_start[idx], np.full(idx.size, -1), np.round(amount, 2), np.zeros(idx.size, bool)))

    P["pip"] = pip
    P["_claims"] = claims  # type: ignore[assignment]  # a list of claim parts beside the arrays


def _schools(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame) -> pd.DataFrame:
    """Schools for the 2024/25 academic year, pupils placed in them, teachers recruited from the population."""
    n = P["age"].size
    census = _day("2025-01-16")
    age_aug = _age_at(P["dob"], _day("2024-08-31"))
    year_group = age_aug - 4                                     # Year 1 = age 5 on 31 August
    england = las["england"].to_numpy()[P["la"]]
    in_range = england & (year_group >= 1) & (year_group <= 13)
    independent = rng.random(n) < np.minimum(0.07 * np.exp(-0.8 * P["dep_z"]), 0.35)
    sixth_form = (year_group <= 11) | (rng.random(n) < 0.45)
    pupil = in_range & ~independent & sixth_form
    phase = np.where(year_group <= 6, 0, 1)                      # 0 primary, 1 secondary

    # Schools per authority and phase, then pupils sorted into them partly by neighbourhood deprivation.
    keys = P["la"] * 2 + phase
    counts = np.bincount(keys[pupil], minlength=2 * len(las))
    per_school = np.tile([280.0, 1000.0], len(las))
    n_schools = np.where(counts > 0, np.maximum(1, np.round(counts / per_school)), 0).astype(np.int64)
    first_school = np.concatenate([[0], np.cumsum(n_schools)[:-1]])
    total = int(n_schools.sum())
    urn = 100000 + rng.choice(50000, total, replace=False)
    school_key = np.repeat(np.arange(2 * len(las)), n_schools)
    school_effect = rng.normal(0, 3, total)
    estab = np.where(school_key % 2 == 0, 2000, 4000) + rng.integers(0, 1000, total)

    idx = np.flatnonzero(pupil)
    pct = pd.Series(P["dep_z"][idx] + rng.normal(0, 0.8, idx.size)).groupby(keys[idx]).rank(pct=True)
    k = keys[idx]
    school = first_school[k] + np.minimum((pct.to_numpy() * n_schools[k]).astype(np.int64), n_schools[k] - 1)

    # Pupil characteristics.
    m = idx.size
    male = ~P["female"][idx]
    chronic, risk, dep = P["chronic"][idx], P["risk"][idx], P["dep_z"][idx]
    fsm = (P["uc_household"][idx] & (rng.random(m) < 0.88)) | (rng.random(m) < 0.02)
    ehcp = rng.random(m) < _sigmoid(-3.6 + 0.6 * male + 0.5 * chronic + 0.25 * dep)
    support = ~ehcp & (rng.random(m) < _sigmoid(-2.1 + 0.4 * male + 0.3 * dep + 0.3 * risk + 0.3 * chronic))
    sen = np.where(ehcp, 2, np.where(support, 1, 0))
    yg = year_group[idx]
    mean_abs = _sigmoid(-3.0 + 0.45 * fsm + 0.3 * (sen > 0) + 0.3 * chronic + 0.25 * risk
                        + 0.08 * np.maximum(0, yg - 6))
    absence = np.round(100 * rng.beta(8 * mean_abs, 8 * (1 - mean_abs)), 1)
    ability = -0.3 * risk + rng.normal(0, 0.95, m)
    att8 = (47 + 13 * ability - 9 * fsm - 11 * (sen == 1) - 22 * (sen == 2) - 0.6 * (absence - 5)
            + school_effect[school] + 2 * ~male)
    att8 = np.where(yg == 11, np.round(np.clip(att8, 0, 90), 1), np.nan)

    def spread(values: np.ndarray, fill: object, dtype: object = None) -> np.ndarray:
        out = np.full(n, fill, dtype=dtype if dtype is not None else np.asarray(values).dtype)  # type: ignore[call-overload]  # any scalar, any dtype
        out[idx] = values
        return out

    P["pupil"] = pupil
    P["year_group"] = np.where(pupil, year_group, -1)
    P["school"] = spread(school, -1, np.int64)
    P["fsm"] = spread(fsm, False, bool)
    P["sen"] = spread(sen, -1, np.int64)
    P["absence"] = spread(absence, np.nan, float)
    P["att8"] = spread(att8, np.nan, float)

    # Teachers: about one per 20 primary and 16 secondary pupils, recruited from working adults nearby.
    teachers_needed = np.maximum(3, np.round(np.bincount(school, minlength=total)
                                             / np.where(school_key % 2 == 0, 20.0, 16.0))).astype(np.int64)
    teacher_school = np.full(n, -1, dtype=np.int64)
    age_census = _age_at(P["dob"], census)
    candidate = (P["status"] == 1) & (age_census >= 23) & (age_census <= 66) & ~pupil
    la_of_school = school_key // 2
    for la in np.unique(la_of_school):
        slots = np.repeat(np.flatnonzero(la_of_school == la), teachers_needed[la_of_school == la])
        pool = np.flatnonzero(candidate & (P["la"] == la))
        if pool.size == 0:
            continue
        w = (1.0 + 5.0 * (P["soc"][pool] == 1)) * np.where(P["female"][pool], 2.5, 1.0)
        take = min(slots.size, pool.size)
        chosen = rng.choice(pool, take, replace=False, p=w / w.sum())
        teacher_school[chosen] = rng.permutation(slots)[:take]
        candidate[chosen] = False
    P["teacher_school"] = teacher_school
    _teacher_posts(P, rng, las, la_of_school, school_key % 2, census)
    return pd.DataFrame({"urn": urn, "la": la_of_school, "phase": school_key % 2, "estab": estab})


def _teacher_posts(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame,
                   school_la: np.ndarray, school_phase: np.ndarray, census: int) -> None:
    """Role, FTE, salary and subject of each teacher; their occupation, hours and pay follow."""
    person = np.flatnonzero(P["teacher_school"] >= 0)
    m = person.size
    school = P["teacher_school"][person]
    secondary = school_phase[school] == 1
    age = _age_at(P["dob"][person], census)
    # Senior posts go to older teachers, in the national mix of posts (about 4.5% heads, 4% deputies, 6%
    # assistant heads) even when the simulated schools are small.
    seniority = pd.Series(age + rng.normal(0, 6, m)).groupby(secondary).rank(pct=True, ascending=False).to_numpy()
    role = np.digitize(seniority, [0.045, 0.085, 0.145])
    london = las["region"].to_numpy()[school_la[school]] == "London"
    classroom = np.minimum(31650 + 1500 * np.maximum(age - 23, 0), 49084)
    salary = np.select([role == 0, role == 1, role == 2],
                       [np.where(secondary, 95000, 68000), np.where(secondary, 72000, 58000),
                        np.where(secondary, 60000, 52000)], classroom)
    salary = np.round(salary * np.where(london, 1.12, 1.0) * np.exp(rng.normal(0, 0.05, m)), -1)
    female = P["female"][person]
    fte = np.where((role == 3) & (rng.random(m) < np.where(female, 0.3, 0.1)),
                   rng.choice(np.array([0.4, 0.5, 0.6, 0.8, 0.9]), m), 1.0)
    w = np.array([14, 14, 14, 5, 5, 7, 4, 8, 3, 3, 3, 5, 3], float)
    subject = np.where(secondary, rng.choice(np.arange(1, len(ref.TEACHER_SUBJECTS)), m, p=w / w.sum()), 0)
    for key, values, fill in (("t_role", role, -1), ("t_subject", subject, -1), ("t_fte", fte, np.nan),
                              ("t_salary", salary, np.nan)):
        out = np.full(P["age"].size, fill, dtype=np.asarray(values).dtype if fill == -1 else float)
        out[person] = values
        P[key] = out
    P["soc"] = P["soc"].copy()
    P["soc"][person] = 1
    P["hours"] = P["hours"].copy()
    P["hours"][person] = np.round(fte * 46, 1)
    P["pay"] = P["pay"].copy()
    P["pay"][person] = np.round(salary * fte / 52, 2)


# --- person-level datasets ------------------------------------------------------------------------------------

def _identity(P: dict[str, np.ndarray], person: np.ndarray, profile: CorruptionProfile,
              rng: np.random.Generator, las: pd.DataFrame) -> dict[str, np.ndarray]:
    codes = las["code"].to_numpy(dtype=object)
    truth = {
        "first_name": P["first_name"], "last_name": P["last_name"], "previous_last_name": P["previous_last_name"],
        "dob": _dates(P["dob"]), "sex": np.where(P["female"], "F", "M").astype(object),
        "postcode": P["postcode"], "previous_postcode": P["previous_postcode"],
        "la_code": codes[P["la"]], "previous_la_code": codes[P["previous_la"]],
    }
    return corrupt_identities(truth, person, profile, rng, REF_YEAR)


def _shuffled(rng: np.random.Generator, columns: dict[str, np.ndarray], person: np.ndarray,
              key: str, P: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows in random order plus the truth table mapping the record key to the person."""
    order = rng.permutation(person.size)
    df = pd.DataFrame({k: v[order] if isinstance(v, pd.api.extensions.ExtensionArray) else np.asarray(v)[order]
                       for k, v in columns.items()})
    truth = pd.DataFrame({key: df[key].to_numpy(), "person_id": P["person_id"][person[order]]})
    return df, truth


def _lfs(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame,
         n_h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labour Force Survey: ~4% of households, every adult 16+ in them, interviewed over 2025/26."""
    hid = P["household"]
    sampled_h = rng.random(n_h) < 0.04
    interview_h = _uniform_days(rng, _day("2025-04-01"), REF_DAY, n_h)
    serial_h = _random_ids(rng, n_h, 9)
    person = np.flatnonzero(sampled_h[hid] & (P["age"] >= 15))
    person = person[_age_at(P["dob"][person], interview_h[hid[person]]) >= 16]
    ident = _identity(P, person, PROFILES["ons.lfs"], rng, las)
    interview = interview_h[hid[person]]
    la = P["la"][person]
    synth = np.bincount(P["la"], minlength=len(las))
    gross = las["population_k"].to_numpy(float) * 1000 / np.maximum(synth, 1) / 0.04
    status = P["status"][person]
    reason = P["reason"][person]
    chronic = P["chronic"][person]
    soc = P["soc"][person]
    pay = P["pay"][person].copy()
    pay[rng.random(person.size) < 0.25] = np.nan          # pay is often not given
    cols = {
        "case_id": _random_ids(rng, person.size, 10, "LFS"),
        "household_serial": serial_h[hid[person]],
        "interview_date": _dates(interview),
        "first_name": ident["first_name"], "last_name": ident["last_name"], "dob": ident["dob"],
        "sex": ident["sex"], "postcode": ident["postcode"],
        "la_code": las["code"].to_numpy(dtype=object)[la], "region": las["region"].to_numpy(dtype=object)[la],
        "age": _age_at(P["dob"][person], interview),
        "ilo_status": np.where(status > 0, _cat(ref.ILO_STATUS)[np.maximum(status - 1, 0)], None),
        "inactivity_reason": np.where(reason >= 0, _cat(ref.INACTIVITY_REASONS)[np.maximum(reason, 0)], None),
        "hours_worked": P["hours"][person],
        "gross_weekly_pay": pay,
        "soc_major_group": np.where(soc >= 0, _cat(ref.SOC_MAJOR_GROUPS)[np.maximum(soc, 0)], None),
        "long_term_health_condition": P["ltc"][person],
        "health_condition_limits_activity": P["ltc"][person] & (
            (chronic >= 2) | np.isin(reason, [1, 4]) | (rng.random(person.size) < 0.35)),
        "survey_weight": np.round(gross[la] * np.exp(rng.normal(0, 0.2, person.size)), 1),
    }
    return _shuffled(rng, cols, person, "case_id", P)


def _hes(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Admitted patient care episodes 2021/22-2025/26 for residents of English authorities."""
    start, end = _day("2021-04-01"), REF_DAY
    england = las["england"].to_numpy()[P["la"]]
    n = P["age"].size
    age, female, chronic, dep = P["age"].astype(float), P["female"], P["chronic"], P["dep_z"]
    dob = P["dob"]
    exposure = np.clip(end - np.maximum(start, dob), 0, None) / 365.25
    rate = (np.interp(age, [0, 1, 5, 15, 45, 65, 75, 85, 95], [0.3, 0.08, 0.05, 0.07, 0.14, 0.3, 0.5, 0.8, 0.9])
            * np.exp(0.3 * chronic + 0.15 * dep) * rng.gamma(1.5, 1 / 1.5, n))
    general = np.where(england, rng.poisson(rate * exposure), 0)
    maternity = np.where(england & female & (age >= 17) & (age <= 47), rng.poisson(0.07 * exposure), 0)
    births = england & (dob >= start)

    who = np.concatenate([np.repeat(np.arange(n), general), np.repeat(np.arange(n), maternity),
                          np.flatnonzero(births)])
    kind = np.concatenate([np.zeros(general.sum(), np.int64), np.ones(maternity.sum(), np.int64),
                           np.full(int(births.sum()), 2)])
    m = who.size
    lo = np.maximum(start, dob[who])
    emergency = (kind == 0) & (rng.random(m) < _sigmoid(-0.4 + 0.018 * (age[who] - 50) + 0.3 * dep[who]
                                                         + 0.12 * chronic[who]))
    # Emergency admissions peak in winter: sample dates from a seasonal density.
    days = np.arange(start, end + 1)
    doy = (days - _day("2021-01-01")) % 365.25
    dens = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    cdf = np.concatenate([[0.0], np.cumsum(dens)]) / dens.sum()
    q = cdf[lo - start] + rng.random(m) * (1 - cdf[lo - start])
    seasonal_day = start + np.minimum(np.searchsorted(cdf, q, side="right") - 1, days.size - 1)
    flat_day = _uniform_days(rng, lo, end, m)
    admit = np.where(kind == 2, dob[who], np.where(emergency, seasonal_day, flat_day))
    admit = np.maximum(admit, lo)
    a_age = _age_at(dob[who], admit)

    method = np.where(kind == 1, 2, np.where(kind == 2, 3, np.where(emergency, 1, 0)))
    chapter = np.zeros(m, dtype=np.int64)
    W = {  # chapter weights by (age group, emergency)
        ("child", False): [2, 3, 3, 2, 2, 4, 4, 8, 2, 6, 12, 4, 4, 6, 0, 1, 6, 6, 4, 20, 1],
        ("child", True): [8, 1, 1, 3, 3, 3, 0.5, 1, 0.5, 25, 8, 4, 2, 3, 0, 2, 1, 18, 15, 3, 1.5],
        ("adult", False): [1, 18, 3, 2, 1, 3, 5, 1, 4, 2, 20, 3, 12, 8, 0, 0, 0.3, 6, 2, 9, 0.2],
        ("adult", True): [4, 3, 1, 3, 5, 3, 0.5, 0.5, 8, 9, 14, 4, 4, 6, 0, 0, 0.2, 22, 12, 1, 1],
        ("older", False): [1, 22, 4, 1, 0.5, 2, 16, 1, 7, 2, 16, 2, 10, 7, 0, 0, 0, 4, 1, 4, 0.2],
        ("older", True): [5, 5, 1.5, 3, 2, 4, 0.5, 0.3, 17, 19, 10, 3, 3, 6, 0, 0, 0, 12, 10, 1, 2],
    }
    band = np.where(a_age < 16, "child", np.where(a_age < 65, "adult", "older"))
    for (group, emerg), weights in W.items():
        sel = np.flatnonzero((kind == 0) & (band == group) & (emergency == emerg))
        w = np.array(weights, float)
        chapter[sel] = rng.choice(w.size, sel.size, p=w / w.sum())
    chapter[kind == 1] = 14
    chapter[kind == 2] = np.where(rng.random(int((kind == 2).sum())) < 0.15, 15, 19)

    geo = lambda mean: rng.geometric(1.0 / np.maximum(mean, 1.0))  # noqa: E731
    over50 = np.maximum(0, a_age - 50)
    newborn = np.where(chapter == 15, geo(np.full(m, 6.0)), rng.choice(3, m, p=[0.5, 0.4, 0.1]))
    los = np.where(kind == 1, rng.choice(4, m, p=[0.3, 0.4, 0.2, 0.1]),
                   np.where(kind == 2, newborn,
                            np.where(emergency,
                                     np.where(rng.random(m) < 0.25, 0, geo(3 + 0.12 * over50)),
                                     np.where(rng.random(m) < np.where(a_age >= 65, 0.45, 0.65), 0,
                                              geo(2 + 0.04 * over50)))))
    los = np.minimum(los, 180)
    discharge = admit + los
    open_ = discharge > end

    trusts = np.array(list(ref.NHS_TRUSTS), dtype=object)
    local = las["trust"].to_numpy(dtype=object)[P["la"][who]]
    provider = np.where(rng.random(m) < 0.88, local, trusts[rng.integers(0, trusts.size, m)])

    people, inv = np.unique(who, return_inverse=True)
    nhs = _nhs_numbers(rng, people.size)[inv]
    nhs[rng.random(m) < 0.004] = None
    ident = _identity(P, who, PROFILES["dhsc.hes_apc"], rng, las)
    cols = {
        "episode_id": _random_ids(rng, m, 12),
        "nhs_number": nhs,
        "forename": ident["first_name"], "surname": ident["last_name"], "dob": ident["dob"], "sex": ident["sex"],
        "postcode": ident["postcode"], "la_code": ident["la_code"],
        "age_at_admission": a_age,
        "admission_date": _dates(admit),
        "discharge_date": _dates(discharge, open_),
        "length_of_stay": pd.array(np.where(open_, 0, los), dtype="Int64"),
        "admission_method": _cat(ref.ADMISSION_METHODS)[method],
        "primary_diagnosis_chapter": _cat(ref.ICD10_CHAPTERS)[chapter],
        "provider_code": provider,
    }
    cols["length_of_stay"][open_] = pd.NA
    return _shuffled(rng, cols, who, "episode_id", P)


def _dwp(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Benefit claims live at any time from April 2019 to March 2026."""
    parts = P["_claims"]
    who = np.concatenate([p[0] for p in parts]).astype(np.int64)
    benefit = np.concatenate([np.full(p[0].size, p[1]) for p in parts])
    start = np.concatenate([p[2] for p in parts]).astype(np.int64)
    end = np.concatenate([p[3] for p in parts]).astype(np.int64)
    amount = np.concatenate([np.asarray(p[4], float) for p in parts])
    health = np.concatenate([np.asarray(p[5], bool) for p in parts])
    m = who.size
    people, inv = np.unique(who, return_inverse=True)
    ident = _identity(P, who, PROFILES["dwp.benefit_claims"], rng, las)
    cols = {
        "claim_id": _random_ids(rng, m, 10, "C"),
        "nino": _ninos(rng, people.size)[inv],
        "first_name": ident["first_name"], "last_name": ident["last_name"], "dob": ident["dob"],
        "sex": ident["sex"], "postcode": ident["postcode"], "la_code": ident["la_code"],
        "benefit": _cat(ref.BENEFITS)[benefit],
        "claim_start": _dates(start),
        "claim_end": _dates(np.maximum(end, 0), end < 0),
        "weekly_amount": np.round(amount, 2),
        "health_related": health,
    }
    return _shuffled(rng, cols, who, "claim_id", P)


def _upns(rng: np.random.Generator, la_code: np.ndarray, estab: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Unique pupil numbers: check letter, DfE LA number, establishment, year allocated, serial."""
    m = la_code.size
    serial = rng.integers(0, 1000, m)
    digits = np.column_stack([(la_code // 100) % 10, (la_code // 10) % 10, la_code % 10,
                              (estab // 1000) % 10, (estab // 100) % 10, (estab // 10) % 10, estab % 10,
                              (year // 10) % 10, year % 10, serial // 100, (serial // 10) % 10, serial % 10])
    check = (digits * np.arange(2, 14)).sum(axis=1) % 23
    letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"), dtype=object)
    return letters[check] + _digits_to_str(digits)


def _npd(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame,
         schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """National Pupil Database: spring census 2025 with 2024/25 absence and key stage 4 results."""
    person = np.flatnonzero(P["pupil"])
    m = person.size
    school = P["school"][person]
    s_la = schools["la"].to_numpy()[school]
    dfe = las["dfe_code"].fillna("0").astype(int).to_numpy()[s_la]
    entry_year = (2024 - (P["year_group"][person] - 1) - 1) % 100
    ident = _identity(P, person, PROFILES["dfe.npd_pupils"], rng, las)
    cols = {
        "pupil_id": _random_ids(rng, m, 9, "NPD"),
        "upn": _upns(rng, dfe, schools["estab"].to_numpy()[school], entry_year),
        "first_name": ident["first_name"], "last_name": ident["last_name"], "dob": ident["dob"],
        "sex": ident["sex"], "postcode": ident["postcode"],
        "la_code": las["code"].to_numpy(dtype=object)[s_la],
        "school_urn": schools["urn"].to_numpy()[school].astype(np.int64),
        "year_group": P["year_group"][person].astype(np.int64),
        "fsm_eligible": P["fsm"][person],
        "sen_status": _cat(ref.SEN_STATUS)[P["sen"][person]],
        "absence_rate": P["absence"][person],
        "ks4_attainment8": P["att8"][person],
    }
    return _shuffled(rng, cols, person, "pupil_id", P)


def _swf(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame,
         schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """School Workforce Census, November 2024: one row per teacher."""
    person = np.flatnonzero(P["teacher_school"] >= 0)
    m = person.size
    school = P["teacher_school"][person]
    ident = _identity(P, person, PROFILES["dfe.school_workforce"], rng, las)
    cols = {
        "staff_id": _random_ids(rng, m, 8, "SWF"),
        "teacher_reference_number": _random_ids(rng, m, 7),
        "first_name": ident["first_name"], "last_name": ident["last_name"], "dob": ident["dob"],
        "sex": ident["sex"],
        "school_urn": schools["urn"].to_numpy()[school].astype(np.int64),
        "role": _cat(ref.TEACHER_ROLES)[P["t_role"][person]],
        "fte": P["t_fte"][person],
        "annual_salary": P["t_salary"][person],
        "subject": _cat(ref.TEACHER_SUBJECTS)[P["t_subject"][person]],
    }
    return _shuffled(rng, cols, person, "staff_id", P)


def _vacancies(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame,
               schools: pd.DataFrame) -> pd.DataFrame:
    """Teaching vacancies advertised September 2024 to August 2025: one row per advert. Schools whose pupils live
    in more deprived neighbourhoods lose (and advertise for) more teachers, and fill fewer posts."""
    n_schools = len(schools)
    teachers = np.bincount(P["teacher_school"][P["teacher_school"] >= 0], minlength=n_schools)
    on_roll = P["school"] >= 0
    deprivation = (np.bincount(P["school"][on_roll], weights=P["dep_z"][on_roll], minlength=n_schools)
                   / np.maximum(np.bincount(P["school"][on_roll], minlength=n_schools), 1))
    rate = 0.13 * np.exp(0.35 * deprivation)                    # adverts per teacher per year
    adverts = rng.poisson(teachers * rate)
    school = np.repeat(np.arange(n_schools), adverts)
    school = rng.permutation(school)  # adverts in no particular order
    m = school.size
    start = _day("2024-09-01")
    advertised = start + rng.integers(0, 365, m)
    secondary = schools["phase"].to_numpy()[school] == 1
    w = np.array([14, 14, 14, 5, 5, 7, 4, 8, 3, 3, 3, 5, 3], float)
    subject = np.where(secondary, rng.choice(np.arange(1, len(ref.TEACHER_SUBJECTS)), m, p=w / w.sum()), 0)
    role = np.where(rng.random(m) < 0.06, rng.integers(0, 3, m), 3)
    hard = _sigmoid(-1.9 + 0.5 * deprivation[school] + 0.6 * np.isin(subject, [2, 3, 9]))  # maths, science, computing
    filled = rng.random(m) >= hard
    days_open = np.where(filled, np.round(rng.gamma(2.0, 12.0 * (1 + hard), m)).astype(np.int64) + 1, 0)
    return pd.DataFrame({
        "vacancy_id": _random_ids(rng, m, 8, "TV"),
        "school_urn": schools["urn"].to_numpy()[school].astype(np.int64),
        "la_code": las["code"].to_numpy(dtype=object)[schools["la"].to_numpy()[school]],
        "advertised_on": _dates(advertised),
        "role": _cat(ref.TEACHER_ROLES)[role],
        "subject": _cat(ref.TEACHER_SUBJECTS)[subject],
        "filled": filled,
        "days_to_fill": pd.Series(days_open, dtype="Int64").where(filled, pd.NA)})


def _moj(P: dict[str, np.ndarray], rng: np.random.Generator, las: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Proven offending cohorts April 2019 to March 2025, with one-year proven reoffending."""
    start, cohort_end, end = _day("2019-04-01"), _day("2025-03-31"), REF_DAY
    n = P["age"].size
    mid_age = P["age"] - 3.5
    log_age = np.log(np.maximum(mid_age, 8.0))
    age_curve = -0.5 * ((log_age - np.log(25)) / 0.5) ** 2 - 0.7 * (mid_age < 18)
    employed = P["status"] == 1
    lam = np.exp(-5.6 + 1.5 * ~P["female"] + age_curve + 0.45 * P["dep_z"] + 0.5 * P["risk"]
                 + 0.35 * ((P["age"] >= 18) & (P["age"] <= 64) & ~employed)) * rng.gamma(0.25, 4.0, n)
    lam = np.where(mid_age >= 8, lam, 0.0)
    years = (end - start) / 365.25
    count = rng.poisson(lam * years)
    who = np.repeat(np.arange(n), count)
    when = _uniform_days(rng, np.maximum(start, _add_years(P["dob"][who], np.full(who.size, 10))), end, who.size)
    valid = when <= end
    who, when = who[valid], when[valid]
    order = np.lexsort((when, who))
    who, when = who[order], when[order]
    same_next = np.concatenate([who[1:] == who[:-1], [False]])
    gap = np.concatenate([when[1:] - when[:-1], [10**6]])
    # A proven reoffence is either the person's next index offence within a year or an offence that did
    # not start a cohort record of its own (more likely with a longer record and at a young age).
    young_at = _age_at(P["dob"][who], when) < 25
    prior_so_far = np.arange(who.size) - np.maximum.accumulate(
        np.where(np.concatenate([[True], who[1:] != who[:-1]]), np.arange(who.size), 0))
    hidden = rng.random(who.size) < _sigmoid(-2.1 + 0.15 * np.minimum(prior_so_far, 15) + 0.5 * young_at)
    reoffended = (same_next & (gap <= 365)) | hidden
    first_of = np.concatenate([[True], who[1:] != who[:-1]])
    run_start = np.maximum.accumulate(np.where(first_of, np.arange(who.size), 0))
    prior = np.arange(who.size) - run_start + rng.poisson(np.minimum(lam[who] * 6, 30))
    keep = when <= cohort_end
    who, when, reoffended, prior = who[keep], when[keep], reoffended[keep], prior[keep]
    m = who.size

    age = _age_at(P["dob"][who], when)
    female = P["female"][who]
    young = age < 18
    w_male = np.array([30, 3, 4, 18, 6, 6, 12, 5, 7, 3, 4, 2], float)
    w_female = np.array([25, 0.3, 1, 35, 2, 5, 6, 1, 5, 8, 6, 5], float)
    offence = np.where(female, rng.choice(12, m, p=w_female / w_female.sum()),
                       rng.choice(12, m, p=w_male / w_male.sum()))
    severity = np.array(ref.OFFENCE_SEVERITY)[offence] + 0.25 * np.minimum(prior, 10) + rng.normal(0, 1, m)
    adult_sentence = np.digitize(severity, [-0.6, 0.0, 0.5, 1.5, 2.3, 2.9])  # caution..custody
    adult_map = np.array([0, 1, 2, 3, 4, 5, 5])
    youth_map = np.array([0, 0, 6, 6, 7, 7, 5])
    sentence = np.where(young, youth_map[adult_sentence], adult_map[adult_sentence])

    people, inv = np.unique(who, return_inverse=True)
    first_arrest = np.minimum(when[np.unique(inv, return_index=True)[1]], REF_DAY)
    fy = (_ymd(first_arrest)[0] % 100)[inv]
    serial = rng.integers(0, 10**7, people.size)[inv]
    check = np.array(list("ZABCDEFGHJKLMNPQRTUVWXY"), dtype=object)[(fy * 10**7 + serial) % 23]
    pnc = (pd.Series(fy).astype(str).str.zfill(2) + "/" + pd.Series(serial).astype(str).str.zfill(7)
           + check).to_numpy(dtype=object)
    ident = _identity(P, who, PROFILES["moj.offender_records"], rng, las)
    cols = {
        "offender_id": _random_ids(rng, m, 9, "OFF"),
        "pnc_id": pnc,
        "first_name": ident["first_name"], "last_name": ident["last_name"], "dob": ident["dob"],
        "sex": ident["sex"], "postcode": ident["postcode"],
        "offence_group": _cat(ref.OFFENCE_GROUPS)[offence],
        "sentence_type": _cat(ref.SENTENCE_TYPES)[sentence],
        "sentence_date": _dates(when),
        "age_at_sentence": age,
        "previous_offences": prior.astype(np.int64),
        "reoffended_within_1_year": reoffended,
    }
    return _shuffled(rng, cols, who, "offender_id", P)


# --- assembly -------------------------------------------------------------------------------------------------

def _validate(persons: object, seed: object) -> None:
    def is_int(x: object) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if not is_int(persons) or not MIN_PERSONS <= int(persons) <= MAX_PERSONS:  # type: ignore[call-overload]  # is_int checked it
        raise InvalidInput(f"persons must be a whole number from {MIN_PERSONS:,} to {MAX_PERSONS:,}; "
                           f"got {persons!r}", field="persons")
    if not is_int(seed) or int(seed) < 0:  # type: ignore[call-overload]  # is_int checked it
        raise InvalidInput(f"seed must be a whole number of 0 or more; got {seed!r}", field="seed")


def _population_frame(P: dict[str, np.ndarray], las: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    codes = las["code"].to_numpy(dtype=object)
    school = P["school"]
    teacher = P["teacher_school"]
    urn = schools["urn"].to_numpy()
    status, reason, soc, sen = P["status"], P["reason"], P["soc"], P["sen"]
    types = _cat(("single adult", "single pensioner", "couple", "pensioner couple", "couple with children",
                  "lone parent", "couple with adult children", "shared house"))
    df = pd.DataFrame({
        "person_id": P["person_id"],
        "household_id": P["household"].astype(np.int64),
        "household_type": types[P["htype"]],
        "first_name": P["first_name"], "last_name": P["last_name"],
        "previous_last_name": P["previous_last_name"],
        "sex": np.where(P["female"], "F", "M").astype(object),
        "dob": _dates(P["dob"]), "age": P["age"],
        "postcode": P["postcode"], "la_code": codes[P["la"]],
        "la_name": las["name"].to_numpy(dtype=object)[P["la"]],
        "region": las["region"].to_numpy(dtype=object)[P["la"]],
        "previous_postcode": P["previous_postcode"], "previous_la_code": codes[P["previous_la"]],
        "imd_decile": P["imd_decile"], "deprivation_z": np.round(P["dep_z"], 4),
        "chronic_conditions": P["chronic"].astype(np.int64),
        "long_term_condition": P["ltc"],
        "ilo_status": np.where(status > 0, _cat(ref.ILO_STATUS)[np.maximum(status - 1, 0)], None),
        "inactivity_reason": np.where(reason >= 0, _cat(ref.INACTIVITY_REASONS)[np.maximum(reason, 0)], None),
        "soc_major_group": np.where(soc >= 0, _cat(ref.SOC_MAJOR_GROUPS)[np.maximum(soc, 0)], None),
        "hours_worked": P["hours"], "gross_weekly_pay": P["pay"],
        "benefit_household": P["uc_household"], "pip": P["pip"],
        "behavioural_risk": np.round(P["risk"], 4),
        "pupil": P["pupil"],
        "school_urn": pd.array(np.where(school >= 0, urn[np.maximum(school, 0)], 0), dtype="Int64"),
        "fsm_eligible": P["fsm"],
        "sen_status": np.where(sen >= 0, _cat(ref.SEN_STATUS)[np.maximum(sen, 0)], None),
        "absence_rate": P["absence"], "ks4_attainment8": P["att8"],
        "teacher_school_urn": pd.array(np.where(teacher >= 0, urn[np.maximum(teacher, 0)], 0), dtype="Int64"),
    })
    df.loc[school < 0, "school_urn"] = pd.NA
    df.loc[teacher < 0, "teacher_school_urn"] = pd.NA
    return df.sort_values("person_id", ignore_index=True)


_STREAMS = ("population", "schools", "ids", "lfs", "hes", "dwp", "npd", "swf", "moj", "areas", "vacancies")


def build_world(persons: int = 20_000, seed: int = 2026) -> World:
    """Build the synthetic public sector for ``persons`` people; the same arguments give the same world.

    Raises ``InvalidInput`` unless ``persons`` is a whole number from 1,000 to 5,000,000 and ``seed`` a whole
    number of 0 or more.
    """
    _validate(persons, seed)
    n = int(persons)
    streams = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}
    las = _la_table()

    P = _population(n, rng["population"], las)
    n_h = int(P["household"].max()) + 1
    ids = np.char.mod("P%07d", rng["ids"].permutation(n) + 1).astype(object)
    P["person_id"] = ids
    schools = _schools(P, rng["schools"], las)

    datasets: dict[str, pd.DataFrame] = {}
    truth: dict[str, pd.DataFrame] = {}
    for local_id, made in (
        ("ons.lfs", _lfs(P, rng["lfs"], las, n_h)),
        ("dhsc.hes_apc", _hes(P, rng["hes"], las)),
        ("dwp.benefit_claims", _dwp(P, rng["dwp"], las)),
        ("dfe.npd_pupils", _npd(P, rng["npd"], las, schools)),
        ("dfe.school_workforce", _swf(P, rng["swf"], las, schools)),
        ("moj.offender_records", _moj(P, rng["moj"], las)),
    ):
        datasets[local_id], truth[local_id] = made
    datasets.update(build_area_datasets(rng["areas"], las))
    datasets["dfe.teacher_vacancies"] = _vacancies(P, rng["vacancies"], las, schools)

    staff = people()
    datasets = {local_id: _conform(datasets[local_id], local_id) for local_id in DATASETS}
    return World(
        departments=departments(),
        people=staff,
        projects=projects(),
        datasets=datasets,
        entries=build_entries(staff),
        truth=truth,
        population=_population_frame(P, las, schools),
    )


def _conform(df: pd.DataFrame, local_id: str) -> pd.DataFrame:
    """Order and type the columns exactly as the catalogue entry declares them (a mismatch is a bug)."""
    columns = DATASETS[local_id]["columns"]
    names = [c["name"] for c in columns]
    if sorted(names) != sorted(df.columns):
        raise RuntimeError(f"{local_id}: columns {sorted(df.columns)} do not match the catalogue {sorted(names)}")
    out = {}
    for col in columns:
        s = df[col["name"]]
        kind = col["type"]
        if kind in ("string", "category"):
            s = s.astype(object).where(s.notna(), None)
            if kind == "category":
                bad = set(s.dropna().unique()) - set(col["categories"])
                if bad:
                    raise RuntimeError(f"{local_id}.{col['name']}: values outside the code list: {sorted(bad)[:5]}")
        elif kind == "integer":
            s = s.astype("Int64") if s.isna().any() else s.astype(np.int64)
        elif kind == "float":
            s = s.astype(np.float64)
        elif kind == "boolean":
            s = s.astype(bool)
        elif kind == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]")
        out[col["name"]] = s
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))
