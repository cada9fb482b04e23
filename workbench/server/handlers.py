"""The REST handlers: HTTP in, one service call as the authenticated person, JSON out.

Handlers never decide who may do what: they read the request, check its shape (types, known fields), call
the same service the kernel API calls, and map ``WorkbenchError`` subclasses to statuses (400 InvalidInput,
403 AccessDenied, 404 NotFound, 409 Conflict, 413 a body over the limit). Errors are ``{"message": ...,
"field": ...}``; nothing a client sends produces a 500.

Bodies are streamed (``stream_request_body``), so nothing of one is read before ``prepare`` has authenticated
the caller and, on the kernel route, found the operation and asked the policy whether the caller could ever be
allowed it. A body larger than the route's limit (``MAX_BODY_BYTES`` for the JSON routes, the kernel route's
setting for the kernel API) is refused with 413 from its ``Content-Length`` before it is read, and a body sent
without one is cut off at the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.web
import yaml
from jupyter_server.base.handlers import APIHandler
from tornado.ioloop import IOLoop

import workbench.errors as errors
from workbench.config import USERNAME_PATTERN
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError
from workbench.governance.policy import may_ever
from workbench.server.jsonable import jsonable
from workbench.server.session import WorkspaceHolder, WorkspaceUnavailable

if TYPE_CHECKING:
    from workbench.workspace import Workspace



class BodyTooLarge(InvalidInput):
    """A request body over the route's limit (413); a kernel raises it again as InvalidInput."""


STATUS = [(BodyTooLarge, 413), (InvalidInput, 400), (AccessDenied, 403), (errors.NotFound, 404),
          (errors.Conflict, 409), (errors.BudgetExceeded, 409), (errors.DisclosureRisk, 409),
          (WorkspaceUnavailable, 503)]
TWIN_PREVIEW_ROWS = 20
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200  # a panel shows a page; bigger pages only slow the answer and the browser
MAX_OFFSET = 1_000_000_000
MAX_BODY_BYTES = 64 * 1024
KERNEL_BODY_SETTING = "workbench_kernel_body_limit"  # web_app setting: the kernel route's body limit, in bytes
DEFAULT_KERNEL_BODY_BYTES = 64 * 1024 * 1024  # DataFrames sent to the service count


def error_name(error: WorkbenchError) -> str:
    """The public class of an error (what a remote kernel raises again): the nearest one in workbench.errors."""
    return next(kind.__name__ for kind in type(error).__mro__ if getattr(errors, kind.__name__, None) is kind)


def status_of(error: WorkbenchError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 409)


# -- reading requests -------------------------------------------------------------------------------------------
def _is_list_of_text(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_context(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_list_of_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "context": (_is_context, "an object of text fields"),
    "numbers": (_is_list_of_numbers, "a list of output numbers"),
    "flag": (lambda v: isinstance(v, bool), "true or false"),
    "text": (lambda v: isinstance(v, str), "text"),
    "whole": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "whole?": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "a whole number or null"),
    "text?": (lambda v: v is None or isinstance(v, str), "text or null"),
    "names?": (lambda v: v is None or _is_list_of_text(v), "a list of names or null"),
    "names": (_is_list_of_text, "a list of names"),
    "entry": (lambda v: isinstance(v, str | dict), "the entry as YAML text or a JSON object"),
}


