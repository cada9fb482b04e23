"""The audit log: an append-only hash chain in the workspace database.

Each event's hash covers its content and the previous event's hash, so editing, deleting or reordering any
past event breaks every later link (``verify`` finds the first broken one). Appends happen inside the
caller's write transaction, which is serialised, and ``prev_hash`` is unique, so the chain cannot fork.

A chain alone cannot show that its newest events were cut off, so after each commit the last event's
sequence number and hash are also written outside the database (``Anchor``, a file in the workspace folder);
``verify`` checks that the log still reaches that event unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from workbench.db.schema import audit_events

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Connection

GENESIS = "0" * 64
ANCHOR_FILE = "audit-head.json"


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(prev: str, at: datetime, actor: str, action: str, resource: str, outcome: str,
            detail: Any) -> str:
    body = json.dumps([prev, _canonical_time(at), actor, action, resource, outcome, detail],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: Connection, actor: str, action: str, resource: str, *, outcome: str = "ok",
           detail: dict[str, Any] | None = None) -> int:
    """Append one event in the caller's (write) transaction; returns its sequence number."""
    t = audit_events
    detail = json.loads(json.dumps(detail or {}, default=str))  # exactly what the JSON column will return
    # a resource named from what someone sent (a refused call's junk) is cut to fit: the event is still written
    # (and without NUL characters, which PostgreSQL text cannot hold)
    action = action.replace("\0", "\\0")[:t.c.action.type.length]  # type: ignore[attr-defined]  # a String
    resource = resource.replace("\0", "\\0")[:t.c.resource.type.length]  # type: ignore[attr-defined]  # a String
    prev = conn.execute(select(t.c.hash).order_by(t.c.seq.desc()).limit(1)).scalar() or GENESIS
    at = datetime.now(UTC)
    digest = _digest(prev, at, actor, action, resource, outcome, detail)
    seq = conn.execute(insert(t).values(at=at, actor=actor, action=action, resource=resource,  # type: ignore[index]  # an INSERT's result holds the new key
                                        outcome=outcome, detail=detail, prev_hash=prev, hash=digest)
                       ).inserted_primary_key[0]
    conn.info["audit_head"] = (seq, digest)  # the database layer hands it to the anchor after commit
    return seq


class Anchor:
    """The newest committed event (sequence number and hash), kept in a file beside the database.

    Concurrent writers may leave it a few events behind the log, never ahead, so it proves the log was not
    cut short before that event.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, seq: int, digest: str) -> None:
        current = self.read()
        if current is not None and current[0] >= seq:
            return
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}))
        os.replace(tmp, self.path)

    def read(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.path.read_text())
            return int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_broken: int | None = None
    reason: str = ""


def verify(conn: Connection, anchor: Anchor | None = None) -> ChainCheck:
    """Recompute the chain; report the first event whose link or content does not match, or that the log
    no longer reaches the event recorded by ``anchor``."""
    t = audit_events
    prev = GENESIS
    count = last = 0
    head = anchor.read() if anchor is not None else None
    for row in conn.execute(select(t).order_by(t.c.seq)):
        count += 1
        if row.prev_hash != prev:
            return ChainCheck(False, count, row.seq, "its link to the previous event is broken")
        if _digest(prev, row.at, row.actor, row.action, row.resource, row.outcome, row.detail) != row.hash:
            return ChainCheck(False, count, row.seq, "its content does not match its hash")
        prev = row.hash
        if head is not None and row.seq == head[0] and row.hash != head[1]:
            return ChainCheck(False, count, row.seq, "it is not the event recorded outside the database")
        last = row.seq
    if head is not None and last < head[0]:
        return ChainCheck(False, count, head[0], f"the log ends at event {last}: events up to {head[0]} were "
                                                 "removed")
    return ChainCheck(True, count)
