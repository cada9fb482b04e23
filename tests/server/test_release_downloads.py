"""My outputs and release downloads over REST: an analyst follows their requests and downloads a released
package (zip) or one of its files; the project's members, the checkers who released it and the owners of its
datasets may, anyone else is refused; every download and refusal is audited; names never reach outside the
package."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from helpers import (
    ADMIN,
    ANALYST,
    CHECKER,
    CHECKER2,
    CHECKER3,
    DATASET,
    OTHER_OWNER,
    OWNER,
    PROJECT,
    SECOND_ANALYST,
    TEST_USER_HEADER,
    TRAINER,
    events,
    grant,
)
from test_output_checking_api import approved, submit


@pytest.fixture
def desk(served):
    """``served`` plus a grant of DATASET to PROJECT, two more output checkers, and a recorded table (as in
    test_output_checking_api)."""
    grant(served)
    admin = served(ADMIN)
    for user in (CHECKER2, CHECKER3):
        admin.people.add(user, user.replace(".", " ").title(), roles=["output_checker"], department="DHSC")
    project = served(ANALYST).project(PROJECT)
    project.tables.crosstab(project.load(DATASET), "age_band", "length_of_stay", name="by age and stay")
    return served


@pytest.fixture
def download(jp_fetch, served):
    """``await download(user, request_id, name=None)`` → (status, headers, body bytes)."""

    async def call(user: str, *path: str) -> tuple[int, dict, bytes]:
        from tornado.httpclient import HTTPClientError

        try:
            response = await jp_fetch("workbench", "api", "output-requests", *path, method="GET",
                                      headers={TEST_USER_HEADER: user})
        except HTTPClientError as error:
            return error.code, dict(error.response.headers), error.response.body
        return response.code, dict(response.headers), response.body

    return call


async def released(api) -> int:
    request_id = await approved(api)
    reply = await api(CHECKER3, "POST", "review", "requests", str(request_id), "release")
    assert reply.status == 200, reply
    return request_id


def downloads(ws) -> list[tuple[str, str, str]]:
    return [(e["actor"], e["outcome"], json.loads(e["detail"]).get("file") if isinstance(e["detail"], str)
             else (e["detail"] or {}).get("file")) for e in events(ws) if e["action"] == "outputs.download"]


async def test_my_outputs_lists_requests_reviews_and_released_files(api, desk) -> None:
    draft = await submit(api, submit=False)
    request_id = await released(api)
    reply = await api(ANALYST, "GET", "output-requests", "mine")
    assert reply.status == 200, reply
    listed = {r["id"]: r for r in reply.json["requests"]}
    assert listed[draft["id"]]["status"] == "draft" and listed[draft["id"]]["files"] == []
    mine = listed[request_id]
    assert mine["status"] == "released" and mine["released_by"] == CHECKER3
    assert [o["name"] for o in mine["outputs"]] == ["by age and stay"]
    assert sorted(r["decision"] for r in mine["reviews"]) == ["approve", "approve"]  # concluded: visible
    names = [f["name"] for f in mine["files"]]
    assert "manifest.json" in names and "results.json" in names and any(n.endswith(".csv") for n in names)
    # nobody sees another project's requests here
    assert (await api(SECOND_ANALYST, "GET", "output-requests", "mine")).json["requests"] == []
    assert (await api(CHECKER, "GET", "output-requests", "mine")).json["requests"] == []


async def test_reviews_stay_hidden_until_the_request_is_concluded(api, desk) -> None:
    request_id = (await submit(api))["id"]
    reply = await api(CHECKER, "POST", "review", "requests", str(request_id), "outputs", "1", "decision",
                      body={"decision": "approve", "comment": "Fine"})
    assert reply.status == 200, reply
    mine = {r["id"]: r for r in (await api(ANALYST, "GET", "output-requests", "mine")).json["requests"]}
    assert mine[request_id]["reviews"] == [] and mine[request_id]["status"] == "partially_reviewed"


async def test_allowed_people_download_the_zip_and_a_file(api, desk, download) -> None:
    request_id = await released(api)
    folder = desk(ADMIN).home / "releases" / PROJECT / f"request-{request_id}"
    manifest = json.loads((folder / "manifest.json").read_text())
    # a project member, the checker who released it, a checker who reviewed it, the owner of its dataset
    for user in (ANALYST, CHECKER3, CHECKER, OWNER):
        status, headers, body = await download(user, str(request_id), "package")
        assert status == 200, (user, body[:200])
        assert headers["Content-Type"] == "application/zip"
        assert f'filename="{PROJECT}-request-{request_id}.zip"' in headers["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(body))
        top = f"{PROJECT}-request-{request_id}"
        assert sorted(archive.namelist()) == sorted(f"{top}/{p.name}" for p in folder.iterdir())
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(archive.read(f"{top}/{name}")).hexdigest() == entry["sha256"]
    csv = next(n for n in manifest["files"] if n.endswith(".csv"))
    status, headers, body = await download(ANALYST, str(request_id), "package", csv)
    assert status == 200 and body == (folder / csv).read_bytes()
    assert headers["Content-Type"].startswith("text/csv") and headers["X-Content-Type-Options"] == "nosniff"
    status, _, body = await download(ANALYST, str(request_id), "package", "manifest.json")
    assert status == 200 and json.loads(body)["request"]["id"] == request_id
    logged = downloads(desk(ADMIN))
    assert [(a, o) for a, o, _ in logged] == [(u, "ok") for u in (ANALYST, CHECKER3, CHECKER, OWNER,
                                                                         ANALYST, ANALYST)]
    assert [f for *_, f in logged][-2:] == [csv, "manifest.json"]


async def test_others_are_refused_and_audited(api, desk, download) -> None:
    request_id = await released(api)
    for user in (SECOND_ANALYST, OTHER_OWNER, TRAINER, ADMIN, "nobody.here"):
        before = len(downloads(desk(ADMIN)))
        status, _, body = await download(user, str(request_id), "package")
        assert status == 403, (user, body)
        assert "goes only to" in json.loads(body)["message"] or user == "nobody.here"
        status, _, body = await download(user, str(request_id), "package", "results.json")
        assert status == 403, (user, body)
        if user != "nobody.here":
            after = downloads(desk(ADMIN))[before:]
            assert [(a, o) for a, o, _ in after] == [(user, "denied"), (user, "denied")]


async def test_names_never_reach_outside_the_package(api, desk, download) -> None:
    request_id = str(await released(api))
    for name, status in ((".hidden", 400), ("..", 400), ("a..b.csv", 400), ("%2e%2e", 400),
                         ("..%2Fworkspace.json", 400), ("..%2F..%2F..%2Fsecrets.json", 400),
                         ("nothing.csv", 404), ("workspace.json", 404)):
        got, _, body = await download(ANALYST, request_id, "package", name)
        assert got == status, (name, got, body)
        assert json.loads(body)["message"]
    got, _, _ = await download(ANALYST, request_id, "package", "..", "..", "secrets.json")
    assert got in (400, 404)
    assert all(o == "refused" for _, o, _ in downloads(desk(ADMIN)))


async def test_a_request_not_released_or_unknown_has_no_package(api, desk, download) -> None:
    request_id = str(await approved(api))
    status, _, body = await download(ANALYST, request_id, "package")
    assert status == 404 and "no release package yet" in json.loads(body)["message"]
    for path, expected in ((("999", "package"), 404), (("abc", "package"), 400)):
        status, _, body = await download(ANALYST, *path)
        assert status == expected, (path, body)
    assert [o for _, o, _ in downloads(desk(ADMIN))] == ["refused", "refused"]  # the malformed id: not governed


async def test_a_changed_package_is_not_served(api, desk, download) -> None:
    request_id = await released(api)
    folder = desk(ADMIN).home / "releases" / PROJECT / f"request-{request_id}"
    csv = next(p for p in folder.iterdir() if p.suffix == ".csv")
    csv.write_text("age_band,count\nall,1\n")
    for path in (("package",), ("package", "results.json")):
        status, _, body = await download(ANALYST, str(request_id), *path)
        assert status == 409 and "no longer matches its manifest" in json.loads(body)["message"], body