def read_body(raw: bytes, fields: dict[str, str], required: tuple[str, ...],
              limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The JSON object in ``raw``, with only ``fields`` (name → kind in ``KINDS``), ``required`` present."""
    if len(raw) > limit:
        raise InvalidInput(f"body: the request body is {len(raw)} bytes; send at most {limit}.",
                           field="body")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body: the request body is not valid JSON; send a JSON object.", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"body: send a JSON object with the fields {', '.join(fields)}.", field="body")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: unknown field(s) {', '.join(unknown)}; the fields are "
                           f"{', '.join(fields) or 'none'}.", field=unknown[0])
    missing = [name for name in required if name not in body]
    if missing:
        raise InvalidInput(f"{missing[0]}: missing; give {', '.join(missing)}.", field=missing[0])
    for name, value in body.items():
        accepts, description = KINDS[fields[name]]
        if not accepts(value):
            raise InvalidInput(f"{name}: expected {description}, got {json.dumps(value)[:80]}.", field=name)
    return body


def _whole_number(name: str, text: str | None, low: int, high: int) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name}: {text!r} is not a whole number from {low} to {high}.", field=name)
    return int(text)


# The library's messages point to Python calls (``ws.access.mine()``): right in a notebook, but the lab's panels
# show them to people who click. These say where to look in JupyterLab instead; a call with no panel of its own
# is named as what to run in a notebook. The kernel route keeps the calls (its caller is Python).
LAB_DIRECTIONS: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), words) for pattern, words in [
    (r"ws\.access\.mine\(\)", "My requests in the Access requests panel"),
    (r"ws\.owner\.requests\(\)", "the Access requests panel"),
    (r"ws\.owner\.grants\([^)]*\)", "the usage report in the Checking, usage and audit panel"),
    (r"ws\.owner\.usage\([^)]*\)", "the usage report in the Checking, usage and audit panel"),
    (r"ws\.catalogue\.search\([^)]*\)", "the Catalogue panel's search"),
    (r"ws\.catalogue\.get\([^)]*\)", "the Catalogue panel"),
    (r"ws\.projects\(\)", "the project menu of the Catalogue panel's request form"),
    (r"ws\.my_outputs\.requests\(\)", "the My outputs panel"),
    (r"ws\.review\.queue\(\)", "the Output checking queue"),
    (r"ws\.review\.history\([^)]*\)", "the Output checking history"),
    (r"ws\.person_index\.review_pairs\([^)]*\)", "the clerical review in the dataset's Catalogue entry"),
]]
CALL = r"ws\.[a-z_]+(?:\.[a-z_]+)*\((?:[^()]|\([^()]*\))*\)"
NOTEBOOK_CALL = re.compile(rf"\(({CALL})\)|({CALL})")


def lab_wording(message: str) -> str:
    """A service's message as a lab panel shows it: Python calls replaced by where to look in JupyterLab, any
    other call marked as one to run in a notebook."""
    for pattern, words in LAB_DIRECTIONS:
        message = pattern.sub(words, message)
    return NOTEBOOK_CALL.sub(
        lambda m: f"(in a notebook: {m.group(1)})" if m.group(1) else f"{m.group(2)} in a notebook", message)


# -- the base handler -------------------------------------------------------------------------------------------
@tornado.web.stream_request_body
class WorkbenchHandler(APIHandler):
    """Runs one service call as the authenticated person and answers with JSON.

    The body is read only after ``prepare``: authenticated caller, then ``before_body`` (the kernel route's
    checks), then its size against ``body_limit()``."""

    query_fields: tuple[str, ...] = ()

    async def prepare(self) -> None:  # type: ignore[override]  # tornado declares it sync; it may be async
        self._chunks: list[bytes] = []
        self._received = 0
        await super().prepare()
        if self._finished or self.request.method == "OPTIONS" or not self._has_body():
            return  # nothing to read: the method refuses as usual (@authenticated...) and the connection is kept
        if not self.current_user:
            raise tornado.web.HTTPError(403)  # nobody to act for: refused before anything else, not audited
        try:
            await self.before_body()
            if self._finished:
                return
            limit = self.body_limit()
            connection = self.request.connection
            if connection is not None and hasattr(connection, "set_max_body_size"):
                connection.set_max_body_size(limit)  # a body without Content-Length is cut off at the limit
            declared = self.request.headers.get("Content-Length")
            if declared is not None and not declared.strip().isdigit():
                raise InvalidInput(f"Content-Length: {declared.strip()[:20]!r} is not a number of bytes.",
                                   field="body")
            if declared is not None and int(declared) > limit:
                raise BodyTooLarge(f"body: the request body is {declared.strip()[:20]} bytes; this route takes "
                                   f"at most {limit:,} bytes.", field="body")
        except WorkbenchError as error:
            await self.refuse_before_body(error)

    def _has_body(self) -> bool:
        """Whether the request says a body follows. A refusal in ``prepare`` closes the connection (the only way
        not to read a body), so requests without one are refused by their method instead, keeping it open."""
        length = self.request.headers.get("Content-Length")
        return "Transfer-Encoding" in self.request.headers or (length is not None and length.strip() != "0")

    async def before_body(self) -> None:
        """Checks that must pass before the body is read (the kernel route's operation and roles)."""

    def body_limit(self) -> int:
        return MAX_BODY_BYTES

    async def refuse_before_body(self, error: WorkbenchError) -> None:
        """Answer the refusal, then close the connection, so an unread body is never read."""
        await self.refuse(error)
        connection = self.request.connection
        if connection is not None and hasattr(connection, "close"):
            connection.close()

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.body_limit():
            self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        """The request body (streamed in by ``data_received``); BodyTooLarge if it went over the limit."""
        if self._received > self.body_limit():
            raise BodyTooLarge(f"body: the request body is over {self.body_limit():,} bytes; this route takes at "
                               "most that.", field="body")
        return b"".join(self._chunks)

    @property
    def holder(self) -> WorkspaceHolder:
        return self.settings["workbench"]

    def username(self) -> str:
        name = (self.current_user.username or "").strip().lower()
        if not USERNAME_PATTERN.match(name):
            raise AccessDenied(
                f"Jupyter signed you in as {self.current_user.username!r}, which is not a workbench user name. "
                "Start JupyterLab with `workbench lab` (it signs you in as the workspace user) or through "
                "JupyterHub with your workbench user name.")
        return name

    def query(self) -> dict[str, str]:
        """The query string as ``{name: value}``; unknown or repeated parameters are refused.

        A bare number without a value is JupyterLab's cache-buster (``ServerConnection`` adds one to GETs) and
        is ignored.
        """
        args = {name: values for name, values in self.request.query_arguments.items()
                if not (name.isdigit() and values in ([b""], []))}
        unknown = sorted(set(args) - set(self.query_fields))
        if unknown:
            allowed = ", ".join(self.query_fields) or "none"
            raise InvalidInput(f"{unknown[0]}: unknown query parameter; this route takes {allowed}.",
                               field=unknown[0])
        out = {}
        for name, values in args.items():
            if len(values) != 1:
                raise InvalidInput(f"{name}: give it once.", field=name)
            try:
                out[name] = values[0].decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"{name}: not UTF-8 text.", field=name) from None
        return out

    async def answer(self, work: Callable[[Workspace], Any], status: int = 200) -> None:
        """Run ``work(session)`` in the worker pool as the authenticated person and write its JSON."""
        try:
            username = self.username()
            result = await IOLoop.current().run_in_executor(
                self.holder.executor, lambda: jsonable(work(self.holder.session(username))))
        except WorkbenchError as error:
            self.refuse(error)
            return
        self.set_status(status)
        self.finish(json.dumps(result))

    async def answer_parsed(self, parse: Callable[[], tuple[Any, ...]], work: Callable[..., Any]) -> None:
        """``answer`` for a route that reads its input first: input ``parse`` refuses is answered before the
        person is looked up or any work is done; otherwise ``work(session, *parse())``."""
        try:
            parsed = parse()
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: work(ws, *parsed))

    def message_of(self, error: WorkbenchError) -> str:
        """What a refusal says to the lab: its message without the Python call a notebook is told (errors.py), and
        any call still named in it reworded (``lab_wording``)."""
        return lab_wording(error.lab_message)

    def refuse(self, error: WorkbenchError) -> Any:
        """Answer ``error`` as JSON; returns the future of the answer being sent."""
        self.set_status(status_of(error))
        return self.finish(json.dumps({"message": self.message_of(error), "field": getattr(error, "field", None),
                                       "error": error_name(error)}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's own errors (403 unauthenticated, 404, 405, a bug's 500) in the API's error shape."""
        self.set_header("Content-Type", "application/json")
        message = self._reason
        if status_code == 403:
            message = getattr(self.identity_provider, "refusal_message",
                              "Sign in to Jupyter first: this request carried no valid token or login cookie.")
        elif status_code == 405:
            message = f"{self.request.method} is not supported on {self.request.path}."
        elif status_code >= 500:
            message = "The workbench server failed; the server log has the details."
        self.finish(json.dumps({"message": message, "field": None}))


# -- the routes -------------------------------------------------------------------------------------------------
class CatalogueSearchHandler(WorkbenchHandler):
    """One page of a catalogue search and the count of all matches, so the panel pages instead of downloading."""

    query_fields = ("q", "department", "mission", "theme", "classification", "access", "limit", "offset", "facets")

    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            q = self.query()
            options = {"department": q.get("department") or None, "theme": q.get("theme") or None,
                       "security_classification": q.get("classification") or None,
                       "access_rights": q.get("access") or None,
                       "mission": _whole_number("mission", q.get("mission"), 1, 5),
                       "limit": _whole_number("limit", q.get("limit"), 1, MAX_PAGE_SIZE) or PAGE_SIZE,
                       "offset": _whole_number("offset", q.get("offset"), 0, MAX_OFFSET) or 0}
            facets = q.get("facets", "false")
            if facets not in ("true", "false"):
                raise InvalidInput(f"facets: {facets[:20]!r} is not true or false; give facets=true to have the "
                                   "filters' values with their counts.", field="facets")
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: search_page_with_facets(ws, q.get("q", ""), options, facets == "true"))


