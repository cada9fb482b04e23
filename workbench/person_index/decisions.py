"""Clerical review decisions on the person index's uncertain pairs (``ws.person_index.decide``).

An update of the index leaves, per dataset, the pairs whose match probability fell in the review band
(``ws.person_index.review_pairs``): a record of the dataset (its ``row``) and a candidate, either a person of the
index (``kind`` "person", an index id) or another record of the dataset (``kind`` "record", its row). An admin or
linker decides a pair "match" or "non-match"; the decision is recorded here (table ``person_index_decisions``) with
the fingerprints of the records it is about, the pair leaves the queue at once, and the next update of the dataset
applies it:

- "match": the record, with every record of the dataset holding the same identifying fields, joins the candidate
  person (for a record pair: the other record's person); a person left without records anywhere is dropped;
- "non-match": if they are one person, the record and its look-alikes become a person of their own; otherwise they
  stay apart, as unchanged records keep their index id at every later update.

A decision whose record (or candidate record) changed since it was made, or whose candidate person is gone, is void:
the changed record is compared afresh. Each applied decision names the update that applied it and what it did
(``outcome``: merged, split, unchanged, void); the dataset's quality record counts decisions applied and pending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select, update

from workbench import audit
from workbench.db.schema import person_index_decisions
from workbench.errors import Conflict, InvalidInput, NotFound, WorkbenchError
from workbench.governance.conditions import dataset_row
from workbench.ids import check_dataset_id
from workbench.person_index import store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context

__all__ = ["DECISIONS", "Pending", "apply", "counts", "decide", "mark_applied", "pending", "pending_datasets",
           "undecided"]

DECISIONS = ("match", "non-match")
NOTE_LIMIT = 2000
_INDEX_ID = re.compile(r"wbp_[0-9a-f]{16}")
_ABSENT = "\x00"  # a missing identifying field, when records are compared for look-alikes


@dataclass(frozen=True)
class Pending:
    """A decision not yet applied: the record (row, fingerprint then) and the candidate (an index id, or a row and
    its fingerprint then)."""

    id: int
    kind: str
    row: int
    candidate: str
    fingerprint: str
    candidate_fingerprint: str | None
    decision: str


class Linked(Protocol):
    """What an update holds of one dataset it linked (``service._Linked``): what the decisions change."""

    members: pd.DataFrame
    review: pd.DataFrame | None
    quality: dict[str, Any]
    norm: pd.DataFrame | None


# -- recording -----------------------------------------------------------------------------------------------------
def decide(ctx: Context, dataset_id: str, pair: Any, decision: str, note: str | None = None) -> dict[str, Any]:
    """Record a decision on one pair of the dataset's clerical review queue (admins and linkers); it is applied at
    the dataset's next index update. Refused, and audited, for a pair not in the queue, one decided already, or a
    decision other than "match" / "non-match"."""
    check_dataset_id(dataset_id, "dataset_id")
    resource = f"person-index review pairs of dataset {dataset_id}"
    ctx.require("index.decide", resource)
    try:
        choice = _decision(decision)
        row, candidate = _pair(pair)
        text = _note(note)
        with ctx.db.read() as conn:
            dataset_row(conn, dataset_id)  # a dataset the catalogue holds
        root = ctx.vault.root
        queue = store.review(root, dataset_id)
        found = None if queue is None else queue[(queue["row"].astype(np.int64) == row)
                                                 & (queue["candidate"].astype(str) == candidate)]
        if found is None or not len(found):
            raise NotFound(f"pair: row {row} and candidate {candidate} is not in the clerical review queue of "
                           f"{dataset_id}; ws.person_index.review_pairs({dataset_id!r}) lists the pairs to decide.")
        kind = str(found["kind"].iloc[0])
        members = store.members(root, dataset_id)
        fingerprint = _fingerprint(members, row)
        other = _fingerprint(members, int(candidate)) if kind == "record" else None
        if fingerprint is None or (kind == "record" and other is None):
            raise Conflict(f"The person index no longer holds row {row if fingerprint is None else candidate} of "
                           f"{dataset_id}; review the pairs of its latest update (ws.person_index.review_pairs).")
        me, now = ctx.actor.username, datetime.now(UTC)
        t = person_index_decisions
        with ctx.write() as conn:
            earlier = conn.execute(select(t.c.id, t.c.decision, t.c.decided_by).where(
                (t.c.dataset_id == dataset_id) & (t.c.record_row == row) & (t.c.candidate == candidate)
                & t.c.applied_in.is_(None))).first()
            if earlier is not None:
                raise Conflict(f"pair: row {row} and candidate {candidate} of {dataset_id} was decided already "
                               f"({earlier.decision!r} by {earlier.decided_by}, decision {earlier.id}); it is "
                               "applied at the next index update.")
            decision_id = conn.execute(insert(t).values(
                dataset_id=dataset_id, kind=kind, record_row=row, candidate=candidate, fingerprint=fingerprint,
                candidate_fingerprint=other, decision=choice, note=text, decided_by=me, decided_at=now,
            ).returning(t.c.id)).scalar_one()
            audit.append(conn, me, "index.decide", resource,
                         detail={"decision_id": decision_id, "kind": kind, "row": row, "decision": choice})
    except WorkbenchError as error:
        if getattr(error, "audited", False):
            raise
        raise ctx.audit_refused("index.decide", resource, error) from None
    return {"id": int(decision_id), "dataset_id": dataset_id, "kind": kind, "row": row, "candidate": candidate,
            "decision": choice, "note": text, "decided_by": me, "decided_at": now.isoformat(),
            "status": "pending: applied at the dataset's next index update (ws.person_index.build or refresh)"}


def _decision(decision: object) -> str:
    if not isinstance(decision, str) or decision.strip().lower() not in DECISIONS:
        raise InvalidInput(f"decision: {decision!r} is not a decision; give 'match' (the record is the candidate "
                           "person) or 'non-match' (keep them apart).", field="decision")
    return decision.strip().lower()


def _pair(pair: object) -> tuple[int, str]:
    """(row, candidate) from a review pair (a row of ``review_pairs``, a mapping with ``row`` and ``candidate``) or
    a (row, candidate) tuple."""
    how = ("give a row of ws.person_index.review_pairs(dataset_id), a dict with 'row' and 'candidate', or a "
           "(row, candidate) tuple")
    if isinstance(pair, Mapping | pd.Series):
        if "row" not in pair or "candidate" not in pair:
            raise InvalidInput(f"pair: it has no 'row' and 'candidate'; {how}.", field="pair")
        row, candidate = pair["row"], pair["candidate"]
    elif isinstance(pair, tuple | list) and len(pair) == 2:
        row, candidate = pair
    else:
        raise InvalidInput(f"pair: {type(pair).__name__} is not a review pair; {how}.", field="pair")
    if isinstance(row, bool) or not isinstance(row, int | np.integer) or int(row) < 0:
        raise InvalidInput(f"pair: row {row!r} is not a record's row (a whole number from 0); {how}.", field="pair")
    if isinstance(candidate, int | np.integer) and not isinstance(candidate, bool) and int(candidate) >= 0:
        candidate = str(int(candidate))
    if not isinstance(candidate, str) or not ((candidate.isdigit() and len(candidate) <= 12)
                                              or _INDEX_ID.fullmatch(candidate)):
        raise InvalidInput(f"pair: candidate {str(candidate)[:40]!r} is neither an index id (wbp_ and 16 hex "
                           f"digits) nor a record's row; {how}.", field="pair")
    return int(row), candidate


def _note(note: object) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidInput(f"note: give text (or nothing), not {type(note).__name__}.", field="note")
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidInput(f"note: {len(text):,} characters is too long; keep it to {NOTE_LIMIT:,}.", field="note")
    return text or None


def _fingerprint(members: pd.DataFrame | None, row: int) -> str | None:
    if members is None:
        return None
    hit = members.loc[members["row"].to_numpy() == row, "fingerprint"]
    return str(hit.iloc[0]) if len(hit) else None


# -- reading -------------------------------------------------------------------------------------------------------
def pending(conn: Connection, dataset_ids: Iterable[str]) -> dict[str, list[Pending]]:
    """The decisions awaiting an update, per dataset (oldest first)."""
    t = person_index_decisions
    wanted = list(dataset_ids)
    out: dict[str, list[Pending]] = {}
    if not wanted:
        return out
    rows = conn.execute(select(t).where(t.c.dataset_id.in_(wanted) & t.c.applied_in.is_(None))
                        .order_by(t.c.id)).mappings()
    for r in rows:
        out.setdefault(r["dataset_id"], []).append(Pending(
            id=r["id"], kind=r["kind"], row=r["record_row"], candidate=r["candidate"], fingerprint=r["fingerprint"],
            candidate_fingerprint=r["candidate_fingerprint"], decision=r["decision"]))
    return out


def pending_datasets(conn: Connection, dataset_ids: Iterable[str]) -> list[str]:
    """Of ``dataset_ids``, those with decisions awaiting an update (in the order given)."""
    wanted = list(dataset_ids)
    waiting = set(pending(conn, wanted))
    return [d for d in wanted if d in waiting]


def counts(conn: Connection, dataset_id: str) -> dict[str, int]:
    """For the quality record: clerical decisions applied to the dataset, and those awaiting the next update."""
    t = person_index_decisions
    applied, waiting = conn.execute(select(func.count(t.c.applied_in), func.count() - func.count(t.c.applied_in))
                                    .where(t.c.dataset_id == dataset_id)).one()
    return {"review_decided": int(applied or 0), "review_pending": int(waiting or 0)}


def undecided(conn: Connection, dataset_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The review pairs without a pending decision: a decided pair leaves the queue at once."""
    decided = pending(conn, [dataset_id]).get(dataset_id, [])
    if not decided or not len(frame):
        return frame
    return _without(frame, {(p.row, p.candidate) for p in decided})


