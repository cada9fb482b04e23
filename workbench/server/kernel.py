"""The kernel API over HTTP: each operation a remote workspace (``wb.connect(url=...)``) may ask the service for.

An operation names one method of the embedded workspace (``OPERATIONS``: name → a function of the session and
its scope, such as the project, giving that bound method). The handler binds the request's named arguments to the
method's own signature, calls it as the authenticated person and sends the answer back through ``workbench.wire``.
So the policy, validation and audit are those of the embedded workspace, and an operation the table does not
name does not exist: nothing else of the workspace, its files or its database is reachable from a kernel.

Before a request's body is read, ``authorise`` asks whether the operation exists and whether the caller's roles
could ever be allowed it (``POLICY_ACTIONS`` names the policy actions each operation performs; the policy's
``may_ever`` answers). A refusal at that step, or while the body is read and decoded, is audited (``refused``) by
``refused``; the embedded method then judges the actual resource as always.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.errors import AccessDenied, InvalidInput, NotFound, WorkbenchError
from workbench.governance.policy import VERBS, may_ever

if TYPE_CHECKING:
    from workbench.workspace import Workspace

TABLE_METHODS = ("crosstab", "pivot_table", "groupby_agg", "histogram", "ols", "logit", "probit")
DP_METHODS = ("count", "sum", "mean", "crosstab", "histogram", "quantile")


def _project(ws: Workspace, project: str) -> Any:
    return ws.project(project)


def _table(ws: Workspace, project: str, method: str) -> Callable[..., Any]:
    if method not in TABLE_METHODS:
        raise InvalidInput(f"method: {method!r} is not one of {', '.join(TABLE_METHODS)}.", field="method")
    return getattr(ws.project(project).tables, method)


def _dp(ws: Workspace, project: str, method: str) -> Callable[..., Any]:
    if method not in DP_METHODS:
        raise InvalidInput(f"method: {method!r} is not one of {', '.join(DP_METHODS)}.", field="method")
    return getattr(ws.project(project).dp, method)


def _output_change(ws: Workspace, project: str, output_id: int) -> Callable[..., Any]:
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


def _whoami(ws: Workspace) -> Callable[[], dict[str, Any]]:
    return lambda: {"user": ws.user, "roles": ws.roles}


# name → function(session, **scope) → the bound method that the request's other arguments are passed to
OPERATIONS: dict[str, Callable[..., Callable[..., Any]]] = {
    "whoami": _whoami,
    "catalogue.search": lambda ws: ws.catalogue.search,
    "catalogue.get": lambda ws: ws.catalogue.get,
    "catalogue.twin": lambda ws: ws.catalogue.twin,
    "catalogue.list": lambda ws: ws.catalogue.list,
    "catalogue.export": lambda ws: ws.catalogue.export,
    "catalogue.departments": lambda ws: ws.catalogue.departments,
    "catalogue.search_page": lambda ws: ws.catalogue.search_page,
    "catalogue.facets": lambda ws: ws.catalogue.facets,
    "catalogue.coverage": lambda ws: ws.catalogue.coverage,
    "catalogue.register": lambda ws: ws.catalogue.register,
    "catalogue.import_text": lambda ws: ws.catalogue.import_text,
    "people.get": lambda ws: ws.people.get,
    "people.list": lambda ws: ws.people.list,
    "people.training": lambda ws: ws.people.training,
    "projects.list": lambda ws: ws.projects,
    "projects.get": lambda ws, project: _project(ws, project).to_dict,
    "project.update": lambda ws, project: _project(ws, project).update,
    "project.add_member": lambda ws, project: _project(ws, project).add_member,
    "project.remove_member": lambda ws, project: _project(ws, project).remove_member,
    "project.request_access": lambda ws, project: _project(ws, project).request_access,
    "project.requests": lambda ws, project: _project(ws, project).requests,
    "project.grants": lambda ws, project: _project(ws, project).grants,
    "project.load": lambda ws, project: _project(ws, project).load,
    "project.save": lambda ws, project: _project(ws, project).save,
    "project.datasets": lambda ws, project: _project(ws, project).datasets,
    "project.read": lambda ws, project: _project(ws, project).read,
    "project.link": lambda ws, project: _project(ws, project).link,
    "project.linkage_runs": lambda ws, project: _project(ws, project).linkage_runs,
    "project.linkage_run": lambda ws, project: _project(ws, project).linkage_run,
    "tables.make": _table,
    "outputs.list": lambda ws, project: _project(ws, project).outputs.list,
    "outputs.get": lambda ws, project: _project(ws, project).outputs.get,
    "outputs.change": _output_change,
    "requests.create": lambda ws, project: _project(ws, project).output_requests.create,
    "requests.list": lambda ws, project: _project(ws, project).output_requests.list,
    "requests.get": lambda ws, project: _project(ws, project).output_requests.get,
    "requests.change": lambda ws, project: _project(ws, project).output_requests.change,
    "requests.submit": lambda ws, project: _project(ws, project).output_requests.submit,
    "requests.withdraw": lambda ws, project: _project(ws, project).output_requests.withdraw,
    "requests.reviews": lambda ws, project: _project(ws, project).output_requests.reviews,
    "dp.query": _dp,
    "dp.budget": lambda ws, project: _project(ws, project).dp.budget,
    "access.mine": lambda ws: ws.access.mine,
    "access.settings": lambda ws: ws.access.settings,
    "owner.requests": lambda ws: ws.owner.requests,
    "owner.decide": lambda ws: ws.access.decide,
    "owner.grants": lambda ws: ws.owner.grants,
    "owner.revoke": lambda ws: ws.owner.revoke,
    "owner.delegate": lambda ws: ws.owner.delegate,
    "owner.usage": lambda ws: ws.owner.usage,
    "budgets.set": lambda ws: ws.dp.set_budget,
    "budgets.list": lambda ws: ws.dp.budgets,
    "review.queue": lambda ws: ws.review.queue,
    "review.show": lambda ws: ws.review.show,
    "review.decide": lambda ws: ws.review.decide,
    "review.conclude": lambda ws: ws.review.conclude,
    "review.release": lambda ws: ws.review.release,
    "review.manifest": lambda ws: ws.review.manifest,
    "disclosure.settings": lambda ws: ws.disclosure.settings,
    "audit.verify": lambda ws: ws.verify_audit,
}


# operation → the policy actions it performs (any one of them may be what a call needs); () for none
POLICY_ACTIONS: dict[str, tuple[str, ...]] = {
    "whoami": (),
    **{name: ("catalogue.read",) for name in (
        "catalogue.search", "catalogue.get", "catalogue.twin", "catalogue.list", "catalogue.departments",
        "catalogue.search_page", "catalogue.facets", "catalogue.coverage")},
    "catalogue.export": ("catalogue.export",),
    "catalogue.register": ("catalogue.register", "catalogue.update"),
    "catalogue.import_text": ("catalogue.register_reference", "catalogue.register", "catalogue.update"),
    "people.get": ("people.read",),
    "people.list": ("people.read",),
    "people.training": ("people.read",),
    "projects.list": ("projects.read",),
    "projects.get": ("projects.read",),
    "project.update": ("projects.manage",),
    "project.add_member": ("projects.manage",),
    "project.remove_member": ("projects.manage",),
    "project.request_access": ("access.request",),
    "project.requests": ("projects.read",),
    "project.grants": ("projects.read",),
    "project.load": ("data.load",),
    "project.save": ("data.save",),
    "project.datasets": ("data.read_saved",),
    "project.read": ("data.read_saved",),
    "project.link": ("data.link",),
    "project.linkage_runs": ("data.read_saved",),
    "project.linkage_run": ("data.read_saved",),
    "tables.make": ("outputs.create",),
    "outputs.list": ("outputs.read",),
    "outputs.get": ("outputs.read",),
    "outputs.change": ("outputs.update",),
    "requests.create": ("requests.create",),
    "requests.list": ("requests.read",),
    "requests.get": ("requests.read",),
    "requests.change": ("requests.update",),
    "requests.submit": ("requests.update",),
    "requests.withdraw": ("requests.update",),
    "requests.reviews": ("requests.read",),
    "dp.query": ("dp.query",),
    "dp.budget": ("dp.budget.read",),
    "access.mine": ("access.list_mine",),
    "access.settings": ("settings.read",),
    "owner.requests": ("access.list_to_decide",),
    "owner.decide": ("access.decide",),
    "owner.grants": ("projects.read",),
    "owner.revoke": ("access.revoke",),
    "owner.delegate": ("access.delegate",),
    "owner.usage": ("owner.usage",),
    "budgets.set": ("dp.budget.set",),
    "budgets.list": ("dp.budget.set",),
    "review.queue": ("review.queue",),
    "review.show": ("review.read",),
    "review.decide": ("review.decide",),
    "review.conclude": ("review.conclude",),
    "review.release": ("review.release",),
    "review.manifest": ("review.read", "review.release"),
    "disclosure.settings": ("settings.read",),
    "audit.verify": ("audit.verify",),
}
CALL = "kernel.call"  # the audit action of a call to no operation


def action_of(name: str) -> str:
    """The audit action of a call to operation ``name`` (``kernel.<operation>``, or ``kernel.call``)."""
    return f"kernel.{name}" if name in OPERATIONS else CALL


def authorise(ws: Workspace, name: str) -> Workspace:
    """Refuse, before its body is read, a call to an operation that does not exist (NotFound) or that the
    caller's roles could never be allowed (AccessDenied); both audited. Returns ``ws`` for the call."""
    if name not in OPERATIONS:
        raise refused(ws, name, NotFound(f"No kernel operation {name[:100]!r}; the operations are "
                                         f"{', '.join(sorted(OPERATIONS))}."))
    actions = POLICY_ACTIONS.get(name)
    if actions is None:  # an operation nobody said the policy of is refused to everyone
        raise refused(ws, name, AccessDenied(f"The kernel operation {name} names no policy action; nobody may "
                                             "call it."))
    decisions = [may_ever(ws._ctx.actor, action) for action in actions]
    if decisions and not any(decisions):
        action, decision = actions[0], decisions[0]
        error = AccessDenied(f"{ws.user} may not {VERBS.get(action, action)} anything through the kernel "
                             f"operation {name}: {decision.reason}.")
        raise ws._ctx.audit_refused(action_of(name), name, error, outcome="denied")
    return ws