def search_page_with_facets(ws: Workspace, text: str, options: dict[str, Any], facets: bool) -> dict[str, Any]:
    """A search page, and with ``facets`` what each filter can take with how many entries (for filter menus)."""
    page = ws.catalogue.search_page(text, **options)
    if facets:
        page["facets"] = {name: [{"label": label, "value": value, "count": count} for label, value, count in rows]
                          for name, rows in ws.catalogue.facets().items()}
    return page


def storage_shown(storage: dict[str, Any] | None, root: Path | None) -> dict[str, Any] | None:
    """Where an entry's data is held (``Entry.storage``: no login ever), a file inside the lab's folder named as
    its file browser does."""
    if not storage or root is None or storage.get("kind") not in ("csv", "parquet"):
        return storage
    folder = f"{root}/"
    return {**storage, "location": str(storage["location"]).replace(folder, ""),
            "source": str(storage["source"]).replace(folder, "")}


def catalogue_entry(ws: Workspace, dataset_id: str, root: Path | None = None) -> dict[str, Any]:
    """An entry as the panel shows it: record, owner, gateways, schema with roles, completeness, twin preview,
    versions and where its data is held (files inside the lab's folder ``root`` named relative to it)."""
    entry = ws.catalogue.get(dataset_id)
    preview, note = None, None
    if entry.has_data:
        try:
            twin = ws.catalogue.twin(dataset_id).head(TWIN_PREVIEW_ROWS)
        except errors.BudgetExceeded as error:  # the entry is still worth showing; the note says why there is no twin
            note = lab_wording(error.lab_message)  # shown in the Catalogue panel
        else:
            preview = {"columns": [str(c) for c in twin.columns], "rows": twin}
            entry = ws.catalogue.get(dataset_id)  # now with the twin's ε and when it was made
            note = f"Synthetic twin: {entry.twin_summary}." if entry.twin_summary else None
    else:
        note = "This entry is catalogued without data in this workspace, so it has no synthetic twin."
    record = entry.record
    return {
        "id": entry.id, "title": entry.title, "description": record.get("description", ""),
        "summary": record.get("summary"), "department": {"slug": entry.department, "name": entry.department_name},
        "owner": {"username": entry.owner, "name": entry.owner_name}, "legal_gateways": record.get("legalGateway", []),
        "missions": entry.missions, "access_rights": record.get("accessRights"),
        "security_classification": record.get("securityClassification"), "row_count": entry.row_count,
        "temporal_coverage": record.get("temporalCoverage"), "spatial_coverage": record.get("spatialCoverage"),
        "update_frequency": record.get("updateFrequency"), "has_data": entry.has_data,
        "schema": entry.schema, "twin_preview": preview, "twin_note": note, "record": record,
        "warnings": list(entry.warnings),
        # every version of its data, oldest first: number, registeredAt, registeredBy, rows, checksum or marker,
        # mode, current (the owner panel shows them)
        "versions": [dict(v) for v in entry.versions],
        # where its data is held: {"mode": "copy"} or {"mode": "in-place", kind, location, table, source}; None
        # without data. A database is named without its login.
        "storage": storage_shown(entry.storage, root),
        # the person-index quality record, present only for the dataset's owner, delegates, admins and linkers
        "person_index": entry.person_index,
        # whether the viewer may decide its clerical review pairs (admins and linkers), so the panel offers it
        "index_review": entry.person_index is not None and bool(may_ever(ws._ctx.actor, "index.decide")),
    }


class CatalogueEntryHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self, dataset_id: str) -> None:
        root = self.settings.get("server_root_dir")
        shown = Path(root).expanduser().resolve() if isinstance(root, str) and root else None
        await self.answer(lambda ws: catalogue_entry(ws, dataset_id, shown))


REQUEST_FIELDS = {"project_id": "text", "dataset_id": "text", "columns": "names?", "justification": "text"}
DECISION_FIELDS = {"decision": "text", "columns": "names?", "identifiers": "names", "linkage": "names",
                   "expires": "text?", "conditions": "text", "reason": "text?", "version": "whole?"}


class RequestsHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = read_body(self.body, REQUEST_FIELDS, ("project_id", "dataset_id", "justification"))
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: ws.access.request(body["project_id"], body["dataset_id"], body.get("columns"),
                                                       justification=body["justification"]), status=201)


class MyRequestsHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda ws: {"requests": ws.access.mine()})


class RequestsToDecideHandler(WorkbenchHandler):
    query_fields = ("status",)

    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            status = self.query().get("status", "pending")
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: {"requests": ws.owner.requests(None if status == "all" else status)})


class DecisionHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self, request_id: str) -> None:
        try:
            body = read_body(self.body, DECISION_FIELDS, ("decision",))
        except InvalidInput as error:
            self.refuse(error)
            return
        decision = body.pop("decision")
        await self.answer(lambda ws: ws.owner.decide(request_id, decision, **body))


