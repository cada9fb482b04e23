"""Catalogue records checked against the UK cross-government metadata exchange model.

The model is the published LinkML schema (``ukgov_metadata_model.yaml``, OGL v3) and the workbench's own
fields are a LinkML extension of it (``workbench_extension.yaml``); this module reads both and checks a
record against them — required fields, single vs. multiple values, ranges, enumerations, patterns, nested
classes, unknown fields — and returns the record normalised (ISO date strings, CURIEs, lists sorted where
order carries no meaning). ``linkml`` itself is not used: the model imports an organisation list that is
not published with it, and the subset of LinkML the model uses is small.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import InvalidInput
from workbench.ids import check_dataset_id

HERE = Path(__file__).parent
KINDS = ("Dataset", "Distribution", "ContactPoint")
# The model's OrganisationValues come from the GOV.UK organisation register, which is imported by the
# model but not published with it: we check the form of a GOV.UK organisation slug.
ORGANISATION_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Column roles (ColumnRoleValues in workbench_extension.yaml) whose values leave the vault only as the project's
# keyed pseudonyms: they identify a person or a record, so raw values would let extracts of different projects
# (or the data outside) be joined to them. Direct identifiers are also granted only when ticked; record
# identifiers are granted like any other column.
PSEUDONYMISED_ROLES = ("direct_identifier", "record_identifier")


class MetadataInvalid(InvalidInput):
    """A record that does not conform to the model; ``problems`` names every offending field."""


@dataclass(frozen=True)
class Slot:
    name: str
    range: str = "string"
    required: bool = False
    multivalued: bool = False
    ordered: bool = False
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    slot_uri: str | None = None
    designates_type: bool = False


@dataclass(frozen=True)
class ClassDef:
    name: str
    class_uri: str | None
    slots: dict[str, Slot]


def _load_yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def _slot_from(name: str, spec: dict[str, Any], base: Slot | None = None) -> Slot:
    slot = base or Slot(name=name)
    changes: dict[str, Any] = {}
    for key, attr in (("range", "range"), ("required", "required"), ("multivalued", "multivalued"),
                      ("ordered", "ordered"), ("pattern", "pattern"), ("minimum_value", "minimum"),
                      ("maximum_value", "maximum"), ("slot_uri", "slot_uri"),
                      ("designates_type", "designates_type")):
        if key in spec:
            changes[attr] = spec[key]
    return replace(slot, **changes)


class Schema:
    """The merged model: classes with their effective slots, enumerations and prefixes."""

    def __init__(self, model: dict[str, Any], extension: dict[str, Any]) -> None:
        self.prefixes: dict[str, str] = {**model.get("prefixes", {}), **extension.get("prefixes", {})}
        self.default_prefix = model.get("default_prefix", "ukgov_metadata")
        self.enums: dict[str, list[str]] = {}
        for source in (model, extension):
            for name, enum in (source.get("enums") or {}).items():
                self.enums[name] = list((enum.get("permissible_values") or {}).keys())
        self.enum_uris = {name: enum.get("enum_uri") for name, enum in (model.get("enums") or {}).items()}
        base_slots = {n: _slot_from(n, s or {}) for n, s in (model.get("slots") or {}).items()}
        base_slots.update({n: _slot_from(n, s or {}) for n, s in (extension.get("slots") or {}).items()})
        self.classes: dict[str, ClassDef] = {}
        model_classes = model.get("classes") or {}
        ext_classes = extension.get("classes") or {}
        for name in [*model_classes, *(c for c in ext_classes if c not in model_classes)]:
            chain = self._is_a_chain(name, model_classes)
            slots: dict[str, Slot] = {}
            for cls in chain:
                for source in (model_classes.get(cls) or {}, ext_classes.get(cls) or {}):
                    for slot_name in source.get("slots") or []:
                        slots[slot_name] = base_slots[slot_name]
                    for slot_name, usage in (source.get("slot_usage") or {}).items():
                        slots[slot_name] = _slot_from(slot_name, usage or {}, slots[slot_name])
            spec = model_classes.get(name) or ext_classes.get(name) or {}
            self.classes[name] = ClassDef(name, spec.get("class_uri"), slots)

    @staticmethod
    def _is_a_chain(name: str, classes: dict[str, Any]) -> list[str]:
        chain = [name]
        while (parent := (classes.get(chain[0]) or {}).get("is_a")):
            chain.insert(0, parent)
        return chain

    def expand(self, curie: str) -> str:
        """A CURIE (``dcat:Dataset``) as a full URI; full URIs pass through."""
        prefix, _, local = curie.partition(":")
        if prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return curie

    def slot_uri(self, slot: Slot) -> str:
        return self.expand(slot.slot_uri or f"{self.default_prefix}:{slot.name}")


@cache
def schema() -> Schema:
    """The merged UK model + workbench extension (read once)."""
    return Schema(_load_yaml(HERE / "ukgov_metadata_model.yaml"),
                  _load_yaml(HERE / "workbench_extension.yaml"))


class _Checker:
    def __init__(self, model: Schema) -> None:
        self.model = model
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def check_class(self, cls: ClassDef, doc: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(doc, dict):
            self.fail(path or cls.name, f"expected a mapping of {cls.name} fields, got {_kind_of(doc)}")
            return None
        out: dict[str, Any] = {}
        for key in doc:
            if key not in cls.slots:
                hint = difflib.get_close_matches(str(key), cls.slots, n=1)
                self.fail(_join(path, str(key)), f"is not a field of {cls.name}"
                          + (f" (did you mean {hint[0]!r}?)" if hint else
                             f"; its fields are {', '.join(cls.slots)}"))
        for name, slot in cls.slots.items():
            value = doc.get(name)
            where = _join(path, name)
            if _missing(value):
                if slot.required:
                    self.fail(where, f"is required in {cls.name} but missing")
                continue
            checked: Any
            if slot.designates_type:
                checked = self.check_type_designator(cls, value, where)
            elif slot.multivalued:
                checked = self.check_many(slot, value, where)
            elif isinstance(value, list | tuple):
                self.fail(where, f"takes a single value, got a list of {len(value)}")
                continue
            else:
                checked = self.check_value(slot, value, where)
            if checked is not None:
                out[name] = checked
        return out

    def check_type_designator(self, cls: ClassDef, value: Any, where: str) -> str | None:
        expected = cls.class_uri or cls.name
        if value in (expected, self.model.expand(expected)):
            return expected
        self.fail(where, f"must be {expected!r} for a {cls.name}, got {value!r}")
        return None

    def check_many(self, slot: Slot, value: Any, where: str) -> list[Any] | None:
        items = list(value) if isinstance(value, list | tuple) else [value]
        out = []
        for i, item in enumerate(items):
            if _missing(item):
                self.fail(f"{where}[{i}]", "is empty")
                continue
            checked = self.check_value(slot, item, f"{where}[{i}]")
            if checked is not None:
                out.append(checked)
        if slot.ordered:
            return out
        unique = {repr(v): v for v in out}
        return sorted(unique.values(), key=lambda v: (str(type(v)), v))

    def check_value(self, slot: Slot, value: Any, where: str) -> Any:
        rng = slot.range
        if rng in self.model.classes:
            return self.check_class(self.model.classes[rng], value, where)
        if rng == "CompletenessMap":
            return self.check_completeness(value, where)
        checked = self.check_scalar(slot, value, where)
        if checked is None:
            return None
        if slot.pattern and isinstance(checked, str) and not re.search(slot.pattern, checked):
            self.fail(where, f"{checked!r} does not have the required form (pattern {slot.pattern})")
            return None
        if isinstance(checked, int | float) and not isinstance(checked, bool):
            if slot.minimum is not None and checked < slot.minimum:
                self.fail(where, f"{checked!r} is below the minimum {slot.minimum!r}")
                return None
            if slot.maximum is not None and checked > slot.maximum:
                self.fail(where, f"{checked!r} is above the maximum {slot.maximum!r}")
                return None
        return checked

    def check_scalar(self, slot: Slot, value: Any, where: str) -> Any:
        rng = slot.range
        if isinstance(value, dict | list | tuple):
            self.fail(where, f"expected a single {rng} value, got {_kind_of(value)}")
            return None
        if rng in self.model.enums:
            allowed = self.model.enums[rng]
            if value in allowed:
                return value
            self.fail(where, f"{value!r} is not a permitted value; use one of {', '.join(allowed)}")
            return None
        if rng == "OrganisationValues":
            if isinstance(value, str) and ORGANISATION_SLUG.match(value):
                return value
            self.fail(where, f"{value!r} is not a GOV.UK organisation slug (e.g. 'office-for-national-"
                             "statistics')")
            return None
        if rng == "string":
            if isinstance(value, bool):
                self.fail(where, f"expected text, got {value!r}")
                return None
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, int | float):
                return str(value)
            if isinstance(value, str):
                return value
        elif rng == "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            self.fail(where, f"expected a whole number, got {value!r}")
            return None
        elif rng == "float":
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
            self.fail(where, f"expected a finite number, got {value!r}")
            return None
        elif rng == "date":
            if isinstance(value, dt.datetime):
                self.fail(where, f"expected a date (YYYY-MM-DD), got a date and time {value!r}")
                return None
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, str) and ISO_DATE.match(value):
                try:
                    return dt.date.fromisoformat(value).isoformat()
                except ValueError:
                    pass
            self.fail(where, f"expected a date as YYYY-MM-DD, got {value!r}")
            return None
        elif rng == "uri":
            if isinstance(value, str) and URI.match(value):
                return value
            self.fail(where, f"expected an absolute URI (e.g. https://...), got {value!r}")
            return None
        elif rng == "uriorcurie":
            # LinkML checks only that this is text; a relative reference (a name in the publisher's
            # register) is allowed, but never whitespace.
            if isinstance(value, str) and not re.search(r"\s", value):
                return self.model.expand(value)
            self.fail(where, f"expected a URI, a CURIE (prefix:name) or a reference without spaces, "
                             f"got {value!r}")
            return None
        self.fail(where, f"expected {rng}, got {_kind_of(value)}")
        return None

    def check_completeness(self, value: Any, where: str) -> dict[str, float] | None:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping of column name to share 0–1, got {_kind_of(value)}")
            return None
        out = {}
        for name, share in value.items():
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                self.fail(f"{where}.{name}", f"expected a share between 0 and 1, got {share!r}")
            else:
                out[str(name)] = round(float(share), 4)
        return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return f"{type(value).__name__} {value!r}"


def detect_kind(doc: Any, source: str = "record") -> str:
    """Which model class a document describes: from its ``type``, else a bare contact point."""
    model = schema()
    if isinstance(doc, dict):
        declared = doc.get("type")
        for kind in KINDS:
            uri = model.classes[kind].class_uri
            if uri and declared in (uri, model.expand(uri)):
                return kind
        if declared is None and doc and set(doc) <= set(model.classes["ContactPoint"].slots):
            return "ContactPoint"
        if declared is not None:
            raise MetadataInvalid(
                f"{source}: type: {declared!r} is not a catalogue type the workbench imports; use 'dcat:Dataset' or "
                "'dcat:Distribution' (a contact point has no type).", field="type")
    raise MetadataInvalid(
        f"{source}: type: required field missing: say what the record describes with type: dcat:Dataset or "
        "type: dcat:Distribution.", field="type")


def validate(doc: Any, kind: str | None = None, *, source: str = "record") -> dict[str, Any]:
    """Check ``doc`` as a ``kind`` (detected when None); return it normalised or raise ``MetadataInvalid``."""
    if kind is None:
        kind = detect_kind(doc, source)
    if kind not in KINDS:
        raise InvalidInput(f"Unknown record kind {kind!r}; use one of {', '.join(KINDS)}.", field="kind")
    checker = _Checker(schema())
    record = checker.check_class(schema().classes[kind], doc, "")
    if record is not None and kind == "Dataset":
        _check_dataset_rules(record, checker)
    if checker.problems or record is None:
        problems = checker.problems
        listed = "; ".join(f"{field}: {message}" for field, message in problems)
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        raise MetadataInvalid(
            f"{source} is not a valid {kind} in the UK cross-government metadata model ({count}): {listed}. "
            "Nothing was imported.", field=problems[0][0], problems=problems)
    return record


def _check_date_bounds(column: dict[str, Any], i: int, checker: _Checker) -> None:
    """A date column's public range: only date columns have one, and it does not end before it starts."""
    first, last = column.get("earliestDate"), column.get("latestDate")
    if first is None and last is None:
        return
    if column.get("type") != "date":
        checker.fail(f"columns[{i}].earliestDate", f"only date columns have earliest and latest dates, and "
                                                   f"{column.get('name')!r} is {column.get('type')!r}")
    elif first is not None and last is not None and first > last:
        checker.fail(f"columns[{i}].latestDate", f"the latest date of {column.get('name')!r} ({last}) is before "
                                                 f"its earliest ({first})")


