"""API tokens: how a person is recognised by the workbench service when no JupyterHub vouches for them.

One Jupyter server token names nobody in particular; a service used by many people needs one credential per
person. A token is shown once, when it is created, and only its SHA-256 is stored, so a copy of the database
does not hand out working tokens. Admins create, list and revoke anyone's tokens; every registered person may
do so for their own (how someone gets a token without waiting for an admin). A token stops working when it
is revoked, after its expiry day (UTC), or if its holder is no longer registered.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from workbench import audit
from workbench.db.schema import api_tokens, people
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.validation import check_date, check_number, check_text, check_username

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.db import Database

PREFIX = "wbt_"  # recognisable in a leaked file or a secret scanner, and cheap to refuse anything else
MAX_TOKEN_LENGTH = 200
MAX_LABEL_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=5)  # record use at most this often: a write per request would queue
COLUMNS = ["id", "username", "label", "status", "expires", "created_by", "created_at", "last_used_at",
           "revoked_by", "revoked_at"]


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _today() -> date:
    return datetime.now(UTC).date()


def _utc(at: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _status(row: Any, today: date) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires"] is not None and row["expires"] < today:
        return "expired"
    return "active"


def _require_person(conn: Connection, username: str) -> None:
    if conn.execute(select(people.c.username).where(people.c.username == username)).first() is None:
        raise NotFound(f"No person {username!r} is registered in this workspace; an admin adds them first "
                       f"(workbench people add {username} ...).")


class Tokens:
    """Create, list and revoke API tokens for the workbench service."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, username: str, *, label: str, expires: date | str | None = None) -> dict[str, Any]:
        """A new token for ``username``, returned once in ``["token"]``: it cannot be shown again.

        ``label`` says what it is for (e.g. "laptop kernel"); ``expires`` is the last day it works (UTC).
        """
        username = check_username(username)
        label = check_text(label, "label", "a label saying what the token is for, e.g. 'laptop kernel'")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(f"label: {len(label)} characters; keep it to {MAX_LABEL_LENGTH}.", field="label")
        until = None
        if expires is not None:
            until = check_date(expires, "expires")
            if until < _today():
                raise InvalidInput(f"expires: {until} is in the past; give today or a later day (YYYY-MM-DD).",
                                   field="expires")
        token = PREFIX + secrets.token_urlsafe(32)
        resource = f"an API token for {username}"
        now = datetime.now(UTC)
        with self._ctx.write(audit_refusals_as=("tokens.create", resource)) as conn:
            self._ctx.check("tokens.create", resource, username=username)
            _require_person(conn, username)
            token_id = conn.execute(insert(api_tokens).values(  # type: ignore[index]  # an INSERT's result holds the new key
                username=username, label=label, token_hash=token_hash(token), created_by=self._ctx.actor.username,
                created_at=now, expires=until)).inserted_primary_key[0]
            audit.append(conn, self._ctx.actor.username, "tokens.create", f"API token {token_id} of {username}",
                         detail={"label": label, "expires": until.isoformat() if until else None})
        return {"id": token_id, "username": username, "label": label, "token": token, "expires": until,
                "created_by": self._ctx.actor.username, "created_at": now}

    def list(self, username: str | None = None) -> pd.DataFrame:
        """The tokens of ``username``; without one, an admin sees everyone's and anyone else their own.

        Never the token nor its hash: what was shown at creation is the only copy.
        """
        if username is None and self._ctx.actor.has("admin"):
            subject, resource = None, "everyone's API tokens"
        else:
            subject = self._ctx.actor.username if username is None else check_username(username)
            resource = f"the API tokens of {subject}"
        self._ctx.require("tokens.read", resource, username=subject)
        query = select(*(api_tokens.c[c] for c in COLUMNS if c != "status")).order_by(api_tokens.c.id)
        with self._ctx.db.read() as conn:
            if subject is not None:
                _require_person(conn, subject)
                query = query.where(api_tokens.c.username == subject)
            rows = conn.execute(query).mappings().all()
        today = _today()
        return pd.DataFrame([{**row, "status": _status(row, today)} for row in rows], columns=COLUMNS)

    def revoke(self, token_id: int, *, reason: str) -> dict[str, Any]:
        """Stop a token working at once; the revocation and its reason are audited."""
        token_id = check_number(token_id, "token_id", "a token number (`workbench token list` shows them)")
        resource = f"API token {token_id}"
        with self._ctx.write(audit_refusals_as=("tokens.revoke", resource)) as conn:
            row = conn.execute(select(api_tokens.c.username, api_tokens.c.revoked_at, api_tokens.c.revoked_by)
                               .where(api_tokens.c.id == token_id)).mappings().first()
            if row is None:
                raise NotFound(f"No API token {token_id}; `workbench token list` shows the tokens you may see.")
            resource = f"API token {token_id} of {row['username']}"
            self._ctx.check("tokens.revoke", resource, username=row["username"])
            reason = check_text(reason, "reason", "the reason for revoking the token")
            if row["revoked_at"] is not None:
                raise Conflict(f"API token {token_id} was already revoked by {row['revoked_by']}.")
            now = datetime.now(UTC)
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                         .values(revoked_by=self._ctx.actor.username, revoked_at=now))
            audit.append(conn, self._ctx.actor.username, "tokens.revoke", resource, detail={"reason": reason})
            revoked = conn.execute(select(*(api_tokens.c[c] for c in COLUMNS if c != "status"))
                                   .where(api_tokens.c.id == token_id)).mappings().one()
        return {**revoked, "status": "revoked"}


def user_for_token(source: Database | Connection, token: Any) -> str | None:
    """The registered person a token names, or None (unknown, malformed, revoked, expired, holder gone).

    ``source`` is the workspace ``Database`` (then the token's last use is recorded, at most every few minutes)
    or an open connection (lookup only). No policy question is asked: this is who, not what they may do.
    """
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_hash(token)
    if hasattr(source, "execute"):
        found = _lookup(source, digest)  # type: ignore[arg-type]  # a Connection: it has execute
        return found[0] if found else None
    with source.read() as conn:
        found = _lookup(conn, digest)
    if found is None:
        return None
    username, token_id, last_used = found
    now = datetime.now(UTC)
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        _record_use(source, token_id, now)
    return username


def _lookup(conn: Connection, digest: str) -> tuple[str, int, datetime | None] | None:
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.username, api_tokens.c.expires, api_tokens.c.revoked_at,
               api_tokens.c.last_used_at)
        .join(people, people.c.username == api_tokens.c.username)
        .where(api_tokens.c.token_hash == digest)).mappings().first()
    if row is None or _status(row, _today()) != "active":
        return None
    return row["username"], row["id"], _utc(row["last_used_at"])


def _record_use(db: Database, token_id: int, now: datetime) -> None:
    """Best effort: a busy database must not turn a valid token away."""
    try:
        with db.write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
    except (SQLAlchemyError, WorkbenchError):
        pass
