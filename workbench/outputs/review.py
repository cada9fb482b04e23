"""``ws.review``: the output checker's desk.

A queue of requests from projects the checker does not belong to; each request shown with its context and, per
output, the automatic check (flagged cells highlighted), checker aids (min, min excluding zero, max, sum, share
divisible by 5), differencing warnings against the project's earlier releases, and the reviews the checker may
see. Each output needs the workspace's number of independent reviews (approve / changes / reject); reviews stay
blind until all are in; a comment is required when a decision goes against the automatic status (and always to
ask for changes). When every output has its reviews a checker concludes the request (approve, return or reject),
and a checker releases an approved request as a package (``outputs/release.py``). Nobody reviews an output they
authored or a request of a project they belong to. Every step is audited.
"""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, insert, select, update

from workbench import audit
from workbench.db.schema import output_request_items as items
from workbench.db.schema import output_requests as requests
from workbench.db.schema import output_reviews, outputs, project_members, projects
from workbench.db.schema import output_reviews as reviews
from workbench.db.settings import replace_setting
from workbench.disclosure.results_json import released_record, results_document
from workbench.errors import Conflict, DisclosureRisk, InvalidInput, NotFound
from workbench.governance.lineage import lapsed_outputs
from workbench.labels import code_label, number
from workbench.outputs import release as package
from workbench.outputs.checks import (
    differencing,
    dimensions,
    screen_text,
    table_aids,
    table_cells,
    text_problem,
    text_refusals,
)
from workbench.outputs.lifecycle import CHECKING, CONCLUDED, next_status, progress, review_counts
from workbench.outputs.provenance_view import (
    BLANK,
    blocked_html,
    provenance_html,
    provenance_view,
    released_cells,
    side_by_side_html,
    spec_problems,
)
from workbench.outputs.released import output_text, released_output, released_request, request_text
from workbench.outputs.requests import as_dict, context_label, request_items, request_row
from workbench.outputs.settings import SETTING_KEY, check_settings, output_checking_settings
from workbench.outputs.store import ProjectOutputs, attachments_of, uid
from workbench.version import __version__

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench import records
    from workbench.context import Context

DECISIONS = ("approve", "changes", "reject")
OUTCOMES = ("approve", "return", "reject")
QUEUE_COLUMNS = ["id", "project_id", "title", "status", "submitted_at", "outputs", "reviews_in", "reviews_needed",
                 "awaiting_me", "blocked"]
HISTORY_COLUMNS = ["id", "project_id", "title", "status", "submitted_at", "concluded_by", "concluded_at",
                   "released_by", "released_at"]


def comment_required(decision: str, status: str) -> str | None:
    """Why a comment is needed for ``decision`` on an output whose automatic status is ``status``, or None."""
    if decision == "approve" and status == "fail":
        return "approving an output that failed its automatic check needs a comment saying why it is safe"
    if decision in ("changes", "reject") and status == "pass":
        return f"a '{decision}' decision on an output that passed its automatic check needs a comment saying why"
    if decision == "changes":
        return "asking for changes needs a comment saying what to change"
    return None


