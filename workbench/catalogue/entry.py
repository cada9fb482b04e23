"""A catalogue entry as users see it: the record, its schema and quality, and a rich notebook display."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import unquote

import pandas as pd
import yaml

from workbench.catalogue.dcat import to_jsonld
from workbench.labels import code_label, date, table_html


def theme_label(theme: str) -> str:
    """The human label of a theme URI (``...filters%5Btopic%5D=Health`` → ``Health``)."""
    tail = theme.rstrip("/").replace("#", "/").replace("=", "/").rsplit("/", 1)[-1]
    return unquote(tail).replace("_", " ").strip() or theme


@dataclass(frozen=True)
class Entry:
    """One dataset in the catalogue (UK metadata model record + workbench fields)."""

    record: dict[str, Any]
    owner_name: str | None = None
    department_name: str | None = None
    has_data: bool = False
    # what the catalogue noticed but did not refuse (e.g. a record key registered with role 'other')
    warnings: tuple[str, ...] = ()
    # the synthetic twin last made (epsilon, made_at as ISO text) and the twin budget (budget, spent), if any
    twin: dict[str, Any] | None = None
    # columns the workbench provides beside the owner's (the person index's ``person_id``): grantable like the
    # owner's columns, never part of the record itself (exports and twins hold the owner's columns only)
    provided: tuple[dict[str, Any], ...] = ()
    # its person-index coverage and quality record, only for its owner, delegates, admins and linkers (else None)
    person_index: dict[str, Any] | None = None
    # every version of its data, oldest first: number, registeredAt, registeredBy, rows, checksum (the stored
    # file's SHA-256) or marker (the source's snapshot, for data read in place), mode, current
    versions: tuple[dict[str, Any], ...] = ()
    # where its data is held: {"mode": "copy"} (copied into the vault) or {"mode": "in-place", "kind", "location",
    # "table", "source"} (read at its source, named without any login); None when it is catalogued without data
    storage: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.record["localId"]

    @property
    def identifier(self) -> str:
        return self.record["identifier"]

    @property
    def title(self) -> str:
        return self.record["title"]

    @property
    def owner(self) -> str | None:
        return self.record.get("dataOwner")

    @property
    def department(self) -> str:
        return self.record["department"]

    @property
    def missions(self) -> list[int]:
        return list(self.record.get("mission", []))

    @property
    def row_count(self) -> int | None:
        return self.record.get("rowCount")

    @property
    def schema(self) -> pd.DataFrame:
        """Columns with type, disclosure role, completeness and description: the owner's, then any the workbench
        provides (the person index's ``person_id``), which may be requested like the others."""
        completeness = self.record.get("completeness", {})
        rows = [{"name": c["name"], "type": c["type"], "role": c["role"],
                 "completeness": completeness.get(c["name"]), "categories": c.get("categories"),
                 "description": c.get("description", "")} for c in [*self.record.get("columns", []), *self.provided]]
        return pd.DataFrame(rows, columns=["name", "type", "role", "completeness", "categories", "description"])

    @property
    def twin_summary(self) -> str:
        """The twin's privacy loss and when it was made, in words ('' when none was made)."""
        t = self.twin
        if not t or t.get("epsilon") is None:
            return ""
        return (f"ε = {t['epsilon']:g}, made {t['made_at'][:16].replace('T', ' ')} UTC; twin budget ε = "
                f"{t['spent']:.4g} spent of {t['budget']:g}")

    @property
    def versions_summary(self) -> str:
        """Its data's versions in words, newest first ('' when none was registered)."""
        return "; ".join(
            f"v{v['number']}{' (current)' if v['current'] else ''}: {date(v['registeredAt'][:10])}, "
            f"{'unknown' if v['rows'] is None else format(v['rows'], ',')} rows"
            + (f", SHA-256 {v['checksum'][:12]}…" if v.get("checksum") else
               f", snapshot {v['marker']}" if v.get("marker") else "")
            for v in reversed(self.versions))

    @property
    def storage_summary(self) -> str:
        """Where its data is held, in words ('' when it has none)."""
        if not self.storage:
            return ""
        if self.storage["mode"] == "copy":
            return "copied into the vault"
        where = self.storage.get("source")  # named only to the dataset's owner, delegates and admins
        return f"in place: {where} (read at its source, nothing copied)" if where else \
            "in place (read at its source, nothing copied)"

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.record)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.record, sort_keys=False, allow_unicode=True)

    def to_jsonld(self) -> str:
        return to_jsonld([self.record])

    def __repr__(self) -> str:
        if not self.warnings:
            return f"<Entry {self.id}: {self.title}>"
        count = f"{len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}"
        return f"<Entry {self.id}: {self.title} — {count}: {' '.join(self.warnings)}>"

    def _repr_html_(self) -> str:
        r = self.record
        facts = [
            ("Identifier", r["identifier"]),
            ("Department", self.department_name or r["department"]),
            ("Data owner", f"{self.owner_name} ({r['dataOwner']})" if r.get("dataOwner") else "unassigned"),
            ("Publisher", r["publisher"]),
            ("Missions", ", ".join(map(str, r.get("mission", []))) or "none"),
            ("Legal gateways", "; ".join(code_label(g) for g in r.get("legalGateway", [])) or "none"),
            ("Access rights", code_label(r["accessRights"])),
            ("Security classification", code_label(r["securityClassification"])),
            ("Update frequency", code_label(r["updateFrequency"])),
            ("Modified", date(r["modified"])),
            ("Rows", f"{r['rowCount']:,}" if r.get("rowCount") is not None else "unknown"),
            ("Coverage", " to ".join(date(d) for d in r["temporalCoverage"].values())
             if r.get("temporalCoverage") else ""),
            ("Area", r.get("spatialCoverage", "")),
            ("Themes", ", ".join(theme_label(t) for t in r.get("theme", []))),
            ("Keywords", ", ".join(r.get("keyword", []))),
            ("Contact", f"{r['contactPoint']['contactName']} <{r['contactPoint']['email']}>"),
            ("Lineage", r.get("lineage", "")),
            ("Synthetic twin", self.twin_summary),
            ("Data held", self.storage_summary),
            ("Versions", self.versions_summary),
        ]
        facts_html = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>"
                             f"{escape(str(v))}</td></tr>" for k, v in facts if v)
        schema = self.schema
        schema_html = table_html(schema.drop(columns=["categories"])) if len(schema) else ""
        warnings_html = "".join(f"<p class='workbench-warning'>&#9888; {escape(w)}</p>" for w in self.warnings)
        return (f"<div class='workbench-entry'><h3>{escape(r['title'])} <code>{escape(self.id)}</code></h3>"
                f"{warnings_html}<p>{escape(r['description'])}</p><table>{facts_html}</table>{schema_html}</div>")
