"""The kernel API's operations, declared once: what a remote workspace may ask the workbench service to do.

Each ``Operation`` names one method of the embedded workspace (a view such as ``catalogue`` or
``project.tables``, and the method's name there) and the policy actions it performs. From this table are built
the service's kernel route (``server/kernel.py``: its operations, the policy each one needs before a body is read,
how an answer holding the session travels), the remote workspace's methods (``remote/workspace.py``: the embedded
method's signature and docstring, and how the answer is rebuilt) and the result classes ``wire`` may build. Adding
an operation is adding a line here.

What the embedded workspace has and a remote one deliberately has not is ``LOCAL_ONLY``, each with where it runs
instead; a remote workspace raises ``RunsElsewhere`` with that message. ``REMOTE_ONLY`` is the converse.

Methods are named as text (``module:Class``) and found when a route or a remote workspace is built, so this module
imports nothing and ``wire`` may read its result classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from workbench.errors import InvalidInput, WorkbenchError

# view → the class the embedded workspace gives for it (its methods: the names, signatures and docstrings copied)
VIEWS: dict[str, str] = {
    "workspace": "workbench.workspace:Workspace",
    "catalogue": "workbench.widgets.catalogue:NotebookCatalogue",
    "people": "workbench.governance.people:People",
    "access": "workbench.governance.access:Access",
    "owner": "workbench.governance.access:Owner",
    "dp": "workbench.dp.budgets:Budgets",
    "review": "workbench.widgets.review:NotebookReview",
    "my_outputs": "workbench.outputs.mine:MyOutputs",
    "disclosure": "workbench.disclosure.service:Disclosure",
    "project": "workbench.project:Project",
    "project.tables": "workbench.outputs.tables:ProjectTables",
    "project.outputs": "workbench.outputs.requests:SubmittableOutputs",
    "project.output_requests": "workbench.outputs.requests:OutputRequests",
    "project.dp": "workbench.widgets.dp:NotebookDP",
}

# how an answer that holds the service's session travels to a kernel, which rebuilds it (``remote/workspace.py``)
ANSWERS = ("project", "request", "linked", "output")


@dataclass(frozen=True)
class Operation:
    """One thing a kernel may ask the service: ``view.method(...)`` of the embedded workspace, as the caller.

    ``policy``: the policy actions it performs (any one of them may be what a call needs; ``()`` for none).
    ``family``: one operation for several methods of the view, chosen by the ``method`` argument.
    ``answer``: how the answer travels, if it holds the session (one of ``ANSWERS``).
    ``numbered``: recorded outputs in the arguments travel as their numbers.
    ``shown_in``: the remote view that offers it, when not ``view`` (``owner.decide`` is ``access.decide``).
    ``client``: the remote workspace calls it itself rather than offering it as a method.
    ``route``: what the service calls, when it is not a method of the view: a function of the session and the
    scope giving the callable the request's arguments are passed to."""

    name: str
    view: str
    method: str
    policy: tuple[str, ...]
    family: tuple[str, ...] = ()
    answer: str = ""
    numbered: bool = False
    shown_in: str = ""
    client: bool = False
    route: Callable[..., Callable[..., Any]] | None = None

    @property
    def scope(self) -> tuple[str, ...]:
        """The arguments that say where the method is: the project, and a family's method."""
        return (("project",) if self.view.startswith("project") else ()) + (("method",) if self.family else ())

    @property
    def remote_view(self) -> str:
        return self.shown_in or self.view

    def embedded(self, name: str | None = None) -> Callable[..., Any]:
        """The embedded method (a family's member ``name``): what a call binds to, and what a remote copies."""
        return getattr(view_class(self.view), name or self.method)


def view_class(view: str) -> type:
    module, name = VIEWS[view].split(":")
    return getattr(import_module(module), name)


def _whoami(ws: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"user": ws.user, "roles": ws.roles}