def projects_with_my_role(ws: Workspace) -> dict[str, Any]:
    """Every project with the acting person's role in it (null when not a member), for the request form."""
    frame = ws.projects()
    roles = [ws.project(project_id).members.get(ws.user) for project_id in frame["id"]]
    return {"projects": frame.assign(my_role=roles)}


class ProjectsHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(projects_with_my_role)


def project_detail(ws: Workspace, project_id: str) -> dict[str, Any]:
    project = ws.project(project_id)
    record = project.to_dict()
    return {"project": {k: v for k, v in record.items() if k != "members"},
            "members": [{"username": u, "role": r} for u, r in sorted(record["members"].items())],
            "grants": project.grants()}


class ProjectHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self, project_id: str) -> None:
        await self.answer(lambda ws: project_detail(ws, project_id))


def my_datasets(ws: Workspace) -> dict[str, Any]:
    """The catalogue entries the acting person owns or is a delegate for (``role``), so an owner picks one instead
    of typing its id."""
    return {"datasets": [{"id": str(row.id), "title": str(row.title), "role": str(row.role)}
                         for row in ws.owner.datasets().itertuples()]}


class MyDatasetsHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(my_datasets)


class IndexReviewHandler(WorkbenchHandler):
    """The uncertain pairs of a dataset's last person-index update that await a clerical decision."""

    @tornado.web.authenticated
    async def get(self, dataset_id: str) -> None:
        await self.answer(lambda ws: {"dataset_id": dataset_id, "pairs": ws.person_index.review_pairs(dataset_id)})


INDEX_DECISION_FIELDS = {"row": "whole", "candidate": "text", "decision": "text", "note": "text?"}


class IndexDecisionHandler(WorkbenchHandler):
    """A linker's decision on one review pair ("match" or "non-match"), applied at the next index update."""

    @tornado.web.authenticated
    async def post(self, dataset_id: str) -> None:
        try:
            body = read_body(self.body, INDEX_DECISION_FIELDS, ("row", "candidate", "decision"))
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: ws.person_index.decide(dataset_id, (body["row"], body["candidate"]),
                                                            body["decision"], note=body.get("note")))


# -- an owner drafts and registers a dataset from a file in the lab or a database ---------------------------------
SOURCE_FIELDS = {"path": "text?", "url": "text?", "table": "text?", "query": "text?"}
REGISTER_FIELDS = {**SOURCE_FIELDS, "entry": "entry", "mode": "text"}
REGISTER_MODES = ("copy", "in-place")
MAX_ENTRY_BODY_BYTES = 1024 * 1024  # an entry with a few thousand columns


class LabSourceHandler(WorkbenchHandler):
    """A route that reads data the owner names in the lab (``lab_sources``): refusals list every field at fault
    (``problems``) for the form to show beside each, and name files relative to the lab's folder."""

    def root(self) -> Path:
        from workbench.server.lab_sources import lab_root

        return lab_root(self.settings.get("server_root_dir"))

    def in_lab_terms(self, message: str) -> str:
        """``message`` with the lab's folder left out of paths (the file browser's names)."""
        root = self.settings.get("server_root_dir")
        if isinstance(root, str) and root:
            for folder in sorted({str(Path(root).expanduser().resolve()), str(Path(root).expanduser())}, key=len,
                                 reverse=True):
                message = message.replace(folder.rstrip("/") + "/", "")
        return message

    def message_of(self, error: WorkbenchError) -> str:
        return self.in_lab_terms(super().message_of(error))

    def refuse(self, error: WorkbenchError) -> Any:
        self.set_status(status_of(error))
        problems = [{"field": str(field), "message": self.in_lab_terms(lab_wording(str(message)))}
                    for field, message in getattr(error, "problems", None) or []]
        return self.finish(json.dumps({"message": self.message_of(error), "field": getattr(error, "field", None),
                                       "error": error_name(error), "problems": problems}))


