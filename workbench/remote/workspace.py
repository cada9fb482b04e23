"""A workspace in a kernel that holds only a URL and a token: the embedded workspace's API, run by the service.

Each method is made from the embedded method it stands for (``forward``): same name, signature and docstring;
the call is bound to that signature here (so a wrong call fails as it would embedded), sent by name to the
service's operation, and the answer rebuilt as the embedded class where one exists (``Entry``, ``Output``,
``OutputRequest``, ``UsageReport``, ``Accuracy``...). What decides, reads governed data and writes the audit log
is the service's workspace, never the kernel.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from workbench.catalogue.service import Catalogue
from workbench.disclosure.output import Output
from workbench.dp.budgets import Budgets
from workbench.dp.queries import ProjectDP
from workbench.governance.access import Access, Owner
from workbench.governance.people import People
from workbench.governance.projects import Project
from workbench.outputs.requests import OutputRequest, OutputRequests
from workbench.outputs.review import RequestUnderReview, Review
from workbench.outputs.store import ProjectOutputs
from workbench.outputs.tables import ProjectTables
from workbench.remote.service import Service


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

    def _scope(self) -> dict[str, Any]:
        return {"project": self._project.id}


# -- the catalogue -----------------------------------------------------------------------------------------------
class RemoteCatalogue(_Remote):
    """``ws.catalogue`` over the service: find and read datasets, register your own."""

    get = forward(Catalogue.get, "catalogue.get")
    twin = forward(Catalogue.twin, "catalogue.twin")
    departments = forward(Catalogue.departments, "catalogue.departments")
    search = forward(Catalogue.search, "catalogue.search")
    search_page = forward(Catalogue.search_page, "catalogue.search_page")
    facets = forward(Catalogue.facets, "catalogue.facets")
    coverage = forward(Catalogue.coverage, "catalogue.coverage")
    list = forward(Catalogue.list, "catalogue.list")
    register = forward(Catalogue.register, "catalogue.register")
    import_text = forward(Catalogue.import_text, "catalogue.import_text")
    export = forward(Catalogue.export, "catalogue.export")
    infer_columns = Catalogue.infer_columns  # works on the caller's own frame: nothing governed

    def __getitem__(self, dataset_id: str) -> Any:
        return self.get(dataset_id)

    def __repr__(self) -> str:
        return f"<catalogue of {self._service.url}>"


# -- projects ----------------------------------------------------------------------------------------------------
def _bind_output(project: RemoteProject, output: Any) -> Any:
    """A recorded output whose ``request_exception`` and ``add_comment`` are kept by the service."""
    from workbench.disclosure.output import Output

    if isinstance(output, Output) and output.uid:
        number = int(output.uid.rsplit("_", 1)[-1])
        output.on_change = lambda what, text: project._service.call(
            "outputs.change", {"project": project.id, "output_id": number, "what": what, "text": text})
    return output


class RemoteTables(_InProject):
    """``project.tables``: the frame is sent to the service, which checks and records the table."""

    def __repr__(self) -> str:
        return f"<tables of project {self._project.id}>"


def _table_method(name: str) -> Callable[..., Any]:
    return forward(getattr(ProjectTables, name), "tables.make", scope={"method": name},
                   then=lambda self, output: _bind_output(self._project, output))


for _name in ("crosstab", "pivot_table", "groupby_agg", "histogram", "ols", "logit", "probit"):
    setattr(RemoteTables, _name, _table_method(_name))


class RemoteOutputs(_InProject):
    """``project.outputs``: the project's recorded outputs."""

    list = forward(ProjectOutputs.list, "outputs.list")
    get = forward(ProjectOutputs.get, "outputs.get", then=lambda self, output: _bind_output(self._project, output))

    def submit(self, outputs: list[Any], *, title: str, context: dict[str, str]) -> OutputRequest:
        """Create an output request of ``outputs`` with its context and submit it for checking, in one step."""
        return self._project.output_requests.create(title, context=context, outputs=outputs, submit=True)

    def __repr__(self) -> str:
        return f"<outputs of project {self._project.id}>"


