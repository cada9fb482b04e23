"""Binder's files cannot drift from the project: the same dependencies as pyproject.toml, a postBuild that installs
the project and builds the demo, and a start notebook that exists. (repo2docker itself cannot run here.)"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_installs_exactly_the_dependencies_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((BINDER / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert pip == project["dependencies"]
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert project["requires-python"] == ">=3.11" and python == "python=3.11"
    assert any(isinstance(d, str) and d.startswith("nodejs>=20") for d in environment["dependencies"])


def test_post_build_installs_the_project_and_builds_the_demo_then_opens_the_welcome_notebook() -> None:
    post_build = (BINDER / "postBuild").read_text()
    assert "pip install --no-cache-dir --no-deps ." in post_build
    assert "workbench demo" in post_build
    start_notebook = post_build.split('default_url = "/lab/tree/', 1)[1].split('"', 1)[0]
    assert (ROOT / start_notebook).is_file()
    for script in ("postBuild", "start"):
        assert (BINDER / script).stat().st_mode & 0o111, f"binder/{script} must be executable"
    assert 'export WORKBENCH_HOME="$HOME/.workbench"' in (BINDER / "start").read_text()
