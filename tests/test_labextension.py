"""The JupyterLab extension ships with the package: built, installed and enabled, and its jest units pass."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extensions" / "workbench-labextension"
JLPM = Path(sys.executable).parent / "jlpm"


def test_the_lab_extension_is_installed_prebuilt() -> None:
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "workbench-labextension"
    meta = json.loads((installed / "package.json").read_text())
    assert meta["name"] == "workbench-labextension" and meta["jupyterlab"]["_build"]["load"]
    assert (installed / meta["jupyterlab"]["_build"]["load"]).exists()


def test_the_server_extension_is_enabled_on_install() -> None:
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "workbench.json"
    assert json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]["workbench.server"] is True


@pytest.mark.slow  # lint, format and jest over the extension's sources
def test_jest_units() -> None:
    env = {**os.environ, "CI": "true", "PATH": f"{JLPM.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not (EXTENSION / "node_modules").exists():  # a clone whose build was skipped: install what jest needs
        subprocess.run([str(JLPM), "install"], cwd=EXTENSION, env=env, check=True, capture_output=True, timeout=600)
    result = subprocess.run([str(JLPM), "test", "--ci"], cwd=EXTENSION, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "failed" not in result.stderr.split("Tests:")[-1].splitlines()[0]


# --- The TypeScript client's interfaces (src/api.ts) against docs/openapi.yaml -------------------------------------

API_TS = EXTENSION / "src" / "api.ts"
SPEC = ROOT / "docs" / "openapi.yaml"

OK = ("responses", "200", "content", "application/json", "schema")
BODY = ("requestBody", "content", "application/json", "schema")

# Each TypeScript interface (or a field's inline type: "Interface.field", "Interface.field[]") the client sends or
# reads, and where docs/openapi.yaml describes it: a component schema, or a route's answer or body ("[]" steps into
# an array's items, a name into a property). Request bodies only need the documented required fields to be
# required in TypeScript; answers must agree on optionality both ways.
ANSWERS: dict[str, tuple[str, ...]] = {
    "SearchPage": ("paths", "/catalogue", "get", *OK),
    "SearchResult": ("components", "schemas", "SearchResult"),
    "Facet": ("paths", "/catalogue", "get", *OK, "facets", "additionalProperties", "[]"),
    "OwnedDataset": ("paths", "/owner/datasets", "get", *OK, "datasets", "[]"),
    "CatalogueEntry": ("components", "schemas", "CatalogueEntry"),
    "CatalogueEntry.department": ("components", "schemas", "CatalogueEntry", "department"),
    "CatalogueEntry.owner": ("components", "schemas", "CatalogueEntry", "owner"),
    "CatalogueEntry.twin_preview": ("components", "schemas", "CatalogueEntry", "twin_preview"),
    "PersonIndexQuality": ("components", "schemas", "PersonIndexQuality"),
    "IndexMeasurement": ("components", "schemas", "PersonIndexQuality", "measured"),
    "IndexReview": ("paths", "/person-index/{dataset_id}/review", "get", *OK),
    "ReviewPair": ("paths", "/person-index/{dataset_id}/review", "get", *OK, "pairs", "[]"),
    "ReviewField": ("paths", "/person-index/{dataset_id}/review", "get", *OK, "pairs", "[]", "fields", "[]"),
    "IndexDecision": ("paths", "/person-index/{dataset_id}/review/decision", "post", *OK),
    "SchemaColumn": ("components", "schemas", "CatalogueEntry", "schema", "[]"),
    "EntryVersion": ("components", "schemas", "CatalogueEntry", "versions", "[]"),
    "EntryStorage": ("components", "schemas", "CatalogueEntry", "storage"),
    "Project": ("paths", "/projects", "get", *OK, "projects", "[]"),
    "AccessRequest": ("components", "schemas", "AccessRequest"),
    "QueueRow": ("paths", "/review/queue", "get", *OK, "requests", "[]"),
    "HistoryRow": ("paths", "/review/history", "get", *OK, "requests", "[]"),
    "RequestUnderReview": ("components", "schemas", "RequestUnderReview"),
    "RequestUnderReview.project": ("components", "schemas", "RequestUnderReview", "project"),
    "OutputRequestRecord": ("components", "schemas", "OutputRequest"),
    "OutputUnderReview": ("components", "schemas", "RequestUnderReview", "outputs", "[]"),
    "OutputUnderReview.failures[]": ("components", "schemas", "RequestUnderReview", "outputs", "[]", "failures", "[]"),
    "OutputReview": ("components", "schemas", "RequestUnderReview", "outputs", "[]", "reviews", "[]"),
    "FilePreview": ("components", "schemas", "RequestUnderReview", "outputs", "[]", "previews", "[]"),
    "CheckerAids": ("components", "schemas", "RequestUnderReview", "outputs", "[]", "aids"),
    "CheckedTable": ("components", "schemas", "CheckedTable"),
    "CheckedTable.rows[]": ("components", "schemas", "CheckedTable", "rows", "[]"),
    "CheckedCell": ("components", "schemas", "CheckedTable", "rows", "[]", "cells", "[]"),
    "Provenance": ("components", "schemas", "Provenance"),
    "DatasetVersion": ("components", "schemas", "Provenance", "datasets", "[]"),
    "ReleasedTable": ("components", "schemas", "ReleasedTable"),
    "ReleasedTable.rows[]": ("components", "schemas", "ReleasedTable", "rows", "[]"),
    "ReleasedCell": ("components", "schemas", "ReleasedTable", "rows", "[]", "cells", "[]"),
    "BlockedOutput": ("components", "schemas", "RequestUnderReview", "blocked", "[]"),
    "Release": ("paths", "/review/requests/{request_id}/release", "post", *OK),
    "ManifestSummary": ("paths", "/review/requests/{request_id}/release", "post", *OK, "manifest"),
    "PackageManifest": ("paths", "/review/requests/{request_id}/manifest", "get", *OK),
    "UsageReport": ("paths", "/owner/usage/{dataset_id}", "get", *OK),
    "MyOutputRequest": ("components", "schemas", "MyOutputRequest"),
    "MyOutputRequest.outputs[]": ("components", "schemas", "MyOutputRequest", "outputs", "[]"),
    "MyOutputRequest.files[]": ("components", "schemas", "MyOutputRequest", "files", "[]"),
    "AuditCheck": ("paths", "/admin/audit/verify", "get", *OK),
    "Draft": ("paths", "/owner/draft", "post", *OK),
    "Problem": ("components", "schemas", "Problem"),
}
# Answers whose document states no `required` list yet, so that their optionality cannot be compared (a schema that
# gains one is taken off this set by the test).
UNSTATED = {"SearchResult", "SchemaColumn", "Project", "AccessRequest", "OutputRequestRecord",
            "OutputUnderReview.failures[]", "Release", "PackageManifest", "UsageReport"}
BODIES: dict[str, tuple[str, ...]] = {
    "LabSource": ("paths", "/owner/draft", "post", *BODY),
    "RegisterBody": ("paths", "/owner/register", "post", *BODY),
    "NewRequest": ("paths", "/requests", "post", *BODY),
    "Decision": ("paths", "/requests/{request_id}/decision", "post", *BODY),
    "OutputDecision": ("paths", "/review/requests/{request_id}/outputs/{output_id}/decision", "post", *BODY),
    "Conclusion": ("paths", "/review/requests/{request_id}/conclusion", "post", *BODY),
    "IndexDecisionBody": ("paths", "/person-index/{dataset_id}/review/decision", "post", *BODY),
}


def _strip_comments(source: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", source, flags=re.S))


def _split_top(text: str, separators: str) -> list[str]:
    """``text`` cut at each separator outside brackets and strings."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char in "{[(<":
            depth += 1
        elif char in "}])>":
            depth -= 1
        elif char in separators and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    return [*parts, "".join(current)]


def _members(body: str) -> dict[str, tuple[bool, str]]:
    """An object type's body → {field: (optional, type)}; index signatures left out."""
    found = {}
    for member in _split_top(body, ";\n"):
        match = re.fullmatch(r"\s*(?:readonly\s+)?(\w+)(\??)\s*:\s*(.+?)\s*,?\s*", member, flags=re.S)
        if match:
            found[match[1]] = (bool(match[2]), match[3])
    return found


def _ts_interfaces(source: str) -> dict[str, dict[str, tuple[bool, str]]]:
    """Every ``export interface`` of ``source``: its fields, those of what it extends included."""
    source = _strip_comments(source)
    interfaces: dict[str, dict[str, tuple[bool, str]]] = {}
    for match in re.finditer(r"export interface (\w+)(?:\s+extends\s+([^{]+))?\s*\{", source):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[end], 0)
            end += 1
        fields: dict[str, tuple[bool, str]] = {}
        if match[2]:
            base = re.fullmatch(r"\s*(?:Omit<\s*(\w+)\s*,\s*([^>]+)>|(\w+))\s*", match[2])
            assert base, f"{match[1]} extends {match[2]}: not understood"
            omitted = set(re.findall(r"'(\w+)'", base[2] or ""))
            fields = {k: v for k, v in interfaces[base[1] or base[3]].items() if k not in omitted}
        interfaces[match[1]] = {**fields, **_members(source[match.end():end - 1])}
    return interfaces


def _ts_fields(interfaces: dict[str, dict[str, tuple[bool, str]]], name: str) -> dict[str, tuple[bool, str]]:
    """The fields of ``Interface`` or of ``Interface.field`` / ``Interface.field[]`` (an inline object type)."""
    interface, _, field = name.partition(".")
    if not field:
        return interfaces[interface]
    kind = interfaces[interface][field.removesuffix("[]")][1]
    kind = re.sub(r"\s*\|\s*null$", "", kind.strip())
    if field.endswith("[]"):
        kind = kind.removesuffix("[]")
    assert kind.startswith("{") and kind.endswith("}"), f"{name}: {kind} is not an inline object type"
    return _members(kind[1:-1])


def _schema(spec: dict, path: tuple[str, ...]) -> dict:
    """The object schema at ``path`` in the spec, references followed and ``allOf`` merged."""
    node = spec
    for step in path:
        node = _resolve(spec, node)
        node = node["items"] if step == "[]" else (node["properties"] if "properties" in node and step
                                                   not in node else node)[step]
    return _resolve(spec, node)


def _resolve(spec: dict, node: dict) -> dict:
    if "$ref" in node:
        return _resolve(spec, _at(spec, node["$ref"]))
    if "oneOf" in node:
        return _resolve(spec, next(n for n in node["oneOf"] if n.get("type") != "null"))
    if "allOf" in node:
        merged: dict = {"properties": {}, "required": []}
        for part in map(lambda n: _resolve(spec, n), node["allOf"]):
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    return node


def _at(spec: dict, ref: str) -> dict:
    node = spec
    for step in ref.removeprefix("#/").split("/"):
        node = node[step]
    return node


def _same_names(name: str, fields: dict, schema: dict) -> None:
    ts, documented = set(fields), set(schema.get("properties", {}))
    assert ts == documented, f"{name}: only in TypeScript {sorted(ts - documented)}, only in the document " \
                             f"{sorted(documented - ts)}"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(SPEC.read_text())


@pytest.fixture(scope="module")
def interfaces() -> dict[str, dict[str, tuple[bool, str]]]:
    return _ts_interfaces(API_TS.read_text())


@pytest.mark.parametrize("name", ANSWERS)
def test_answer_interfaces_match_the_openapi_document(name: str, spec: dict, interfaces: dict) -> None:
    fields, schema = _ts_fields(interfaces, name), _schema(spec, ANSWERS[name])
    _same_names(name, fields, schema)
    required = set(schema.get("required", []))
    if name in UNSTATED:
        assert not required, f"{name} states its required fields now: take it off UNSTATED"
        return
    optional_in_ts = {field for field, (optional, _kind) in fields.items() if optional}
    assert optional_in_ts == set(fields) - required, f"{name}: optional fields differ (document requires {required})"


@pytest.mark.parametrize("name", BODIES)
def test_request_bodies_match_the_openapi_document(name: str, spec: dict, interfaces: dict) -> None:
    fields, schema = _ts_fields(interfaces, name), _schema(spec, BODIES[name])
    _same_names(name, fields, schema)
    assert not {field for field, (optional, _kind) in fields.items() if optional} & set(schema.get("required", [])), (
        f"{name}: a field the document requires is optional in TypeScript")


def test_every_interface_of_the_client_is_checked(interfaces: dict) -> None:
    """A new request or answer type in src/api.ts is added to the tables above (or to the local-only set)."""
    # query-string parameters; a release's own free-form fields; a downloaded file (bytes, not JSON)
    local = {"SearchQuery", "ReleasedOutput", "DownloadedFile"}
    assert set(interfaces) - local == {name.partition(".")[0] for name in [*ANSWERS, *BODIES]}