def _without(frame: pd.DataFrame, pairs: set[tuple[int, str]]) -> pd.DataFrame:
    keys = zip(frame["row"].astype(np.int64), frame["candidate"].astype(str), strict=True)
    keep = np.array([(int(r), c) not in pairs for r, c in keys], dtype=bool)
    return frame[keep].reset_index(drop=True)


# -- applying, at an update ----------------------------------------------------------------------------------------
def apply(waiting: Mapping[str, list[Pending]], linked: Mapping[str, Linked], persons: pd.DataFrame, root: Path,
          new_ids: Callable[[int, set[str]], list[str]],
          kept: object) -> tuple[pd.DataFrame, dict[str, list[tuple[int, str]]]]:
    """Apply the pending decisions of the datasets an update linked to their members (in place) and to
    ``persons``; ``kept`` is the update's marker for "the review pairs of the last comparison still hold". Returns
    the persons after them and, per dataset, (decision id, outcome) of each decision applied."""
    applied: dict[str, list[tuple[int, str]]] = {}
    vacated: set[str] = set()
    added: list[dict[str, Any]] = []
    known = set(persons["index_id"])
    for dataset_id, decided in waiting.items():
        item = linked.get(dataset_id)
        if item is None or not decided:
            continue
        outcomes, gone = _apply_one(decided, item, known, new_ids, added)
        vacated |= gone
        applied[dataset_id] = outcomes
        review = store.review(root, dataset_id) if item.review is kept else item.review
        done = {(p.row, p.candidate) for p, (_, outcome) in zip(decided, outcomes, strict=True)
                if outcome != "void" or item.review is kept}
        if review is not None and len(review):
            review = _without(review, done)
        item.review = review
        item.quality["review_held"] = 0 if review is None else len(review)
        item.quality["decisions_applied"] = len(outcomes)
    if added:
        new = pd.DataFrame(added).reindex(columns=persons.columns).astype(object)
        persons = pd.concat([persons, new.where(new.notna(), None)], ignore_index=True)
    if vacated:
        orphans = vacated - _referenced(root, linked)
        if orphans:
            persons = persons[~persons["index_id"].isin(orphans)].reset_index(drop=True)
    return persons, applied