def refused(ws: Workspace, name: str, error: WorkbenchError) -> WorkbenchError:
    """Audit a refused call the services did not audit themselves (unknown operation, body too large or
    undecodable, arguments the operation does not take or a service refused before it touched governed data), as
    ``refused`` by the caller; returns ``error`` to raise."""
    return ws._ctx.audit_refused(action_of(name), name[:100], error)


def _bind(name: str, function: Callable[..., Any], arguments: dict[str, Any], what: str) -> inspect.BoundArguments:
    """``arguments`` bound to ``function`` by name, or InvalidInput naming what is missing or unknown."""
    signature = inspect.signature(function)
    try:
        return signature.bind(**arguments)
    except TypeError as error:
        accepted = ", ".join(p for p in signature.parameters if p not in ("self", "args", "kwargs")) or "none"
        raise InvalidInput(f"{name}: {error} ({what} takes {accepted}).", field=name) from None


def call(ws: Workspace, name: str, arguments: Any) -> Any:
    """Run operation ``name`` with ``arguments`` (a dict of named values) as the person ``ws`` acts for."""
    factory = OPERATIONS.get(name)
    if factory is None:
        raise NotFound(f"No kernel operation {name!r}; the operations are {', '.join(sorted(OPERATIONS))}.")
    if not isinstance(arguments, dict) or not all(isinstance(k, str) for k in arguments):
        raise InvalidInput("body: send the operation's arguments as a JSON object of named values.", field="body")
    scope_names = [p for p in inspect.signature(factory).parameters if p != "ws"]
    scope = {k: arguments[k] for k in scope_names if k in arguments}
    rest = {k: v for k, v in arguments.items() if k not in scope_names}
    _bind(name, factory, {"ws": ws, **scope}, "this operation")
    for key, value in scope.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InvalidInput(f"{key}: expected a name or number, got {type(value).__name__}.", field=key)
    method = factory(ws, **scope)
    bound = _bind(name, method, rest, "it")
    return _plain(method(*bound.args, **bound.kwargs))


def _plain(result: Any) -> Any:
    """Service objects that hold the session (a request, a linkage) as the data the kernel rebuilds them from."""
    from workbench.governance.projects import Project
    from workbench.linkage.service import LinkedData
    from workbench.outputs.requests import OutputRequest

    if isinstance(result, Project):
        return result.to_dict()
    if isinstance(result, OutputRequest):
        return result.to_dict()
    if isinstance(result, LinkedData):
        return {"project_id": result.project_id, "run_id": result.run_id, "frame": result.frame,
                "quality": result.quality, "params": result.params, "threshold": result.threshold,
                "sources": result.sources, "weights": result._weights}
    return result


__all__ = ["DP_METHODS", "OPERATIONS", "POLICY_ACTIONS", "TABLE_METHODS", "authorise", "call", "refused"]
