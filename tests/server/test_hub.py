"""The workbench service under JupyterHub: a request's person is the hub user owning its token, if the token may
access the service. A fake hub answers ``GET /hub/api/user`` as JupyterHub does (the token owner's model with
the token's scopes, 403 for an unknown token); tests/service/test_jupyterhub.py runs the real one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import ANALYST, DATASET, OTHER_PROJECT, PROJECT, SECOND_ANALYST, Reply
from tornado.httpclient import HTTPClientError

from workbench.errors import InvalidInput

SERVICE = "workbench"
ACCESS = f"access:services!service={SERVICE}"
TOKENS: dict[str, dict[str, Any]] = {
    "ann-token": {"kind": "user", "name": ANALYST, "scopes": [ACCESS, f"read:users!user={ANALYST}"]},
    "bea-token": {"kind": "user", "name": SECOND_ANALYST, "scopes": [ACCESS]},
    "ann-all-services": {"kind": "user", "name": ANALYST, "scopes": ["access:services"]},
    "ann-no-access": {"kind": "user", "name": ANALYST, "scopes": [f"read:users!user={ANALYST}",
                                                                  f"access:servers!user={ANALYST}"]},
    "ann-other-service": {"kind": "user", "name": ANALYST, "scopes": ["access:services!service=grafana"]},
    "a-service": {"kind": "service", "name": "announcements", "scopes": [ACCESS]},
}


class FakeHub:
    """``GET /hub/api/user`` of JupyterHub, counting how often it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.port = 0

    def start(self, loop: Any) -> None:
        import tornado.web
        from tornado.httpserver import HTTPServer
        from tornado.testing import bind_unused_port

        hub = self

        class UserHandler(tornado.web.RequestHandler):
            def get(self) -> None:
                token = self.request.headers.get("Authorization", "").removeprefix("token ")
                hub.asked.append(token)
                if token not in TOKENS:
                    self.set_status(403)
                    self.finish(json.dumps({"status": 403, "message": "Missing or invalid credentials"}))
                    return
                self.finish(json.dumps({**TOKENS[token], "groups": [], "admin": False, "session_id": None}))

        socket, self.port = bind_unused_port()

        async def listen() -> HTTPServer:
            server = HTTPServer(tornado.web.Application([(r"/hub/api/user", UserHandler)]))
            server.add_sockets([socket])
            return server

        self.server = loop.run_until_complete(listen())


@pytest.fixture
def hub(jp_asyncio_loop, monkeypatch: pytest.MonkeyPatch):
    fake = FakeHub()
    fake.start(jp_asyncio_loop)
    monkeypatch.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{fake.port}/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-service-token")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", SERVICE)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/a/b/")
    yield fake
    fake.server.stop()


@pytest.fixture
def jp_server_config(hub):
    from traitlets.config import Config

    from workbench.server.hub import HubIdentityProvider, ServiceAuthorizer

    return Config({"ServerApp": {"jpserver_extensions": {"workbench.server": True},
                                 "identity_provider_class": HubIdentityProvider,
                                 "authorizer_class": ServiceAuthorizer}})


@pytest.fixture
def jp_auth_header() -> dict[str, str]:
    """No Jupyter token on requests: each test sends the hub token it means."""
    return {}


@pytest.fixture
def call(jp_fetch, served):
    async def _call(token: str | None, method: str, *path: str, body: Any = None, scheme: str = "token",
                    api: tuple[str, ...] = ("workbench", "api")) -> Reply:
        headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        try:
            response = await jp_fetch(*api, *path, method=method, headers=headers, body=data)
        except HTTPClientError as error:
            return Reply(error.code, error.response.body if error.response else b"")
        return Reply(response.code, response.body)

    return _call


async def test_the_token_owner_is_the_person_and_the_policy_judges_them(call, hub) -> None:
    ask = {"project_id": PROJECT, "dataset_id": DATASET, "justification": "Through the service"}
    made = await call("ann-token", "POST", "requests", body=ask)
    assert made.status == 201, made
    assert made.json["requested_by"] == ANALYST
    mine = await call("ann-token", "GET", "requests", "mine", scheme="Bearer")
    assert mine.status == 200 and [r["id"] for r in mine.json["requests"]] == [made.json["id"]]
    theirs = await call("bea-token", "GET", "requests", "mine")
    assert theirs.status == 200 and theirs.json["requests"] == []
    # SECOND_ANALYST is a member of OTHER_PROJECT only: the service's policy, not the token, keeps PROJECT from them
    assert (await call("bea-token", "GET", "projects", OTHER_PROJECT, "outputs")).status == 200
    refused = await call("bea-token", "GET", "projects", PROJECT, "outputs")
    assert refused.status == 403 and PROJECT in refused.json["message"]
    assert (await call("ann-all-services", "GET", "projects", PROJECT, "outputs")).status == 200


