"""The kernel API over HTTP: each operation a remote workspace (``wb.connect(url=...)``) may ask the service for.

An operation names one method of the embedded workspace (``OPERATIONS``, built from the declarations in
``workbench.operations``: name → a function of the session and its scope, such as the project, giving that bound
method). The handler binds the request's named arguments to the
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

from workbench.disclosure.output import Output
from workbench.errors import AccessDenied, InvalidInput, NotFound, WorkbenchError
from workbench.governance.policy import VERBS, may_ever
from workbench.operations import DP_METHODS, TABLE_METHODS, Operation
from workbench.operations import OPERATIONS as DECLARED
from workbench.outputs.store import output_number
from workbench.wire import Recorded

if TYPE_CHECKING:
    from workbench.workspace import Workspace

def _view(ws: Workspace, view: str, scope: dict[str, Any]) -> Any:
    """The embedded view named ``view`` (``catalogue``, ``project``, ``project.tables``...) of session ``ws``."""
    first, *rest = view.split(".")
    found = ws if first == "workspace" else ws.project(scope["project"]) if first == "project" else getattr(ws, first)
    for name in rest:
        found = getattr(found, name)
    return found


def _route(operation: Operation) -> Callable[..., Callable[..., Any]]:
    """function(session, **scope) → the bound method that the request's other arguments are passed to; its
    signature names the scope (the project, a family's method), which ``call`` binds first."""
    if operation.route is not None:
        return operation.route

    def route(ws: Workspace, **scope: Any) -> Callable[..., Any]:
        view = _view(ws, operation.view, scope)
        if not operation.family:
            return getattr(view, operation.method)
        method = scope["method"]
        if method not in operation.family:
            raise InvalidInput(f"method: {method!r} is not one of {', '.join(operation.family)}.", field="method")
        return getattr(view, method)

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    route.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # read by inspect.signature
        [inspect.Parameter(name, keyword) for name in ("ws", *operation.scope)])
    return route


# name → function(session, **scope) → the bound method that the request's other arguments are passed to
OPERATIONS: dict[str, Callable[..., Callable[..., Any]]] = {name: _route(op) for name, op in DECLARED.items()}
# operation → the policy actions it performs (any one of them may be what a call needs); () for none
POLICY_ACTIONS: dict[str, tuple[str, ...]] = {name: op.policy for name, op in DECLARED.items()}
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


_SCALARS: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
                                         "None": (type(None),)}


def _check_scalars(method: Callable[..., Any], bound: inspect.BoundArguments) -> None:
    """InvalidInput for an argument whose parameter is declared as plain scalars (``str``, ``int | None``...) and
    whose value is of another kind, so that a frame or a list sent where a name belongs is refused by name rather
    than failing inside the method (``x in CHOICES`` on a DataFrame raises ValueError). A ``bool`` is not taken for
    an ``int`` or ``float``."""
    annotations = getattr(inspect.unwrap(method), "__annotations__", {})
    for key, value in bound.arguments.items():
        declared = annotations.get(key)
        kinds = [k.strip() for k in declared.split("|")] if isinstance(declared, str) else []
        if not kinds or not all(k in _SCALARS for k in kinds):
            continue
        allowed = tuple(t for k in kinds for t in _SCALARS[k])
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise InvalidInput(f"{key}: expected {' or '.join(kinds)}, got {type(value).__name__}.", field=key)


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
    _check_scalars(method, bound)
    return _plain(name, method(*bound.args, **bound.kwargs), ws, scope)


def _plain(name: str, result: Any, ws: Workspace, scope: dict[str, Any]) -> Any:
    """An answer that holds the session (a project, an output request, a linkage) as the data the kernel rebuilds
    it from (``Operation.answer``); a recorded output with the vault folder it travels as."""
    answer = DECLARED[name].answer
    if answer == "output" and isinstance(result, Output) and isinstance(scope.get("project"), str):
        return _recorded(ws, scope["project"], result)
    if answer in ("project", "request"):
        return result.to_dict()
    if answer == "linked":
        return {"project_id": result.project_id, "run_id": result.run_id, "frame": result.frame,
                "quality": result.quality, "params": result.params, "threshold": result.threshold,
                "sources": result.sources, "weights": result._weights}
    return result


def _recorded(ws: Workspace, project_id: str, output: Output) -> Any:
    """A recorded output with its folder in the vault, which the answer zips as it is (``wire.Recorded``); the
    output alone (written again for the answer) when it is not one of the project's recorded outputs."""
    try:
        folder = ws.project(project_id).outputs.folder(output_number(project_id, output))
    except WorkbenchError:
        return output
    return Recorded(output, folder)


__all__ = ["DP_METHODS", "OPERATIONS", "POLICY_ACTIONS", "TABLE_METHODS", "authorise", "call", "refused"]
