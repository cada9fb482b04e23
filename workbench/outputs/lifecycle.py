"""The output request's life: its statuses, the one state machine (``TRANSITIONS``; every change of status goes
through ``next_status``), how far its reviews are, and what an output's change does to the requests holding it.

Below both the output store (which resets reviews when an output changes) and the requests and review services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, func, select, update

from workbench import audit
from workbench.db.schema import output_request_items as items
from workbench.db.schema import output_requests as requests
from workbench.db.schema import output_reviews as reviews
from workbench.errors import Conflict
from workbench.outputs.settings import output_checking_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

STATUSES = ("draft", "submitted", "partially_reviewed", "reviewed", "approved", "returned", "rejected", "released",
            "withdrawn")
OPEN = ("draft", "submitted", "partially_reviewed", "reviewed", "approved", "returned")
EDITABLE = ("draft", "returned")
CHECKING = ("submitted", "partially_reviewed", "reviewed", "approved")
CONCLUDED = ("approved", "returned", "rejected", "released")
PROGRESS = "progress"  # the next status depends on how many reviews are in (``progress``)

TRANSITIONS: dict[str, dict[str, str]] = {
    "edit": {"draft": "draft", "returned": "returned"},
    "submit": {"draft": "submitted", "returned": "submitted"},
    "review": {"submitted": PROGRESS, "partially_reviewed": PROGRESS},
    "reset": {s: PROGRESS for s in CHECKING},
    "approve": {"reviewed": "approved"},
    "return": {"reviewed": "returned"},
    "reject": {"reviewed": "rejected"},
    "release": {"approved": "released"},
    "withdraw": {s: "withdrawn" for s in OPEN},
}
EVENT_WORDS = {"edit": "changed", "submit": "submitted", "review": "reviewed", "reset": "reset",
               "approve": "approved", "return": "returned", "reject": "rejected", "release": "released",
               "withdraw": "withdrawn"}
STATUS_HINTS = {
    "draft": "add outputs and context, then submit it",
    "submitted": "it waits for the output checkers' reviews (withdraw it to change it)",
    "partially_reviewed": "it waits for the remaining reviews (withdraw it to change it)",
    "reviewed": "every output has its reviews; an output checker concludes it: approve, return or reject",
    "approved": "an output checker releases it",
    "returned": "change it as the checkers' comments say, then submit it again",
    "rejected": "it is closed; start a new request",
    "released": "it is closed; start a new request for further outputs",
    "withdrawn": "it is closed; start a new request",
}
def next_status(status: str, event: str) -> str:
    """The status ``event`` moves a request to from ``status``; refuses a transition the machine lacks."""
    target = TRANSITIONS[event].get(status)
    if target is None:
        raise Conflict(f"A {status.replace('_', ' ')} request cannot be {EVENT_WORDS[event]}: {STATUS_HINTS[status]}.")
    return target


def progress(conn: Connection, request_id: int, needed: int) -> str:
    """submitted, partially_reviewed or reviewed, by the reviews in of each output's current round."""
    counts = list(review_counts(conn, request_id).values())
    if counts and all(c >= needed for c in counts):
        return "reviewed"
    return "partially_reviewed" if any(counts) else "submitted"


def review_counts(conn: Connection, request_id: int) -> dict[int, int]:
    """Output id → reviews in for its current round."""
    rows = conn.execute(
        select(items.c.output_id, func.count(reviews.c.id))
        .select_from(items.outerjoin(reviews, and_(reviews.c.request_id == items.c.request_id,
                                                   reviews.c.output_id == items.c.output_id,
                                                   reviews.c.round == items.c.round)))
        .where(items.c.request_id == request_id).group_by(items.c.output_id)).all()
    return {int(output_id): int(count) for output_id, count in rows}


def reset_reviews(conn: Connection, actor: str, output_id: int, checksum: str) -> None:
    """An output changed: every open request holding it takes the new version, and requests being checked
    start its reviews again (a new round; earlier reviews stay as history)."""
    rows = conn.execute(select(items.c.request_id, items.c.round, requests.c.status)
                        .join(requests, requests.c.id == items.c.request_id)
                        .where((items.c.output_id == output_id) & requests.c.status.in_(OPEN))).all()
    for request_id, round_, status in rows:
        key = (items.c.request_id == request_id) & (items.c.output_id == output_id)
        if status not in CHECKING:
            conn.execute(update(items).where(key).values(checksum=checksum))
            continue
        conn.execute(update(items).where(key).values(checksum=checksum, round=round_ + 1))
        next_status(status, "reset")
        after = progress(conn, request_id, output_checking_settings(conn)["reviews_required"])
        conn.execute(update(requests).where(requests.c.id == request_id).values(
            status=after, concluded_by=None, concluded_at=None, conclusion=None))
        audit.append(conn, actor, "review.reset", f"output request {request_id}",
                     detail={"output": output_id, "round": round_ + 1, "before": status, "after": after})