@pytest.mark.parametrize("token", [None, "", "not-a-hub-token", "ann-no-access", "ann-other-service", "a-service"])
async def test_no_hub_user_with_access_to_the_service_no_answer(call, hub, token) -> None:
    for method, path, body in (("GET", ("requests", "mine"), None), ("GET", ("projects", PROJECT, "outputs"), None),
                               ("POST", ("requests",), {"project_id": PROJECT, "dataset_id": DATASET,
                                                        "justification": "x"})):
        reply = await call(token, method, *path, body=body)
        assert reply.status == 403, (token, path, reply)
        assert "JupyterHub API token that may access the workbench service" in reply.json["message"]


async def test_the_servers_own_jupyter_token_identifies_nobody(call, jp_serverapp) -> None:
    assert jp_serverapp.identity_provider.token == ""  # no Jupyter token by default: the hub's are the credential
    jp_serverapp.identity_provider.token = "a-jupyter-token"  # and one set anyway identifies nobody
    assert (await call("a-jupyter-token", "GET", "requests", "mine")).status == 403
    assert (await call(None, "GET", api=("api", "me"))).status == 403


async def test_the_hub_is_asked_once_per_token_while_its_answer_is_fresh(call, hub) -> None:
    for _ in range(3):
        assert (await call("ann-token", "GET", "requests", "mine")).status == 200
        assert (await call("not-a-hub-token", "GET", "requests", "mine")).status == 403
    assert sorted(hub.asked) == ["ann-token", "not-a-hub-token"]


async def test_a_hub_that_cannot_be_reached_identifies_nobody(call, hub) -> None:
    hub.server.stop()
    reply = await call("bea-token", "GET", "requests", "mine")
    assert reply.status == 503, reply
    assert hub.asked == []


async def test_jupyters_own_resources_are_refused_even_to_a_hub_user(call) -> None:
    for path in (("kernels",), ("contents",), ("sessions",), ("terminals",), ("kernelspecs",)):
        reply = await call("ann-token", "GET", *path, api=("api",))
        assert reply.status == 403, (path, reply)
    started = await call("ann-token", "POST", "kernels", api=("api",), body={"name": "python3"})
    assert started.status == 403
    assert (await call("ann-token", "GET", "requests", "mine")).status == 200


@pytest.mark.parametrize("missing", ["JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_NAME"])
def test_outside_a_hub_the_identity_provider_refuses_to_start(monkeypatch, missing) -> None:
    from workbench.server.hub import HubIdentityProvider

    for name, value in (("JUPYTERHUB_API_TOKEN", "t"), ("JUPYTERHUB_API_URL", "http://127.0.0.1:1/hub/api"),
                        ("JUPYTERHUB_SERVICE_NAME", SERVICE)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(InvalidInput, match=missing):
        HubIdentityProvider().validate_security(app=None)


def test_the_access_scope_names_the_service(monkeypatch) -> None:
    from workbench.server.hub import HubIdentityProvider

    monkeypatch.setenv("JUPYTERHUB_SERVICE_NAME", "tre-api")
    assert HubIdentityProvider().access_scopes == {"access:services!service=tre-api"}
    assert HubIdentityProvider(service_name="x").access_scopes == {"access:services!service=x"}


def test_the_service_listens_where_the_hub_says() -> None:
    from workbench.server.hub import HubIdentityProvider, ServiceAuthorizer, server_config

    env = {"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
           "JUPYTERHUB_SERVICE_NAME": SERVICE, "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
           "JUPYTERHUB_SERVICE_PREFIX": "/services/workbench/"}
    settings = server_config(env)["ServerApp"]
    assert (settings["ip"], settings["port"], settings["base_url"]) == ("127.0.0.1", 10101, "/services/workbench/")
    assert settings["identity_provider_class"] is HubIdentityProvider
    assert settings["authorizer_class"] is ServiceAuthorizer and settings["allow_remote_access"] is True
    for url in ("https://127.0.0.1:10101", "http://127.0.0.1", "127.0.0.1:10101"):
        with pytest.raises(InvalidInput, match="JUPYTERHUB_SERVICE_URL"):
            server_config({**env, "JUPYTERHUB_SERVICE_URL": url})
    for name in env:
        if name != "JUPYTERHUB_SERVICE_PREFIX":
            with pytest.raises(InvalidInput, match=name):
                server_config({k: v for k, v in env.items() if k != name})
