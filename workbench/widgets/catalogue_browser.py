"""``ws.catalogue.browse()``: find data, understand it and ask for it without leaving the notebook.

A search box and filters (department, mission, theme, security classification, access rights) over one page of
results at a time — so 10,000 entries cost what 20 do — an entry's detail (description, owner and contact, legal
gateways, schema with column roles, completeness and coverage drawn with plotly) and three actions: request access
(a form with the columns and a justification), preview the synthetic twin, and code that loads the data. Plain
ipywidgets, so it works in JupyterLab and in classic notebook front ends; every action goes through the same
services and policy as the kernel API, and a refusal is shown as its message.
"""

from __future__ import annotations

import html
import numbers
from typing import TYPE_CHECKING, Any

from workbench.catalogue.entry import theme_label
from workbench.errors import InvalidInput, WorkbenchError
from workbench.widgets.figures import completeness_figure
from workbench.widgets.labels import code_label, date, number, table_html, value

if TYPE_CHECKING:
    from workbench import records
    from workbench.workspace import Workspace

ANY = "any"
REQUEST_ROLES = ("lead", "analyst")


def _options(label: str, facet: list[tuple[str, Any, int]], *, coded: bool = False) -> list[tuple[str, Any]]:
    return [(f"{label}: any", ANY)] + [(f"{code_label(name) if coded else name} ({number(count)})", value)
                                      for name, value, count in facet]


def entry_html(entry: Any) -> str:
    """An entry's detail for people: codes as labels, dates as dates, numbers with separators, schema headers in
    words (the kernel API's ``Entry`` display keeps the codes a data owner registers)."""
    r = entry.record
    coverage = r.get("temporalCoverage") or {}
    contact = r.get("contactPoint") or {}
    facts = [
        ("Department", entry.department_name or r["department"]),
        ("Data owner", f"{entry.owner_name or r['dataOwner']}" if r.get("dataOwner") else "Not assigned yet"),
        ("Publisher", entry.department_name if r.get("publisher") == r["department"] and entry.department_name
         else r.get("publisher", "")),
        ("Missions", ", ".join(f"Mission {m}" for m in r.get("mission", [])) or "None"),
        ("Legal gateways", ", ".join(code_label(g) for g in r.get("legalGateway", [])) or "None"),
        ("Access rights", code_label(r.get("accessRights"))),
        ("Security classification", code_label(r.get("securityClassification"))),
        ("Updated", code_label(r.get("updateFrequency"))),
        ("Last modified", date(r.get("modified"), missing="never")),
        ("Rows", number(r["rowCount"]) if r.get("rowCount") is not None else "Not known"),
        ("Covers", f"{date(coverage.get('start'))} to {date(coverage.get('end'))}" if coverage else ""),
        ("Area", r.get("spatialCoverage", "")),
        ("Themes", ", ".join(theme_label(t) for t in r.get("theme", []))),
        ("Keywords", ", ".join(r.get("keyword", []))),
        ("Contact", f"{contact.get('contactName', '')} <{contact.get('email', '')}>" if contact else ""),
        ("Lineage", r.get("lineage", "")),
        ("Synthetic twin", twin_text(entry.twin)),
        ("Identifier", r.get("identifier", "")),
    ]
    rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                   f"{html.escape(str(v))}</td></tr>" for k, v in facts if v)
    schema = entry.schema
    schema_html = table_html(schema, columns=["name", "type", "role", "completeness", "description"]) \
        if len(schema) else ""
    warnings = "".join(f"<p class='workbench-warning'>&#9888; {html.escape(w)}</p>" for w in entry.warnings)
    return (f"<div class='workbench-entry'><h3>{html.escape(r['title'])} <small><code>{html.escape(entry.id)}"
            f"</code></small></h3>{warnings}"
            f"<p>{html.escape(r.get('description', ''))}</p><table>{rows}</table>{schema_html}</div>")


def twin_text(twin: dict[str, Any] | None) -> str:
    """The synthetic twin's privacy loss and date in words ('' when none was made)."""
    if not twin or twin.get("epsilon") is None:
        return ""
    return (f"made {date(twin.get('made_at'), time=True)} with ε = {number(twin['epsilon'])}; twin budget "
            f"ε = {number(twin.get('spent'))} spent of {number(twin.get('budget'))}")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    return get_ipython() is not None


def load_code(project_id: str, dataset_id: str, columns: list[str] | None = None) -> str:
    """The code that loads ``dataset_id`` in a notebook of ``project_id``."""
    shown = f", columns={columns!r}" if columns else ""
    return (f"import workbench as wb\n\nws = wb.connect()\nproject = ws.project({project_id!r})\n"
            f"df = project.load({dataset_id!r}{shown})\ndf.head()")


