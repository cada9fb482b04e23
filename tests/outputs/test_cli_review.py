"""``workbench review queue|show|decide|conclude|release`` end to end on one workspace."""

from __future__ import annotations

import json

import pytest
from checking import submitted
from helpers import ANALYST, CHECKER, CHECKER2, CHECKER3, PROJECT, cli_runner


@pytest.fixture
def run(desk, monkeypatch, capsys):
    """run(user, *words) -> (exit code, stdout, stderr) of `workbench --home <ws> ...` as ``user``."""
    return cli_runner(desk, monkeypatch, capsys)


def test_review_commands(run, desk) -> None:
    assert "Nothing is waiting" in run(CHECKER, "review", "queue")[1]
    request = submitted(desk)
    rid, oid = str(request.id), str(request.outputs[0])
    code, out, _ = run(CHECKER, "review", "queue", "--format", "json")
    assert code == 0 and json.loads(out)[0]["awaiting_me"] == 1
    code, out, _ = run(CHECKER, "review", "show", rid)
    assert code == 0 and "Admissions" in out and "min excluding zero" in out and "reviews: 0 of 2" in out
    assert json.loads(run(CHECKER, "review", "show", rid, "--format", "json")[1])["request"]["id"] == request.id
    code, _, err = run(CHECKER, "review", "decide", rid, oid, "changes")
    assert code == 1 and "what to change" in err
    code, out, _ = run(CHECKER, "review", "decide", rid, oid, "approve", "--comment", "Safe")
    assert code == 0 and "partially reviewed" in out
    assert "hidden until all are in" in run(CHECKER2, "review", "show", rid)[1]
    assert run(CHECKER2, "review", "decide", rid, oid, "approve")[0] == 0
    code, _, err = run(ANALYST, "review", "conclude", rid, "approve")
    assert code == 1 and "only output checkers" in err
    code, out, _ = run(CHECKER3, "review", "conclude", rid, "approve")
    assert code == 0 and "approved" in out
    code, out, _ = run(CHECKER3, "review", "release", rid)
    assert code == 0 and f"releases/{PROJECT}/request-{rid}" in out and "manifest SHA-256" in out
    code, out, _ = run(CHECKER3, "review", "release", rid)  # idempotent
    assert code == 0 and "released" in out
    code, _, err = run(CHECKER3, "review", "release", "99")
    assert code == 1 and "No output request 99" in err
