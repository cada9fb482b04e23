"""A workspace in a kernel that holds only a URL and a token: the embedded workspace's API, run by the service.

Each class is one view of the workspace (``serves``); its methods are made from the operations declared for that
view in ``workbench.operations`` (``forward``): same name, signature and docstring as the embedded method; the
call is bound to that signature here (so a wrong call fails as it would embedded), sent by name to the service's
operation, and the answer rebuilt as the embedded class where one exists (``Entry``, ``Output``,
``OutputRequest``, ``UsageReport``, ``Accuracy``...). What the embedded view has and a remote one deliberately
has not raises ``RunsElsewhere``, saying where it runs instead. What decides, reads governed data and writes the
audit log is the service's workspace, never the kernel.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from workbench.catalogue.service import Catalogue
from workbench.disclosure.output import Output
from workbench.linkage.quality import weights_figure
from workbench.operations import LOCAL_ONLY, Operation, refusal, view_class
from workbench.operations import OPERATIONS as DECLARED
from workbench.outputs.requests import OutputRequest
from workbench.outputs.review import RequestUnderReview
from workbench.outputs.store import output_number
from workbench.project import ProjectCard
from workbench.remote.service import Service
from workbench.widgets.dp import AccuracyExplorer

if TYPE_CHECKING:
    import pandas as pd


def forward(embedded: Callable[..., Any], operation: str, *, scope: dict[str, Any] | None = None,
            then: Callable[[Any, Any], Any] | None = None,
            before: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None) -> Callable[..., Any]:
    """A method calling ``operation`` on the service with the arguments ``embedded`` would take.

    ``scope`` adds fixed arguments (a table method's name); the object's ``_scope()`` adds its own (the
    project); ``before(self, arguments)`` turns arguments into what travels; ``then(self, answer)`` rebuilds the
    answer."""
    signature = inspect.signature(embedded)

    @functools.wraps(embedded)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        arguments: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)
            elif signature.parameters[name].kind is inspect.Parameter.VAR_POSITIONAL:
                raise TypeError(f"{embedded.__name__}() takes no extra positional arguments over the service")
            else:
                arguments[name] = value
        if before is not None:
            arguments = before(self, arguments)
        answer = self._service.call(operation, {**self._scope(), **(scope or {}), **arguments})
        return then(self, answer) if then else answer

    return method


def _refusing(key: str, embedded: Any) -> Any:
    """What stands in a remote view for ``key`` of ``LOCAL_ONLY``: the embedded property or method (its signature
    and docstring), raising ``RunsElsewhere`` with where it runs instead."""
    if isinstance(embedded, property):
        return property(lambda self: _raise(key), doc=embedded.__doc__)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise refusal(key)

    if callable(embedded):
        functools.update_wrapper(method, embedded)
    method.__name__ = key.rpartition(".")[2]
    return method


def _raise(key: str) -> Any:
    raise refusal(key)


def _forwarded(operation: Operation, name: str) -> Callable[..., Any]:
    """The remote method of ``operation`` (``name``: a family's member), rebuilding its answer as declared."""
    answer = operation.answer
    return forward(operation.embedded(name), operation.name, scope={"method": name} if operation.family else None,
                   then=(lambda self, value: _REBUILT[answer](self, value)) if answer else None,
                   before=_by_number if operation.numbered else None)


def documented_as(view: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A method written here for ``view`` keeps the docstring of the embedded method of the same name."""

    def copy(method: Callable[..., Any]) -> Callable[..., Any]:
        method.__doc__ = getattr(view_class(view), method.__name__).__doc__
        return method

    return copy


def serves(view: str) -> Callable[[type], type]:
    """A class decorator: the remote ``view`` gets every operation declared for it (unless the class says how
    itself) and, for what the embedded view has that is ``LOCAL_ONLY``, a refusal saying where it runs."""

    def attach(cls: type) -> type:
        for operation in DECLARED.values():
            if operation.remote_view == view and not operation.client:
                for name in operation.family or (operation.method,):
                    if name not in vars(cls):
                        setattr(cls, name, _forwarded(operation, name))
        for key in LOCAL_ONLY:
            where, _, name = key.rpartition(".")
            if where == view:
                setattr(cls, name, _refusing(key, inspect.getattr_static(view_class(view), name, None)))
        return cls

    return attach


class _Remote:
    """Something the service does for the person holding the token."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def _scope(self) -> dict[str, Any]:
        return {}


class _InProject(_Remote):
    """Something the service does in one project: every call names it."""

    def __init__(self, project: RemoteProject) -> None:
        super().__init__(project._service)
        self._project = project
        self.project_id = project.id

    def _scope(self) -> dict[str, Any]:
        return {"project": self._project.id}


# -- the catalogue -----------------------------------------------------------------------------------------------
@serves("catalogue")
class RemoteCatalogue(_Remote):
    """``ws.catalogue`` over the service: find and read datasets, register your own."""

    infer_columns = Catalogue.infer_columns  # works on the caller's own frame: nothing governed

    def __getitem__(self, dataset_id: str) -> Any:
        return self.get(dataset_id)  # type: ignore[attr-defined]  # get is made by @serves

    def __repr__(self) -> str:
        return f"<catalogue of {self._service.url}>"


# -- projects ----------------------------------------------------------------------------------------------------
def _bind_output(project: RemoteProject, output: Any) -> Any:
    """A recorded output whose ``request_exception`` and ``add_comment`` are kept by the service."""
    if isinstance(output, Output) and output.uid:
        number = int(output.uid.rsplit("_", 1)[-1])
        output.on_change = lambda what, text: project._service.call(
            "outputs.change", {"project": project.id, "output_id": number, "what": what, "text": text})
    return output


@serves("project.tables")
class RemoteTables(_InProject):
    """``project.tables``: the frame (or the name of a source the service reads itself) is sent to the service,
    which checks and records the table."""

    def __repr__(self) -> str:
        return f"<tables of project {self._project.id}>"


@serves("project.outputs")
class RemoteOutputs(_InProject):
    """``project.outputs``: the project's recorded outputs."""

    @documented_as("project.outputs")
    def submit(self, outputs: list[Any], *, title: str, context: dict[str, str]) -> OutputRequest:
        requests: Any = self._project.output_requests  # its methods are made by @serves
        return requests.create(title, context=context, outputs=outputs, submit=True)

    def __repr__(self) -> str:
        return f"<outputs of project {self._project.id}>"


def _by_number(self: _InProject, arguments: dict[str, Any]) -> dict[str, Any]:
    """Recorded outputs named by their number: the service accepts no output from a kernel, only its number."""
    out = dict(arguments)
    for name in ("outputs", "add", "remove"):
        value = out.get(name)
        if isinstance(value, list | tuple):
            out[name] = [output_number(self._project.id, v) if isinstance(v, Output) else v for v in value]
    return out


@serves("project.output_requests")
class RemoteOutputRequests(_InProject):
    """``project.output_requests``; ``OutputRequest`` objects call back here to change themselves."""

    def __repr__(self) -> str:
        return f"<output requests of project {self._project.id}>"


@serves("project.dp")
class RemoteDP(_InProject):
    """``project.dp``: the service reads the data, spends the budget and records the result."""

    @documented_as("project.dp")
    def explore(self, method: str, dataset: str, *args: Any, epsilon: float = 1.0, **spec: Any) -> Any:
        return AccuracyExplorer(self, method, dataset, args, spec, epsilon)  # type: ignore[arg-type]  # same queries

    def __repr__(self) -> str:
        return f"<differential privacy of project {self._project.id}>"


class RemoteLinkedData:
    """What a governed linkage gave the project (as ``LinkedData``): ``.frame``, ``.quality``, ``.params``,
    ``.threshold``, ``.histogram()`` and ``.save(name)``."""

    def __init__(self, project: RemoteProject, data: dict[str, Any]) -> None:
        self._project = project
        self.project_id = data["project_id"]
        self.run_id = data["run_id"]
        self.frame = data["frame"]
        self.quality = data["quality"]
        self.params = data["params"]
        self.threshold = float(data["threshold"])
        self.sources = list(data["sources"])
        self._weights = data["weights"]

    def histogram(self) -> Any:
        return weights_figure(self._weights, self.threshold, f"Linkage run {self.run_id}: match weights")

    def save(self, name: str) -> dict[str, Any]:
        project: Any = self._project  # its methods are made by @serves
        return project.save_linked(self.run_id, name)  # the service saves its own copy of the result

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (f"<LinkedData run {self.run_id}: {len(self.frame):,} linked records of {' and '.join(self.sources)}"
                f" at match weight {self.threshold:.2f}>")


def _refreshed(self: RemoteProject, record: dict[str, Any]) -> RemoteProject:
    self._set(record)
    return self


# how a kernel rebuilds an answer that held the service's session (``Operation.answer``)
_REBUILT: dict[str, Callable[[Any, Any], Any]] = {
    "project": _refreshed,
    "request": lambda self, data: OutputRequest(self, data),
    "linked": lambda self, data: RemoteLinkedData(self, data),
    "output": lambda self, output: _bind_output(self._project, output),
}


@serves("project")
class RemoteProject(_Remote, ProjectCard):
    """A project over the service: the same record, display and methods as ``Project``."""

    def __init__(self, service: Service, record: dict[str, Any]) -> None:
        super().__init__(service)
        self._set(record)

    def _scope(self) -> dict[str, Any]:
        return {"project": self.id}

    def refresh(self) -> RemoteProject:
        return _refreshed(self, self._service.call("projects.get", {"project": self.id}))

    @documented_as("project")
    def batches(self, dataset_id: str, columns: list[str] | None = None, *, where: dict[str, Any] | None = None,
                rows: int = 100_000) -> Iterator[pd.DataFrame]:
        # the service checks the arguments now, as the embedded method does; then batches come one per call
        first = self.batch(dataset_id, columns, where=where, rows=rows, number=0)  # type: ignore[attr-defined]

        def following() -> Iterator[pd.DataFrame]:
            frame, number = first, 0
            while frame is not None:
                yield frame
                number += 1
                frame = self.batch(dataset_id, columns, where=where, rows=rows,  # type: ignore[attr-defined]
                                   number=number)

        return following()

    @property
    def tables(self) -> RemoteTables:
        """Disclosure-checked tables and models, recorded as outputs: ``p.tables.crosstab(df, index=...)``."""
        return RemoteTables(self)

    @property
    def outputs(self) -> RemoteOutputs:
        """The project's recorded outputs: ``.list()``, ``.get(id)``, ``.submit(...)``."""
        return RemoteOutputs(self)

    @property
    def output_requests(self) -> RemoteOutputRequests:
        """Requests to release outputs: ``.create(title, context=..., outputs=[...])``, ``.list()``, ``.get(id)``."""
        return RemoteOutputRequests(self)

    @property
    def dp(self) -> RemoteDP:
        """Differentially private queries on granted data, charged to the budget: ``p.dp.crosstab(...)``."""
        return RemoteDP(self)


# -- people's desks ----------------------------------------------------------------------------------------------
@serves("access")
class RemoteAccess(_Remote):
    """``ws.access``: your access requests and the workspace's access settings."""


@serves("owner")
class RemoteOwner(_Remote):
    """``ws.owner``: the data owner's desk."""


@serves("dp")
class RemoteBudgets(_Remote):
    """``ws.dp``: privacy budgets, for owners, delegates and admins."""


@serves("review")
class RemoteReview(_Remote):
    """``ws.review``: output checking."""

    @documented_as("review")
    def request(self, request_id: int) -> RequestUnderReview:
        return RequestUnderReview(self, request_id)  # type: ignore[arg-type]  # the same review methods


@serves("people")
class RemotePeople(_Remote):
    """``ws.people``: who is who (people are managed on the service with ``workbench people``)."""


@serves("disclosure")
class RemoteDisclosure(_Remote):
    """``ws.disclosure``: the workspace's disclosure-control settings."""


@serves("my_outputs")
class RemoteMyOutputs(_Remote):
    """``ws.my_outputs``: my projects' output requests, and their released packages."""


# -- the workspace -----------------------------------------------------------------------------------------------
@serves("workspace")
class RemoteWorkspace(_Remote):
    """A workspace served by ``workbench serve``: ``ws.catalogue``, ``ws.project(...)``, ``ws.review``... as the
    person the token names. DataFrames travel as Arrow IPC streams."""

    def __init__(self, service: Service) -> None:
        super().__init__(service)
        me = service.call("whoami", {})
        self.user: str = me["user"]
        self.roles: list[str] = list(me["roles"])
        self.catalogue = RemoteCatalogue(service)
        self.people = RemotePeople(service)
        self.access = RemoteAccess(service)
        self.owner = RemoteOwner(service)
        self.dp = RemoteBudgets(service)
        self.review = RemoteReview(service)
        self.disclosure = RemoteDisclosure(service)
        self.my_outputs = RemoteMyOutputs(service)

    @property
    def url(self) -> str:
        return self._service.url

    @documented_as("workspace")
    def project(self, project_id: str) -> RemoteProject:
        return RemoteProject(self._service, self._service.call("projects.get", {"project": project_id}))

    @documented_as("workspace")
    def close(self) -> None:
        pass  # nothing to release: each call is its own request

    def __enter__(self) -> RemoteWorkspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace served at {self.url} as {self.user} ({', '.join(self.roles) or 'not registered'})>"


__all__ = ["RemoteProject", "RemoteWorkspace", "serves"]
