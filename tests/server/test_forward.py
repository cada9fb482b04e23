"""A person's Jupyter server without a workspace (under JupyterHub: only WORKBENCH_URL and the person's token)
forwards the panels' REST calls to the service, as that person, and forwards nobody else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ANALYST, DATASET, PROJECT, SECOND_ANALYST, TEST_USER_HEADER, grant, header_identity_provider
from tornado.httpclient import HTTPClientError


@pytest.fixture
def service_url(governed, tmp_path: Path, database_url) -> Iterator[str]:
    from helpers import serving

    with serving(tmp_path / "ws", database_url) as url:
        yield url


@pytest.fixture
def jp_server_config(governed, service_url, monkeypatch):
    """This server: no WORKBENCH_HOME, only the service and ANALYST's token (as JupyterHub gives it)."""
    from traitlets.config import Config

    grant(governed)
    token = governed("ada.admin").tokens.create(ANALYST, label="panels")["token"]
    monkeypatch.setenv("WORKBENCH_URL", service_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
    monkeypatch.setenv("JUPYTERHUB_USER", ANALYST)
    return Config({"ServerApp": {"jpserver_extensions": {"workbench.server": True},
                                 "identity_provider_class": header_identity_provider()}})


async def fetch(jp_fetch, user: str, *path: str, method: str = "GET", body: dict | None = None):
    try:
        reply = await jp_fetch("workbench", "api", *path, method=method, headers={TEST_USER_HEADER: user},
                               body=json.dumps(body).encode() if body is not None else None)
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body)
    return reply.code, json.loads(reply.body)


@pytest.mark.slow
async def test_the_owner_s_panels_reach_the_service_as_the_owner(jp_fetch, jp_serverapp) -> None:
    assert "workbench" not in jp_serverapp.web_app.settings  # no workspace opened here
    status, projects = await fetch(jp_fetch, ANALYST, "projects")
    assert status == 200 and {p["id"]: p["my_role"] for p in projects["projects"]}[PROJECT] == "lead"
    status, made = await fetch(jp_fetch, ANALYST, "requests", method="POST",
                               body={"project_id": "p-beta", "dataset_id": DATASET, "justification": "Panels"})
    assert status == 201 and made["requested_by"] == ANALYST
    status, refused = await fetch(jp_fetch, ANALYST, "requests", "to-decide")
    assert status == 403 and refused["error"] == "AccessDenied"  # the service's policy, as ANALYST
    status, missing = await fetch(jp_fetch, ANALYST, "catalogue", "dhsc.nothing")
    assert status == 404 and missing["error"] == "NotFound"


@pytest.mark.slow
async def test_a_guest_of_the_server_is_not_forwarded(jp_fetch) -> None:
    status, refused = await fetch(jp_fetch, SECOND_ANALYST, "projects")
    assert status == 403 and f"belongs to {ANALYST}" in refused["message"]


@pytest.mark.parametrize("environment, expected", [
    ({"WORKBENCH_URL": "http://svc:8585", "WORKBENCH_TOKEN": "t"}, ("http://svc:8585/", "t")),
    ({"WORKBENCH_URL": "http://svc/", "JUPYTERHUB_API_TOKEN": "h"}, ("http://svc/", "h")),
    ({"WORKBENCH_URL": "http://svc/", "WORKBENCH_TOKEN": "t", "WORKBENCH_HOME": "/srv/ws"}, None),
    ({"WORKBENCH_URL": "http://svc/", "WORKBENCH_TOKEN": "t", "WORKBENCH_DATABASE_URL": "postgresql://x/y"}, None),
    ({"WORKBENCH_URL": "http://svc/"}, None),
    ({"WORKBENCH_TOKEN": "t"}, None),
])
def test_a_server_forwards_only_with_a_service_a_token_and_no_workspace(monkeypatch, environment, expected) -> None:
    from workbench.server.forward import forwarding_target

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert forwarding_target() == expected
