"""The synthetic public sector: reproducible, consistent with its catalogue, private, and realistically messy."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench.demo import _world_reference as ref
from workbench.demo.world import World, build_world
from workbench.errors import InvalidInput

PERSON_LEVEL = {
    "ons.lfs": "case_id",
    "dhsc.hes_apc": "episode_id",
    "dwp.benefit_claims": "claim_id",
    "dfe.npd_pupils": "pupil_id",
    "dfe.school_workforce": "staff_id",
    "moj.offender_records": "offender_id",
}
NAME_COLUMNS = {"dhsc.hes_apc": ("forename", "surname")}
GATEWAYS = {"dea-2017-research", "dea-2017-public-service-delivery", "sraa-2007-s39", "uk-gdpr-public-task",
            "nhs-act-2006-s251", "education-act-1996-s537a", "crime-and-disorder-act-1998-s115",
            "open-government-licence"}
THEMES = {"Business%20and%20economy", "Crime%20and%20justice", "Education", "Environment", "Government", "Health",
          "Mapping", "Society", "Towns%20and%20cities", "Transport"}
LOCAL_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)+$")
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def world() -> World:
    """Small world for structure checks."""
    return build_world(persons=5000, seed=11)


@pytest.fixture(scope="module")
def large() -> World:
    """Enough people (about a second to build) for rates and relationships to be stable."""
    return build_world(persons=20_000, seed=3)


def _linked(world: World, local_id: str) -> pd.DataFrame:
    """A dataset's identifiers next to the true ones of the person each record belongs to."""
    key = PERSON_LEVEL[local_id]
    first, last = NAME_COLUMNS.get(local_id, ("first_name", "last_name"))
    data = world.datasets[local_id].merge(world.truth[local_id], on=key)
    data = data.rename(columns={first: "rec_first", last: "rec_last", "dob": "rec_dob"})
    return data.merge(world.population, on="person_id")


def _norm(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.lower()


# --- reproducibility and arguments -------------------------------------------------------------------------------

def test_same_seed_gives_identical_world_and_another_seed_differs() -> None:
    a, b, c = build_world(2000, seed=5), build_world(2000, seed=5), build_world(2000, seed=6)
    assert a.entries == b.entries and a.people == b.people and a.projects == b.projects
    assert a.departments == b.departments
    pd.testing.assert_frame_equal(a.population, b.population)
    for local_id in a.datasets:
        pd.testing.assert_frame_equal(a.datasets[local_id], b.datasets[local_id])
    for local_id in a.truth:
        pd.testing.assert_frame_equal(a.truth[local_id], b.truth[local_id])
    assert not a.population.equals(c.population)
    assert not a.datasets["dhsc.hes_apc"].equals(c.datasets["dhsc.hes_apc"])
    assert not a.datasets["ho.recorded_crime"].equals(c.datasets["ho.recorded_crime"])


@pytest.mark.parametrize("persons", [999, 5_000_001, 0, -5, 2500.0, "20000", True, None])
def test_refuses_population_sizes_out_of_range(persons: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_world(persons=persons)  # type: ignore[arg-type]
    assert caught.value.field == "persons"
    assert "1,000" in str(caught.value) and "5,000,000" in str(caught.value)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None, False])
