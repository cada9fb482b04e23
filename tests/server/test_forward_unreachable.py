"""A person's server whose service does not answer says so (503 in the API's error shape), and changes nothing."""

from __future__ import annotations

import json

import pytest
from helpers import ANALYST, TEST_USER_HEADER, header_identity_provider
from tornado.httpclient import HTTPClientError


@pytest.fixture
def jp_server_config(monkeypatch):
    from traitlets.config import Config

    monkeypatch.setenv("WORKBENCH_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "a-token")
    monkeypatch.setenv("JUPYTERHUB_USER", ANALYST)
    return Config({"ServerApp": {"jpserver_extensions": {"workbench.server": True},
                                 "identity_provider_class": header_identity_provider()}})


async def test_a_service_that_does_not_answer_is_a_503_naming_it(jp_fetch) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("workbench", "api", "projects", headers={TEST_USER_HEADER: ANALYST})
    body = json.loads(refused.value.response.body)
    assert refused.value.code == 503 and "http://127.0.0.1:9/ did not answer" in body["message"]
