"""The twin budget: each synthetic twin made is charged once to its dataset's twin budget, which the owner sets;
reading a twin again is free, a twin that would overspend is refused, and the entry says what each twin cost."""

from __future__ import annotations

import pandas as pd
import pytest
from factories import patient_record, patients
from helpers import ADMIN, ANALYST, CHECKER, DATASET, OWNER, Unchanged, events

from workbench.dp.twin_budget import DEFAULT_EPSILON, DEFAULT_PER_TWIN
from workbench.errors import AccessDenied, BudgetExceeded, InvalidInput, NotFound


def twins_row(ws) -> dict:
    return ws.dp.budgets(DATASET).set_index("scope").loc["synthetic twins"].to_dict()


def new_data(owner, seed: int) -> None:
    """The owner replaces the data: a new version, whose twin is a new release."""
    owner.catalogue.register(patient_record(), patients(seed=seed))


@pytest.mark.db
def test_a_twin_is_charged_once_and_read_free_and_the_entry_says_what_it_cost(governed) -> None:
    analyst, owner = governed(ANALYST), governed(OWNER)
    assert analyst.catalogue.get(DATASET).twin is None  # none made yet
    assert twins_row(owner)["spent"] == 0 and twins_row(owner)["epsilon"] == DEFAULT_EPSILON
    twin = analyst.catalogue.twin(DATASET)
    after = twins_row(owner)
    assert after["spent"] == pytest.approx(DEFAULT_PER_TWIN) and after["queries"] == 1
    for reader in (ANALYST, CHECKER, OWNER):  # free to read, for everyone, once made
        assert governed(reader).catalogue.twin(DATASET).equals(twin)
    assert twins_row(owner)["spent"] == pytest.approx(DEFAULT_PER_TWIN)
    made = analyst.catalogue.get(DATASET).twin
    assert made["epsilon"] == pytest.approx(DEFAULT_PER_TWIN) and made["made_at"].startswith("20")
    assert made["spent"] == pytest.approx(DEFAULT_PER_TWIN) and made["budget"] == DEFAULT_EPSILON
    entry = analyst.catalogue.get(DATASET)
    assert f"ε = {DEFAULT_PER_TWIN:g}, made " in entry.twin_summary and "Synthetic twin" in entry._repr_html_()
    charged = [e for e in events(owner) if e["action"] == "catalogue.twin" and e["outcome"] == "ok"]
    assert len(charged) == 1 and charged[0]["detail"]["epsilon"] == pytest.approx(DEFAULT_PER_TWIN)
    privacy = owner.owner.usage(DATASET).privacy.set_index("project_id")  # the owner sees ε spent on twins
    assert privacy.loc["synthetic twins", "epsilon_spent"] == pytest.approx(DEFAULT_PER_TWIN)
    assert privacy.loc["synthetic twins", "queries"] == 1


@pytest.mark.db
def test_new_data_makes_a_new_twin_charged_again_until_the_budget_refuses(governed) -> None:
    analyst, owner = governed(ANALYST), governed(OWNER)
    owner.dp.set_twin_budget(DATASET, 0.5, per_twin=0.25)
    first = analyst.catalogue.twin(DATASET)
    new_data(owner, seed=2)
    second = analyst.catalogue.twin(DATASET)
    assert not second.equals(first)
    assert twins_row(owner)["spent"] == pytest.approx(0.5) and twins_row(owner)["queries"] == 2
    new_data(owner, seed=3)
    unchanged = Unchanged(owner)
    twin_file = analyst._ctx.vault.twin_path(DATASET).read_bytes()
    with pytest.raises(BudgetExceeded, match=r"needs ε = 0.25, but its twin budget has ε = 0 remaining \(of 0.5; "
                                             r"0.5 spent on 2 twins\)\. No twin was made") as caught:
        analyst.catalogue.twin(DATASET)
    assert "ws.dp.set_twin_budget('dhsc.patients', epsilon=...)" in str(caught.value)  # a notebook is told the call
    assert "ws." not in caught.value.lab_message and "can raise it." in caught.value.lab_message  # the lab is not
    unchanged.check()  # nothing charged, nothing recorded but the refusal
    assert analyst._ctx.vault.twin_path(DATASET).read_bytes() == twin_file  # and no twin written
    refused = [e for e in events(owner) if e["action"] == "catalogue.twin" and e["outcome"] == "refused"]
    assert len(refused) == 1 and refused[0]["actor"] == ANALYST
    owner.dp.set_twin_budget(DATASET, 0.75)  # the owner raises it: the next twin is made
    assert len(analyst.catalogue.twin(DATASET)) == len(patients())
    assert twins_row(owner)["spent"] == pytest.approx(0.75)


def test_a_zero_budget_stops_twins_before_any_data_is_read(governed) -> None:
    owner, analyst = governed(OWNER), governed(ANALYST)
    owner.dp.set_twin_budget(DATASET, 0)
    with pytest.raises(BudgetExceeded, match="No twin was made"):
        analyst.catalogue.twin(DATASET)
    assert not analyst._ctx.vault.twin_path(DATASET).exists()