class CatalogueBrowser:
    """The catalogue in a notebook; display it (it is an ipywidgets box) or use its parts from code."""

    def __init__(self, ws: Workspace, *, page_size: int = 20) -> None:
        import ipywidgets as w

        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 200:
            raise InvalidInput(f"page_size: {page_size!r} is not a whole number from 1 to 200.", field="page_size")
        self._ws = ws
        self.page_size = page_size
        self.offset = 0
        self.total = 0
        self.figure: Any = None  # the plotly completeness figure of the entry shown
        self.entry: Any = None
        facets = ws.catalogue.facets()
        wide = w.Layout(width="100%")
        self.search = w.Text(placeholder="Search titles, descriptions, keywords and column names (Enter)",
                             continuous_update=False, layout=wide)
        self.department = w.Dropdown(options=_options("Department", facets["department"]), value=ANY)
        self.mission = w.Dropdown(options=_options("Mission", facets["mission"]), value=ANY)
        self.theme = w.Dropdown(options=_options("Theme", facets["theme"]), value=ANY)
        self.classification = w.Dropdown(
            options=_options("Classification", facets["security_classification"], coded=True), value=ANY)
        self.access_rights = w.Dropdown(options=_options("Access", facets["access_rights"], coded=True), value=ANY)
        self.results = w.Select(options=[], rows=min(page_size, 12), layout=wide)
        self.status = w.HTML()
        self.previous = w.Button(description="◀ Previous", layout=w.Layout(width="auto"))
        self.next = w.Button(description="Next ▶", layout=w.Layout(width="auto"))
        self.detail = w.HTML()
        self.chart = w.Output()
        auto = w.Layout(width="auto")
        self.request_button = w.Button(description="Request access", button_style="primary", disabled=True,
                                       layout=auto)
        self.twin_button = w.Button(description="Preview synthetic twin", disabled=True, layout=auto)
        self.code_button = w.Button(description="Load code", disabled=True, layout=auto)
        self.message = w.HTML()
        self.form_project = w.Dropdown(description="Project", options=[])
        self.form_columns = w.SelectMultiple(description="Columns", options=[], rows=8)
        self.form_justification = w.Textarea(description="Why", placeholder="What the project needs these columns "
                                             "for (the data owner reads this)", layout=w.Layout(width="95%"))
        self.form_submit = w.Button(description="Send request", button_style="success")
        self.form = w.VBox([self.form_project, self.form_columns, self.form_justification, self.form_submit])
        self.twin = w.HTML()
        self.code = w.Textarea(layout=w.Layout(width="95%", height="8em"))
        self.action = w.VBox([])
        self.widget = w.VBox([
            self.search,
            w.HBox([self.department, self.mission, self.theme, self.classification, self.access_rights],
                   layout=w.Layout(flex_flow="row wrap")),
            self.results, w.HBox([self.previous, self.next, self.status]),
            w.HBox([self.request_button, self.twin_button, self.code_button]), self.message, self.action,
            self.detail, self.chart,
        ])
        for control in (self.search, self.department, self.mission, self.theme, self.classification,
                        self.access_rights):
            control.observe(self._new_search, names="value")
        self.results.observe(lambda change: self.show(change["new"]), names="value")
        self.previous.on_click(lambda _: self.page(-1))
        self.next.on_click(lambda _: self.page(+1))
        self.request_button.on_click(lambda _: self.open_request_form())
        self.twin_button.on_click(lambda _: self.preview_twin())
        self.code_button.on_click(lambda _: self.show_code())
        self.form_submit.on_click(lambda _: self.submit_request())
        self.refresh()

    # -- display ---------------------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str, *, error: bool = False) -> None:
        colour = "#b02a37" if error else "#146c43"
        self.message.value = f"<p style='color:{colour}'>{html.escape(text)}</p>" if text else ""

    # -- searching -------------------------------------------------------------------------------------------
    def _filters(self) -> dict[str, Any]:
        chosen = {"department": self.department.value, "mission": self.mission.value, "theme": self.theme.value,
                  "security_classification": self.classification.value, "access_rights": self.access_rights.value}
        return {k: v for k, v in chosen.items() if v != ANY}

    def _new_search(self, _change: Any = None) -> None:
        self.offset = 0
        self.refresh()

    def refresh(self) -> None:
        """Run the search for the current text, filters and page."""
        try:
            page = self._ws.catalogue.search_page(self.search.value, limit=self.page_size, offset=self.offset,
                                                  **self._filters())
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self._say("")
        frame, self.total = page["results"], page["total"]
        self.results.options = [(f"{r.title} — {r.department} · {r.id}", r.id) for r in frame.itertuples()]
        self.results.value = None
        first = self.offset + 1 if len(frame) else 0
        self.status.value = (f"Showing {first:,}–{self.offset + len(frame):,} of {self.total:,}" if self.total
                             else "No entries match; try fewer words or filters.")
        self.previous.disabled = self.offset == 0
        self.next.disabled = self.offset + len(frame) >= self.total

    def page(self, step: int) -> None:
        """The previous (-1) or next (+1) page of results."""
        offset = self.offset + step * self.page_size
        if 0 <= offset < max(self.total, 1):
            self.offset = offset
            self.refresh()

    # -- one entry -------------------------------------------------------------------------------------------
    def show(self, dataset_id: str | None) -> None:
        """Show an entry's detail and completeness (None clears it)."""
        self.action.children = []
        for button in (self.request_button, self.twin_button, self.code_button):
            button.disabled = dataset_id is None
        if dataset_id is None:
            self.entry, self.figure, self.detail.value = None, None, ""
            return

        try:
            self.entry = self._ws.catalogue.get(dataset_id)
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        self._say("")
        self.detail.value = entry_html(self.entry)
        self.figure = completeness_figure(self.entry)
        self.chart.clear_output()
        if _in_kernel():  # outside a kernel there is nothing to draw on; the figure stays in .figure
            from IPython.display import display

            with self.chart:
                display(self.figure)

    def _my_projects(self) -> list[str]:
        me = self._ws.user
        ids = self._ws.projects()["id"]
        return [p for p in ids if self._ws.project(p).members.get(me) in REQUEST_ROLES]

    def open_request_form(self) -> None:
        """The request form for the entry shown: one of my projects, the columns, why."""
        if self.entry is None:
            return
        projects = self._my_projects()
        if not projects:
            self._say("You are not a lead or analyst in any project, so you cannot request data yet; a project's "
                      "lead can ask an admin to add you.", error=True)
            return
        self.form_project.options = projects
        self.form_project.value = projects[0]
        self.form_columns.options = [(f"{c} ({code_label(r).lower()})", c) for c, r in
                                     zip(self.entry.schema["name"], self.entry.schema["role"], strict=True)]
        self.form_columns.value = ()
        self.form_justification.value = ""
        self.action.children = [self.form]
        self._say("Ask for the columns the project needs and say why; the data owner decides.")

    def submit_request(self) -> records.AccessRequest | None:
        """Send the request in the form; returns it (or None, with the refusal shown)."""
        if self.entry is None:
            return None
        if not self.form_columns.value:
            self._say("Choose the columns the project needs (ask for the fewest that answer the question).",
                      error=True)
            return None
        try:
            request = self._ws.project(self.form_project.value).request_access(
                self.entry.id, list(self.form_columns.value), justification=self.form_justification.value)
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return None
        self.action.children = []
        owner = self.entry.owner_name or self.entry.owner
        self._say(f"Request {request['id']} for {self.entry.title} sent to "
                  f"{f'its data owner, {owner}' if owner else 'its data owner (none is assigned yet)'}. You can "
                  "follow it under My requests in the Workbench side panel.")
        return request

    def preview_twin(self) -> None:
        """The first rows of the entry's synthetic twin and its privacy loss (anyone who may read the catalogue)."""
        if self.entry is None:
            return
        try:
            twin = self._ws.catalogue.twin(self.entry.id)
        except WorkbenchError as error:
            self._say(str(error), error=True)
            return
        made = twin_text(self._ws.catalogue.get(self.entry.id).twin)
        self._say("A synthetic twin: the same columns and types, each drawn independently from differentially "
                  f"private counts{f' ({made})' if made else ''}; no real record.")
        self.twin.value = _twin_table(twin.head(10))
        self.action.children = [self.twin]

    def show_code(self) -> None:
        """Code that loads the entry, for a project holding a grant for it (or one to fill in)."""
        if self.entry is None:
            return
        holding = [p for p in self._my_projects()
                   if (self._ws.project(p).grants()["dataset_id"] == self.entry.id).any()]
        self.code.value = load_code(holding[0] if holding else "your-project-id", self.entry.id)
        self._say("Copy this into a cell." + ("" if holding else " None of your projects holds a grant for it yet: "
                                              "request access first."))
        self.action.children = [self.code]


def _twin_table(frame: Any) -> str:
    """The twin's rows with the dataset's own column names (they are what the analyst will load), values
    formatted for reading."""
    columns = [str(c) for c in frame.columns]
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(c, v))}</td>" for c, v in zip(columns, row, strict=True))
                    + "</tr>" for row in frame.itertuples(index=False))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def _cell(column: str, cell: Any) -> str:
    """A value of the twin: a year stays 2021, other numbers get separators, dates read as dates."""
    if "year" in column.lower() and isinstance(cell, numbers.Integral):
        return str(cell)
    return value(column, cell)
