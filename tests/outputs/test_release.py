"""Release packages: end to end from a notebook's point of view, verified against their manifest, written
atomically (a process killed between files, or after the rename, leaves one complete package on retry), and
listed in the data owner's usage report; every step audited."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from checking import CONTEXT, record_table, submitted
from helpers import ADMIN, ANALYST, CHECKER, CHECKER2, CHECKER3, DATASET, OWNER, PROJECT
from sqlalchemy import select

from workbench import disclosure as sdc
from workbench.db.schema import audit_events
from workbench.disclosure.output import Output
from workbench.errors import AccessDenied, Conflict
from workbench.outputs.release import MANIFEST, verify_package

pytestmark = pytest.mark.db  # also on PostgreSQL


def dp_result(connect) -> Output:
    """A differentially private count by age band, computed and recorded by ``project.dp``."""
    connect(OWNER).dp.set_budget(DATASET, 10.0)
    return connect(ANALYST).project(PROJECT).dp.crosstab(DATASET, "age_band", epsilon=0.5,
                                                         name="DP admissions by age band")


def approve_all(connect, request) -> None:
    for checker in (CHECKER, CHECKER2):
        for output_id in request.outputs:
            connect(checker).review.decide(request.id, output_id, "approve", "Safe: checked against the totals")
    connect(CHECKER3).review.conclude(request.id, "approve", "Two independent approvals")


def test_end_to_end_from_table_and_dp_result_to_the_owners_usage_report(desk) -> None:
    import plotly.graph_objects as go

    project = desk(ANALYST).project(PROJECT)
    table = record_table(desk)
    dp = dp_result(desk)
    safe = table.safe_table
    figure = project.outputs.figure(go.Figure(go.Heatmap(z=safe.to_numpy(), x=list(map(str, safe.columns)),
                                                         y=list(map(str, safe.index)))), table,
                                    name="Heatmap of admissions")
    assert figure.kind == "figure" and figure.status == table.status
    request = project.outputs.submit([table, dp, figure], title="Admissions for the evaluation", context=CONTEXT)
    assert request.status == "submitted"
    queue = desk(CHECKER).review.queue()
    assert queue.loc[0, "id"] == request.id and queue.loc[0, "awaiting_me"] == 3
    detail = desk(CHECKER).review.show(request.id)
    assert [o["kind"] for o in detail["outputs"]] == ["table", "dp", "figure"]
    assert detail["outputs"][1]["properties"]["dp"]["epsilon"] == 0.5
    assert detail["outputs"][2]["files"][0] == "figure.html"
    assert "outline:1px solid" in detail["outputs"][0]["html"]  # flagged cells highlighted
    assert json.loads(json.dumps(detail, default=str))["request"]["context"] == CONTEXT  # JSON-able for REST
    approve_all(desk, request)
    released = desk(CHECKER3).review.release(request.id)
    folder = released["package"]
    assert verify_package(folder) == []
    names = sorted(os.listdir(folder))
    uid = f"{PROJECT}_output_{{}}"
    assert names == sorted([MANIFEST, "results.json", f"{uid.format(1)}.csv", f"{uid.format(2)}.csv",
                            f"{uid.format(3)}.csv", f"{uid.format(3)}.html"])
    released_path = Path(folder) / MANIFEST
    manifest = json.loads(released_path.read_text())
    assert manifest["request"]["context"] == CONTEXT and manifest["project"]["id"] == PROJECT
    assert [d["id"] for d in manifest["datasets"]] == [DATASET] and manifest["datasets"][0]["version"] == "1"
    assert {r["reviewer"] for r in manifest["reviews"]} == {CHECKER, CHECKER2}
    assert manifest["outputs"][1]["properties"]["dp"]["ledger"] == dp.properties["dp"]["ledger"]
    assert manifest["outputs"][0]["checks"]["status"] == table.status
    assert released["manifest_sha256"] == hashlib.sha256(released_path.read_bytes()).hexdigest()
    back = sdc.read_results_json(folder)  # what SACRO-Viewer reads: the released (safe) tables, not more
    assert sorted(back) == [uid.format(i) for i in (1, 2, 3)]
    assert back[uid.format(1)].table.isna().sum().sum() == table.safe_table.isna().sum().sum()
    results = json.loads((released_path.parent / "results.json").read_text())
    assert "workbench" not in results["results"][uid.format(1)]["properties"]  # no unmitigated table, no measures
    usage = desk(OWNER).owner.usage(DATASET).releases
    assert list(usage["request_id"]) == [request.id] * 3
    assert list(usage["output"]) == ["by age and stay", "DP admissions by age band", "Heatmap of admissions"]
    assert set(usage["released_by"]) == {CHECKER3}
    assert desk(ANALYST).project(PROJECT).output_requests.get(request.id).status == "released"
    with desk(ADMIN)._ctx.db.read() as conn:
        trail = [(r.actor, r.action) for r in conn.execute(select(audit_events).order_by(audit_events.c.seq))
                 if r.action.startswith(("requests.", "review.", "owner.usage"))]
    assert trail == [(ANALYST, "requests.create"), (ANALYST, "requests.add"), (ANALYST, "requests.submit"),
                     (CHECKER, "review.read"), *[(c, "review.decide") for c in (CHECKER,) * 3 + (CHECKER2,) * 3],
                     (CHECKER3, "review.approve"), (CHECKER3, "review.release"), (OWNER, "owner.usage")]
    assert desk(ADMIN).verify_audit().ok


def test_package_verification_finds_changes(desk) -> None:
    request = submitted(desk)
    approve_all(desk, request)
    folder = Path(desk(CHECKER3).review.release(request.id)["package"])
    csv = next(folder.glob("*.csv"))
    csv.write_text(csv.read_text() + "1,2\n")
    (folder / "extra.txt").write_text("smuggled")
    problems = verify_package(folder)
    assert problems == [f"{csv.name} does not match its SHA-256 in the manifest", "extra.txt is not in the manifest"]
    assert desk(CHECKER3).review.release(request.id)["problems"] == problems  # a repeat shows what changed
    (folder / MANIFEST).unlink()
    assert "manifest.json is missing" in verify_package(folder)[0]


def _crash(connect, request_id: int, patch: str) -> subprocess.CompletedProcess:
    """Release in another process that dies (os._exit, no clean-up) where ``patch`` says."""
    ws = connect(CHECKER3)
    url = ws._ctx.db.url if ws._ctx.db.dialect == "postgresql" else None
    code = "\n".join([
        "import os, workbench",
        "from workbench.outputs import release",
        patch,
        f"ws = workbench.connect({str(ws.home)!r}, database_url={url!r}, create=False)",
        f"ws.review.release({request_id})",
    ])
    env = {**os.environ, "WORKBENCH_USER": CHECKER3}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


BETWEEN_FILES = """
real, calls = release._write, []
def crashing(path, content):
    calls.append(path)
    if len(calls) == 3:
        os._exit(17)
    return real(path, content)