def _output_change(ws: Any, project: str, output_id: int) -> Callable[[str, str], None]:
    """What a recorded output's ``request_exception`` and ``add_comment`` do, for an output a kernel holds."""
    output = ws.project(project).outputs.get(output_id)

    def change(what: str, text: str) -> None:
        if not isinstance(what, str):
            raise InvalidInput(f"what: give 'exception' or 'comment', not {type(what).__name__}.", field="what")
        if what == "exception":
            output.request_exception(text)
        elif what == "comment":
            output.add_comment(text)
        else:
            raise InvalidInput(f"what: {what!r} is neither 'exception' nor 'comment'.", field="what")
    return change


TABLE_METHODS = ("crosstab", "pivot_table", "groupby_agg", "histogram", "ols", "logit", "probit")
DP_METHODS = ("count", "sum", "mean", "crosstab", "histogram", "quantile")
READ = ("catalogue.read",)


def _view_operations(view: str, policy: dict[str, tuple[str, ...]], prefix: str | None = None) -> list[Operation]:
    """Operations named ``<prefix>.<method>`` for methods of one view, each with its policy actions."""
    return [Operation(f"{prefix or view}.{method}", view, method, actions) for method, actions in policy.items()]


OPERATIONS: dict[str, Operation] = {op.name: op for op in [
    Operation("whoami", "workspace", "", (), client=True, route=_whoami),
    *_view_operations("catalogue", {
        "search": READ, "get": READ, "twin": READ, "list": READ, "export": ("catalogue.export",),
        "departments": READ, "search_page": READ, "facets": READ, "coverage": READ,
        "register": ("catalogue.register", "catalogue.update"),
        "import_text": ("catalogue.register_reference", "catalogue.register", "catalogue.update")}),
    *_view_operations("people", {"get": ("people.read",), "list": ("people.read",), "training": ("people.read",)}),
    Operation("projects.list", "workspace", "projects", ("projects.read",)),
    Operation("projects.get", "project", "to_dict", ("projects.read",), client=True),
    *[Operation(f"project.{method}", "project", method, ("projects.manage",), answer="project")
      for method in ("update", "add_member", "remove_member")],
    *_view_operations("project", {
        "request_access": ("access.request",), "requests": ("projects.read",), "grants": ("projects.read",),
        "load": ("data.load",), "batch": ("data.load",), "save": ("data.save",),
        "save_linked": ("data.save", "data.read_saved"),
        "derive": ("data.derive",), "datasets": ("data.read_saved",),
        "read": ("data.read_saved",), "linkage_runs": ("data.read_saved",), "linkage_run": ("data.read_saved",)}),
    Operation("project.link", "project", "link", ("data.link",), answer="linked"),
    Operation("tables.make", "project.tables", "", ("outputs.create", "outputs.compute"), family=TABLE_METHODS,
              answer="output"),
    Operation("outputs.list", "project.outputs", "list", ("outputs.read",)),
    Operation("outputs.get", "project.outputs", "get", ("outputs.read",), answer="output"),
    Operation("outputs.change", "project.outputs", "", ("outputs.update",), client=True, route=_output_change),
    Operation("requests.create", "project.output_requests", "create", ("requests.create",), answer="request",
              numbered=True),
    Operation("requests.get", "project.output_requests", "get", ("requests.read",), answer="request"),
    Operation("requests.change", "project.output_requests", "change", ("requests.update",), numbered=True),
    *_view_operations("project.output_requests", {
        "list": ("requests.read",), "submit": ("requests.update",), "withdraw": ("requests.update",),
        "reviews": ("requests.read",)}, prefix="requests"),
    Operation("dp.query", "project.dp", "", ("dp.query",), family=DP_METHODS, answer="output"),
    Operation("dp.budget", "project.dp", "budget", ("dp.budget.read",)),
    *_view_operations("access", {"mine": ("access.list_mine",), "settings": ("settings.read",)}),
    Operation("owner.decide", "access", "decide", ("access.decide",), shown_in="owner"),
    *_view_operations("owner", {
        "requests": ("access.list_to_decide",), "grants": ("projects.read",), "revoke": ("access.revoke",),
        "pin": ("access.pin",),
        "delegate": ("access.delegate",), "usage": ("owner.usage",), "datasets": READ}),
    Operation("budgets.set", "dp", "set_budget", ("dp.budget.set",)),
    Operation("budgets.list", "dp", "budgets", ("dp.budget.set",)),
    Operation("budgets.set_twin", "dp", "set_twin_budget", ("dp.twin_budget.set",)),
    *_view_operations("review", {
        "queue": ("review.queue",), "history": ("review.queue",), "show": ("review.read",),
        "decide": ("review.decide",),
        "conclude": ("review.conclude",), "release": ("review.release",),
        "manifest": ("review.read", "review.release"), "settings": ("settings.read",),
        "update_settings": ("settings.write",)}),
    Operation("disclosure.settings", "disclosure", "settings", ("settings.read",)),
    # my projects' output requests (what my projects may read) and their released packages, as (name, bytes)
    *_view_operations("my_outputs", {"requests": ("projects.read",), "package": ("outputs.download",),
                                     "file": ("outputs.download",)}),
    Operation("audit.verify", "workspace", "verify_audit", ("audit.verify",)),
]}