def test_refuses_bad_seeds(seed: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_world(persons=1000, seed=seed)  # type: ignore[arg-type]
    assert caught.value.field == "seed"
    assert "0 or more" in str(caught.value)


def test_population_has_requested_size_and_true_identifiers(world: World) -> None:
    pop = world.population
    assert len(pop) == 5000
    assert pop["person_id"].is_unique
    for col in ("person_id", "first_name", "last_name", "sex", "dob", "postcode", "la_code"):
        assert pop[col].notna().all(), col
    assert pop["postcode"].str.match(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$").all()
    codes = {la.code for la in ref.LOCAL_AUTHORITIES}
    assert set(pop["la_code"]) <= codes
    assert pop["age"].between(0, 100).all()


# --- the catalogue matches the data ----------------------------------------------------------------------------

def _fits(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind in ("string", "category"):
        return str(dtype) in ("object", "str", "string")
    if kind == "integer":
        return str(dtype) in ("int64", "Int64")
    if kind == "float":
        return str(dtype) == "float64"
    if kind == "boolean":
        return str(dtype) == "bool"
    if kind == "date":
        return str(dtype) == "datetime64[ns]"
    return False


def test_every_dataset_matches_its_catalogue_columns(world: World) -> None:
    assert set(world.datasets) == set(world.entries)
    for local_id, df in world.datasets.items():
        columns = world.entries[local_id]["columns"]
        assert list(df.columns) == [c["name"] for c in columns], local_id
        assert len(df) > 0, local_id
        for col in columns:
            series = df[col["name"]]
            assert _fits(series, col["type"]), (local_id, col["name"], series.dtype, col["type"])
            assert col["role"] in {"direct_identifier", "record_identifier", "quasi_identifier", "sensitive", "other"}
            assert col["description"]
            if col["type"] == "category":
                assert set(series.dropna()) <= set(col["categories"]), (local_id, col["name"])
                assert len(set(col["categories"])) == len(col["categories"])
            else:
                assert "categories" not in col, (local_id, col["name"])
            if col["type"] in ("string", "category"):
                assert series.dropna().map(lambda v: isinstance(v, str)).all(), (local_id, col["name"])


def test_catalogue_entries_follow_the_exchange_model(world: World) -> None:
    slugs = {d["slug"] for d in world.departments}
    owners = {(p["department"], p["username"]) for p in world.people if "data_owner" in p["roles"]}
    for local_id, e in world.entries.items():
        assert LOCAL_ID.match(local_id) and e["localId"] == local_id
        assert e["identifier"] == f"https://demo.workbench.invalid/dataset/{local_id}"
        assert e["type"] == "dcat:Dataset"
        assert e["title"] and e["description"] and e["lineage"] and e["keyword"]
        assert len(e["summary"]) <= 250
        assert all(t.startswith("https://www.data.gov.uk/search?filters%5Btopic%5D=") for t in e["theme"])
        assert {t.rsplit("=", 1)[1] for t in e["theme"]} <= THEMES
        assert e["licence"] == "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
        assert e["securityClassification"] == "OFFICIAL"
        assert e["accessRights"] == ("INTERNAL" if local_id in PERSON_LEVEL else "OPEN")
        assert e["contactPoint"]["contactName"] and e["contactPoint"]["email"].endswith(".demo.invalid")
        assert e["publisher"] in slugs and set(e["creator"]) <= slugs and e["department"] in slugs
        assert ISO_DATE.match(e["issued"]) and ISO_DATE.match(e["modified"]) and e["issued"] <= e["modified"]
        assert e["updateFrequency"].startswith("freq:")
        assert (e["department"], e["dataOwner"]) in owners
        assert e["legalGateway"] and set(e["legalGateway"]) <= GATEWAYS
        if local_id not in PERSON_LEVEL:
            assert e["legalGateway"] == ["open-government-licence"]
        assert e["mission"] and set(e["mission"]) <= {1, 2, 3, 4, 5}
        assert ISO_DATE.match(e["temporalCoverage"]["start"]) and ISO_DATE.match(e["temporalCoverage"]["end"])
        assert e["spatialCoverage"]
        assert "rowCount" not in e and "completeness" not in e
        prefix = local_id.split(".")[0]
        assert any(d["slug"] == e["department"] and d["abbreviation"].lower().replace(" ", "") == prefix
                   for d in world.departments)


def test_hospital_search_finds_hes_first(world: World) -> None:
    hes = world.entries["dhsc.hes_apc"]
    assert "Hospital" in hes["title"] and "hospital" in hes["keyword"]
    assert hes["publisher"] == "nhs-england"
    assert hes["department"] == "department-of-health-and-social-care"
    for local_id, e in world.entries.items():
        if local_id != "dhsc.hes_apc":
            assert "hospital" not in e["title"].lower(), local_id
            assert not any("hospital" in k.lower() for k in e["keyword"]), local_id


def test_identifying_columns_are_catalogued_as_such(world: World) -> None:
    roles = {(lid, c["name"]): c["role"] for lid, e in world.entries.items() for c in e["columns"]}
    for lid in PERSON_LEVEL:
        first, last = NAME_COLUMNS.get(lid, ("first_name", "last_name"))
        assert roles[(lid, first)] == roles[(lid, last)] == "direct_identifier"
        assert roles[(lid, "dob")] == roles[(lid, "sex")] == "quasi_identifier"
        if (lid, "postcode") in roles:
            assert roles[(lid, "postcode")] == "direct_identifier"
    for lid, col in [("dhsc.hes_apc", "nhs_number"), ("dwp.benefit_claims", "nino"), ("dfe.npd_pupils", "upn"),
                     ("moj.offender_records", "pnc_id"), ("dfe.school_workforce", "teacher_reference_number")]:
        assert roles[(lid, col)] == "direct_identifier"
    for lid, col in [("dhsc.hes_apc", "primary_diagnosis_chapter"), ("dwp.benefit_claims", "benefit"),
                     ("moj.offender_records", "offence_group"), ("ons.lfs", "gross_weekly_pay"),
                     ("dfe.npd_pupils", "ks4_attainment8")]:
        assert roles[(lid, col)] == "sensitive"


# --- the true identity stays hidden ----------------------------------------------------------------------------

def test_person_id_never_appears_in_a_dataset(world: World) -> None:
    ids = set(world.population["person_id"])
    for local_id, df in world.datasets.items():
        assert not any("person" in c.lower() for c in df.columns), local_id
        for col in df.columns:
            if df[col].dtype == object:
                assert ids.isdisjoint(set(df[col].dropna())), (local_id, col)


def test_truth_tables_cover_each_record_exactly_once(world: World) -> None:
    assert set(world.truth) == set(PERSON_LEVEL)
    persons = set(world.population["person_id"])
    for local_id, key in PERSON_LEVEL.items():
        df, truth = world.datasets[local_id], world.truth[local_id]
        assert list(truth.columns) == [key, "person_id"]
        assert df[key].is_unique and truth[key].is_unique
        assert len(truth) == len(df) and set(truth[key]) == set(df[key])
        assert set(truth["person_id"]) <= persons


def test_row_order_does_not_follow_the_population(world: World) -> None:
    rank = {p: i for i, p in enumerate(world.population["person_id"])}
    for local_id, key in PERSON_LEVEL.items():
        order = world.datasets[local_id][[key]].merge(world.truth[local_id], on=key)["person_id"].map(rank)
        corr = np.corrcoef(np.arange(len(order)), order.to_numpy())[0, 1]
        assert abs(corr) < 0.2, local_id


def test_real_world_identifiers_are_valid_and_never_shared(world: World) -> None:
    nhs = world.datasets["dhsc.hes_apc"]["nhs_number"].dropna()
    assert nhs.str.fullmatch(r"9\d{9}").all()
    digits = np.array([[int(c) for c in s] for s in nhs.unique()])
    check = (11 - (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11) % 11
    assert (check == digits[:, 9]).all()
    assert world.datasets["dwp.benefit_claims"]["nino"].str.fullmatch(r"[A-Z]{2}\d{6}[A-D]").all()
    upn = world.datasets["dfe.npd_pupils"]["upn"]
    assert upn.str.fullmatch(r"[A-HJ-NPQRT-Z]\d{12}").all()
    assert world.datasets["moj.offender_records"]["pnc_id"].str.fullmatch(r"\d{2}/\d{7}[A-Z]").all()
    # within a department a person keeps one number; no number is reused for another person
    for local_id, col in [("dhsc.hes_apc", "nhs_number"), ("dwp.benefit_claims", "nino"),
                          ("moj.offender_records", "pnc_id")]:
        linked = world.datasets[local_id].merge(world.truth[local_id], on=PERSON_LEVEL[local_id])
        per_number = linked.dropna(subset=[col]).groupby(col)["person_id"].nunique()
        assert (per_number == 1).all(), local_id
    values = [set(world.datasets[lid][col].dropna()) for lid, col in
              [("dhsc.hes_apc", "nhs_number"), ("dwp.benefit_claims", "nino"), ("dfe.npd_pupils", "upn"),
               ("moj.offender_records", "pnc_id"), ("dfe.school_workforce", "teacher_reference_number")]]
    for i, a in enumerate(values):
        for b in values[i + 1:]:
            assert a.isdisjoint(b)


# --- identifiers are corrupted as real departments corrupt them ------------------------------------------------

def test_lfs_and_dwp_agree_on_surname_and_birth_date_for_most_but_not_all(large: World) -> None:
    big = large
    lfs = _linked(big, "ons.lfs").drop_duplicates("person_id").set_index("person_id")
    dwp = _linked(big, "dwp.benefit_claims").drop_duplicates("person_id").set_index("person_id")
    both = lfs.index.intersection(dwp.index)
    assert len(both) >= 100

    def key(d: pd.DataFrame) -> pd.Series:
        return _norm(d.loc[both, "rec_last"]).fillna("?") + "|" + d.loc[both, "rec_dob"].astype(str)

    agree = (key(lfs) == key(dwp)).mean()
    assert 0.70 <= agree <= 0.99


@pytest.mark.parametrize("local_id", sorted(PERSON_LEVEL))
def test_each_dataset_has_its_own_moderate_error_rate(large: World, local_id: str) -> None:
    d = _linked(large, local_id)
    first_ok = (_norm(d["rec_first"]) == _norm(d["first_name"])).mean()
    last_ok = (_norm(d["rec_last"]) == _norm(d["last_name"])).mean()
    dob_ok = (d["rec_dob"] == d["dob"]).mean()
    shares = (first_ok, last_ok, dob_ok)
    assert min(shares) >= 0.85 and sum(shares) < 2.99, (local_id, shares)


def test_nicknames_maiden_names_and_swapped_dates_occur(large: World) -> None:
    w = large
    frames = [_linked(w, lid) for lid in PERSON_LEVEL]
    d = pd.concat([f[["rec_first", "rec_last", "rec_dob", "first_name", "last_name", "previous_last_name", "dob"]]
                   for f in frames], ignore_index=True)
    rec_first = d["rec_first"].astype("string").str.strip().str.title().fillna("")
    nick = [rf in ref.NICKNAMES.get(tf, ()) for rf, tf in zip(rec_first, d["first_name"], strict=True)]
    assert sum(nick) >= 20
    maiden = (_norm(d["rec_last"]) == _norm(d["previous_last_name"])) & d["previous_last_name"].notna()
    assert maiden.sum() >= 10
    ok = d["rec_dob"].notna()
    rec, true = pd.DatetimeIndex(d.loc[ok, "rec_dob"]), pd.DatetimeIndex(d.loc[ok, "dob"])
    swapped = (rec.day == true.month) & (rec.month == true.day) & (rec.year == true.year) & (rec != true)
    assert swapped.sum() >= 10
    assert (rec.year != true.year).sum() >= 5
    # a typo leaves a name close to the truth: same length +-1 and a shared first letter
    rf, tf = _norm(d["rec_first"]), _norm(d["first_name"])
    slip = rf.notna() & (rf != tf) & (rf.str[0] == tf.str[0]) & ((rf.str.len() - tf.str.len()).abs() <= 1)
    assert slip.sum() >= 20


def test_records_carry_missing_values_and_stale_or_untidy_postcodes(world: World) -> None:
    hes = _linked(world, "dhsc.hes_apc")
    assert hes["rec_dob"].isna().any() or hes["postcode_x"].isna().any()
    moved = hes["postcode_x"].notna() & (
        hes["postcode_x"].str.replace(" ", "").str.upper() != hes["postcode_y"].str.replace(" ", ""))
    assert 0.02 < moved.mean() < 0.2
    assert world.datasets["dhsc.hes_apc"]["surname"].dropna().str.isupper().mean() > 0.95
    lfs = world.datasets["ons.lfs"]["postcode"].dropna()
    assert (~lfs.str.contains(" ")).any() or lfs.str.islower().any()


# --- the relationships an analyst should find ------------------------------------------------------------------

def test_long_term_health_conditions_go_with_economic_inactivity(large: World) -> None:
    world = large
    lfs = world.datasets["ons.lfs"]
    inactive = lfs["ilo_status"] == "Economically inactive"
    ltc = lfs["long_term_health_condition"]
    assert inactive[ltc].mean() > inactive[~ltc].mean() + 0.1
    working_age = lfs["age"] < 65
    assert inactive[ltc & working_age].mean() > 1.3 * inactive[~ltc & working_age].mean()
    pop = world.population
    working_age = pop[pop["age"].between(16, 64)]
    sick = working_age["inactivity_reason"] == "Long-term sick or disabled"
    assert sick[working_age["long_term_condition"]].mean() > 3 * sick[~working_age["long_term_condition"]].mean()


def test_free_school_meals_go_with_lower_attainment_and_more_absence(large: World) -> None:
    npd = large.datasets["dfe.npd_pupils"]
    ks4 = npd.dropna(subset=["ks4_attainment8"])
    means = ks4.groupby("fsm_eligible")["ks4_attainment8"].mean()
    assert means[True] < means[False] - 5
    absence = npd.groupby("fsm_eligible")["absence_rate"].mean()
    assert absence[True] > absence[False]
    assert 0.1 < npd["fsm_eligible"].mean() < 0.45


def test_deprived_areas_have_more_crime_and_benefit_claims(large: World) -> None:
    world = large
    crime = world.datasets["ho.recorded_crime"].groupby("la_code")["offences"].sum()
    pop = world.datasets["ons.population_estimates"]
    residents = pop[pop["year"] == 2022].groupby("la_code")["population"].sum()
    imd = world.datasets["ons.local_authorities"].set_index("la_code")["imd_average_score"]
    rate = (crime / residents).loc[imd.index]
    deprived = imd > imd.median()
    assert rate[deprived].mean() > 1.2 * rate[~deprived].mean()
    assert np.corrcoef(rate, imd)[0, 1] > 0.4

    people = world.population
    adults = people[people["age"].between(18, 64)]
    deciles = adults.groupby("imd_decile")["benefit_household"].mean()
    assert deciles.loc[[1, 2]].mean() > 1.5 * deciles.loc[[9, 10]].mean()


def test_offenders_are_mostly_young_men_and_admissions_rise_with_age(large: World) -> None:
    world = large
    moj = world.datasets["moj.offender_records"]
    assert (moj["sex"] == "M").mean() > 0.7
    assert moj["age_at_sentence"].median() < 35
    assert moj["age_at_sentence"].min() >= 10
    hes = _linked(world, "dhsc.hes_apc")
    per_person = hes.groupby("person_id").size()
    england = world.population[world.population["la_code"].str.startswith("E")].set_index("person_id")
    counts = per_person.reindex(england.index, fill_value=0)
    old = counts[england["age"] >= 70].mean()
    young = counts[england["age"].between(20, 40)].mean()
    assert old > 2 * young
    assert (hes["admission_date"] >= hes["dob"]).all()
    done = hes["discharge_date"].notna()
    assert (hes.loc[done, "discharge_date"] >= hes.loc[done, "admission_date"]).all()


def test_every_person_level_row_belongs_to_a_plausible_person(world: World) -> None:
    npd = _linked(world, "dfe.npd_pupils")
    assert npd["age"].between(5, 20).all()
    assert npd["la_code_y"].str.startswith("E").all()
    teachers = _linked(world, "dfe.school_workforce")
    assert teachers["age"].between(22, 70).all()
    assert (teachers["school_urn_x"] == teachers["teacher_school_urn"]).all()
    lfs = _linked(world, "ons.lfs")
    assert (lfs["age_x"] >= 16).all()
    pension = _linked(world, "dwp.benefit_claims")
    sp = pension[pension["benefit"] == "State Pension"]
    assert (sp["age"] >= 60).all()


# --- organisations, people and projects --------------------------------------------------------------------------

def test_departments_datasets_and_missions(world: World) -> None:
    slugs = [d["slug"] for d in world.departments]
    assert len(set(slugs)) == len(slugs) >= 7
    for slug in ("office-for-national-statistics", "department-of-health-and-social-care", "nhs-england",
                 "department-for-work-pensions", "department-for-education", "home-office", "ministry-of-justice",
                 "department-for-energy-security-and-net-zero", "met-office", "department-for-transport"):
        assert slug in slugs
    assert len(world.datasets) >= 12
    missions = {m for e in world.entries.values() for m in e["mission"]}
    assert missions == {1, 2, 3, 4, 5}
    assert len({e["department"] for e in world.entries.values()}) >= 7


def test_people_have_the_roles_the_demo_needs(world: World) -> None:
    slugs = {d["slug"] for d in world.departments}
    names = [p["username"] for p in world.people]
    assert len(set(names)) == len(names)
    roles: dict[str, int] = {}
    for p in world.people:
        assert USERNAME.match(p["username"]) and p["department"] in slugs
        assert p["email"].startswith(p["username"] + "@") and p["email"].endswith(".demo.invalid")
        assert set(p["roles"]) <= {"analyst", "output_checker", "data_owner", "trainer", "admin"}
        for r in p["roles"]:
            roles[r] = roles.get(r, 0) + 1
    assert roles["analyst"] >= 8 and roles["output_checker"] == 3 and roles["trainer"] >= 1 and roles["admin"] >= 1
    checkers = {p["username"] for p in world.people if "output_checker" in p["roles"]}
    for project in world.projects:  # two independent reviews are possible in every project
        assert len(checkers - {m["username"] for m in project["members"]}) >= 2, project["id"]
    owning = {e["department"] for e in world.entries.values()}
    owners = {p["department"] for p in world.people if "data_owner" in p["roles"]}
    assert owning <= owners
    assert len({p["department"] for p in world.people if "analyst" in p["roles"]}) >= 4


def test_projects_reference_real_datasets_and_people(world: World) -> None:
    people = {p["username"]: p for p in world.people}
    assert sorted(p["mission"] for p in world.projects) == [1, 2, 3, 4, 5]
    assert len({p["id"] for p in world.projects}) == 5
    for project in world.projects:
        assert project["title"] and len(project["purpose"]) > 100 and project["intendedOutputs"]
        assert project["legalGateway"] in GATEWAYS
        assert set(project["datasets"]) <= set(world.datasets)
        assert project["lead"] in people and "analyst" in people[project["lead"]]["roles"]
        members = {m["username"]: m["role"] for m in project["members"]}
        assert set(members) <= set(people) and members[project["lead"]] == "lead"
        assert set(members.values()) <= {"lead", "analyst", "reviewer"}
        assert any(people[u]["roles"] == ["output_checker"] for u, r in members.items() if r == "reviewer")
        assert ISO_DATE.match(project["start"]) and ISO_DATE.match(project["end"]) and project["start"] < project["end"]
        owners = {world.entries[d]["department"] for d in project["datasets"]}
        if len(owners) > 1 and any(d in PERSON_LEVEL for d in project["datasets"]):
            working = {people[u]["department"] for u, r in members.items() if r in ("lead", "analyst")}
            assert len(working) >= 2, project["id"]
