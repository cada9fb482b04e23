"""The ``workbench`` command: help everywhere, clear errors, non-zero exits."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
from pathlib import Path

import pytest
from helpers import ADMIN, REFERENCE

import workbench.cli
from workbench.cli import build_parser, main

SUBCOMMANDS = [[], ["init"], ["demo"], ["catalogue"], ["catalogue", "search"], ["catalogue", "show"],
               ["catalogue", "import"], ["catalogue", "export"], ["catalogue", "draft"], ["catalogue", "register"],
               ["lab"], ["audit", "verify"], ["serve"],
               *[[group, action] for group, actions in (
                   ("people", ("list", "add", "roles", "accredit", "train")),
                   ("projects", ("list", "show", "status", "member")), ("access", ("request", "mine")),
                   ("owner", ("requests", "decide", "usage", "delegate", "revoke")),
                   ("dp", ("budget", "budgets", "twin-budget")),
                   ("review", ("queue", "show", "decide", "conclude", "release")),
                   ("token", ("create", "list", "revoke"))) for action in actions]]


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "workbench")
def test_help_everywhere(words: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*words, "--help"])
    assert caught.value.code == 0
    assert "usage: workbench" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys) -> None:
    for words in (["catalogue"], ["nonsense"], ["catalogue", "search", "--mission", "7"]):
        with pytest.raises(SystemExit) as caught:
            main(words)
        assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("WORKBENCH_USER", ADMIN)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


def test_init_import_search_show_export(home: Path, tmp_path: Path, capsys) -> None:
    assert main(["init", "--name", "Ada Admin"]) == 0
    assert f"{ADMIN} is its admin" in capsys.readouterr().out
    assert main(["init"]) == 1
    assert "already exists" in capsys.readouterr().err

    files = [str(p) for p in sorted(REFERENCE.glob("Dataset/valid/*.yaml"))]
    assert main(["catalogue", "import", *files]) == 0
    out = capsys.readouterr().out
    assert "created Dataset os-postcodes-data" in out and "updated Dataset os-postcodes-data" in out

    assert main(["catalogue", "search", "postcodes"]) == 0
    assert "os-postcodes-data" in capsys.readouterr().out
    assert main(["catalogue", "search", "zebra"]) == 0
    assert "No entries match" in capsys.readouterr().out
    assert main(["catalogue", "search", "--format", "json", "postcode"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "os-postcodes-data"

    assert main(["catalogue", "show", "os-postcodes-data"]) == 0
    assert "OS Postcodes Data" in capsys.readouterr().out
    assert main(["catalogue", "show", "os-postcodes-data", "--format", "yaml"]) == 0
    assert "updateFrequency: freq:quarterly" in capsys.readouterr().out
    assert main(["catalogue", "show", "os-postcodes-data", "--format", "jsonld"]) == 0
    assert '"@type": "dcat:Dataset"' in capsys.readouterr().out

    target = tmp_path / "catalogue.jsonld"
    assert main(["catalogue", "export", "-o", str(target)]) == 0
    assert "dcat:Dataset" in target.read_text()
    capsys.readouterr()
    assert main(["catalogue", "import", str(target)]) == 0
    assert "updated Dataset os-postcodes-data" in capsys.readouterr().out


def test_import_and_show_print_the_catalogues_warnings(home: Path, tmp_path: Path, capsys) -> None:
    import yaml
    from factories import record

    assert main(["init", "--name", "Ada Admin"]) == 0
    path = tmp_path / "admissions.yaml"
    path.write_text(yaml.safe_dump(record()))  # admission_id: an id column with role 'other'
    capsys.readouterr()
    assert main(["catalogue", "import", str(path)]) == 0
    out = capsys.readouterr()
    assert "created Dataset dhsc.admissions" in out.out
    assert out.err.startswith("warning: dhsc.admissions: column 'admission_id' has role 'other'")
    assert main(["catalogue", "show", "dhsc.admissions"]) == 0
    assert "warning: column 'admission_id' has role 'other'" in capsys.readouterr().out


@pytest.mark.parametrize(("words", "message"), [
    (["catalogue", "search", "x" * 501], "500"),
    (["catalogue", "search", "--department", "XYZ"], "not a department"),
    (["catalogue", "show", "../../etc/passwd"], "path separator"),
    (["catalogue", "show", "nothing.here"], "No dataset 'nothing.here'"),
    (["catalogue", "import", str(REFERENCE / "Dataset/invalid/invalid-frequency.yaml")], "updateFrequency"),
    (["catalogue", "import", "/no/such/file.yaml"], "No file"),
    (["catalogue", "export", "nothing.here"], "No dataset"),
])
def test_errors_are_one_clear_line_and_exit_1(home: Path, capsys, words, message) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(words) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("workbench: error: ") and message in captured.err
    assert "Traceback" not in captured.err


def test_commands_need_a_workspace(home: Path, capsys) -> None:
    assert main(["catalogue", "search", "x"]) == 1
    assert "workbench init" in capsys.readouterr().err
    assert main(["lab"]) == 1
    assert "workbench demo" in capsys.readouterr().err
    assert not home.exists()


def test_lab_runs_jupyterlab_on_the_workspace(home: Path, monkeypatch) -> None:
    assert main(["init"]) == 0
    seen = {}

    def fake_execve(path, args, env):
        seen.update(path=path, args=args, env=env)

    monkeypatch.setattr("os.execve", fake_execve)
    main(["lab", "--no-browser", "--port", "8899"])
    assert seen["args"][1:3] == ["-m", "jupyterlab"]
    assert "--ServerApp.port=8899" in seen["args"] and "--no-browser" in seen["args"]
    assert seen["env"]["WORKBENCH_HOME"] == str(home)


@pytest.fixture
def started(home: Path, monkeypatch) -> dict:
    """What ``workbench lab`` would run, caught instead of replacing the test process."""
    assert main(["init"]) == 0
    seen: dict = {}
    monkeypatch.setattr("os.execve", lambda path, args, env: seen.update(path=path, args=args, env=env))
    return seen


@pytest.mark.parametrize("words", [["--ServerApp.token=x"], ["--", "--ServerApp.token=x"],
                                   ["--ServerApp.token", "x"], ["--ServerApp.token=x", "--ServerApp.base_url=/wb/"]])
def test_lab_passes_jupyter_options_through(started: dict, words: list[str]) -> None:
    assert main(["lab", *words]) == 0
    jupyter, given = started["args"], [word for word in words if word != "--"]
    assert "--" not in jupyter
    at = jupyter.index(given[0])
    assert jupyter[at:at + len(given)] == given  # as given, before the notebook to open
    assert "--ServerApp.identity_provider_class=workbench.server.identity.WorkspaceUserIdentityProvider" in jupyter


def test_lab_takes_a_token_and_other_jupyter_options(started: dict) -> None:
    assert main(["lab", "--token", "s3cret", "--ServerApp.base_url=/wb/", "--port", "8899"]) == 0
    jupyter = started["args"]
    assert "--IdentityProvider.token=s3cret" in jupyter and "--ServerApp.base_url=/wb/" in jupyter
    assert "--ServerApp.port=8899" in jupyter


@pytest.mark.parametrize("words", [["--token", ""], ["--token", "  "], ["--ServerApp.token="],
                                   ["--IdentityProvider.token", ""]])
def test_lab_refuses_an_empty_token(started: dict, words: list[str], capsys) -> None:
    assert main(["lab", *words]) == 1
    assert "empty token lets anyone" in capsys.readouterr().err and not started


def test_other_commands_still_refuse_unknown_options(home: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["init", "--ServerApp.token=x"])
    assert exit_.value.code == 2 and "unrecognized arguments: --ServerApp.token=x" in capsys.readouterr().err


def test_parser_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in ("init", "demo", "catalogue", "lab"):
        assert command in text


def test_every_command_group_registers_itself_and_imports_no_other_group() -> None:
    """One module per command group, sharing only ``workbench.cli.common``: no group reaches into another."""
    names = {info.name for info in pkgutil.iter_modules(workbench.cli.__path__)} - {"common", "__main__"}
    assert {group.__name__ for group in workbench.cli.GROUPS} == {f"workbench.cli.{name}" for name in names}
    for name in names:
        module = importlib.import_module(f"workbench.cli.{name}")
        assert callable(module.register)
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        nodes = list(ast.walk(tree))
        imported = {"." * node.level + (node.module or "") for node in nodes if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
        assert {m for m in imported if m.startswith(("workbench.cli", "."))} <= {"workbench.cli.common"}, name