# result classes a kernel rebuilds from the service's answers, by tag: (module, class, how their fields travel)
RESULTS: dict[str, tuple[str, str, str]] = {
    "Entry": ("workbench.catalogue.entry", "Entry", "fields"),
    "ChainCheck": ("workbench.audit", "ChainCheck", "fields"),
    "DisclosureSettings": ("workbench.disclosure.settings", "DisclosureSettings", "fields"),
    "UsageReport": ("workbench.governance.access", "UsageReport", "fields"),
    "Accuracy": ("workbench.dp.queries", "Accuracy", "fields"),
    "RequestDetail": ("workbench.outputs.review", "RequestDetail", "dict"),
    "AccessRequestCard": ("workbench.records", "AccessRequestCard", "dict"),
    "GrantCard": ("workbench.records", "GrantCard", "dict"),
    "LinkageRunCard": ("workbench.records", "LinkageRunCard", "dict"),
    "LinkageSpec": ("workbench.linkage.spec", "LinkageSpec", "to_dict"),
}
# the result classes some operation's arguments take (``project.link``'s spec): all a request may build
ARGUMENTS = frozenset({"LinkageSpec"})


class RunsElsewhere(WorkbenchError, AttributeError):
    """A part of the embedded workspace that a remote one deliberately does not have; the message says where it
    runs instead. (An ``AttributeError`` too, so ``hasattr`` and ``getattr(..., default)`` see it as absent.)"""


_ON_THE_HOST = "runs on the workbench service's host, not in a kernel connected to the service"
_PEOPLE = f"{_ON_THE_HOST}: admins use `workbench people ...` there."
_SERVICE_INTERNAL = "is part of how the workbench service records outputs; a kernel never calls it."

