"""``project.tables``: the disclosure-control functions bound to a project.

Each takes the data first and column names after (``p.tables.crosstab(df, index="region", columns="sex",
values="income", aggfunc="mean")``), checks the table with the workspace's disclosure settings (not the
analyst's), and records the result in the project as an output for later submission. Permission is asked
before any work is done. Provenance comes from ``derived_from`` or, when absent, from the frame itself: frames
returned by ``project.load`` and ``project.read`` carry the datasets they came from. A call refused for its
input (a bad column, a formula outside the grammar...) touched the project's data, so it is audited as
``refused``.

A frame the analyst hands over is judged as such (its provenance is ``analyst-supplied``): its rows may not be
people (a row copied ten times is ten rows, one person). The catalogue datasets of its lineage say which column
names a person (their ``personKey``, else a direct identifier, pseudonymised); when the frame keeps that column,
the disclosure rules count distinct persons; when it does not, the table goes to a checker (``review`` at
least, never ``pass``) saying so. Grouping by an identifier of a lineage dataset is refused. With the
output-checking setting ``analyst_supplied_review`` (on by default under ``workbench serve``) every
analyst-supplied table and model is ``review`` at least.

Given a source named by text instead of a frame (``p.tables.crosstab("ons.lfs", index="region", ...,
where={...})``), the workbench computes the table itself from the source (``outputs.computed``) and records it as
``computed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import disclosure as sdc
from workbench.catalogue import in_place, versions
from workbench.catalogue.model import PSEUDONYMISED_ROLES
from workbench.disclosure.service import Disclosure
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError
from workbench.governance.conditions import dataset_row
from workbench.governance.lineage import granted_version, taint
from workbench.governance.project_data import (
    SOURCES_ATTR,
    ProjectData,
    governed_in_place,
    in_place_frame,
    lineage,
)
from workbench.governance.pseudonyms import project_key
from workbench.outputs.computed import ComputedTables
from workbench.outputs.settings import output_checking_settings, reviews_analyst_supplied
from workbench.outputs.store import ProjectOutputs
from workbench.person_index import person_ids
from workbench.validation import check_optional_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from workbench.context import Context
    from workbench.disclosure.output import Output

ANALYST_SUPPLIED = ("made from a frame the analyst supplied, not computed by the workbench from its source: the "
                    "workspace sends every such output to a checker (make it by spec from the source, e.g. "
                    "p.tables.crosstab('dataset.id', ...), for an automatic check)")


def no_person_key(sources: list[str], candidates: list[str]) -> str:
    """The review reason of a table whose frame does not keep the person key of its lineage."""
    named = f" ({', '.join(map(repr, candidates))})" if candidates else ""
    return (f"the frame carries no person key{named} of {', '.join(sources)}, so its rows may not be people (one "
            "person's rows copied many times pass the threshold); keep the key column in the frame, or make the "
            "table by spec from the source (p.tables.crosstab('dataset.id', ...))")


@dataclass
class FrameRoles:
    """What the lineage's catalogue records say about a frame's columns."""

    sources: list[str]
    person_key: str | None = None
    key_dataset: str | None = None  # the lineage dataset whose person key the frame keeps
    key_pseudonymised: bool = True  # whether that key leaves the vault as the project's pseudonyms
    key_from_index: bool = False  # whether that key is the workbench's person_id (the person index's person)
    # with that key, the record identifier (kept in the frame) naming a record the index left unlinked
    key_fallback: str | None = None
    # the person key each lineage dataset declares (or its first direct identifier), present in the frame or not
    key_candidates: list[str] = field(default_factory=list)
    # column → (dataset, role) for the frame's columns that are identifiers of a lineage dataset
    identifiers: dict[str, tuple[str, str]] = field(default_factory=dict)


def _fallback_key(schema: list[dict[str, Any]]) -> str | None:
    """The person key of a dataset that declares none, so one row per person: its record identifier (one value
    per row, so per person), else its first direct identifier."""
    for role in ("record_identifier", "direct_identifier"):
        found = next((c["name"] for c in schema if c.get("role") == role), None)
        if found is not None:
            return found
    return None


def frame_roles(conn: Connection, project_id: str, derived_from: list[str], columns: list[Any],
                username: str, vault_root: Path | None = None) -> FrameRoles:
    """The catalogue datasets of a frame's lineage — the ones named (refusing names the project never held) first,
    then everything the member loaded or read in the project (their kernel may hold any of it) — the column
    naming the person (a dataset's ``personKey``; without one its rows are people, named by the workbench's
    ``person_id`` when the frame keeps it (datasets in the person index, ``vault_root``'s), else by its record
    identifier, else its first direct identifier) and the identifier columns."""
    sources = list(dict.fromkeys([*lineage(conn, project_id, derived_from), *taint(conn, project_id, username)]))
    roles = FrameRoles(sources)
    present = {c for c in columns if isinstance(c, str)}
    for dataset_id in sources:
        record = dataset_row(conn, dataset_id)["record"]
        if vault_root is not None:
            record = person_ids.schema_view(record, vault_root)
        schema = record.get("columns", [])
        by_index = (not record.get("personKey") and person_ids.provided(schema)
                    and person_ids.PERSON_ID in present)
        key = record.get("personKey") or (person_ids.PERSON_ID if by_index else _fallback_key(schema))
        if key is not None and key not in roles.key_candidates:
            roles.key_candidates.append(key)
        if roles.person_key is None and key in present:
            roles.person_key, roles.key_dataset, roles.key_from_index = key, dataset_id, by_index
            fallback = _fallback_key(schema) if by_index else None
            roles.key_fallback = fallback if fallback in present and fallback != key else None
            roles.key_pseudonymised = next((c.get("role") for c in schema if c["name"] == key),
                                           None) in PSEUDONYMISED_ROLES
        for column in schema:
            if column.get("role") in PSEUDONYMISED_ROLES and column["name"] in present:
                roles.identifiers.setdefault(column["name"], (dataset_id, column["role"]))
    return roles


def _names(*groups: Any) -> list[Any]:
    """The column names a table groups by (one name or a list of them each)."""
    names: list[Any] = []
    for group in groups:
        if group is None:
            continue
        names.extend(group if isinstance(group, list | tuple) else [group])
    return names


def _columns(data: pd.DataFrame, names: Any, field: str, required: bool = True) -> Any:
    """Column(s) of ``data`` by name: a Series for one name, a list of Series for several."""
    if names is None and not required:
        return None
    many = isinstance(names, list | tuple)
    wanted = list(names) if many else [names]
    if not wanted or not all(isinstance(n, str) for n in wanted):
        raise InvalidInput(f"{field}: give a column name of the data, or a list of them.", field=field)
    missing = [n for n in wanted if n not in data.columns]
    if missing:
        raise InvalidInput(f"{field}: {', '.join(missing)} not among the data's columns "
                           f"({', '.join(map(str, data.columns))}).", field=field)
    series = [data[n] for n in wanted]
    return series if many else series[0]


# the options each table function takes besides what its ProjectTables method passes itself
OPTIONS = {"crosstab": ("rownames", "colnames", "margins", "margins_name", "dropna", "normalize"),
           "pivot_table": ("fill_value", "margins", "dropna", "margins_name", "observed", "sort"),
           "groupby_agg": ("dropna",)}


def _check_options(method: str, options: dict[str, Any]) -> None:
    """Options go to the table function; the workspace's disclosure settings are not one of them, and an option
    the function does not take is refused naming the ones it does."""
    if "settings" in options:
        raise InvalidInput("settings: a project's tables are checked against the workspace's disclosure settings "
                           "(ws.disclosure.settings()); leave settings out.", field="settings")
    unknown = sorted(set(options) - set(OPTIONS[method]))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: {method} takes no option {', '.join(map(repr, unknown))}; its options "
                           f"are {', '.join(OPTIONS[method])}.", field=unknown[0])


def _given(name: Any) -> str | None:
    """The output name the analyst gave (text, or None for the default)."""
    return check_optional_text(name, "name", "a name for the output", limit=200)


class ProjectTables:
    """Disclosure-checked tables and models recorded in one project."""

    def __init__(self, ctx: Context, project_id: str) -> None:
        self._ctx = ctx
        self.project_id = project_id
        self._outputs = ProjectOutputs(ctx, project_id)
        self._computed = ComputedTables(ctx, project_id, self._outputs, self)  # a source named by text: by spec

    def crosstab(self, data: pd.DataFrame | str, index: Any, columns: Any, values: str | None = None,
                 aggfunc: str | None = None, *, where: dict[str, Any] | None = None, name: str | None = None,
                 derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.crosstab`` over columns of ``data`` (a frame, or a source named by text: computed by the
        workbench, rows kept by ``where``); ``options`` as ``pd.crosstab`` (margins, dropna...)."""
        _check_options("crosstab", options)
        if isinstance(data, str) or where is not None:
            return self._computed.crosstab(data, index, columns, values, aggfunc, where=where, name=name,
                                           derived_from=derived_from, **options)

        def run(settings: Any, persons: Any) -> Output:
            return sdc.crosstab(_columns(data, index, "index"), _columns(data, columns, "columns"),
                                _columns(data, values, "values", required=False), aggfunc=aggfunc,
                                settings=settings, persons=persons, **options)
        return self._record("crosstab", data, run,
                            _given(name) or self._name("crosstab", index, columns, values, aggfunc), derived_from,
                            groups=_names(index, columns))

    def pivot_table(self, data: pd.DataFrame | str, values: Any = None, index: Any = None, columns: Any = None,
                    aggfunc: str | list[str] = "mean", *, where: dict[str, Any] | None = None,
                    name: str | None = None, derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.pivot_table``: several values columns and several aggregations at once."""
        _check_options("pivot_table", options)
        if isinstance(data, str) or where is not None:
            return self._computed.pivot_table(data, values, index, columns, aggfunc, where=where, name=name,
                                              derived_from=derived_from, **options)

        def run(settings: Any, persons: Any) -> Output:
            return sdc.pivot_table(data, values=values, index=index, columns=columns, aggfunc=aggfunc,
                                   settings=settings, persons=persons, **options)
        return self._record("pivot_table", data, run,
                            _given(name) or self._name("pivot_table", index, columns, values, aggfunc), derived_from,
                            groups=_names(index, columns))

    def groupby_agg(self, data: pd.DataFrame | str, by: Any, values: Any, aggfunc: str | list[str] = "mean", *,
                    where: dict[str, Any] | None = None, name: str | None = None,
                    derived_from: list[str] | None = None, **options: Any) -> Output:
        """``sdc.groupby_agg``: ``data.groupby(by)[values].agg(aggfunc)`` checked."""
        _check_options("groupby_agg", options)
        if isinstance(data, str) or where is not None:
            return self._computed.groupby_agg(data, by, values, aggfunc, where=where, name=name,
                                              derived_from=derived_from, **options)

        def run(settings: Any, persons: Any) -> Output:
            return sdc.groupby_agg(data, by, values, aggfunc, settings=settings, persons=persons, **options)
        return self._record("groupby_agg", data, run,
                            _given(name) or self._name("groupby", by, None, values, aggfunc), derived_from,
                            groups=_names(by))

    def histogram(self, data: pd.DataFrame | str, column: str, bins: Any = 10,
                  range: tuple[float, float] | None = None, *, where: dict[str, Any] | None = None,
                  name: str | None = None, derived_from: list[str] | None = None) -> Output:
        """``sdc.histogram`` of one column of ``data``: a number of bins over ``range`` (public knowledge, never the
        data's extremes), or edges; for a source named by text, a missing range is the catalogue's declared
        bounds of the column."""
        if isinstance(data, str) or where is not None:
            return self._computed.histogram(data, column, bins, range, where=where, name=name,
                                            derived_from=derived_from)

        def run(settings: Any, persons: Any) -> Output:
            return sdc.histogram(_columns(data, column, "column"), bins, range, settings=settings, persons=persons)
        return self._record("histogram", data, run, _given(name) or f"histogram of {column}", derived_from,
                            groups=_names(column))

    def ols(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
            name: str | None = None, derived_from: list[str] | None = None) -> Output:
        """``sdc.ols`` with a formula over ``data`` (residual degrees of freedom checked)."""
        if isinstance(data, str) or where is not None:
            return self._computed.model("ols", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("ols", data, formula, name, derived_from)

    def logit(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
              name: str | None = None, derived_from: list[str] | None = None) -> Output:
        if isinstance(data, str) or where is not None:
            return self._computed.model("logit", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("logit", data, formula, name, derived_from)

    def probit(self, data: pd.DataFrame | str, formula: str, *, where: dict[str, Any] | None = None,
               name: str | None = None, derived_from: list[str] | None = None) -> Output:
        if isinstance(data, str) or where is not None:
            return self._computed.model("probit", data, formula, where=where, name=name, derived_from=derived_from)
        return self._model("probit", data, formula, name, derived_from)

    # -- internals -------------------------------------------------------------------------------------------
    def _model(self, method: str, data: pd.DataFrame, formula: str, name: str | None,
               derived_from: list[str] | None) -> Output:
        def run(settings: Any, persons: Any) -> Output:  # a model's rule (residual dof) has no person form
            return getattr(sdc, method)(formula=formula, data=data, settings=settings)

        def default_name(output: Output) -> str:  # the formula as parsed, never the text as typed
            return f"{method}: {output.properties['formula']}"[:200]
        return self._record(method, data, run, _given(name) or default_name, derived_from)

    def _record(self, method: str, data: Any, run: Any, name: str | Callable[[Output], str],
                derived_from: list[str] | None, groups: list[Any] | None = None) -> Output:
        """Check and record a table or model made from ``data`` (a frame the analyst supplied): ``groups`` are
        the columns it groups by (a table; None for a model)."""
        resource = f"a {method} output in project {self.project_id}"
        self._outputs.check_can_record(resource)
        try:
            if not isinstance(data, pd.DataFrame):
                raise InvalidInput(f"data: give the pandas DataFrame the table is made from, not "
                                   f"{type(data).__name__}.", field="data")
            if derived_from is None:
                derived_from = data.attrs.get(SOURCES_ATTR) or []
                if not isinstance(derived_from, list | tuple):  # attrs travel with the frame: the sender's to set
                    raise InvalidInput(f"derived_from: the frame's own record of its sources (attrs"
                                       f"[{SOURCES_ATTR!r}]) is a {type(derived_from).__name__}, not a list of "
                                       "names; name its sources, e.g. derived_from=['ons.lfs'].", field="derived_from")
                derived_from = list(derived_from)
            if not derived_from:
                raise InvalidInput("derived_from: this frame does not say where it came from (frames from "
                                   "project.load and project.read do); name its sources, e.g. "
                                   "derived_from=['ons.lfs'].", field="derived_from")
            with self._ctx.db.read() as conn:
                roles = frame_roles(conn, self.project_id, derived_from, list(data.columns),
                                    self._ctx.actor.username, self._ctx.vault.root)
                review_all = reviews_analyst_supplied(output_checking_settings(conn), self._ctx.service)
            self._refuse_identifier_groups(groups or [], roles)
            persons, key_problem = None, None
            if groups is not None and roles.person_key is not None:
                persons, key_problem = self._persons(data, roles)
                if key_problem:  # keys that do not say who is who: judged as rows, and looked at
                    persons = None
            try:
                output = run(self._settings(), persons)
            except WorkbenchError:
                raise
            except (NotImplementedError, TypeError, ValueError, OverflowError, ZeroDivisionError) as error:
                # pandas and numpy refusing a column's type or values (float16 keys, bytes, decimals summed
                # with floats...): the data sent cannot be tabulated as asked, which is the caller's to change
                raise InvalidInput(f"data: these columns cannot be tabulated as asked ({type(error).__name__}: "
                                   f"{str(error)[:200]}); give numbers as int64 or float64 and labels as text, "
                                   "e.g. df[col].astype(float) or .astype(str).", field="data") from None
        except AccessDenied:
            raise  # the policy's refusals are audited where they are made
        except WorkbenchError as error:
            self._ctx.audit_refused("outputs.create", resource, error)
            raise
        if groups is not None and key_problem:
            output.require_review(key_problem)
        elif groups is not None and persons is None:
            output.require_review(no_person_key(roles.sources, roles.key_candidates))
        if review_all:
            output.require_review(ANALYST_SUPPLIED)
        return self._outputs.record(output, name=name(output) if callable(name) else name, derived_from=derived_from)

    def _persons(self, data: pd.DataFrame, roles: FrameRoles) -> tuple[pd.Series, str | None]:
        """The frame's person of each row and why it cannot count people (or None). A record the person index
        left unlinked (no ``person_id``) is a person of its own, named by its record identifier when the frame
        keeps it (so copies of one record are still one person)."""
        persons = data[roles.person_key]
        if roles.key_fallback is None:
            return persons, self._key_problem(persons, roles)
        missing = persons.isna().to_numpy()
        problem = self._key_problem(persons[~missing], roles)
        if problem or not missing.any():
            return persons, problem
        fallback = data.loc[missing, roles.key_fallback]
        problem = self._key_problem(fallback, roles, roles.key_fallback, from_index=False)
        named = persons.astype(object).where(~missing, "record:" + fallback.astype(str))
        return named, problem

    def _key_problem(self, persons: pd.Series, roles: FrameRoles, key: str | None = None,
                     from_index: bool | None = None) -> str | None:
        """Why the frame's person key (or ``key``) cannot count people, or None: a key missing in some rows, or
        values that are not this project's pseudonyms of the dataset (keys the analyst wrote say nothing about who
        is who)."""
        key, dataset_id = key or roles.person_key, roles.key_dataset
        from_index = roles.key_from_index if from_index is None else from_index
        assert key is not None and dataset_id is not None  # asked only of a frame whose lineage names its key
        missing = int(persons.isna().sum())
        if missing:
            return (f"the person key {key!r} is missing in {missing:,} row(s), so the rows could not be counted as "
                    "people; drop those rows or make the table by spec from the source")
        pseudonymised = [key] if roles.key_pseudonymised or key != roles.person_key else []
        master = bytes.fromhex(self._ctx.secrets["pseudonymisation_key"])
        try:
            cache = self._ctx.vault.project_root(self.project_id) / "cache" / dataset_id
            with self._ctx.db.read() as conn:  # the version the project's grants cover, as its loads read
                dataset = dataset_row(conn, dataset_id)
                latest, pinned = versions.current(conn, dataset_id), granted_version(conn, self.project_id,
                                                                                      dataset_id)
                older = pinned is not None and pinned != latest  # a copy kept in the vault
                place = None if older else in_place.lookup(conn, self._ctx.vault.root, dataset)
            if place is not None:  # read in place: the key's values as a load gives them (person_id included)
                index = ProjectData(self._ctx, self.project_id).indexed_in_place(latest) if from_index else None
                genuine = in_place_frame(governed_in_place(place, dataset["record"].get("columns", []), [key],
                                                           pseudonymised, {}, project_key(master, self.project_id),
                                                           index=index), [key], pseudonymised)[key]
            else:
                genuine = person_ids.read_dataset(
                    self._ctx.vault.root, dataset_id,
                    versions.version_file(self._ctx.vault, dataset_id, pinned or latest, latest), [key],
                    pseudonymised, master, self.project_id, with_person_id=from_index,
                    cache=cache.with_name(f"{dataset_id}@v{pinned}") if older else cache)[key]
        except WorkbenchError:  # no data in the vault, or a key column that is not pseudonymised
            genuine = pd.Series([], dtype=object)
        unknown = int((~persons.isin(pd.Index(genuine.unique()))).sum())
        if unknown:
            what = "this project's pseudonyms" if roles.key_pseudonymised else "keys"
            return (f"{unknown:,} value(s) of the person key {key!r} are not {what} of {dataset_id}, so they "
                    "cannot say which rows are one person; keep the key as project.load "
                    "gives it, or make the table by spec from the source (p.tables.crosstab('dataset.id', ...))")
        return None

    @staticmethod
    def _refuse_identifier_groups(groups: list[Any], roles: FrameRoles) -> None:
        """A table grouped by an identifier (a pseudonymised direct or record identifier) is a list of people."""
        found = [g for g in groups if isinstance(g, str) and g in roles.identifiers]
        if found:
            dataset_id, role = roles.identifiers[found[0]]
            raise InvalidInput(f"{found[0]!r} is a {role.replace('_', ' ')} of {dataset_id}: a table grouped by it "
                               "has a row or column per person, so it is never released; group by other columns "
                               "(a person key is for counting people, not for grouping).", field="index")

    def _settings(self) -> Any:
        return Disclosure(self._ctx).settings()

    @staticmethod
    def _name(method: str, index: Any, columns: Any, values: Any, aggfunc: Any) -> str:
        def words(x: Any) -> str:
            return " and ".join(map(str, x)) if isinstance(x, list | tuple) else str(x)

        parts = [f"{aggfunc or 'count'} of {values}" if values is not None else "count", f"by {words(index)}"]
        if columns is not None:
            parts.append(f"and {words(columns)}")
        return f"{method}: {' '.join(parts)}"[:200]