def draft_from_lab(ws: Workspace, source: Any, root: Path) -> dict[str, Any]:
    """A draft entry for ``source`` and the fields the owner still has to complete."""
    from workbench.catalogue.draft import placeholders
    from workbench.server.lab_sources import shown

    text = ws.catalogue.draft(source).replace(f"{root}/", "")  # the file browser's names, not the server's
    unfinished = placeholders(yaml.safe_load(text))
    return {"yaml": text, "source": shown(source, root),
            "problems": [{"field": name, "message": "still a placeholder: replace it"} for name in unfinished]}


def register_from_lab(ws: Workspace, record: dict[str, Any], source: Any, mode: str, root: Path) -> dict[str, Any]:
    """Register ``record`` with the data of ``source``, copied or in place, and answer the entry as the Catalogue
    panel shows it (with its versions and where its data is held, files named as the lab's file browser does)."""
    entry = ws.catalogue.register(record, data=source, mode=mode)
    return catalogue_entry(ws, entry.id, root)


class DraftHandler(LabSourceHandler):
    """A UK-model YAML draft of an entry, from a file or folder in the lab or a database table or query."""

    @tornado.web.authenticated
    async def post(self) -> None:
        def parse() -> tuple[Any, Path]:
            from workbench.server.lab_sources import lab_source

            root = self.root()
            return lab_source(read_body(self.body, SOURCE_FIELDS, ()), root), root

        await self.answer_parsed(parse, draft_from_lab)


class RegisterHandler(LabSourceHandler):
    """Register the entry the owner edited, with the data of a file or folder in the lab or a database."""

    def body_limit(self) -> int:
        return MAX_ENTRY_BODY_BYTES

    @tornado.web.authenticated
    async def post(self) -> None:
        def parse() -> tuple[dict[str, Any], Any, str, Path]:
            from workbench.catalogue.service import entry_from_text
            from workbench.server.lab_sources import entry_text_is_plain, lab_source

            body = read_body(self.body, REGISTER_FIELDS, ("entry", "mode"), limit=MAX_ENTRY_BODY_BYTES)
            if body["mode"] not in REGISTER_MODES:
                raise InvalidInput(f"mode: {body['mode'][:40]!r} is not a mode; choose copy or in-place.",
                                   field="mode")
            entry = body["entry"]
            if isinstance(entry, str):
                entry_text_is_plain(entry)
                entry = entry_from_text(entry, "the entry")
            root = self.root()
            return entry, lab_source(body, root), body["mode"], root

        await self.answer_parsed(parse, register_from_lab)


class OwnerUsageHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self, dataset_id: str) -> None:
        await self.answer(lambda ws: ws.owner.usage(dataset_id))


class AuditVerifyHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda ws: ws.verify_audit())


# -- output checking ----------------------------------------------------------------------------------------------
MAX_ID = 2**31 - 1


def path_number(name: str, text: str) -> int:
    """A number in the path (a request or output number), or InvalidInput naming the path parameter."""
    number = _whole_number(name, text, 1, MAX_ID)
    if number is None:
        raise InvalidInput(f"{name}: give a number.", field=name)
    return number


def request_number_alone(request_id: str, body: bytes) -> tuple[int]:
    """The request number of a route that takes no fields (no body, or an empty JSON object)."""
    number = path_number("request_id", request_id)
    read_body(body or b"{}", {}, ())
    return (number,)


class ProjectOutputsHandler(WorkbenchHandler):
    """The outputs recorded in a project (its members)."""

    @tornado.web.authenticated
    async def get(self, project_id: str) -> None:
        await self.answer(lambda ws: {"outputs": ws.project(project_id).outputs.list()})


OUTPUT_REQUEST_FIELDS = {"title": "text", "context": "context", "outputs": "numbers", "submit": "flag"}


class OutputRequestsHandler(WorkbenchHandler):
    """A project's output requests: list them, or create one (and submit it at once with ``submit: true``)."""

    @tornado.web.authenticated
    async def get(self, project_id: str) -> None:
        await self.answer(lambda ws: {"requests": ws.project(project_id).output_requests.list()})

    @tornado.web.authenticated
    async def post(self, project_id: str) -> None:
        try:
            body = read_body(self.body, OUTPUT_REQUEST_FIELDS, ("title", "context", "outputs"))
        except InvalidInput as error:
            self.refuse(error)
            return
        await self.answer(lambda ws: ws.project(project_id).output_requests.create(
            body["title"], context=body["context"], outputs=body["outputs"],
            submit=body.get("submit", False)).to_dict(), status=201)


class OutputRequestSubmitHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self, project_id: str, request_id: str) -> None:
        await self.answer_parsed(lambda: request_number_alone(request_id, self.body),
                                 lambda ws, number: ws.project(project_id).output_requests.get(number).submit()
                                 .to_dict())


class OutputRequestWithdrawHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self, project_id: str, request_id: str) -> None:
        await self.answer_parsed(
            lambda: (path_number("request_id", request_id), read_body(self.body or b"{}", {"reason": "text?"}, ())),
            lambda ws, number, body: ws.project(project_id).output_requests.get(number)
            .withdraw(body.get("reason")).to_dict())


class MyOutputRequestsHandler(WorkbenchHandler):
    """The output requests of my projects: status, reviews once visible, released files."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda ws: {"requests": ws.my_outputs.requests()})


class DownloadHandler(WorkbenchHandler):
    """A file to save, not JSON: its bytes with a Content-Disposition naming it (refusals stay JSON)."""

    async def download(self, parse: Callable[[], tuple[Any, ...]],
                       work: Callable[..., tuple[str, bytes]]) -> None:
        try:
            parsed = parse()
            username = self.username()
            name, content = await IOLoop.current().run_in_executor(
                self.holder.executor, lambda: work(self.holder.session(username), *parsed))
        except WorkbenchError as error:
            self.refuse(error)
            return
        self.set_header("Content-Disposition", f"attachment; filename=\"{name}\"")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(content, set_content_type=DOWNLOAD_TYPES.get(name.rsplit(".", 1)[-1].lower(),
                                                                 "application/octet-stream"))


DOWNLOAD_TYPES = {"zip": "application/zip", "json": "application/json", "csv": "text/csv; charset=utf-8",
                  "png": "image/png"}


class ReleasePackageHandler(DownloadHandler):
    """A released request's package as a zip (its project's members, its checkers, its sources' owners)."""

    @tornado.web.authenticated
    async def get(self, request_id: str) -> None:
        await self.download(lambda: (path_number("request_id", request_id),),
                            lambda ws, number: ws.my_outputs.package(number))


class ReleaseFileHandler(DownloadHandler):
    """One file of a released request's package, by the name its manifest lists."""

    @tornado.web.authenticated
    async def get(self, request_id: str, name: str) -> None:
        await self.download(lambda: (path_number("request_id", request_id), name),
                            lambda ws, number, file: ws.my_outputs.file(number, file))


class ReviewQueueHandler(WorkbenchHandler):
    """Requests being checked, of projects the output checker does not belong to."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda ws: {"requests": ws.review.queue()})


class ReviewHistoryHandler(WorkbenchHandler):
    """Concluded requests (approved, returned, rejected, released) of projects the checker does not belong to,
    with who decided and when: a released request is found here after it leaves the queue."""

    @tornado.web.authenticated
    async def get(self) -> None:
        status = self.get_query_argument("status", None)
        await self.answer(lambda ws: {"requests": ws.review.history(status or None)})


def review_detail(ws: Workspace, request_id: int) -> dict[str, Any]:
    """A request as the checker sees it, without the notebook's HTML (the panel draws ``table`` and ``previews``)."""
    detail = dict(ws.review.show(request_id))
    detail["outputs"] = [{k: v for k, v in output.items() if k not in ("html", "preview")}
                         for output in detail["outputs"]]
    return detail


class ReviewRequestHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self, request_id: str) -> None:
        await self.answer_parsed(lambda: (path_number("request_id", request_id),), review_detail)


class ReviewDecisionHandler(WorkbenchHandler):
    """One checker's independent review of one output: approve, changes or reject, with a comment."""

    @tornado.web.authenticated
    async def post(self, request_id: str, output_id: str) -> None:
        def parse() -> tuple[int, int, dict[str, Any]]:
            number, output = path_number("request_id", request_id), path_number("output_id", output_id)
            return number, output, read_body(self.body, {"decision": "text", "comment": "text?"}, ("decision",))

        await self.answer_parsed(parse, lambda ws, number, output, body: ws.review.decide(
            number, output, body["decision"], body.get("comment")))


class ReviewConclusionHandler(WorkbenchHandler):
    """Conclude a reviewed request: approve, return (with what to change) or reject."""

    @tornado.web.authenticated
    async def post(self, request_id: str) -> None:
        await self.answer_parsed(
            lambda: (path_number("request_id", request_id),
                     read_body(self.body, {"outcome": "text", "comment": "text?"}, ("outcome",))),
            lambda ws, number, body: ws.review.conclude(number, body["outcome"], body.get("comment")))


