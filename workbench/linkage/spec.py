"""The declarative linkage specification: which fields to compare, how, and which pairs to consider at all.

A ``LinkageSpec`` is plain data (it round-trips through ``to_dict``/``from_dict`` and is stored with every
governed run), so the same spec drives both engines and can be read back later. ``infer_spec`` builds a
sensible one from ordinary column names, so most users never write one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from workbench.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

# kind → the comparison levels it scores, best first (level numbers count down to 1; 0 is "none of these",
# -1 "missing on either side" and carries no evidence)
LEVELS: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "same name group (nickname)", "Jaro-Winkler >= 0.92", "Jaro-Winkler >= 0.80",
                   "given name and surname swapped"),
    "surname": ("exact", "Jaro-Winkler >= 0.92", "Jaro-Winkler >= 0.80"),
    "string": ("exact", "Jaro-Winkler >= 0.92", "Jaro-Winkler >= 0.80"),
    "identifier": ("exact", "Levenshtein <= 1", "Levenshtein <= 2"),
    "date": ("exact", "day and month transposed", "year off by one", "one digit differs"),
    "postcode": ("exact", "same sector", "same district"),
    "exact": ("exact",),
    "numeric": ("exact", "within tolerance"),
}
KINDS = tuple(LEVELS)

# key transforms usable in blocking rules: "field" or "field:transform"
TRANSFORMS = ("value", "initial", "first3", "soundex", "year", "month_day", "year_month", "date_unordered", "district",
              "sector")

# ordinary column names → what they hold (lower-cased, separators removed before matching): a row a role, with
# its kind and the names that mean it; the first role listed that a column matches is the column's
_NAME_TABLE = """
given_name    given_name  (given_?name|forename|first_?name|firstname|fname|christian_?name)s?
surname       surname     surname|last_?name|family_?name|lname
dob           date        dob|date_?of_?birth|birth_?date|birthdate|d_o_b
sex           exact       sex|gender
postcode      postcode    postcode|post_?code|postal_?code|zip|zip_?code
address_1     string      address|address_?1|address_?line_?1|street|street_?name
address_2     string      address_?2|address_?line_?2
street_number string      street_?number|house_?number|house_?no
town          string      suburb|town|city|locality|post_?town
state         exact       state|county|region_?code
nhs_number    identifier  nhs_?number|nhs_?no
nino          identifier  nino|ni_?number|national_?insurance_?number
soc_sec_id    identifier  soc_?sec_?id|social_?security_?(id|number)|ssn
"""
_NAME_PATTERNS: tuple[tuple[str, str, str], ...] = tuple(
    (role, kind, f"^({names})$") for role, kind, names in map(str.split, _NAME_TABLE.strip().splitlines()))


FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # a field's name becomes SQL identifiers in Splink


@dataclass(frozen=True)
class Field:
    """One compared field: ``name`` in the spec, read from column ``left`` (and ``right``) and compared as
    ``kind``. ``tf`` adjusts exact agreement for how common the value is; ``tolerance`` is for numbers."""

    name: str
    kind: str
    left: str
    right: str
    tf: bool = False
    tolerance: float = 0.0

    @property
    def levels(self) -> tuple[str, ...]:
        return LEVELS[self.kind]


@dataclass(frozen=True)
class LinkageSpec:
    """Fields to compare and blocking rules (a union: a pair is considered if any rule's keys all agree).

    ``max_pairs`` refuses blocking that would compare more pairs than that (estimated before comparing);
    ``threshold`` is a match weight, or None to choose the one that maximises the model's expected F1.
    """

    fields: tuple[Field, ...]
    blocking: tuple[tuple[str, ...], ...]
    threshold: float | None = None
    one_to_one: bool = True
    max_pairs: int = 50_000_000
    max_iterations: int = 200

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise InvalidInput(f"spec: no field {name!r}; the spec has {', '.join(f.name for f in self.fields)}.",
                           field="spec")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fields"] = [asdict(f) for f in self.fields]
        out["blocking"] = [list(rule) for rule in self.blocking]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageSpec:
        if not isinstance(data, dict) or "fields" not in data:
            raise InvalidInput("spec: give a LinkageSpec or a dict with 'fields' and 'blocking'.", field="spec")
        try:
            fields = tuple(Field(**f) if isinstance(f, dict) else f for f in data["fields"])
            blocking = tuple(tuple([r] if isinstance(r, str) else r) for r in data.get("blocking") or ())
            extra = {k: data[k] for k in ("threshold", "one_to_one", "max_pairs", "max_iterations") if k in data}
        except TypeError as error:
            raise InvalidInput(f"spec: {error}; fields take name, kind, left, right, tf, tolerance.",
                               field="spec") from None
        return check_spec(cls(fields=fields, blocking=blocking or default_blocking(fields), **extra))


def _normal_name(column: str) -> str:
    return re.sub(r"[\s\-.]+", "_", str(column).strip().lower())


def _role_of(column: str) -> tuple[str, str] | None:
    name = _normal_name(column)
    for role, kind, pattern in _NAME_PATTERNS:
        if re.match(pattern, name):
            return role, kind
    return None


def default_blocking(fields: tuple[Field, ...]) -> tuple[tuple[str, ...], ...]:
    """Blocking rules for the fields present: strong compound keys, so a record with one field wrong still meets
    its match through another rule, while no rule compares everyone with everyone."""
    names = {f.name: f for f in fields}
    given, surname = names.get("given_name"), names.get("surname")
    dob, postcode = names.get("dob"), names.get("postcode")
    rules: list[tuple[str, ...]] = []
    if dob and surname:
        rules.append(("dob", "surname:initial"))
    if dob and given:
        rules.append(("dob", "given_name:initial"))
    if postcode and given:
        rules.append(("postcode", "given_name:initial"))
    if postcode and surname:
        rules.append(("postcode", "surname:initial"))
    if given and surname:
        rules.append(("given_name:soundex", "surname:soundex") + (("dob:year",) if dob else ()))
    # names swapped or changed: other identifiers must carry the pair
    if dob and postcode:
        rules.append(("dob", "postcode:district"))
        rules.append(("postcode", "dob:month_day"))
    if surname and postcode:
        rules.append(("surname", "postcode:district"))
    for f in fields:
        if f.kind == "identifier":
            rules.append((f.name,))
    if not rules:  # few recognised fields: pairs of whatever is there
        usable = [f.name for f in fields if f.kind != "numeric"] or [f.name for f in fields]
        pairs: list[tuple[str, ...]] = [(a, b) for i, a in enumerate(usable) for b in usable[i + 1:]]
        rules = pairs[:4] or [(n,) for n in usable[:1]]
    return tuple(rules)


def candidate_blocking(fields: tuple[Field, ...]) -> tuple[tuple[str, ...], ...]:
    """Rules to choose blocking from (``blocking.choose_blocking`` keeps those the data say are worth their
    pairs): the defaults, and rules that still meet a record whose date of birth and postcode are both wrong —
    phonetic and first-letter name keys, a date with day and month in either order, year and month, year."""
    names = {f.name: f for f in fields}
    given, surname = names.get("given_name"), names.get("surname")
    dob, sex, postcode = names.get("dob"), names.get("sex"), names.get("postcode")
    address = names.get("address_1")
    rules = list(default_blocking(fields))
    with_sex: tuple[str, ...] = ("sex",) if sex else ()
    if given and surname:
        rules.append(("surname:soundex", "given_name:first3", *with_sex))
        rules.append(("surname", "given_name"))
        if dob:
            rules.append(("surname:soundex", "given_name:initial", "dob:year"))
    if dob:
        for name in ("surname", "given_name"):
            if name in names:
                rules.append(("dob:date_unordered", f"{name}:initial"))
                rules.append(("dob:year_month", f"{name}:soundex"))
                rules.append((name, "dob:year"))
        if postcode:
            rules.append(("postcode", "dob:year"))
    if address:
        for name in ("surname", "given_name", "postcode"):
            if name in names:
                rules.append(("address_1", f"{name}:initial" if name != "postcode" else "postcode:district"))
    unique: list[tuple[str, ...]] = []
    for rule in rules:
        if rule not in unique:
            unique.append(rule)
    return tuple(unique[:30])


def infer_spec(left: pd.DataFrame, right: pd.DataFrame | None = None, *, choose: bool = True) -> LinkageSpec:
    """A spec from column names: given_name/forename/first_name, surname/last_name, dob/date_of_birth, sex,
    postcode, address lines, town, NHS number... matched across the two frames by what they hold, with blocking
    rules chosen from the records (``choose=False``: the default rules for the fields found, without reading
    the data)."""
    dedupe = right is None
    right = left if right is None else right
    left_roles = {r[0]: (c, r[1]) for c in left.columns if (r := _role_of(c))}
    right_roles = {r[0]: (c, r[1]) for c in right.columns if (r := _role_of(c))}
    common = [role for role, _kind, _p in _NAME_PATTERNS if role in left_roles and role in right_roles]
    if not common:
        raise InvalidInput(
            "spec: the frames share no column the workbench knows how to link on (looked for given_name/"
            f"forename/first_name, surname/last_name, dob/date_of_birth, sex, postcode, address, ...). Left has "
            f"{', '.join(map(str, left.columns)) or 'no columns'}; right has "
            f"{', '.join(map(str, right.columns)) or 'no columns'}. Rename columns or pass a LinkageSpec.",
            field="spec")
    fields = tuple(Field(name=role, kind=left_roles[role][1], left=str(left_roles[role][0]),
                         right=str(right_roles[role][0]), tf=role in ("surname", "given_name"))
                   for role in common)
    spec = check_spec(LinkageSpec(fields=fields, blocking=default_blocking(fields)))
    if not choose or not len(left) or not len(right):
        return spec
    # here, not at the top: choosing from the data needs numpy and pandas, which ``import workbench.linkage``
    # (the spec and its checks) must not load
    from workbench.linkage.blocking import choose_blocking
    from workbench.linkage.standardise import prepare_fields

    try:
        prepared = prepare_fields(spec, left, right, dedupe)
    except InvalidInput:  # a field missing throughout: ``link`` says so; the spec keeps its default rules
        return spec
    rules, _report = choose_blocking(spec, prepared, dedupe, candidate_blocking(fields))
    return replace(spec, blocking=rules)


def check_spec(spec: Any) -> LinkageSpec:
    """Refuse a malformed spec, naming every problem at once."""
    if isinstance(spec, dict):
        return LinkageSpec.from_dict(spec)
    if not isinstance(spec, LinkageSpec):
        raise InvalidInput(f"spec: give a LinkageSpec, a dict, or None to infer one; not {type(spec).__name__}.",
                           field="spec")
    problems: list[str] = []
    if not spec.fields:
        problems.append("it compares no fields")
    names = [f.name for f in spec.fields]
    if len(set(names)) != len(names):
        problems.append("field names repeat")
    for f in spec.fields:
        if not isinstance(f, Field):
            problems.append(f"{f!r} is not a Field")
            continue
        if not isinstance(f.name, str) or not FIELD_NAME.fullmatch(f.name):
            problems.append(f"field name {f.name!r} is not a name of letters, digits and '_' (starting with a letter "
                            "or '_', at most 63 characters): it names the field's columns in the linkage engines")
            continue
        if f.kind not in LEVELS:
            problems.append(f"field {f.name!r} has kind {f.kind!r}; use one of {', '.join(KINDS)}")
        if f.kind == "numeric" and (isinstance(f.tolerance, bool) or not isinstance(f.tolerance, int | float)
                                    or not 0 <= f.tolerance < float("inf")):
            problems.append(f"field {f.name!r} needs a tolerance >= 0")
    if not spec.blocking:
        problems.append("it has no blocking rule (every pair would be compared); give at least one")
    for rule in spec.blocking:
        for key in rule:
            name, _, transform = str(key).partition(":")
            if name not in names:
                problems.append(f"blocking key {key!r} names no field of the spec")
            elif (transform or "value") not in TRANSFORMS:
                problems.append(f"blocking key {key!r}: transform {transform!r} is not one of {', '.join(TRANSFORMS)}")
    if spec.threshold is not None and (isinstance(spec.threshold, bool)
                                       or not isinstance(spec.threshold, int | float)):
        problems.append("threshold must be a match weight (a number) or None")
    if isinstance(spec.max_pairs, bool) or not isinstance(spec.max_pairs, int) or spec.max_pairs < 1:
        problems.append("max_pairs must be a positive whole number")
    if problems:
        raise InvalidInput(f"spec: {'; '.join(problems)}.", field="spec")
    return spec


__all__ = ["KINDS", "LEVELS", "Field", "LinkageSpec", "candidate_blocking", "check_spec", "default_blocking",
           "infer_spec"]