@pytest.mark.db
def test_owner_and_admin_set_the_twin_budget_analyst_and_checker_may_not(governed) -> None:
    assert governed(OWNER).dp.set_twin_budget(DATASET, 2.0)["epsilon"] == 2.0
    result = governed(ADMIN).dp.set_twin_budget(DATASET, 3.0, per_twin=0.5)
    assert (result["epsilon"], result["per_twin"], result["set_by"]) == (3.0, 0.5, ADMIN)
    for user in (ANALYST, CHECKER):
        ws = governed(user)
        unchanged = Unchanged(ws)
        with pytest.raises(AccessDenied, match=r"may not set twin budget of dhsc\.patients"):
            ws.dp.set_twin_budget(DATASET, 50.0)
        unchanged.check()
    set_events = [e for e in events(governed(ADMIN)) if e["action"] == "dp.twin_budget.set"]
    assert [e["outcome"] for e in set_events] == ["ok", "ok", "denied", "denied"]


@pytest.mark.parametrize(("arguments", "field", "message"), [
    ({"epsilon": -1}, "epsilon", "is not a number from 0 to 100"),
    ({"epsilon": float("nan")}, "epsilon", "is not a number from 0 to 100"),
    ({"epsilon": 1e9}, "epsilon", "is not a number from 0 to 100"),
    ({"epsilon": "1"}, "epsilon", "is not a number from 0 to 100"),
    ({"epsilon": True}, "epsilon", "is not a number from 0 to 100"),
    ({"epsilon": 1.0, "per_twin": 0}, "per_twin", "is not a number from 1e-06 to 20"),
    ({"epsilon": 1.0, "per_twin": 1e6}, "per_twin", "is not a number from 1e-06 to 20"),
    ({"epsilon": 0.1}, "epsilon", "is below the ε = 0.25 its twins already spent"),
])
def test_bad_twin_budgets_are_refused_and_change_nothing(governed, arguments: dict, field: str,
                                                         message: str) -> None:
    owner = governed(OWNER)
    governed(ANALYST).catalogue.twin(DATASET)  # spends 0.25
    unchanged = Unchanged(owner)
    with pytest.raises(InvalidInput, match=message) as caught:
        owner.dp.set_twin_budget(DATASET, **arguments)
    assert caught.value.field == field
    unchanged.check()
    assert events(owner)[-1]["action"] == "dp.twin_budget.set" and events(owner)[-1]["outcome"] == "refused"


def test_an_unknown_dataset_has_no_twin_budget(governed) -> None:
    owner = governed(OWNER)
    with pytest.raises(NotFound, match=r"dhsc\.nothing"):
        owner.dp.set_twin_budget("dhsc.nothing", 1.0)
    assert events(owner)[-1]["action"] == "dp.twin_budget.set" and events(owner)[-1]["outcome"] == "refused"


def test_declared_date_ranges_are_checked_with_the_record(governed) -> None:
    owner = governed(OWNER)
    columns = patient_record()["columns"]
    by_name = {c["name"]: c for c in columns}
    by_name["admitted"].update(earliestDate="2025-12-31", latestDate="2025-01-01")
    by_name["age_band"].update(earliestDate="2025-01-01")
    with pytest.raises(InvalidInput) as caught:
        owner.catalogue.register(patient_record(columns=columns))
    text = str(caught.value)
    assert "the latest date of 'admitted' (2025-01-01) is before its earliest (2025-12-31)" in text
    assert "only date columns have earliest and latest dates, and 'age_band' is 'category'" in text
    by_name["admitted"].update(earliestDate="2025-01-01", latestDate="not a date")
    with pytest.raises(InvalidInput, match="expected a date as YYYY-MM-DD"):
        owner.catalogue.register(patient_record(columns=columns))
    by_name["admitted"].update(latestDate="2025-12-31")
    del by_name["age_band"]["earliestDate"]
    by_name["length_of_stay"].update(lowerBound=0, upperBound=60)
    owner.catalogue.register(patient_record(columns=columns))
    governed(ADMIN).access.update_settings(twin_min_count=1)
    owner.dp.set_twin_budget(DATASET, 20.0, per_twin=20.0)  # nearly exact counts: some values are surely shown
    twin = governed(ANALYST).catalogue.twin(DATASET)
    stay, admitted = twin["length_of_stay"].dropna(), twin["admitted"].dropna()
    assert len(stay) and stay.between(0, 60).all()
    assert len(admitted) and admitted.between(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")).all()


@pytest.mark.db
def test_the_twin_tables_refuse_negative_privacy_loss_in_the_database_itself(governed) -> None:
    """Migration 0010's tables hold their constraints on SQLite and PostgreSQL alike."""
    from datetime import UTC, datetime

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from workbench.db.schema import twin_budgets, twin_spends

    ws = governed(ADMIN)
    now = datetime.now(UTC)
    bad = [(twin_budgets, {"dataset_id": DATASET, "epsilon": 1.0, "per_twin": 0.0, "set_by": OWNER, "set_at": now}),
           (twin_budgets, {"dataset_id": DATASET, "epsilon": -1.0, "per_twin": 0.1, "set_by": OWNER, "set_at": now}),
           (twin_spends, {"dataset_id": DATASET, "version": "v", "username": OWNER, "epsilon": -0.1, "columns": [],
                          "at": now})]
    for table, row in bad:
        with pytest.raises(IntegrityError), ws._ctx.db.write() as conn:
            conn.execute(insert(table).values(**row))
    with ws._ctx.db.write() as conn:
        conn.execute(insert(twin_budgets).values(dataset_id=DATASET, epsilon=1.0, per_twin=0.1, set_by=OWNER,
                                                 set_at=now))
    assert twins_row(ws)["epsilon"] == 1.0
