"""docs/openapi.yaml and the server's routes describe the same API: a new route cannot go undocumented."""

from __future__ import annotations

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
