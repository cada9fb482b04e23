"""API tokens: shown once and stored as a hash, managed by their holder or an admin, refused when revoked,
expired or malformed, with every refusal leaving the database as it was."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from helpers import ADMIN, ANALYST, OWNER, ROLE_OF, cli_runner, snapshot
from sqlalchemy import func, select, update

from workbench.db.schema import api_tokens, audit_events
from workbench.errors import AccessDenied, Conflict, InvalidInput, NotFound
from workbench.governance.tokens import COLUMNS, Tokens, user_for_token

pytestmark = pytest.mark.db  # also on PostgreSQL


TODAY = date.today()


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch) -> None:
    """The service's today is the tests' TODAY, so a run that crosses midnight does not expire a last-day token."""
    monkeypatch.setattr("workbench.governance.tokens._today", lambda: TODAY)


def tokens_of(connect, user: str) -> Tokens:
    return connect(user).tokens


def events(ws, action: str) -> list:
    with ws._ctx.db.read() as conn:
        return conn.execute(select(audit_events).where(audit_events.c.action == action)
                            .order_by(audit_events.c.seq)).mappings().all()


def test_a_token_is_shown_once_and_only_its_hash_is_kept(staffed) -> None:
    admin = staffed(ADMIN)
    created = admin.tokens.create(ANALYST, label="laptop kernel", expires=TODAY + timedelta(days=30))
    token = created["token"]
    assert token.startswith("wbt_") and len(token) > 40
    assert created["username"] == ANALYST and created["created_by"] == ADMIN
    assert created["expires"] == TODAY + timedelta(days=30)
    with admin._ctx.db.read() as conn:
        row = conn.execute(select(api_tokens)).mappings().one()
        everything = json.dumps([list(map(str, r)) for r in conn.execute(select(audit_events)).all()])
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps({k: str(v) for k, v in row.items()})
    assert token not in everything and row["token_hash"] not in everything  # nor in the audit log
    [event] = events(admin, "tokens.create")
    assert (event["actor"], event["resource"]) == (ADMIN, f"API token {created['id']} of {ANALYST}")
    assert event["detail"] == {"label": "laptop kernel", "expires": str(TODAY + timedelta(days=30))}

    listed = admin.tokens.list(ANALYST)
    assert list(listed.columns) == COLUMNS  # no token, no hash
    assert listed.iloc[0][["label", "status", "created_by"]].tolist() == ["laptop kernel", "active", ADMIN]
    second = admin.tokens.create(ANALYST, label="laptop kernel")
    assert second["token"] != token and second["expires"] is None


def test_user_for_token_names_the_holder_of_a_current_token_only(staffed) -> None:
    admin = staffed(ADMIN)
    tokens = admin.tokens
    db = admin._ctx.db
    good = tokens.create(ANALYST, label="a")
    last_day = tokens.create(OWNER, label="b", expires=TODAY)
    revoked = tokens.create(ANALYST, label="c")
    expired = tokens.create(ANALYST, label="d", expires=TODAY)
    tokens.revoke(revoked["id"], reason="Leaked in a notebook")
    with db.write() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == expired["id"])
                     .values(expires=TODAY - timedelta(days=1)))

    assert user_for_token(db, good["token"]) == ANALYST
    assert user_for_token(db, last_day["token"]) == OWNER  # valid through its last day
    for refused in (revoked["token"], expired["token"], good["token"] + "x", good["token"][:-1], "wbt_",
                    good["token"].removeprefix("wbt_"), "wbt_" + "a" * 300, "", None, 42, b"wbt_x"):
        assert user_for_token(db, refused) is None, refused
    assert tokens.list(ANALYST).set_index("id")["status"].to_dict() == {
        good["id"]: "active", revoked["id"]: "revoked", expired["id"]: "expired"}


def test_last_use_is_recorded_through_the_database_not_a_connection(staffed) -> None:
    admin = staffed(ADMIN)
    tokens = admin.tokens
    token = tokens.create(ANALYST, label="a")
    with admin._ctx.db.read() as conn:
        assert user_for_token(conn, token["token"]) == ANALYST
    assert tokens.list(ANALYST)["last_used_at"].isna().all()
    assert user_for_token(admin._ctx.db, token["token"]) == ANALYST
    first = tokens.list(ANALYST)["last_used_at"].iloc[0]
    assert first is not None
    assert user_for_token(admin._ctx.db, token["token"]) == ANALYST
    assert tokens.list(ANALYST)["last_used_at"].iloc[0] == first  # not rewritten on every request


@pytest.mark.parametrize("user", [u for u in ROLE_OF if u != ADMIN])
def test_everyone_manages_their_own_tokens_and_no_one_else_s(staffed, user: str) -> None:
    admin_tokens = tokens_of(staffed, ADMIN)
    other = ADMIN
    theirs = admin_tokens.create(other, label="admin's")
    mine = tokens_of(staffed, user)
    created = mine.create(user, label="my kernel")
    assert created["created_by"] == user
    assert mine.list()["id"].tolist() == [created["id"]]  # only their own, though the admin has one
    assert mine.list(user)["id"].tolist() == [created["id"]]
    ws = staffed(user)
    before = snapshot(ws)
    for attempt in (lambda: mine.create(other, label="for someone else"), lambda: mine.list(other),
                    lambda: mine.revoke(theirs["id"], reason="Mischief")):
        with pytest.raises(AccessDenied, match="only an admin"):
            attempt()
    assert snapshot(ws) == before
    denied = [e for e in events(ws, "tokens.create") + events(ws, "tokens.read") + events(ws, "tokens.revoke")
              if e["outcome"] == "denied"]
    assert len(denied) == 3 and {e["actor"] for e in denied} == {user}
    revoked = mine.revoke(created["id"], reason="New laptop")
    assert (revoked["status"], revoked["revoked_by"]) == ("revoked", user)
    assert user_for_token(ws._ctx.db, created["token"]) is None


def test_admins_manage_everyone_s_tokens(staffed) -> None:
    admin = tokens_of(staffed, ADMIN)
    ids = {user: admin.create(user, label=f"for {user}")["id"] for user in (ANALYST, OWNER)}
    own = tokens_of(staffed, ANALYST).create(ANALYST, label="own")["id"]
    assert admin.list()["id"].tolist() == [ids[ANALYST], ids[OWNER], own]  # everyone's
    assert admin.list(ANALYST)["id"].tolist() == [ids[ANALYST], own]
    assert admin.list(ADMIN).empty
    admin.revoke(own, reason="Person left the project")
    [event] = events(staffed(ADMIN), "tokens.revoke")
    assert (event["actor"], event["resource"], event["detail"]) == (
        ADMIN, f"API token {own} of {ANALYST}", {"reason": "Person left the project"})


def test_people_not_registered_have_no_tokens(staffed) -> None:
    stranger = staffed("walk.in")
    with pytest.raises(AccessDenied, match="not a registered person"):
        stranger.tokens.create("walk.in", label="mine")
    with pytest.raises(AccessDenied, match="not a registered person"):
        stranger.tokens.list()
    admin = tokens_of(staffed, ADMIN)
    before = snapshot(staffed(ADMIN))
    with pytest.raises(NotFound, match=r"No person 'walk\.in' is registered"):
        admin.create("walk.in", label="for them")
    with pytest.raises(NotFound, match=r"No person 'walk\.in'"):
        admin.list("walk.in")
    assert snapshot(staffed(ADMIN)) == before
    assert [e["outcome"] for e in events(staffed(ADMIN), "tokens.create")] == ["denied", "refused"]


@pytest.mark.parametrize(("arguments", "field", "message"), [
    ((("Ann Analyst",), {"label": "x"}), "username", "not a valid user name"),
    (((42,), {"label": "x"}), "username", "not a valid user name"),
    (((ANALYST,), {"label": ""}), "label", "give a label"),
    (((ANALYST,), {"label": "   "}), "label", "give a label"),
    (((ANALYST,), {"label": None}), "label", "give a label"),
    (((ANALYST,), {"label": "x" * 201}), "label", "keep it to 200"),
    (((ANALYST,), {"label": "x", "expires": TODAY - timedelta(days=1)}), "expires", "is in the past"),
    (((ANALYST,), {"label": "x", "expires": "next week"}), "expires", "not a date"),
    (((ANALYST,), {"label": "x", "expires": "2027-13-01"}), "expires", "not a date"),
])
def test_invalid_creation_is_refused_and_writes_nothing(staffed, arguments, field: str, message: str) -> None:
    admin = staffed(ADMIN)
    before = snapshot(admin)
    args, kwargs = arguments
    with pytest.raises(InvalidInput, match=message) as refusal:
        admin.tokens.create(*args, **kwargs)
    assert refusal.value.field == field
    assert snapshot(admin) == before


def test_invalid_revocations_are_refused_and_write_nothing(staffed) -> None:
    admin = staffed(ADMIN)
    tokens = admin.tokens
    token = tokens.create(ANALYST, label="a")
    for bad in ("1", 0, -3, True, None):
        with pytest.raises(InvalidInput, match="not a token number"):
            tokens.revoke(bad, reason="x")
    before = snapshot(admin)
    with pytest.raises(NotFound, match="No API token 999"):
        tokens.revoke(999, reason="x")
    for reason in ("", "  ", None):
        with pytest.raises(InvalidInput, match="give the reason"):
            tokens.revoke(token["id"], reason=reason)
    assert snapshot(admin) == before
    tokens.revoke(token["id"], reason="Rotated")
    before = snapshot(admin)
    with pytest.raises(Conflict, match=f"already revoked by {ADMIN}"):
        tokens.revoke(token["id"], reason="Again")
    assert snapshot(admin) == before
    with admin._ctx.db.read() as conn:
        refused = conn.execute(select(func.count()).select_from(audit_events).where(
            audit_events.c.action == "tokens.revoke", audit_events.c.outcome == "refused")).scalar_one()
    assert refused == 5  # unknown token, three blank reasons, already revoked: attempts on a credential


# -- the commands ---------------------------------------------------------------------------------------------
def test_token_commands(staffed, monkeypatch, capsys) -> None:
    import re

    run = cli_runner(staffed, monkeypatch, capsys)
    monkeypatch.setenv("WORKBENCH_URL", "https://workbench.example.invalid/")
    code, out, err = run(ADMIN, "token", "create", ANALYST, "--label", "laptop kernel", "--expires", "2099-01-31")
    assert code == 0, err
    token = re.search(r"WORKBENCH_TOKEN=(wbt_\S+)", out).group(1)
    assert "export WORKBENCH_URL=https://workbench.example.invalid/" in out
    assert "shown only this once" in out and "valid through 2099-01-31" in out
    assert user_for_token(staffed(ADMIN)._ctx.db, token) == ANALYST

    code, out, err = run(ANALYST, "token", "create", ANALYST, "--label", "ci", "--quiet")
    assert code == 0 and re.fullmatch(r"wbt_\S+\n", out), out

    code, out, _ = run(ANALYST, "token", "list")
    assert code == 0 and "wbt_" not in out
    assert re.search(r"laptop kernel\s+active\s+2099-01-31", out) and re.search(r"\bci\s+active\s+never", out), out
    code, out, _ = run(ADMIN, "token", "list", "--format", "json")
    listed = json.loads(out)
    assert [t["label"] for t in listed] == ["laptop kernel", "ci"] and not any("token_hash" in t for t in listed)

    code, out, err = run(OWNER, "token", "revoke", str(listed[0]["id"]), "--reason", "Not mine")
    assert code == 1 and err.startswith("workbench: error: olu.owner may not revoke API token 1 of ann.analyst")
    code, out, err = run(ANALYST, "token", "revoke", str(listed[0]["id"]), "--reason", "New laptop")
    assert code == 0 and out == "Revoked API token 1 of ann.analyst (laptop kernel); it no longer works.\n"
    assert user_for_token(staffed(ADMIN)._ctx.db, token) is None

    code, _, err = run(ADMIN, "token", "create", ANALYST, "--label", "x", "--expires", "2001-01-01")
    assert code == 1 and err == "workbench: error: expires: 2001-01-01 is in the past; give today or a later " \
                                "day (YYYY-MM-DD).\n"
    code, out, _ = run(OWNER, "token", "list")
    assert code == 0 and out == "No API tokens.\n"
