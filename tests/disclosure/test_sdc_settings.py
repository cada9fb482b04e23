"""Disclosure settings: validated defaults; anyone registered reads them, only admins change them (audited),
on SQLite and PostgreSQL; a refusal changes nothing and is recorded."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pandas as pd
import pytest
from helpers import ADMIN, ANALYST, ROLE_OF
from sqlalchemy import select

from workbench import disclosure as sdc
from workbench.db.schema import audit_events, settings
from workbench.disclosure import DisclosureSettings
from workbench.errors import AccessDenied, InvalidInput


def test_defaults_are_the_conventional_rules() -> None:
    s = DisclosureSettings()
    assert (s.threshold, s.zeros, s.dominance_n, s.dominance_k, s.p_percent) == (10, True, 2, 0.9, 0.1)
    assert (s.negative, s.missing, s.dof, s.mitigation, s.rounding_base, s.protection) == (
        "review", False, 10, "suppress", 5, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.threshold = 3  # type: ignore[misc]


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("threshold", 0, "whole number of at least 1"),
    ("threshold", 2.5, "whole number"),
    ("threshold", True, "whole number"),
    ("zeros", "yes", "True or False"),
    ("dominance_n", -1, "whole number"),
    ("dominance_k", 1.5, "share between 0 and 1"),
    ("dominance_k", float("nan"), "share between 0 and 1"),
    ("p_percent", 0, "fraction between 0 and 1"),
    ("negative", "ignore", "'review', 'fail'"),
    ("mitigation", "blur", "'suppress', 'round', 'none'"),
    ("rounding_base", 0, "whole number"),
    ("protection", -0.5, "between 0 and 100"),
    ("dof", "10", "whole number"),
])
def test_bad_settings_are_refused_naming_the_field_and_the_fix(field, value, hint) -> None:
    with pytest.raises(InvalidInput, match=hint) as caught:
        DisclosureSettings.from_mapping({field: value})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}:")


def test_unknown_and_several_bad_settings_are_all_reported() -> None:
    with pytest.raises(InvalidInput, match=r"known settings: .*threshold") as caught:
        DisclosureSettings.from_mapping({"treshold": 5, "dof": 0})
    assert [f for f, _ in caught.value.problems] == ["treshold", "dof"]
    assert DisclosureSettings.from_mapping({"dominance_k": 1}).dominance_k == 1.0  # whole numbers are fine


def test_standalone_functions_take_settings_or_changes() -> None:
    a = pd.Series(["x"] * 12 + ["y"] * 6, name="a")
    b = pd.Series(["p"] * 18, name="b")
    assert sdc.crosstab(a, b).flags["threshold"].to_numpy().sum() == 1
    assert sdc.crosstab(a, b, settings=DisclosureSettings(threshold=5)).status == "pass"
    assert sdc.crosstab(a, b, settings={"threshold": 5}).status == "pass"
    with pytest.raises(InvalidInput, match="settings"):
        sdc.crosstab(a, b, settings=5)  # type: ignore[arg-type]


def test_reading_settings_imports_nothing_heavy() -> None:
    code = ("import sys, json, workbench.disclosure.service, workbench.disclosure; "
            "print(json.dumps([m for m in ('pandas', 'numpy', 'scipy', 'statsmodels') if m in sys.modules]))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []


# ----- the workspace service (SQLite and PostgreSQL) --------------------------------------------------------
def _audit(ws) -> list:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).order_by(audit_events.c.seq)).all()


def _stored(ws):
    with ws._ctx.db.read() as conn:
        return conn.execute(select(settings).where(settings.c.key == "disclosure")).first()


@pytest.mark.parametrize("user", sorted(ROLE_OF))
def test_every_registered_person_reads_the_settings(staffed, user) -> None:
    assert staffed(user).disclosure.settings() == DisclosureSettings()


def test_an_unregistered_person_may_not_read_them_and_the_attempt_is_audited(staffed) -> None:
    stranger = staffed("sam.stranger")
    with pytest.raises(AccessDenied, match="not a registered person"):
        stranger.disclosure.settings()
    last = _audit(stranger)[-1]
    assert (last.actor, last.action, last.outcome) == ("sam.stranger", "settings.read", "denied")


@pytest.mark.parametrize("user", sorted(u for u in ROLE_OF if ROLE_OF[u] != "admin"))
def test_only_admins_change_settings_and_a_refusal_changes_nothing(staffed, user) -> None:
    ws = staffed(user)
    before = len(_audit(ws))
    with pytest.raises(AccessDenied, match=r"may not change the disclosure settings: this needs one of the roles"):
        ws.disclosure.update_settings(threshold=3)
    assert _stored(ws) is None
    assert ws.disclosure.settings().threshold == 10
    events = _audit(ws)
    assert len(events) == before + 1
    assert (events[-1].actor, events[-1].action, events[-1].outcome) == (user, "settings.write", "denied")


def test_an_admin_changes_settings_for_everyone_and_it_is_audited(staffed) -> None:
    admin = staffed(ADMIN)
    updated = admin.disclosure.update_settings(threshold=20, mitigation="round")
    assert (updated.threshold, updated.mitigation, updated.dof) == (20, "round", 10)
    again = admin.disclosure.update_settings(dof=15)
    assert (again.threshold, again.dof) == (20, 15)  # earlier changes stay
    row = _stored(admin)
    assert row.updated_by == ADMIN and row.value["threshold"] == 20 and row.value["dof"] == 15
    event = _audit(admin)[-2]
    assert (event.action, event.outcome, event.resource) == ("settings.update", "ok", "the disclosure settings")
    assert event.detail == {"changes": {"mitigation": "round", "threshold": 20},
                            "previous": {"mitigation": "suppress", "threshold": 10}}
    analyst = staffed(ANALYST)
    assert analyst.disclosure.settings() == DisclosureSettings(threshold=20, mitigation="round", dof=15)
    assert admin.verify_audit().ok


def test_bad_changes_are_refused_before_anything_happens(staffed) -> None:
    admin = staffed(ADMIN)
    before = len(_audit(admin))
    with pytest.raises(InvalidInput, match="threshold: give a whole number"):
        admin.disclosure.update_settings(threshold=0)
    with pytest.raises(InvalidInput, match="not a disclosure setting"):
        admin.disclosure.update_settings(colour="red")
    with pytest.raises(InvalidInput, match="Name at least one setting"):
        admin.disclosure.update_settings()
    assert _stored(admin) is None and len(_audit(admin)) == before
    # a non-admin with bad input learns about the input first, and nothing is written
    with pytest.raises(InvalidInput):
        staffed(ANALYST).disclosure.update_settings(threshold=-1)
    assert _stored(admin) is None


def test_a_setting_stored_by_a_newer_version_is_ignored(staffed) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    admin = staffed(ADMIN)
    with admin._ctx.db.write() as conn:
        conn.execute(insert(settings).values(key="disclosure", value={"threshold": 7, "future_rule": 1},
                                             updated_by=ADMIN, updated_at=datetime.now(UTC)))
    assert admin.disclosure.settings().threshold == 7
    assert admin.disclosure.update_settings(dof=12).threshold == 7
    assert _stored(admin).value["future_rule"] == 1