# "view.name" → where it runs instead, for what the embedded workspace has and a remote one deliberately has not
LOCAL_ONLY: dict[str, str] = {
    "workspace.home": f"{_ON_THE_HOST}; a remote workspace has ws.url instead.",
    "workspace.create_project": f"{_ON_THE_HOST}: admins use `workbench projects ...` or an embedded workspace "
                                "there.",
    "workspace.departments": f"{_ON_THE_HOST}: admins manage departments in an embedded workspace there.",
    "workspace.tokens": f"{_ON_THE_HOST}: use `workbench token create/list/revoke` there.",
    "workspace.training": "Skills exercises run in an embedded workspace (wb.connect(home=...)); trainers follow "
                          "cohorts there.",
    "workspace.demo": f"{_ON_THE_HOST}: the demo's restricted material never leaves it.",
    "workspace.person_index": f"{_ON_THE_HOST}: the person index and its identifying fields never leave it; "
                              "admins and linkers build it and decide its review pairs in an embedded workspace "
                              "(or the lab's catalogue entry) there, and a data owner sees "
                              "a dataset's index quality in ws.owner.usage(dataset_id).",
    "catalogue.import_file": "reads a file on the service's host; send its text with "
                             "ws.catalogue.import_text(text, format=...) instead.",
    "catalogue.draft": "reads a file or database on the service's host; draft an entry there with `workbench "
                       "catalogue draft --data SOURCE -o entry.yaml`, or start from ws.catalogue.infer_columns(df).",
    "catalogue.browse": "The catalogue browser widget runs in an embedded workspace; in service mode use "
                        "JupyterLab's Catalogue panel, or ws.catalogue.search(...) and ws.catalogue.get(id).",
    "catalogue.coverage_figure": "The coverage figure is drawn in an embedded workspace; in service mode "
                                 "ws.catalogue.coverage() gives its data.",
    "catalogue.completeness_figure": "The completeness figure is drawn in an embedded workspace; in service mode "
                                     "ws.catalogue.get(id) gives the entry it is drawn from.",
    "catalogue.terms": f"{_ON_THE_HOST}: data owners and admins keep the abbreviations and synonyms search "
                       "expands with ws.catalogue.terms in an embedded workspace there; search uses them everywhere.",
    "people.add": _PEOPLE,
    "people.set_roles": _PEOPLE,
    "people.accredit": _PEOPLE,
    "people.record_training": _PEOPLE,
    "access.request": "Ask for access in your project: ws.project(id).request_access(dataset_id, ...).",
    "access.for_project": "A project's access requests: ws.project(id).requests().",
    "access.get": "Your access requests: ws.access.mine(); a data owner's: ws.owner.requests().",
    "access.to_decide": "Requests waiting for your decision: ws.owner.requests().",
    "access.decide": "Decide a request at the data owner's desk: ws.owner.decide(request_id, decision, ...).",
    "access.grants": "Grants: ws.project(id).grants(), or ws.owner.grants(dataset_id) for a data owner.",
    "access.revoke": "Revoke a grant at the data owner's desk: ws.owner.revoke(grant_id, reason=...).",
    "access.pin": "Pin a grant to a version at the data owner's desk: ws.owner.pin(grant_id, version).",
    "access.delegate": "Delegate at the data owner's desk: ws.owner.delegate(dataset_id, username).",
    "access.usage": "Where a dataset went: ws.owner.usage(dataset_id).",
    "access.update_settings": f"{_ON_THE_HOST}: admins change access settings in an embedded workspace there.",
    "disclosure.update_settings": f"{_ON_THE_HOST}: admins change disclosure settings in an embedded workspace "
                                  "there.",
    "review.widget": "The review widget runs in an embedded workspace; in service mode use JupyterLab's Review "
                     "panel, or ws.review.request(id) with .show(), .approve(...) and .release().",
    "project.outputs.add_file": "reads a file on the service's host; in service mode outputs are the tables, "
                                "models and DP results the service records (project.tables.*, project.dp.*).",
    "project.outputs.figure": "draws a figure the service would have to render; in service mode outputs are the "
                              "tables, models and DP results the service records (project.tables.*, project.dp.*).",
    "project.outputs.record": "records an output made in the kernel, which the service does not accept; it records "
                              "the tables, models and DP results it makes itself (project.tables.*, project.dp.*).",
    "project.outputs.to_results_json": "writes into a folder on the service's host; get an output with "
                                       "project.outputs.get(id), and released files through its output request.",
    "project.outputs.folder": _SERVICE_INTERNAL,
    "project.outputs.check_can_record": _SERVICE_INTERNAL,
    "project.outputs.screen": _SERVICE_INTERNAL,
}
# "view.name" → what it is, for what a remote workspace has and an embedded one has not
REMOTE_ONLY: dict[str, str] = {
    "workspace.url": "the service's address",
}


def refusal(key: str) -> RunsElsewhere:
    """What a remote workspace raises when ``key`` ("view.name" in ``LOCAL_ONLY``) is used."""
    where = LOCAL_ONLY[key]
    name = key if key.startswith("project.") else "ws." + key.removeprefix("workspace.")
    if where[:1].isupper():
        return RunsElsewhere(f"{name} is not available in a workspace connected to the workbench service. {where}")
    return RunsElsewhere(f"{name} {where}")


__all__ = ["ANSWERS", "ARGUMENTS", "DP_METHODS", "LOCAL_ONLY", "OPERATIONS", "REMOTE_ONLY", "RESULTS",
           "TABLE_METHODS", "VIEWS", "Operation", "RunsElsewhere", "refusal", "view_class"]