def _check_dataset_rules(record: dict[str, Any], checker: _Checker) -> None:
    """Rules across fields that a schema language cannot say."""
    if "localId" in record:
        try:
            check_dataset_id(record["localId"])
        except InvalidInput as exc:
            checker.fail("localId", str(exc).removeprefix("localId: "))
    columns = record.get("columns") or []
    seen: set[str] = set()
    for i, column in enumerate(columns):
        name = column.get("name")
        if name in seen:
            checker.fail(f"columns[{i}].name", f"{name!r} appears twice; column names must be unique")
        seen.add(name)
        if column.get("type") == "category" and not column.get("categories"):
            checker.fail(f"columns[{i}].categories",
                         f"category column {name!r} must list its permissible values")
        if column.get("role") in PSEUDONYMISED_ROLES and column.get("type") not in ("string", "integer", "category"):
            checker.fail(f"columns[{i}].type", f"{name!r} is a {column['role'].replace('_', ' ')}, which projects "
                                               "receive as pseudonyms, defined for text and whole numbers only; "
                                               f"declare it 'string' or 'integer', not {column.get('type')!r}")
        bounds = [column.get(k) for k in ("lowerBound", "upperBound")]
        if any(v is not None for v in bounds) and column.get("type") not in ("integer", "float"):
            checker.fail(f"columns[{i}].lowerBound", f"only numeric columns have bounds, and {name!r} is "
                                                     f"{column.get('type')!r}")
        elif None not in bounds and bounds[0] >= bounds[1]:
            checker.fail(f"columns[{i}].upperBound", f"the upper bound of {name!r} ({bounds[1]!r}) must be above "
                                                     f"its lower bound ({bounds[0]!r})")
        if column.get("categories") and column.get("type") != "category":
            checker.fail(f"columns[{i}].categories", f"only category columns list categories, and "
                                                      f"{name!r} is {column.get('type')!r}")
        _check_date_bounds(column, i, checker)
    if record.get("personKey") is not None and record["personKey"] not in seen:
        checker.fail("personKey", f"{record['personKey']!r} is not a column of the schema; name the column that "
                                  "identifies the person")
    completeness = record.get("completeness") or {}
    if completeness and not columns:
        checker.fail("completeness", "needs the columns it describes: give columns as well")
    elif set(completeness) - seen:
        checker.fail("completeness", f"names columns not in the schema: {', '.join(sorted(set(completeness) - seen))}")
    coverage = record.get("temporalCoverage")
    if coverage and coverage.get("start") and coverage.get("end") and coverage["start"] > coverage["end"]:
        checker.fail("temporalCoverage", f"starts ({coverage['start']}) after it ends ({coverage['end']})")