class Review:
    """Output checking: ``queue()``, ``show(id)``, ``decide(...)``, ``conclude(...)``, ``release(id)``."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- settings ------------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Reviews needed per output, table row limit, file types and size limit (anyone may read)."""
        self._ctx.require("settings.read", "the output-checking settings")
        with self._ctx.db.read() as conn:
            return output_checking_settings(conn)

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change output-checking settings (admins), e.g. ``update_settings(reviews_required=3)``."""
        if not changes:
            raise InvalidInput("Name at least one setting to change, e.g. update_settings(reviews_required=3).")
        changes = check_settings(changes)
        with self._ctx.write() as conn:
            self._ctx.check("settings.write", "the output-checking settings")
            value = {**output_checking_settings(conn), **changes}
            replace_setting(conn, SETTING_KEY, value, self._ctx.actor.username)
            audit.append(conn, self._ctx.actor.username, "settings.update", "output-checking settings",
                         detail=changes)
            if "reviews_required" in changes:
                self._recount(conn, value["reviews_required"])
        return value

    def _recount(self, conn: Connection, needed: int) -> None:
        """After the number of reviews needed changed: requests under review move to where their reviews are."""
        rows = conn.execute(select(requests.c.id, requests.c.status).where(
            requests.c.status.in_(("submitted", "partially_reviewed", "reviewed")))).all()
        for request_id, status in rows:
            after = progress(conn, request_id, needed)
            if after != status:
                conn.execute(update(requests).where(requests.c.id == request_id).values(status=after))
                audit.append(conn, self._ctx.actor.username, "review.recount", f"output request {request_id}",
                             detail={"reviews_required": needed, "before": status, "after": after})

    # -- the queue -----------------------------------------------------------------------------------------
    def queue(self, include_approved: bool = True) -> pd.DataFrame:
        """Requests being checked, of projects you do not belong to; ``awaiting_me`` counts the outputs you can
        still review, ``blocked`` those nobody may review while a dataset in their lineage has no current grant."""
        self._ctx.require("review.queue", "the output-checking queue")
        me = self._ctx.actor.username
        states = CHECKING if include_approved else tuple(s for s in CHECKING if s != "approved")
        with self._ctx.db.read() as conn:
            needed = output_checking_settings(conn)["reviews_required"]
            mine = select(project_members.c.project_id).where(project_members.c.username == me)
            rows = conn.execute(select(requests).where(requests.c.status.in_(states)
                                                       & requests.c.project_id.not_in(mine))
                                .order_by(requests.c.submitted_at, requests.c.id)).mappings().all()
            records = []
            for row in rows:
                counts = review_counts(conn, row["id"])
                blocked = {b["output"] for b in self._blocked(conn, dict(row), list(counts))}
                waiting = self._awaiting(conn, row["id"], counts, needed, blocked) if row["status"] in (
                    "submitted", "partially_reviewed") else 0
                records.append({**{c: row[c] for c in ("id", "project_id", "title", "status", "submitted_at")},
                                "outputs": len(counts), "reviews_in": sum(min(c, needed) for c in counts.values()),
                                "reviews_needed": needed * len(counts), "awaiting_me": waiting,
                                "blocked": len(blocked)})
        return pd.DataFrame(records, columns=QUEUE_COLUMNS)

    def history(self, status: str | None = None) -> pd.DataFrame:
        """Concluded requests (approved, returned, rejected, released) of projects you do not belong to, latest
        decision first, with who decided and when: once released a request leaves the queue, and a checker
        still finds it here. ``status`` keeps one of those statuses only (e.g. ``"released"``)."""
        if status is not None and (not isinstance(status, str) or status not in CONCLUDED):
            raise InvalidInput(f"status: {status!r} is not a concluded status; give one of "
                               f"{', '.join(CONCLUDED)}, or none for all.", field="status")
        self._ctx.require("review.queue", "the output-checking history")
        mine = select(project_members.c.project_id).where(project_members.c.username == self._ctx.actor.username)
        states = CONCLUDED if status is None else (status,)
        with self._ctx.db.read() as conn:
            rows = conn.execute(select(*(requests.c[c] for c in HISTORY_COLUMNS))
                                .where(requests.c.status.in_(states) & requests.c.project_id.not_in(mine))
                                .order_by(func.coalesce(requests.c.released_at, requests.c.concluded_at).desc(),
                                          requests.c.id.desc())).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=HISTORY_COLUMNS)

    def _awaiting(self, conn: Connection, request_id: int, counts: dict[int, int], needed: int,
                  blocked: set[int]) -> int:
        me = self._ctx.actor.username
        items = request_items(conn, request_id)
        done = set(conn.execute(select(reviews.c.output_id, reviews.c.round).where(
            (reviews.c.request_id == request_id) & (reviews.c.reviewer == me))).all())
        return sum(1 for i in items if counts[i["output_id"]] < needed and i["created_by"] != me
                   and i["output_id"] not in blocked
                   and (i["output_id"], i["round"]) not in {tuple(d) for d in done})

    # -- one request ---------------------------------------------------------------------------------------
    def show(self, request_id: int) -> RequestDetail:
        """A request as a checker sees it: context, outputs with checks, aids, warnings and visible reviews."""
        resource = f"output request {request_id}"
        with self._ctx.write(audit_refusals_as=("review.read", resource)) as conn:
            row = request_row(conn, request_id)
            self._ctx.check("review.read", resource, **self._facts(conn, row, []))
            needed = output_checking_settings(conn)["reviews_required"]
            detail = self._detail(conn, row, needed)
            audit.append(conn, self._ctx.actor.username, "review.read", resource,
                         detail={"status": row["status"], "outputs": [o["id"] for o in detail["outputs"]]})
        return RequestDetail(detail)

    def decide(self, request_id: int, output_id: int, decision: str,
               comment: str | None = None) -> records.OutputRequest:
        """Record your independent review of one output of a request: approve, changes or reject."""
        me = self._ctx.actor.username
        resource = f"output {output_id} of output request {request_id}"
        with self._ctx.write(audit_refusals_as=("review.decide", resource)) as conn:
            row = request_row(conn, request_id)
            items = {i["output_id"]: i for i in request_items(conn, request_id)}
            if isinstance(output_id, bool) or not isinstance(output_id, int) or not 1 <= output_id <= 2**31 - 1:
                raise InvalidInput(f"output_id: {output_id!r} is not an output number.", field="output_id")
            self._ctx.check("review.decide", resource, **self._facts(conn, row, [output_id] if output_id in items
                                                                      else [], gate=True))
            if output_id not in items:
                raise NotFound(f"Output request {request_id} holds no output {output_id}; its outputs are "
                               f"{', '.join(map(str, items)) or 'none'}.")
            if decision not in DECISIONS:
                raise InvalidInput(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}.", field="decision")
            if comment is not None and not isinstance(comment, str):
                raise InvalidInput("comment: give the comment as text.", field="comment")
            next_status(row["status"], "review")
            comment = (comment or "").strip() or None
            self._screen_comment(conn, comment)
            item = items[output_id]
            why = comment_required(decision, item["status"])
            if why and not comment:
                raise InvalidInput(f"comment: {why}.", field="comment")
            needed = output_checking_settings(conn)["reviews_required"]
            current = reviews.c.request_id == request_id, reviews.c.output_id == output_id, \
                reviews.c.round == item["round"]
            already = conn.execute(select(reviews.c.reviewer).where(*current)).scalars().all()
            if me in already:
                raise Conflict(f"You already reviewed output {output_id} of request {request_id}; each checker "
                               "reviews an output once (it is reviewed again if it changes).")
            if len(already) >= needed:
                raise Conflict(f"Output {output_id} of request {request_id} already has its {needed} reviews.")
            conn.execute(insert(reviews).values(request_id=request_id, output_id=output_id, round=item["round"],
                                                reviewer=me, decision=decision, comment=comment,
                                                created_at=datetime.now(UTC)))
            after = progress(conn, request_id, needed)
            conn.execute(update(requests).where(requests.c.id == request_id).values(status=after))
            audit.append(conn, me, "review.decide", resource,
                         detail={"decision": decision, "comment": comment, "round": item["round"],
                                 "automatic_status": item["status"], "before": row["status"], "after": after})
            return as_dict(conn, request_row(conn, request_id))

    def conclude(self, request_id: int, outcome: str, comment: str | None = None) -> records.OutputRequest:
        """Conclude a reviewed request: ``approve`` (every review approved), ``return`` to the analyst with what
        to change, or ``reject``; returning and rejecting need a comment."""
        me = self._ctx.actor.username
        resource = f"output request {request_id}"
        with self._ctx.write(audit_refusals_as=("review.conclude", resource)) as conn:
            row, items = self._checked_request(conn, "review.conclude", resource, request_id)
            if outcome not in OUTCOMES:
                raise InvalidInput(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}.", field="outcome")
            if comment is not None and not isinstance(comment, str):
                raise InvalidInput("comment: give the comment as text.", field="comment")
            comment = (comment or "").strip() or None
            if outcome != "approve" and not comment:
                done = "returned" if outcome == "return" else "rejected"
                raise InvalidInput(f"comment: say why the request is {done} (the analyst reads it).", field="comment")
            status = next_status(row["status"], outcome)
            self._screen_comment(conn, comment)
            if outcome == "approve":
                against = []
                for item in items:
                    decisions = conn.execute(select(reviews.c.decision).where(
                        (reviews.c.request_id == request_id) & (reviews.c.output_id == item["output_id"])
                        & (reviews.c.round == item["round"]))).scalars().all()
                    if any(d != "approve" for d in decisions):
                        against.append(f"{item['output_id']} ({', '.join(sorted(set(decisions)))})")
                if against:
                    raise Conflict(f"Not every review approves: output(s) {'; '.join(against)}. Return the request "
                                   "with what to change, or reject it.")
            conn.execute(update(requests).where(requests.c.id == request_id).values(
                status=status, concluded_by=me, concluded_at=datetime.now(UTC), conclusion=comment))
            audit.append(conn, me, f"review.{outcome}", resource, detail={"comment": comment, "status": status})
            return as_dict(conn, request_row(conn, request_id))

    def release(self, request_id: int) -> records.Release:
        """Write the approved request's release package (atomic; a retry after a crash gives one whole package);
        returns where it is and its manifest's SHA-256."""
        me = self._ctx.actor.username
        resource = f"output request {request_id}"
        with self._ctx.write(audit_refusals_as=("review.release", resource)) as conn:
            row, items = self._checked_request(conn, "review.release", resource, request_id)
            folder = package.package_folder(self._ctx.home, row["project_id"], request_id)
            if row["status"] == "released":  # a repeated call: the package as it was written
                return self._released(row, package.verify_package(folder))
            next_status(row["status"], "release")
            checksums = {i["output_id"]: i["checksum"] for i in items}
            changed = [i["output_id"] for i in items if i["checksum"] != i["item_checksum"]]
            if changed:
                raise Conflict(f"Output(s) {', '.join(map(str, changed))} changed after approval; they need new "
                               "reviews before release.")
            found = package.existing(folder, request_id, checksums)
            if found is not None:  # written by an attempt whose database commit did not happen
                released_at = datetime.fromisoformat(found["request"]["released_at"])
                digest = package.manifest_sha256(folder)
            else:
                released_at = datetime.now(UTC)
                files, results, manifest = self._package(conn, row, items, released_at)
                if folder.exists():  # not a complete package of this request: never recorded as released

                    shutil.rmtree(folder)
                digest = package.write_package(folder, files, results, manifest)
            relative = folder.relative_to(self._ctx.home).as_posix()
            conn.execute(update(requests).where(requests.c.id == request_id).values(
                status="released", released_by=me, released_at=released_at, package=relative,
                manifest_sha256=digest))
            audit.append(conn, me, "review.release", resource,
                         detail={"package": relative, "manifest_sha256": digest, "outputs": list(checksums)})
            row = request_row(conn, request_id)
        return self._released(row, [])

    def manifest(self, request_id: int) -> records.ReleaseManifest:
        """A released request's package: where it is, its manifest, and what (if anything) no longer matches it."""
        resource = f"output request {request_id}"
        with self._ctx.write(audit_refusals_as=("review.read", resource)) as conn:
            row = request_row(conn, request_id)
            self._ctx.check("review.read", resource, **self._facts(conn, row, []))
            if row["status"] != "released":
                raise Conflict(f"Output request {request_id} is {row['status'].replace('_', ' ')}, not released: "
                               "only a released request has a package (release it once it is approved).")
        folder = self._ctx.home / row["package"]
        try:
            manifest = json.loads((folder / package.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        return {**self._released(row, package.verify_package(folder)), "manifest": manifest}

    def request(self, request_id: int) -> RequestUnderReview:
        """A handle for one request: ``.show()``, ``.approve(output_id, comment=...)``, ``.conclude(...)``..."""
        return RequestUnderReview(self, request_id)

    # -- internals -----------------------------------------------------------------------------------------
    @staticmethod
    def _screen_comment(conn: Connection, comment: str | None) -> None:
        """A checker's comment leaves with the release too: the same text screen as the analyst's text."""
        screen_text([("comment", comment)], output_checking_settings(conn)["max_digits_in_text"])

    def _released(self, row: dict[str, Any], problems: list[str]) -> records.Release:
        return {"request_id": row["id"], "status": row["status"], "package": str(self._ctx.home / row["package"]),
                "manifest_sha256": row["manifest_sha256"], "released_by": row["released_by"],
                "released_at": row["released_at"], "problems": problems}

    def _checked_request(self, conn: Connection, action: str, resource: str,
                         request_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The request and its items, once the policy allows ``action`` on them all."""
        row = request_row(conn, request_id)
        items = request_items(conn, request_id)
        self._ctx.check(action, resource, **self._facts(conn, row, [i["output_id"] for i in items], gate=True))
        return row, items

    def _facts(self, conn: Connection, row: dict[str, Any], output_ids: list[int],
               gate: bool = False) -> dict[str, Any]:
        """The policy's facts; with ``gate`` (reviewing, concluding, releasing), also the datasets in the outputs'
        lineage the project no longer holds a current grant for."""
        me = self._ctx.actor.username
        role = conn.execute(select(project_members.c.role).where(
            (project_members.c.project_id == row["project_id"]) & (project_members.c.username == me))).scalar()
        status = conn.execute(select(projects.c.status).where(projects.c.id == row["project_id"])).scalar()
        authors = set(conn.execute(select(outputs.c.created_by).where(outputs.c.id.in_(output_ids))).scalars())
        facts = {"project": row["project_id"], "member_role": role, "project_status": status,
                 "authored": me in authors}
        if gate:
            gap = self._blocked(conn, row, output_ids)
            if gap:
                facts["lineage_lapsed"] = gap
        return facts

    @staticmethod
    def _blocked(conn: Connection, row: dict[str, Any], output_ids: list[int]) -> list[dict[str, Any]]:
        """Per output and dataset: the datasets in the outputs' lineage without a current grant of the project."""
        rows = conn.execute(select(outputs.c.id, outputs.c.sources).where(outputs.c.id.in_(output_ids))
                            .order_by(outputs.c.id)).mappings().all()
        return lapsed_outputs(conn, row["project_id"], rows)

    def _visible(self, rows: list[dict[str, Any]], needed: int) -> list[dict[str, Any]]:
        """Blind reviews: a round's reviews are shown once it has all of them; your own always."""
        me = self._ctx.actor.username
        per_round: dict[tuple[int, int], int] = {}
        for r in rows:
            per_round[(r["output_id"], r["round"])] = per_round.get((r["output_id"], r["round"]), 0) + 1
        return [{k: r[k] for k in ("output_id", "round", "reviewer", "decision", "comment", "created_at")}
                for r in rows if r["reviewer"] == me or per_round[(r["output_id"], r["round"])] >= needed]

    def _earlier_releases(self, conn: Connection, row: dict[str, Any]) -> list[dict[str, Any]]:
        store = ProjectOutputs(self._ctx, row["project_id"])
        released = conn.execute(select(items.c.request_id, outputs.c.id, outputs.c.name, outputs.c.sources,
                                       outputs.c.kind)
                                .join(requests, requests.c.id == items.c.request_id)
                                .join(outputs, outputs.c.id == items.c.output_id)
                                .where((requests.c.project_id == row["project_id"])
                                       & (requests.c.status == "released") & (requests.c.id != row["id"]))).all()
        earlier = []
        for request_id, output_id, name, sources, kind in released:
            if kind == "file":
                continue
            earlier.append({"request_id": request_id, "output_id": output_id, "name": name, "sources": sources,
                            "dimensions": dimensions(store._load(conn, output_id))})
        return earlier

    def _release_parts(self, conn: Connection, row: dict[str, Any], items: list[dict[str, Any]], needed: int,
                       reviews: list[dict[str, Any]]) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
        """What a release of this request holds (``outputs/released.py``): the request-level part, and per
        output its item, the checked output, its own files and its released fields. The checker's view and the
        package are both made from this."""
        store = ProjectOutputs(self._ctx, row["project_id"])
        parts = []
        for item in items:
            output = store._load(conn, item["output_id"])  # checksum verified
            attached = {p.name: p.read_bytes() for p in attachments_of(store.folder(item["output_id"]))}
            released = released_output(output, item, uid(row["project_id"], item["output_id"]), attached)
            parts.append((item, output, attached, released))
        return released_request(conn, row, items, reviews, needed), parts

    def _text_problems(self, row: dict[str, Any], parts: list[tuple[Any, ...]], settings: dict[str, Any]
                       ) -> tuple[list[str], dict[int, list[str]]]:
        """The text screen (``checks.text_problem``) over the request's title and context and each output's
        released free text, with the settings in force now."""
        digits = settings["max_digits_in_text"]
        request = [p for field, text in [("title", row["title"]), *(
            (f"context {k}", v) for k, v in row["context"].items())]
            if (p := text_problem(field, text, digits)) is not None]
        outputs = {item["output_id"]: text_refusals(output, item["name"], list(item["derived_from"]), settings,
                                                    attached) + spec_problems(item["name"], released, digits)
                   for item, output, attached, released in parts}
        return request, outputs

    def _detail(self, conn: Connection, row: dict[str, Any], needed: int) -> dict[str, Any]:
        me = self._ctx.actor.username
        store = ProjectOutputs(self._ctx, row["project_id"])
        project = conn.execute(select(projects).where(projects.c.id == row["project_id"])).mappings().one()
        all_reviews = [dict(r) for r in conn.execute(select(reviews).where(reviews.c.request_id == row["id"])
                                                     .order_by(reviews.c.id)).mappings()]
        visible = self._visible(all_reviews, needed)
        earlier = self._earlier_releases(conn, row)
        package, parts = self._release_parts(conn, row, request_items(conn, row["id"]), needed, all_reviews)
        request_problems, output_problems = self._text_problems(row, parts, output_checking_settings(conn))
        blocked = [{"output": b["output"], "dataset": b["dataset"], "owner": b["owner"],
                    "reason": f"project {row['project_id']}'s grant for {b['dataset']} {b['why']}; its owner "
                              f"({b['owner'] or 'none'}) can renew it"}
                   for b in self._blocked(conn, row, [item["output_id"] for item, *_ in parts])]
        shown = []
        for item, output, _, released in parts:
            current = [r for r in all_reviews if r["output_id"] == item["output_id"] and r["round"] == item["round"]]
            mine = next((r for r in current if r["reviewer"] == me), None)
            why_not = None
            lapsed_here = [b["reason"] for b in blocked if b["output"] == item["output_id"]]
            if lapsed_here:
                why_not = "blocked: " + "; ".join(lapsed_here)
            elif item["created_by"] == me:
                why_not = "you authored this output"
            elif mine is not None:
                why_not = "you reviewed it"
            elif len(current) >= needed:
                why_not = f"it has its {needed} reviews"
            elif row["status"] not in ("submitted", "partially_reviewed"):
                why_not = f"the request is {row['status']}"
            files = attachments_of(store.folder(item["output_id"]))
            shown.append({
                "id": item["output_id"], "provenance": provenance_view(conn, item),
                "name": item["name"], "kind": item["kind"], "method": item["method"],
                "status": output.status, "status_before_mitigation": output.status_before_mitigation,
                "summary": output.summary(), "explain": output.explain(), "exception": output.exception,
                "comments": list(output.comments), "author": item["created_by"], "created_at": item["created_at"],
                "derived_from": list(item["derived_from"]), "sources": list(item["sources"]),
                "properties": released["properties"], "round": item["round"], "reviews_in": len(current),
                "reviews": [r for r in visible if r["output_id"] == item["output_id"]],
                "can_review": why_not is None, "why_not": why_not,
                "aids": table_aids(output) if output.kind != "file" else None,
                "warnings": differencing(output, list(item["sources"]), earlier),
                "failures": output.failures().astype(str).to_dict("records"),
                "files": [p.name for p in files],
                "html": output._repr_html_(),
                "table": table_cells(output) if output.kind != "file" else None,
                "released_table": released_cells(output) if output.kind != "file" else None,
                "preview": preview(files) if output.kind == "file" else "",
                "previews": file_previews(files) if output.kind == "file" else [],
                "released": released, "text_check": output_problems[item["output_id"]],
            })
        return {"request": as_dict(conn, row), "reviews_required": needed,
                "project": {k: project[k] for k in ("id", "title", "purpose", "legal_gateway", "lead", "status",
                                                    "mission")},
                "outputs": shown, "released": package, "text_check": request_problems, "blocked": blocked}

    def _package(self, conn: Connection, row: dict[str, Any], items: list[dict[str, Any]],
                 released_at: datetime) -> tuple[dict[str, bytes], dict[str, Any], dict[str, Any]]:
        """The files, results.json and manifest of a release package: the released fields the checkers were
        shown (``outputs/released.py``), and nothing else but what the package adds itself."""
        settings = output_checking_settings(conn)
        reviews = [dict(r) for r in conn.execute(select(output_reviews).where(output_reviews.c.request_id == row["id"])
                                                 .order_by(output_reviews.c.id)).mappings()]
        package, parts = self._release_parts(conn, row, items, settings["reviews_required"], reviews)
        request_problems, output_problems = self._text_problems(row, parts, settings)
        problems = request_problems + [p for found in output_problems.values() for p in found]
        if problems:
            raise DisclosureRisk("Not released: " + "; ".join(problems) + ". Return the request for the analyst "
                                 "to change it.")
        files: dict[str, bytes] = {}
        results: dict[str, Any] = {}
        described = []
        for _, _, attached, released in parts:
            if released["table"] is not None:
                files[released["table"]["file"]] = released["table"]["csv"].encode("utf-8")
            for attachment in released["attachments"]:
                files[attachment["file"]] = attached[attachment["name"]]
            results[released["uid"]] = released_record(released)
            described.append({**released, "table": None if released["table"] is None
                              else {"file": released["table"]["file"]}})
        request = {**package["request"], "released_by": self._ctx.actor.username,
                   "released_at": released_at.isoformat()}
        manifest = {"format": 1, "tool": f"workbench {__version__}", **package, "request": request,
                    "outputs": described}
        document = results_document(results)
        return files, document, manifest


PREVIEW_TEXT = (".csv", ".txt", ".md", ".json")
PREVIEW_IMAGE = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
PREVIEW_CHARACTERS = 20_000


def file_previews(paths: list[Any]) -> list[dict[str, Any]]:
    """Custom files as a checker sees them, one dict per file: its name and ``text`` (the start of it), or
    ``image`` (a data URI), or neither when the type has no preview."""
    out = []
    for path in paths:
        suffix = path.suffix.lower()
        shown: dict[str, Any] = {"name": path.name, "text": None, "truncated": False, "image": None}
        if suffix in PREVIEW_TEXT:
            shown["text"] = path.read_bytes()[:PREVIEW_CHARACTERS].decode("utf-8", errors="replace")
            shown["truncated"] = path.stat().st_size > PREVIEW_CHARACTERS
        elif suffix in PREVIEW_IMAGE:  # as an image only: an SVG shown this way runs no script
            shown["image"] = f"data:{PREVIEW_IMAGE[suffix]};base64,{base64.b64encode(path.read_bytes()).decode()}"
        out.append(shown)
    return out


def preview(paths: list[Any]) -> str:
    """A custom file as a checker sees it: text (the start of it) or the image; other types by name only."""
    parts = []
    for shown in file_previews(paths):
        name = escape(shown["name"])
        if shown["text"] is not None:
            more = " (first 20,000 characters)" if shown["truncated"] else ""
            parts.append(f"<p><b>{name}</b>{more}</p><pre style='max-height:30em;overflow:auto'>"
                         f"{escape(shown['text'])}</pre>")
        elif shown["image"] is not None:
            parts.append(f"<p><b>{name}</b></p><img style='max-width:100%' src='{shown['image']}'/>")
        else:
            parts.append(f"<p><b>{name}</b>: no preview for this type; open it in the vault.</p>")
    return "".join(parts)


class RequestDetail(dict):
    """A request as a checker sees it (a plain dict, for the REST API too), shown as HTML in a notebook."""

    def _repr_html_(self) -> str:
        request = self["request"]
        context = "".join(f"<li><b>{escape(context_label(k))}</b>: {escape(str(v))}</li>"
                          for k, v in request["context"].items())
        parts = [f"<div><h3>{escape(request['title'])} <small>request {escape(number(request['id']))}, project "
                 f"{escape(request['project_id'])}, {escape(code_label(request['status']).lower())}</small></h3>"
                 f"{blocked_html(self.get('blocked'))}<ul>{context}</ul>", request_released_html(self)]
        for output in self["outputs"]:
            parts.append(output_html(output, self["reviews_required"], self.get("blocked")))
        return "".join(parts) + "</div>"


def _screening_html(problems: list[str] | None) -> str:
    if problems is None:
        return ""
    if not problems:
        return "<p>Text screening: no value in the released text looks like an identifier.</p>"
    return ("<p style='color:#b02a37'>Text screening: " + escape("; ".join(problems)) + " — this cannot be "
            "released; return it.</p>")


def request_released_html(detail: dict[str, Any]) -> str:
    """The request-level fields a release holds, every one (``outputs/released.py``), and the text screen."""
    released = detail.get("released")
    if not released:
        return ""
    return (_screening_html(detail.get("text_check"))
            + "<details><summary>Released with the request: title, context, project, datasets and versions, "
            f"saved frames, reviews</summary><pre style='max-height:30em;overflow:auto'>"
            f"{escape(request_text(released))}</pre></details>")


def released_html(output: dict[str, Any]) -> str:
    """Every field of one output that a release holds, verbatim: the command and released properties in the
    open, all of it (with the released CSV) one click away."""
    released = output.get("released")
    if not released:
        return ""
    spec = ", ".join(f"{k}: {v}" for k, v in released["properties"].items() if k not in ("dp", "figure"))
    return (f"<p>Command: <code>{escape(released['command'])}</code><br>Released properties: {escape(spec)}</p>"
            + _screening_html(output.get("text_check"))
            + f"<details><summary>Released with this output: {escape(', '.join(released['files']))} and every "
            "field of results.json and manifest.json</summary><pre style='max-height:30em;overflow:auto'>"
            f"{escape(output_text(released))}</pre></details>")


def output_html(output: dict[str, Any], needed: int, blocked: list[dict[str, Any]] | None = None) -> str:
    """One output for a checker: first where its numbers came from (and what blocks it), then the table as it
    will be released beside the check with highlighted cells, aids, warnings, reviews."""
    aids = output.get("aids")
    lines = []
    if aids:
        def aid(key: str) -> str:
            value = aids[key]
            return BLANK if value is None else f"{value:,.4g}"
        lines.append(f"min {aid('min')} · min excluding zero {aid('min_excluding_zero')} · max "
                     f"{aid('max')} · sum {aid('sum')} · share divisible by 5 "
                     + (BLANK if aids["share_divisible_by_5"] is None else f"{aids['share_divisible_by_5']:.0%}"))
        if any(aids[k] is None for k in ("min", "min_excluding_zero", "max", "sum", "share_divisible_by_5")):
            lines.append(f"({BLANK}: not measured: the table has no number of that kind, e.g. no non-zero or no whole "
                         "number)")
    warnings = "".join(f"<li style='color:#b02a37'>⚠ {escape(w)}</li>" for w in output["warnings"])
    reviews = "".join(f"<li>{escape(r['reviewer'])}: <b>{escape(r['decision'])}</b>"
                      + (f" — {escape(r['comment'])}" if r["comment"] else "") + "</li>" for r in output["reviews"])
    hidden = "" if output["reviews_in"] >= needed else (
        f"<li><em>{output['reviews_in']} of {needed} reviews in; others' reviews are hidden until all are in"
        "</em></li>")
    files = f"<p>Files: {escape(', '.join(output['files']))}</p>" if output["files"] else ""
    return (f"<div style='border-top:1px solid #ccc;margin-top:8px'><h4>Output {output['id']}: "
            f"{escape(output['name'])} <small>{escape(output['kind'])}, by {escape(output['author'])}</small></h4>"
            f"{blocked_html(blocked, output['id'])}{provenance_html(output.get('provenance'))}"
            f"{side_by_side_html(output.get('released_table'), output['html'])}{output.get('preview', '')}{files}"
            f"<p>{escape(' '.join(lines))}</p>"
            f"{released_html(output)}"
            f"<ul>{warnings}</ul><ul>{reviews}{hidden}</ul>"
            "</div>")


class RequestUnderReview:
    """``ws.review.request(id)``: one request, for a checker in a notebook."""

    def __init__(self, review: Review, request_id: int) -> None:
        self._review = review
        self.id = request_id

    def show(self) -> RequestDetail:
        return self._review.show(self.id)

    def approve(self, output_id: int, comment: str | None = None) -> records.OutputRequest:
        return self._review.decide(self.id, output_id, "approve", comment)

    def request_changes(self, output_id: int, comment: str) -> records.OutputRequest:
        return self._review.decide(self.id, output_id, "changes", comment)

    def reject(self, output_id: int, comment: str | None = None) -> records.OutputRequest:
        return self._review.decide(self.id, output_id, "reject", comment)

    def conclude(self, outcome: str, comment: str | None = None) -> records.OutputRequest:
        return self._review.conclude(self.id, outcome, comment)

    def release(self) -> records.Release:
        return self._review.release(self.id)

    def _repr_html_(self) -> str:
        return self.show()._repr_html_()

    def __repr__(self) -> str:
        return f"<Output request {self.id} under review: .show(), .approve(output_id, comment=...), .release()>"


__all__ = ["DECISIONS", "OUTCOMES", "RequestDetail", "RequestUnderReview", "Review", "comment_required"]
