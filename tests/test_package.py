"""The package stays light to import and clean to read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["pandas", "numpy", "sqlalchemy", "alembic", "rdflib", "yaml", "pyarrow", "duckdb", "recordlinkage",
         "diffprivlib", "plotly", "ipywidgets", "jupyterlab", "faker", "sklearn", "splink", "jellyfish", "tqdm",
         "rapidfuzz"]


def test_import_workbench_loads_no_heavy_library() -> None:
    code = ("import sys, json, workbench; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []


def test_import_workbench_linkage_loads_no_heavy_library() -> None:
    code = ("import sys, json, workbench.linkage; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []


def test_public_names() -> None:
    import workbench

    for name in ("connect", "WorkbenchError", "AccessDenied", "NotFound", "InvalidInput", "BudgetExceeded",
                 "DisclosureRisk", "Conflict"):
        assert hasattr(workbench, name)
    for name in ("AccessDenied", "NotFound", "InvalidInput", "BudgetExceeded", "DisclosureRisk", "Conflict"):
        assert issubclass(getattr(workbench, name), workbench.WorkbenchError)


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "workbench", "tests", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands = [block.split("```")[0].strip() for block in section.split("```sh")[1:]]
    assert len(commands) == 2, "README gives exactly two set-up commands"
    assert commands[1] in ci, "CI runs the README's test command"
