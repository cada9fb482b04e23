"""``workbench catalogue draft`` and ``workbench catalogue register --data``: the owner's way in from the command
line, with clear errors and non-zero exits."""

from __future__ import annotations

import sqlite3

import pytest
import yaml
from factories import BASE, admissions, record
from helpers import ANALYST, OWNER, cli_runner

pytestmark = pytest.mark.db


@pytest.fixture
def run(staffed, monkeypatch, capsys):
    return cli_runner(staffed, monkeypatch, capsys)


def test_draft_then_register_a_csv(run, tmp_path) -> None:
    data, entry = tmp_path / "admissions.csv", tmp_path / "entry.yaml"
    admissions(100).to_csv(data, index=False)
    code, out, err = run(OWNER, "catalogue", "draft", "--data", str(data), "-o", str(entry))
    assert code == 0 and f"Wrote {entry}" in out
    code, out, err = run(OWNER, "catalogue", "register", str(entry), "--data", str(data))
    assert code == 1 and "is a draft: complete identifier, title" in err
    code, _, err = run(OWNER, "catalogue", "draft", "--data", str(data), "-o", str(entry))
    assert code == 2 and "--force" in err  # the draft is not overwritten unasked

    entry.write_text(yaml.safe_dump(record()), encoding="utf-8")
    code, out, err = run(OWNER, "catalogue", "register", str(entry), "--data", str(data))
    assert code == 0 and "registered dhsc.admissions with 100 rows" in out
    code, out, _ = run(OWNER, "catalogue", "show", "dhsc.admissions")
    assert "Rows: 100" in out


def test_register_from_a_database_table_and_query(run, tmp_path) -> None:
    db, entry = tmp_path / "source.db", tmp_path / "entry.yaml"
    with sqlite3.connect(db) as conn:
        admissions(40).assign(admitted=lambda df: df.admitted.dt.strftime("%Y-%m-%d")).to_sql(
            "adm", conn, index=False, dtype={"admitted": "DATE"})
    entry.write_text(yaml.safe_dump(record()), encoding="utf-8")
    url = f"sqlite:///{db}"
    code, out, err = run(OWNER, "catalogue", "register", str(entry), "--data", url, "--table", "adm")
    assert code == 0 and "with 40 rows" in out, err
    code, out, err = run(OWNER, "catalogue", "register", str(entry), "--data", url, "--query",
                         "SELECT * FROM adm; DELETE FROM adm")
    assert code == 1 and "2 statements" in err
    code, out, err = run(OWNER, "catalogue", "draft", "--data", url, "--query", "SELECT cost, admitted FROM adm")
    assert code == 0 and yaml.safe_load(out)["columns"][0] == {"name": "cost", "type": "float", "role": "other",
                                                                "description": ""}


def test_errors_are_clear(run, tmp_path) -> None:
    entry = tmp_path / "entry.yaml"
    entry.write_text(yaml.safe_dump(record()), encoding="utf-8")
    code, _, err = run(OWNER, "catalogue", "register", str(entry), "--data", str(tmp_path / "none.csv"))
    assert code == 1 and "there is no file or folder" in err
    code, _, err = run(OWNER, "catalogue", "register", str(tmp_path / "none.yaml"))
    assert code == 1 and "There is no entry file" in err
    code, _, err = run(OWNER, "catalogue", "register", str(entry), "--table", "adm")
    assert code == 2 and "--table and --query" in err
    code, _, err = run(OWNER, "catalogue", "register", str(entry), "--data", "postgresql://u:pw@127.0.0.1:1/x",
                       "--table", "adm")
    assert code == 1 and "cannot connect to postgresql://127.0.0.1:1/x" in err and ":pw@" not in err
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump_all([BASE, BASE]), encoding="utf-8")
    code, _, err = run(OWNER, "catalogue", "register", str(two))
    assert code == 1 and "exactly one dataset entry" in err
    code, _, err = run(ANALYST, "catalogue", "draft", "--data", str(entry))
    assert code == 1 and "may not register" in err
