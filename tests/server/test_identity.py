"""`workbench lab`'s identity provider: the token holder is the workbench user of the environment."""

from __future__ import annotations

import json

import pytest
from helpers import ANALYST, PROJECT


@pytest.fixture
def jp_server_config():
    from traitlets.config import Config

    from workbench.server.identity import WorkspaceUserIdentityProvider

    return Config({"ServerApp": {"jpserver_extensions": {"workbench.server": True},
                                 "identity_provider_class": WorkspaceUserIdentityProvider}})


async def test_the_token_holder_is_the_environment_user(jp_fetch, served, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_USER", ANALYST)
    me = json.loads((await jp_fetch("api", "me")).body)
    assert me["identity"]["username"] == ANALYST
    reply = await jp_fetch("workbench", "api", "requests", method="POST", body=json.dumps(
        {"project_id": PROJECT, "dataset_id": "dhsc.patients", "justification": "From the lab"}))
    assert reply.code == 201 and json.loads(reply.body)["requested_by"] == ANALYST