def _by_number(self: _InProject, arguments: dict[str, Any]) -> dict[str, Any]:
    """Recorded outputs named by their number: the service accepts no output from a kernel, only its number."""
    from workbench.outputs.store import output_number

    out = dict(arguments)
    for name in ("outputs", "add", "remove"):
        value = out.get(name)
        if isinstance(value, list | tuple):
            out[name] = [output_number(self._project.id, v) if isinstance(v, Output) else v for v in value]
    return out


class RemoteOutputRequests(_InProject):
    """``project.output_requests``; ``OutputRequest`` objects call back here to change themselves."""

    def __init__(self, project: RemoteProject) -> None:
        super().__init__(project)
        self.project_id = project.id

    create = forward(OutputRequests.create, "requests.create", before=_by_number,
                     then=lambda self, data: OutputRequest(self, data))
    list = forward(OutputRequests.list, "requests.list")
    get = forward(OutputRequests.get, "requests.get", then=lambda self, data: OutputRequest(self, data))
    change = forward(OutputRequests.change, "requests.change", before=_by_number)
    submit = forward(OutputRequests.submit, "requests.submit")
    withdraw = forward(OutputRequests.withdraw, "requests.withdraw")
    reviews = forward(OutputRequests.reviews, "requests.reviews")

    def __repr__(self) -> str:
        return f"<output requests of project {self._project.id}>"


class RemoteDP(_InProject):
    """``project.dp``: the service reads the data, spends the budget and records the result."""

    budget = forward(ProjectDP.budget, "dp.budget")

    def explore(self, method: str, dataset: str, *args: Any, epsilon: float = 1.0, **spec: Any) -> Any:
        """An ε slider showing the accuracy a query would have and the budget left; nothing is spent."""
        from workbench.widgets.dp import AccuracyExplorer

        return AccuracyExplorer(self, method, dataset, args, spec, epsilon)

    def __repr__(self) -> str:
        return f"<differential privacy of project {self._project.id}>"


def _dp_method(name: str) -> Callable[..., Any]:
    return forward(getattr(ProjectDP, name), "dp.query", scope={"method": name},
                   then=lambda self, answer: _bind_output(self._project, answer))


for _name in ("count", "sum", "mean", "crosstab", "histogram", "quantile"):
    setattr(RemoteDP, _name, _dp_method(_name))


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
        from workbench.linkage.quality import weights_figure

        return weights_figure(self._weights, self.threshold, f"Linkage run {self.run_id}: match weights")

    def save(self, name: str) -> dict[str, Any]:
        return self._project.save(self.frame, name, derived_from=list(self.sources))

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (f"<LinkedData run {self.run_id}: {len(self.frame):,} linked records of {' and '.join(self.sources)}"
                f" at match weight {self.threshold:.2f}>")


def _refreshed(self: RemoteProject, record: dict[str, Any]) -> RemoteProject:
    self._set(record)
    return self


class RemoteProject(Project):
    """A project over the service: the same record, display and methods as ``Project``."""

    def __init__(self, service: Service, record: dict[str, Any]) -> None:
        self._service = service
        self._ctx = None  # type: ignore[assignment]  # nothing here may reach a database
        self._set(record)

    def _scope(self) -> dict[str, Any]:
        return {"project": self.id}

    def refresh(self) -> RemoteProject:
        return _refreshed(self, self._service.call("projects.get", {"project": self.id}))

    update = forward(Project.update, "project.update", then=_refreshed)
    add_member = forward(Project.add_member, "project.add_member", then=_refreshed)
    remove_member = forward(Project.remove_member, "project.remove_member", then=_refreshed)
    request_access = forward(Project.request_access, "project.request_access")
    requests = forward(Project.requests, "project.requests")
    grants = forward(Project.grants, "project.grants")
    load = forward(Project.load, "project.load")
    save = forward(Project.save, "project.save")
    datasets = forward(Project.datasets, "project.datasets")
    read = forward(Project.read, "project.read")
    link = forward(Project.link, "project.link", then=lambda self, data: RemoteLinkedData(self, data))
    linkage_runs = forward(Project.linkage_runs, "project.linkage_runs")
    linkage_run = forward(Project.linkage_run, "project.linkage_run")

    @property
    def tables(self) -> RemoteTables:  # type: ignore[override]
        """Disclosure-checked tables and models, recorded as outputs: ``p.tables.crosstab(df, index=...)``."""
        return RemoteTables(self)

    @property
    def outputs(self) -> RemoteOutputs:  # type: ignore[override]
        """The project's recorded outputs: ``.list()``, ``.get(id)``, ``.submit(...)``."""
        return RemoteOutputs(self)

    @property
    def output_requests(self) -> RemoteOutputRequests:  # type: ignore[override]
        """Requests to release outputs: ``.create(title, context=..., outputs=[...])``, ``.list()``, ``.get(id)``."""
        return RemoteOutputRequests(self)

    @property
    def dp(self) -> RemoteDP:  # type: ignore[override]
        """Differentially private queries on granted data, charged to the budget: ``p.dp.crosstab(...)``."""
        return RemoteDP(self)