def _apply_one(decided: list[Pending], item: Linked, known: set[str], new_ids: Callable[[int, set[str]], list[str]],
               added: list[dict[str, Any]]) -> tuple[list[tuple[int, str]], set[str]]:
    """One dataset's decisions, in the order made; returns (decision id, outcome) each and the persons records
    left."""
    members, norm = item.members, item.norm
    if norm is None or not len(members):
        return [(p.id, "void") for p in decided], set()
    ids = members["index_id"].to_numpy(dtype=object).copy()
    prints = members["fingerprint"].to_numpy(dtype=object)
    filled = norm.astype(object).where(norm.notna(), _ABSENT)
    outcomes: list[tuple[int, str]] = []
    vacated: set[str] = set()
    for p in decided:
        where = np.flatnonzero(prints == p.fingerprint)
        if p.kind == "person":
            target = p.candidate if p.candidate in known else None
        else:
            other = np.flatnonzero(prints == p.candidate_fingerprint)
            target = ids[other[0]] if other.size else None
        if not where.size or target is None or ids[where[0]] is None:
            outcomes.append((p.id, "void"))
            continue
        r = int(where[0])
        current = ids[r]
        alike = (filled == filled.iloc[r]).all(axis=1).to_numpy() & (ids == current)  # the record's look-alikes
        if p.decision == "match" and current != target:
            ids[alike] = target
            vacated.add(current)
            outcomes.append((p.id, "merged"))
        elif p.decision == "non-match" and current == target:
            fresh = new_ids(1, known)[0]
            known.add(fresh)
            ids[alike] = fresh
            values = norm.iloc[r]
            added.append({"index_id": fresh, **{c: None if pd.isna(values[c]) else values[c] for c in norm}})
            outcomes.append((p.id, "split"))
        else:
            outcomes.append((p.id, "unchanged"))
    members["index_id"] = ids
    return outcomes, vacated - set(ids)


def _referenced(root: Path, linked: Mapping[str, Linked]) -> set[str]:
    """Every index id some dataset's records hold: those the update linked, and the live index's others."""
    held: set[str] = set()
    for item in linked.values():
        if len(item.members):
            held.update(item.members["index_id"].dropna())
    folder = store.current(root)
    if folder is not None:
        for path in (folder / "members").glob("*.parquet"):
            if path.stem not in linked:
                held.update(pq.read_table(path, columns=["index_id"]).column(0).drop_null().to_pylist())
    return held


def mark_applied(conn: Connection, outcomes: list[tuple[int, str]], update_id: int) -> None:
    """Record that ``update_id`` applied these decisions, with what each did."""
    t = person_index_decisions
    for decision_id, outcome in outcomes:
        conn.execute(update(t).where(t.c.id == decision_id).values(applied_in=update_id, outcome=outcome))