release._write = crashing
"""
AFTER_RENAME = """
real = release.write_package
def crashing(*args, **kwargs):
    real(*args, **kwargs)
    os._exit(18)
release.write_package = crashing
"""


@pytest.mark.parametrize(("patch", "code"), [(BETWEEN_FILES, 17), (AFTER_RENAME, 18)], ids=["between", "after"])
def test_a_crash_during_release_leaves_one_complete_package_on_retry(desk, tmp_path, patch: str, code: int) -> None:
    project = desk(ANALYST).project(PROJECT)
    notes = tmp_path / "method.md"
    notes.write_text("# Method\nCounts from the admissions table.\n")
    outputs = [record_table(desk), record_table(desk, name="again"),
               project.outputs.add_file(notes, description="Method notes", derived_from=[DATASET])]
    request = submitted(desk, outputs=outputs)
    shown = desk(CHECKER).review.show(request.id)["outputs"][2]
    assert shown["status"] == "review" and "Counts from the admissions table." in shown["preview"]
    approve_all(desk, request)
    crashed = _crash(desk, request.id, patch)
    assert crashed.returncode == code, crashed.stderr
    releases = desk(ADMIN).home / "releases" / PROJECT
    final = releases / f"request-{request.id}"
    assert request.refresh().status == "approved"  # the database never said released
    if code == 17:
        assert not final.exists() and len(list(releases.glob(".request-*.tmp-*"))) == 1  # a partial attempt
    else:
        assert verify_package(final) == [] and not list(releases.glob(".request-*"))
        written = (final / MANIFEST).read_bytes()
    retried = desk(CHECKER3).review.release(request.id)
    assert retried["status"] == "released" and verify_package(final) == []
    assert sorted(p.name for p in releases.iterdir()) == [f"request-{request.id}"]  # one package, no leftovers
    assert sorted(os.listdir(final)) == sorted([MANIFEST, "results.json", f"{PROJECT}_output_1.csv",
                                                f"{PROJECT}_output_2.csv", f"{PROJECT}_output_3_method.md"])
    if code == 18:
        assert (final / MANIFEST).read_bytes() == written  # the complete package was kept, not rewritten
    manifest = json.loads((final / MANIFEST).read_text())
    assert retried["manifest_sha256"] == hashlib.sha256((final / MANIFEST).read_bytes()).hexdigest()
    assert str(retried["released_at"])[:19].replace(" ", "T") == manifest["request"]["released_at"][:19]


def test_release_refusals(desk) -> None:
    request = submitted(desk)
    with pytest.raises(Conflict, match="submitted request cannot be released"):
        desk(CHECKER3).review.release(request.id)
    approve_all(desk, request)
    with pytest.raises(AccessDenied, match="only output checkers"):
        desk(ANALYST).review.release(request.id)
    desk(ADMIN).project(PROJECT).update(status="suspended")
    with pytest.raises(AccessDenied, match="suspended"):
        desk(CHECKER3).review.release(request.id)
    desk(ADMIN).project(PROJECT).update(status="active")
    assert desk(CHECKER3).review.release(request.id)["status"] == "released"