# -- people's desks ----------------------------------------------------------------------------------------------
class RemoteAccess(_Remote):
    """``ws.access``: your access requests and the workspace's access settings."""

    mine = forward(Access.mine, "access.mine")
    settings = forward(Access.settings, "access.settings")


class RemoteOwner(_Remote):
    """``ws.owner``: the data owner's desk."""

    requests = forward(Owner.requests, "owner.requests")
    decide = forward(Access.decide, "owner.decide")
    grants = forward(Owner.grants, "owner.grants")
    revoke = forward(Owner.revoke, "owner.revoke")
    delegate = forward(Owner.delegate, "owner.delegate")
    usage = forward(Owner.usage, "owner.usage")


class RemoteBudgets(_Remote):
    """``ws.dp``: privacy budgets, for owners, delegates and admins."""

    set_budget = forward(Budgets.set_budget, "budgets.set")
    budgets = forward(Budgets.budgets, "budgets.list")


class RemoteReview(_Remote):
    """``ws.review``: output checking."""

    queue = forward(Review.queue, "review.queue")
    show = forward(Review.show, "review.show")
    decide = forward(Review.decide, "review.decide")
    conclude = forward(Review.conclude, "review.conclude")
    release = forward(Review.release, "review.release")
    manifest = forward(Review.manifest, "review.manifest")

    def request(self, request_id: int) -> RequestUnderReview:
        """One request, for a checker in a notebook: ``.show()``, ``.approve(...)``, ``.release()``."""
        return RequestUnderReview(self, request_id)  # type: ignore[arg-type]


class RemotePeople(_Remote):
    """``ws.people``: who is who (people are managed on the service with ``workbench people``)."""

    get = forward(People.get, "people.get")
    list = forward(People.list, "people.list")
    training = forward(People.training, "people.training")


class RemoteDisclosure(_Remote):
    """``ws.disclosure``: the workspace's disclosure-control settings."""

    def settings(self) -> Any:
        """The thresholds every table is checked against."""
        return self._service.call("disclosure.settings", {})


# -- the workspace -----------------------------------------------------------------------------------------------
class RemoteWorkspace:
    """A workspace served by ``workbench serve``: ``ws.catalogue``, ``ws.project(...)``, ``ws.review``... as the
    person the token names. DataFrames travel as Arrow IPC streams."""

    def __init__(self, service: Service) -> None:
        self._service = service
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

    @property
    def url(self) -> str:
        return self._service.url

    def projects(self) -> Any:
        """All projects, id first."""
        return self._service.call("projects.list", {})

    def project(self, project_id: str) -> RemoteProject:
        """One project: purpose, mission, legal gateway, lead and members."""
        return RemoteProject(self._service, self._service.call("projects.get", {"project": project_id}))

    def verify_audit(self) -> Any:
        """Recompute the audit hash chain and report the first broken event, if any (admins)."""
        return self._service.call("audit.verify", {})

    def close(self) -> None:
        """Nothing to release: each call is its own request."""

    def __enter__(self) -> RemoteWorkspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace served at {self.url} as {self.user} ({', '.join(self.roles) or 'not registered'})>"


__all__ = ["RemoteProject", "RemoteWorkspace"]
