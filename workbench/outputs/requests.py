"""Output requests: the analyst's side of output checking.

An analyst groups recorded outputs into a request with a title and structured context (what is shown, the
population, why it is needed, how it differs from earlier releases) and submits it. Output checkers from
outside the project review each output (``outputs/review.py``); a request moves

    draft → submitted → partially_reviewed → reviewed → approved | returned | rejected;  approved → released
    returned → submitted (after changes);  any open state → withdrawn

``TRANSITIONS`` is the whole state machine; every change of status goes through ``next_status``. Changing an
output after submission (an exception request, a comment) resets its reviews. Automatic refusals
(``outputs/checks.py``) run when an output is added and again on submission, so a checker never sees them; the
title and context, which leave with a release, are screened for identifier-like values whenever they are set
and again on submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any, cast

from workbench import audit
from workbench.errors import Conflict, DisclosureRisk, InvalidInput, NotFound
from workbench.governance.conditions import project_facts, project_row, require_in_project
from workbench.validation import check_flag

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

    from workbench import records
    from workbench.context import Context

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
CONTEXT_FIELDS = {
    "shown": "what the outputs show",
    "population": "the population they describe (who, where, when)",
    "purpose": "why they are needed outside the workspace",
    "differences": "how they differ from earlier releases (or 'first release')",
}
LIST_COLUMNS = ["id", "project_id", "title", "status", "outputs", "created_by", "created_at", "submitted_at",
                "concluded_by", "released_at"]
REVIEW_COLUMNS = ["output_id", "round", "reviewer", "decision", "comment", "created_at"]


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
    from sqlalchemy import and_, func, select

    from workbench.db.schema import output_request_items as items
    from workbench.db.schema import output_reviews as reviews

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
    from sqlalchemy import select, update

    from workbench.db.schema import output_request_items as items
    from workbench.db.schema import output_requests as requests
    from workbench.outputs.settings import output_checking_settings

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


def request_row(conn: Connection, request_id: Any, project_id: str | None = None) -> dict[str, Any]:
    """A request's row; refuses a malformed or unknown id (or one of another project)."""
    from sqlalchemy import select

    from workbench.db.schema import output_requests as requests
    from workbench.validation import check_number

    check_number(request_id, "request_id", "a request number")
    row = conn.execute(select(requests).where(requests.c.id == request_id)).mappings().first()
    if row is None or (project_id is not None and row["project_id"] != project_id):
        where = f"project {project_id}" if project_id else "this workspace"
        raise NotFound(f"No output request {request_id} in {where}; .list() shows the requests.")
    return dict(row)


