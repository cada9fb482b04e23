"""The layers hold: imports point downward (interfaces → services → store) and no module imports itself round a
cycle. The layer of every module is written here, once; docs/architecture.md describes what they mean.

Imports inside functions count like imports at the top (a lazy import is still a dependency); imports under
``if TYPE_CHECKING:`` do not (they never run). Importing ``a.b.c`` counts as a dependency on ``a.b.c`` only, not on
the packages above it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"

# Lower layers never import higher ones; a module may import its own layer (without a cycle) and any layer below.
# A name matches a module exactly, ``name.*`` every module below a package, ``name_*`` modules sharing a prefix;
# an exact name wins over a pattern, a longer pattern over a shorter one.
LAYERS: dict[str, list[str]] = {
    # what people and other programs call: the kernel API facade, notebook views, REST handlers, the CLI, the
    # remote client, and the demo's builder (a client that plays its people through the public API)
    "interfaces": [
        "workbench", "workbench.__main__", "workbench.workspace", "workbench.project", "workbench.operations",
        "workbench.wire",
        "workbench.cli", "workbench.cli.*", "workbench.remote", "workbench.remote.*",
        "workbench.server", "workbench.server.*", "workbench.widgets", "workbench.widgets.*",
        # what widgets show people instead of codes; how a refusal reads in a notebook
        "workbench.widgets.labels", "workbench.widgets.refusals",
        "workbench.demo", "workbench.demo.build", "workbench.demo.world", "workbench.demo._world_*",
        # the standalone libraries' entry points, which attach the notebook views (``linkage.link``) or open a
        # workspace (``wb.training.exercise``)
        "workbench.linkage", "workbench.training",
    ],
    # validate input, ask the policy, act, append to the audit log
    "services": [
        "workbench.catalogue", "workbench.catalogue.*", "workbench.governance", "workbench.governance.*",
        # reading a data owner's files and databases (copy mode), and drafting an entry from them
        "workbench.catalogue.sources", "workbench.catalogue.draft",
        # datasets read in place: what is kept of a source, and the one reader of "columns of a dataset, rows kept
        # by where" at the source (files by DuckDB, PostgreSQL by ADBC)
        "workbench.catalogue.in_place",
        "workbench.disclosure", "workbench.disclosure.*", "workbench.dp", "workbench.dp.*",
        "workbench.linkage.*", "workbench.outputs", "workbench.outputs.*", "workbench.training.*",
        "workbench.demo.material", "workbench.person_index", "workbench.person_index.*",
        "workbench.person_index.decisions",
        "workbench.person_index.engine",
    ],
    # who acts and what they may do, the audit chain, the database and the vault, and the small rules every
    # layer shares
    "store": [
        "workbench.audit", "workbench.config", "workbench.context", "workbench.db", "workbench.db.*",
        "workbench.errors", "workbench.governance.policy", "workbench.ids", "workbench.labels", "workbench.progress",
        "workbench.records", "workbench.validation", "workbench.vault", "workbench.version",
        "workbench.person_index.store",
    ],
}
ORDER = ["store", "services", "interfaces"]

# Known violations, (importer, imported), each with the reason it stays. The test fails on an entry that no
# longer matches an import, so the list only shrinks; it is empty.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()
# Only the interfaces may know the demo: services receive what they need from it (linkage's TruthSource).
DEMO = "workbench.demo"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def layer_of(module: str) -> str | None:
    best: tuple[int, str] | None = None
    for layer, names in LAYERS.items():
        for name in names:
            if name == module:
                return layer
            below = name.endswith(".*") and module.startswith(name[:-1])
            sibling = name.endswith("_*") and module.startswith(name[:-1]) and "." not in module[len(name) - 1:]
            if (below or sibling) and (best is None or len(name) > best[0]):
                best = (len(name), layer)
    return best[1] if best else None


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The workbench modules ``module`` imports (at the top or inside functions; TYPE_CHECKING-only left out)."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    parent = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                targets.update(filter(None, (resolve(a.name) for a in child.names)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(parent[:len(parent) - child.level + 1] + ([base] if base else []))
                if base.split(".")[0] == "workbench":
                    targets.update(filter(None, (resolve(f"{base}.{a.name}") for a in child.names)))
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return targets - {module}


@cache
def imports() -> dict[str, set[str]]:
    """Module → the workbench modules it imports."""
    known = modules()
    return {module: _imported(module, path, known) for module, path in known.items()}


def violations() -> set[tuple[str, str]]:
    found = set()
    for importer, targets in imports().items():
        for imported in targets:
            upward = ORDER.index(layer_of(imported)) > ORDER.index(layer_of(importer))
            knows_demo = (imported == DEMO or imported.startswith(DEMO + ".")) and not (
                importer == DEMO or importer.startswith(DEMO + ".") or layer_of(importer) == "interfaces")
            if upward or knows_demo:
                found.add((importer, imported))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) is None]
    assert not missing, f"give these modules a layer in LAYERS (tests/test_layers.py): {missing}"


def test_imports_point_downward() -> None:
    found = violations()
    new = sorted(found - KNOWN_VIOLATIONS)
    assert not new, "imports against the layers (interfaces → services → store; only interfaces know the demo):\n" + \
        "\n".join(f"  {a} ({layer_of(a)}) imports {b} ({layer_of(b)})" for a, b in new)


def test_no_import_cycle() -> None:
    graph = {m: {t for t in targets if (m, t) not in KNOWN_VIOLATIONS} for m, targets in imports().items()}
    found = cycles(graph)
    assert not found, "import cycles (lazy imports count):\n" + "\n".join(f"  {' ↔ '.join(c)}" for c in found)


def test_known_violations_are_still_real() -> None:
    """The allowlist only shrinks: an entry whose import is gone must be deleted."""
    stale = sorted(e for e in KNOWN_VIOLATIONS if e[1] not in imports().get(e[0], set()))
    assert not stale, f"delete these entries from KNOWN_VIOLATIONS, their imports are gone: {stale}"
