"""docs/openapi.yaml and the server's routes describe the same API: a new route cannot go undocumented."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from workbench.server.handlers import WorkbenchHandler
from workbench.server.routes import API_PREFIX, handlers, openapi_path

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")


def served_operations() -> set[tuple[str, str]]:
    """(path, method) of every documented route the server registers (the JSON 404 fallback excluded)."""
    *routes, _fallback = handlers()
    return {(openapi_path(pattern), method) for pattern, handler in routes for method in METHODS
            if method in vars(handler)}


def test_spec_is_openapi_3_1() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"][0]["url"] == "/" + API_PREFIX


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method in METHODS}
    assert served_operations() == documented


def test_documented_path_parameters_match_the_routes() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    components = spec["components"]["parameters"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            named = {(components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p)["name"]
                     for p in operation.get("parameters", [])
                     if (components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p)["in"] == "path"}
            assert named == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (path, method)


def test_every_handler_is_a_workbench_handler() -> None:
    assert all(issubclass(handler, WorkbenchHandler) for _pattern, handler in handlers())



def _validator(schema: dict):
    """A JSON Schema validator for ``schema`` whose ``$ref``s resolve to docs/openapi.yaml's components."""
    from jsonschema import Draft202012Validator

    components = yaml.safe_load(SPEC.read_text())["components"]
    return Draft202012Validator({"components": components, **schema})  # formats as annotations, as 3.1 reads them


def test_the_documented_provenance_views_match_what_the_server_answers(desk) -> None:
    """The checker's request detail and the owner's usage report, with a computed and an analyst-supplied
    output, answer what docs/openapi.yaml says (provenance, the released table, the outputs section)."""
    from helpers import ANALYST, CHECKER, DATASET, OWNER, PROJECT

    from workbench.disclosure.tables import crosstab
    from workbench.server.handlers import jsonable, review_detail

    ws = desk(ANALYST)
    project = ws.project(PROJECT)
    data = project.load(DATASET)
    computed = project.outputs.record(
        crosstab(data["age_band"], data["length_of_stay"], settings=ws.disclosure.settings()), name="computed",
        derived_from=[DATASET], origin={"source": DATASET, "kind": "dataset", "version": "2025-06-30",
                                        "sha256": "0" * 64, "datasets": [DATASET],
                                        "spec": {"method": "crosstab", "index": "age_band"}})
    supplied = project.tables.crosstab(data, "age_band", "length_of_stay", name="supplied")
    context = {"shown": "Admissions", "population": "Test patients, 2025", "purpose": "A report",
               "differences": "First release"}
    request = project.outputs.submit([computed, supplied], title="Admissions", context=context)
    detail = json.loads(json.dumps(jsonable(review_detail(desk(CHECKER), request.id))))
    _validator({"$ref": "#/components/schemas/RequestUnderReview"}).validate(detail)
    assert [o["provenance"]["class"] for o in detail["outputs"]] == ["computed", "analyst-supplied"]
    usage_schema = yaml.safe_load(SPEC.read_text())["paths"]["/owner/usage/{dataset_id}"]["get"]["responses"][
        "200"]["content"]["application/json"]["schema"]
    usage = json.loads(json.dumps(jsonable(desk(OWNER).owner.usage(DATASET))))
    _validator(usage_schema).validate(usage)
    assert {o["provenance"] for o in usage["outputs"]} == {"computed", "analyst-supplied"}