def request_items(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The request's outputs with their rows, in the order they were added."""
    from sqlalchemy import select

    from workbench.db.schema import output_request_items as items
    from workbench.db.schema import outputs

    rows = conn.execute(select(items.c.output_id, items.c.round, items.c.checksum.label("item_checksum"), outputs)
                        .join(outputs, outputs.c.id == items.c.output_id)
                        .where(items.c.request_id == request_id)
                        .order_by(items.c.added_at, items.c.output_id)).mappings().all()
    return [dict(r) for r in rows]


def as_dict(conn: Connection, row: dict[str, Any]) -> records.OutputRequest:
    """A request as plain values (JSON-able but for datetimes), with its outputs."""
    return cast("records.OutputRequest", {
        **{k: row[k] for k in ("id", "project_id", "title", "status", "created_by", "created_at", "submitted_at",
                               "concluded_by", "concluded_at", "conclusion", "released_by", "released_at", "package",
                               "manifest_sha256")},
        "context": dict(row["context"]),
        "outputs": [{"id": i["id"], "name": i["name"], "kind": i["kind"], "method": i["method"],
                     "status": i["status"], "exception": i["exception"], "round": i["round"]}
                    for i in request_items(conn, row["id"])]})


def check_context(context: Any, *, complete: bool) -> dict[str, str]:
    """The structured context: known fields, text each; all of them when ``complete`` (on submission)."""
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise InvalidInput("context: give a dict with " + ", ".join(f"{k!r} ({v})" for k, v in CONTEXT_FIELDS.items())
                           + ".", field="context")
    unknown = sorted(set(context) - set(CONTEXT_FIELDS))
    if unknown:
        raise InvalidInput(f"context: {', '.join(map(str, unknown))} not a context field; the fields are "
                           f"{', '.join(CONTEXT_FIELDS)}.", field="context")
    checked = {}
    for key, value in context.items():
        if not isinstance(value, str) or len(value) > 5000:
            raise InvalidInput(f"context: {key} must be text (up to 5,000 characters): {CONTEXT_FIELDS[key]}.",
                               field="context")
        if value.strip():
            checked[key] = value.strip()
    if complete:
        missing = [k for k in CONTEXT_FIELDS if k not in checked]
        if missing:
            raise InvalidInput("context: before submitting, say " + "; ".join(f"{k}: {CONTEXT_FIELDS[k]}"
                                                                              for k in missing) + ".",
                               field="context")
    return checked


def screen_request_text(conn: Connection, title: str | None, context: dict[str, str] | None) -> None:
    """The text screen (``checks.screen_text``) over a request's title and context fields: they leave with
    the release."""
    from workbench.outputs.checks import screen_text
    from workbench.outputs.settings import output_checking_settings

    texts = ([("title", title)] if title is not None else []) + [(f"context {k}", v)
                                                                  for k, v in (context or {}).items()]
    screen_text(texts, output_checking_settings(conn)["max_digits_in_text"])


def check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > 300:
        raise InvalidInput("title: give the request a short title (up to 300 characters), e.g. 'Inactivity by "
                           "region, 2025'.", field="title")
    return title.strip()


class OutputRequests:
    """``project.output_requests``: create, list and open a project's output requests (its members)."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id

    def create(self, title: str, *, context: dict[str, str] | None = None, outputs: list[Any] | None = None,
               submit: bool = False) -> OutputRequest:
        """A new draft request (``submit=True``: submitted at once) of recorded ``outputs``."""
        from sqlalchemy import insert

        from workbench.db.schema import output_requests as requests

        me = self._ctx.actor.username
        resource = f"an output request in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.create", resource)) as conn:
            self._check(conn, "requests.create", resource)
            title = check_title(title)
            check_flag(submit, "submit")
            context = check_context(context, complete=submit)
            screen_request_text(conn, title, context)
            request_id = conn.execute(insert(requests).values(  # type: ignore[index]  # an INSERT's result holds the new key
                project_id=self.project_id, title=title, context=context, status="draft", created_by=me,
                created_at=datetime.now(UTC))).inserted_primary_key[0]
            audit.append(conn, me, "requests.create", f"output request {request_id} in project {self.project_id}",
                         detail={"title": title})
            self._add(conn, request_id, outputs or [])
            if submit:
                self._submit(conn, request_row(conn, request_id))
        return self.get(request_id)

    def list(self) -> pd.DataFrame:
        """The project's output requests, oldest first."""
        import pandas as pd
        from sqlalchemy import func, select

        from workbench.db.schema import output_request_items as items
        from workbench.db.schema import output_requests as requests

        self._readable(f"output requests of project {self.project_id}")
        count = (select(func.count()).select_from(items).where(items.c.request_id == requests.c.id)
                 .scalar_subquery().label("outputs"))
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(requests, count).where(requests.c.project_id == self.project_id)
                                .order_by(requests.c.id)).mappings().all()
        return pd.DataFrame([{c: r[c] for c in LIST_COLUMNS} for r in rows], columns=LIST_COLUMNS)

    def get(self, request_id: int) -> OutputRequest:
        """One request, with its outputs and where it is."""
        resource = f"output request {request_id} in project {self.project_id}"
        self._readable(resource)
        try:
            with self._ctx.db.read() as conn:
                data = as_dict(conn, request_row(conn, request_id, self.project_id))
        except (NotFound, InvalidInput) as error:
            raise self._ctx.audit_refused("requests.read", resource, error) from None
        return OutputRequest(self, data)

    # -- changes (through OutputRequest) -------------------------------------------------------------------
    def change(self, request_id: int, *, add: Sequence[Any] = (), remove: Sequence[Any] = (), title: str | None = None,
               context: dict[str, str] | None = None) -> None:
        """Add or remove outputs, retitle, or change context fields of a draft or returned request."""
        from sqlalchemy import delete, update

        from workbench.db.schema import output_request_items as items
        from workbench.db.schema import output_requests as requests

        me = self._ctx.actor.username
        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.update", resource)) as conn:
            self._check(conn, "requests.update", resource)
            row = request_row(conn, request_id, self.project_id)
            next_status(row["status"], "edit")
            changes: dict[str, Any] = {}
            if title is not None:
                changes["title"] = check_title(title)
            if context is not None:
                merged = {**row["context"], **{k: v for k, v in context.items()}}
                changes["context"] = check_context({k: v for k, v in merged.items() if v is not None},
                                                   complete=False)
            screen_request_text(conn, changes.get("title"), changes.get("context"))
            if changes:
                conn.execute(update(requests).where(requests.c.id == request_id).values(**changes))
                audit.append(conn, me, "requests.update", resource, detail=changes)
            present = {i["output_id"] for i in request_items(conn, request_id)}
            dropped = []
            for output in remove:
                output_id = self._outputs()._id_of(output)
                if output_id not in present:
                    raise NotFound(f"Output {output_id} is not in output request {request_id}.")
                conn.execute(delete(items).where((items.c.request_id == request_id) & (items.c.output_id == output_id)))
                dropped.append(output_id)
            if dropped:
                audit.append(conn, me, "requests.remove", resource, detail={"outputs": dropped})
            self._add(conn, request_id, list(add))

    def submit(self, request_id: int) -> None:
        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.submit", resource)) as conn:
            self._check(conn, "requests.update", resource)
            self._submit(conn, request_row(conn, request_id, self.project_id))

    def withdraw(self, request_id: int, reason: str | None = None) -> None:
        from sqlalchemy import update

        from workbench.db.schema import output_requests as requests

        resource = f"output request {request_id} in project {self.project_id}"
        with self._ctx.write(audit_refusals_as=("requests.withdraw", resource)) as conn:
            self._check(conn, "requests.update", resource)
            row = request_row(conn, request_id, self.project_id)
            status = next_status(row["status"], "withdraw")
            if reason is not None and not isinstance(reason, str):
                raise InvalidInput("reason: give the reason as text, or leave it out.", field="reason")
            conn.execute(update(requests).where(requests.c.id == request_id).values(status=status))
            audit.append(conn, self._ctx.actor.username, "requests.withdraw", resource,
                         detail={"before": row["status"], "reason": (reason or "").strip()})

    def reviews(self, request_id: int) -> pd.DataFrame:
        """The checkers' reviews the project may see: those of concluded requests and of earlier rounds."""
        import pandas as pd
        from sqlalchemy import select

        from workbench.db.schema import output_reviews as reviews

        resource = f"output request {request_id} in project {self.project_id}"
        self._readable(resource)
        with self._ctx.db.read() as conn:
            row = request_row(conn, request_id, self.project_id)
            rounds = {i["output_id"]: i["round"] for i in request_items(conn, request_id)}
            rows = conn.execute(select(reviews).where(reviews.c.request_id == request_id)
                                .order_by(reviews.c.id)).mappings().all()
        shown = [r for r in rows if row["status"] in CONCLUDED or r["round"] < rounds.get(r["output_id"], 0)
                 or r["output_id"] not in rounds]
        return pd.DataFrame([{c: r[c] for c in REVIEW_COLUMNS} for r in shown], columns=REVIEW_COLUMNS)

    # -- internals -----------------------------------------------------------------------------------------
    def _outputs(self) -> Any:
        from workbench.outputs.store import ProjectOutputs

        return ProjectOutputs(self._ctx, self.project_id)

    def _check(self, conn: Connection, action: str, resource: str) -> None:
        facts = project_facts(conn, project_row(conn, self.project_id), self._ctx.actor.username)
        self._ctx.check(action, resource, **facts)

    def _readable(self, resource: str) -> None:
        require_in_project(self._ctx, "requests.read", resource, self.project_id)

    def _add(self, conn: Connection, request_id: int, outputs: Sequence[Any]) -> None:
        from sqlalchemy import insert, select

        from workbench.db.schema import output_request_items as items
        from workbench.db.schema import outputs as outputs_t
        from workbench.outputs.settings import output_checking_settings

        if not outputs:
            return
        if not isinstance(outputs, list | tuple):
            raise InvalidInput("outputs: give a list of recorded outputs (or their numbers).", field="outputs")
        store = self._outputs()
        wanted = [store._id_of(o) for o in outputs]
        present = {i["output_id"] for i in request_items(conn, request_id)}
        for output_id in wanted:
            if output_id in present or wanted.count(output_id) > 1:
                raise Conflict(f"Output {output_id} is already in output request {request_id}.")
        self._screen(conn, wanted, output_checking_settings(conn))
        now, me = datetime.now(UTC), self._ctx.actor.username
        for output_id in wanted:
            checksum = conn.execute(select(outputs_t.c.checksum).where(outputs_t.c.id == output_id)).scalar_one()
            conn.execute(insert(items).values(request_id=request_id, output_id=output_id, round=1, checksum=checksum,
                                              added_by=me, added_at=now))
        audit.append(conn, me, "requests.add", f"output request {request_id} in project {self.project_id}",
                     detail={"outputs": wanted})

    def _screen(self, conn: Connection, output_ids: Sequence[int], settings: dict[str, Any]) -> None:
        """Refuse outputs the automatic rules refuse, naming each problem and what to change."""
        from sqlalchemy import select

        from workbench.db.schema import outputs
        from workbench.governance.conditions import dataset_row, pseudonymised_columns, schema_roles
        from workbench.outputs.checks import refusals
        from workbench.outputs.files import FIGURE_JSON
        from workbench.outputs.store import attachments_of

        store = self._outputs()
        problems: list[str] = []
        for output_id in output_ids:
            output = store._load(conn, output_id)  # NotFound for another project's output; checksum verified
            row = conn.execute(select(outputs.c.name, outputs.c.sources, outputs.c.derived_from)
                               .where(outputs.c.id == output_id)).one()
            identifiers = set()
            for dataset_id in row.sources:
                roles = schema_roles(dataset_row(conn, dataset_id)["record"])
                identifiers.update(pseudonymised_columns(roles, list(roles)))
            paths = attachments_of(store.folder(output_id))
            files = [(p.name, p.stat().st_size) for p in paths]
            contents = {p.name: p.read_bytes() for p in paths if p.name == FIGURE_JSON}
            problems.extend(refusals(output, row.name, settings, identifiers, files, list(row.derived_from),
                                     contents))
        if problems:
            raise DisclosureRisk("Refused before output checking: " + "; ".join(problems) + ".")

    def _submit(self, conn: Connection, row: dict[str, Any]) -> None:
        from sqlalchemy import select, update

        from workbench.db.schema import output_request_items as items
        from workbench.db.schema import output_requests as requests
        from workbench.db.schema import outputs
        from workbench.outputs.settings import output_checking_settings

        status = next_status(row["status"], "submit")
        check_context(row["context"], complete=True)
        screen_request_text(conn, row["title"], row["context"])
        held = request_items(conn, row["id"])
        if not held:
            raise InvalidInput(f"Output request {row['id']} has no outputs; add some before submitting it.",
                               field="outputs")
        self._screen(conn, [i["output_id"] for i in held], output_checking_settings(conn))
        for item in held:
            checksum = conn.execute(select(outputs.c.checksum).where(outputs.c.id == item["output_id"])).scalar_one()
            new_round = item["round"] + 1 if row["status"] == "returned" else item["round"]
            conn.execute(update(items).where((items.c.request_id == row["id"])
                                             & (items.c.output_id == item["output_id"]))
                         .values(checksum=checksum, round=new_round))
        conn.execute(update(requests).where(requests.c.id == row["id"]).values(
            status=status, submitted_at=datetime.now(UTC), concluded_by=None, concluded_at=None, conclusion=None))
        audit.append(conn, self._ctx.actor.username, "requests.submit",
                     f"output request {row['id']} in project {self.project_id}",
                     detail={"before": row["status"], "outputs": [i["output_id"] for i in held]})


