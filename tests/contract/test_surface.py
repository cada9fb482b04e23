"""The embedded and the remote workspace offer the same API: every view reachable from the workspace, method by
method, with the same signatures and docstrings; what is deliberately local-only (``operations.LOCAL_ONLY``) is
refused remotely with a ``WorkbenchError`` saying where it runs instead.

Both workspaces are built without a database or a service: the embedded one over a context nothing reads, the
remote one over a service that answers only ``whoami`` — a surface is what the classes offer, not what they do."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from workbench.errors import WorkbenchError
from workbench.governance.projects import ProjectRecord
from workbench.operations import LOCAL_ONLY, OPERATIONS, REMOTE_ONLY, VIEWS, RunsElsewhere
from workbench.project import Project
from workbench.remote.workspace import RemoteProject, RemoteWorkspace
from workbench.server import kernel
from workbench.workspace import Workspace

RECORD = ProjectRecord(id="p-surface", title="Surface", purpose="Compare", mission=1, legal_gateway="dea",
                       lead="ann.analyst", status="active", start=dt.date(2026, 1, 1), end=dt.date(2030, 1, 1),
                       intended_outputs=[], intended_datasets=[], members={"ann.analyst": "lead"})
VALUES = (str, bool, int, list, dict, Path, dt.date)  # what a view holds that is not a view itself


class NoService:
    """A service that says who the token names and is never asked anything else."""

    url = "http://127.0.0.1:1/"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        self.calls.append(operation)
        if operation == "whoami":
            return {"user": "ann.analyst", "roles": ["analyst"]}
        raise AssertionError(f"the surface test called the service: {operation}")


def embedded() -> Workspace:
    actor = SimpleNamespace(username="ann.analyst", roles={"analyst"})
    return Workspace(SimpleNamespace(actor=actor, home=Path("/nowhere")))  # type: ignore[arg-type]


def remote(service: NoService | None = None) -> RemoteWorkspace:
    return RemoteWorkspace(service or NoService())  # type: ignore[arg-type]


def view(ws: Any, name: str) -> Any:
    """The view ``name`` ("catalogue", "project.tables"...) of a workspace, embedded or remote."""
    first, *rest = name.split(".")
    if first == "workspace":
        return ws
    if first == "project":
        found = Project(ws._ctx, RECORD) if isinstance(ws, Workspace) else RemoteProject(ws._service,
                                                                                         RECORD.to_dict())
    else:
        found = getattr(ws, first)
    for part in rest:
        found = getattr(found, part)
    return found


def parameters(method: Any) -> list[inspect.Parameter]:
    """A method's parameters with their kinds, defaults and annotations (it returns its own side's classes)."""
    return list(inspect.signature(method).parameters.values())


def public(obj: Any) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def listed(table: dict[str, str], name: str) -> set[str]:
    return {key.rpartition(".")[2] for key in table if key.rpartition(".")[0] == name}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_each_view_offers_the_same_methods(name: str) -> None:
    here, there = view(embedded(), name), view(remote(), name)
    local, remote_only = listed(LOCAL_ONLY, name), listed(REMOTE_ONLY, name)
    assert local <= public(here), f"{name}: LOCAL_ONLY names what the embedded view has not"
    assert public(here) - local == public(there) - local - remote_only
    assert local <= public(there), f"{name}: a local-only name is missing remotely instead of refused"


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_each_method_has_the_same_signature_and_docstring(name: str) -> None:
    here, there = type(view(embedded(), name)), type(view(remote(), name))
    for attribute in sorted(public(here) - listed(LOCAL_ONLY, name)):
        mine, theirs = inspect.getattr_static(here, attribute, None), inspect.getattr_static(there, attribute, None)
        if isinstance(mine, property):
            assert isinstance(theirs, property) or theirs is None, f"{name}.{attribute}"
        elif callable(mine):
            key = f"{name}.{attribute}"
            served = OPERATIONS.get(f"{name}.{attribute}")
            expected = served.embedded() if served and served.shown_in else getattr(here, attribute)
            assert parameters(getattr(there, attribute)) == parameters(expected), key
            assert inspect.getdoc(getattr(there, attribute)) == inspect.getdoc(expected), key


def test_every_view_reachable_from_the_workspace_is_compared() -> None:
    """A view the embedded workspace (or a project) gains is either declared in ``VIEWS`` or local-only."""
    found = set()
    for name in ("workspace", "project"):
        here = view(embedded(), name)
        for attribute in public(here) - listed(LOCAL_ONLY, name):
            if isinstance(inspect.getattr_static(type(here), attribute, None), property):
                value = getattr(here, attribute)
                if not isinstance(value, VALUES):
                    found.add(attribute if name == "workspace" else f"{name}.{attribute}")
            elif not callable(getattr(here, attribute)) and not isinstance(getattr(here, attribute), VALUES):
                found.add(attribute)
    assert found == set(VIEWS) - {"workspace", "project"}


@pytest.mark.parametrize("key", sorted(LOCAL_ONLY))
def test_a_local_only_part_is_refused_remotely_saying_where_it_runs(key: str) -> None:
    service = NoService()
    name, _, attribute = key.rpartition(".")
    there = view(remote(service), name)
    with pytest.raises(RunsElsewhere) as refused:
        member = getattr(there, attribute)  # a property refuses here, a method when called
        member()
    assert isinstance(refused.value, WorkbenchError)
    message = str(refused.value)
    assert attribute in message and len(message) > 60
    assert any(word in message for word in ("service", "embedded", "ws.", "project.")), message
    assert service.calls == ["whoami"]  # refused in the kernel: nothing was sent
    assert not hasattr(there, attribute) or callable(getattr(there, attribute))


def test_one_registry_builds_the_route_and_the_client() -> None:
    assert set(kernel.OPERATIONS) == set(kernel.POLICY_ACTIONS) == set(OPERATIONS)
    assert all(kernel.POLICY_ACTIONS[name] == op.policy for name, op in OPERATIONS.items())
    rws = remote()
    for name, operation in OPERATIONS.items():
        if operation.client:
            continue
        there = type(view(rws, operation.remote_view))
        for method in operation.family or (operation.method,):
            cells = [c.cell_contents for c in getattr(there, method).__closure__ or ()]
            assert name in cells, f"{operation.remote_view}.{method} does not call {name}"