def manifest_summary(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a checker looks at after a release: the request, the project, the datasets, each output's files."""
    if manifest is None:
        return None
    return {"request": {k: manifest["request"].get(k) for k in ("id", "title", "approved_by", "released_by",
                                                                 "released_at")},
            "project": manifest.get("project", {}).get("id"),
            "datasets": [{"id": d["id"], "version": d["version"]} for d in manifest.get("datasets", [])],
            "outputs": [{"id": o["id"], "uid": o["uid"], "name": o["name"], "kind": o["kind"], "files": o["files"]}
                        for o in manifest.get("outputs", [])],
            "files": manifest.get("files", {}), "reviews": len(manifest.get("reviews", []))}


def release(ws: Workspace, request_id: int) -> dict[str, Any]:
    """Release an approved request; answers the package folder and a summary of its manifest."""
    released = ws.review.release(request_id)
    return {**released, "manifest": manifest_summary(ws.review.manifest(request_id)["manifest"])}


class ReviewReleaseHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self, request_id: str) -> None:
        await self.answer_parsed(lambda: request_number_alone(request_id, self.body), release)


class ReviewManifestHandler(WorkbenchHandler):
    """A released request's package: folder, whole manifest, and any file that no longer matches it."""

    @tornado.web.authenticated
    async def get(self, request_id: str) -> None:
        await self.answer_parsed(lambda: (path_number("request_id", request_id),),
                                 lambda ws, number: ws.review.manifest(number))


# -- the kernel API (wb.connect(url=...)) -------------------------------------------------------------------------
class KernelCallHandler(WorkbenchHandler):
    """One operation of the kernel API (``server/kernel.py``): tagged JSON arguments in; a DataFrame answer as an
    Arrow IPC stream, any other answer as tagged JSON (``workbench/wire.py``).

    In order: the token (``prepare``), the operation and whether the caller's roles could ever call it
    (``before_body``, asking ``kernel.authorise``), the body's size, and only then the body, decoded with the
    request decoders (``wire.loads_request``). Every refusal is audited once: the services audit theirs, and
    ``kernel.refused`` records the others (unknown operation, body too large or undecodable, bad arguments)."""

    _session: Workspace | None = None

    def body_limit(self) -> int:
        return int(self.settings.get(KERNEL_BODY_SETTING, DEFAULT_KERNEL_BODY_BYTES))

    def message_of(self, error: WorkbenchError) -> str:
        """A remote kernel is Python: it is told the message whole, as an embedded workspace says it."""
        return str(error)

    @property
    def operation(self) -> str:
        return self.path_kwargs.get("operation", "")

    async def before_body(self) -> None:
        from workbench.server.kernel import authorise

        username, operation = self.username(), self.operation
        self._session = await IOLoop.current().run_in_executor(
            self.holder.executor, lambda: authorise(self.holder.session(username), operation))

    async def refuse_before_body(self, error: WorkbenchError) -> None:
        if isinstance(error, BodyTooLarge) and self._session is not None:
            await self._audit(error)
        await super().refuse_before_body(error)

    async def _audit(self, error: WorkbenchError) -> None:
        from workbench.server.kernel import refused

        session, operation = self._session, self.operation
        await IOLoop.current().run_in_executor(self.holder.executor, lambda: refused(session, operation, error))

    @tornado.web.authenticated
    async def post(self, operation: str) -> None:
        from workbench import wire
        from workbench.server.kernel import call, refused

        if self._session is None:  # a request without a body: its checks were left to here
            try:
                await self.before_body()
            except WorkbenchError as error:
                self.refuse(error)
                return
        session = self._session

        def work() -> tuple[str, bytes]:
            import pandas as pd  # the extension loads in every Jupyter server; pandas when a kernel call runs

            try:
                result = call(session, operation, wire.loads_request(self.body or b"{}"))
            except WorkbenchError as error:  # every refusal of a token holder is audited, once
                if not error.audited:
                    refused(session, operation, error)
                raise
            if isinstance(result, pd.DataFrame):
                return wire.ARROW, wire.frame_to_arrow(result)
            return wire.JSON, wire.dumps(result)

        try:
            content_type, body = await IOLoop.current().run_in_executor(self.holder.executor, work)
        except WorkbenchError as error:
            self.refuse(error)
            return
        self.finish(body, set_content_type=content_type)


class NotARouteHandler(WorkbenchHandler):
    """Anything else under the API prefix: a JSON 404 naming the routes document."""

    @tornado.web.authenticated
    def prepare_unknown(self) -> None:
        self.refuse(errors.NotFound(f"No workbench API route {self.request.method} {self.request.path}; "
                             "docs/openapi.yaml lists the routes."))

    get = post = put = patch = delete = prepare_unknown