class OutputRequest:
    """One output request as its project sees it; ``.add``, ``.remove``, ``.update``, ``.submit``, ``.withdraw``
    change it (and refresh this object), ``.reviews()`` shows the checkers' comments once they may be seen."""

    def __init__(self, service: OutputRequests, data: records.OutputRequest) -> None:
        self._service = service
        self._data = data

    id = property(lambda self: self._data["id"])
    project_id = property(lambda self: self._data["project_id"])
    title = property(lambda self: self._data["title"])
    status = property(lambda self: self._data["status"])
    context = property(lambda self: dict(self._data["context"]))
    outputs = property(lambda self: [o["id"] for o in self._data["outputs"]])

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def refresh(self) -> OutputRequest:
        self._data = self._service.get(self.id)._data
        return self

    def add(self, *outputs: Any) -> OutputRequest:
        """Add recorded outputs (objects or numbers); each passes the automatic refusals first."""
        self._service.change(self.id, add=list(outputs))
        return self.refresh()

    def remove(self, *outputs: Any) -> OutputRequest:
        self._service.change(self.id, remove=list(outputs))
        return self.refresh()

    def update(self, *, title: str | None = None, **context: str) -> OutputRequest:
        """Change the title or context fields (shown, population, purpose, differences)."""
        self._service.change(self.id, title=title, context=context or None)
        return self.refresh()

    def submit(self) -> OutputRequest:
        """Send it to the output checkers (again, after a return: every output is reviewed afresh)."""
        self._service.submit(self.id)
        return self.refresh()

    def withdraw(self, reason: str | None = None) -> OutputRequest:
        self._service.withdraw(self.id, reason)
        return self.refresh()

    def reviews(self) -> pd.DataFrame:
        return self._service.reviews(self.id)

    def __repr__(self) -> str:
        return f"<OutputRequest {self.id} {self.title!r} ({self.status}, {len(self.outputs)} outputs)>"

    def _repr_html_(self) -> str:
        d = self._data
        context = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in d["context"].items())
        rows = "".join(f"<tr><td>{o['id']}</td><td>{escape(o['name'])}</td><td>{escape(o['kind'])}</td>"
                       f"<td>{escape(o['status'])}</td></tr>" for o in d["outputs"])
        conclusion = (f"<p>Checker's conclusion ({escape(d['concluded_by'] or '')}): "
                      f"{escape(d['conclusion'] or '')}</p>"
                      if d.get("conclusion") else "")
        return (f"<div><h3>{escape(d['title'])} <small>request {d['id']}, {escape(d['status'])}</small></h3>"
                f"<ul>{context}</ul>{conclusion}<table><tr><th>output</th><th>name</th><th>kind</th>"
                f"<th>check</th></tr>{rows}</table></div>")


__all__ = ["CONTEXT_FIELDS", "STATUSES", "TRANSITIONS", "OutputRequest", "OutputRequests", "next_status"]
