"""The service's options and its identity provider's reading of requests, without starting a server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import ADMIN

from workbench.errors import InvalidInput, WorkbenchError
from workbench.server import service
from workbench.server.tokens import TokenIdentityProvider


def _request(authorization: str | None = None, query: str = "") -> SimpleNamespace:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return SimpleNamespace(request=SimpleNamespace(headers=headers, query=query))


@pytest.mark.parametrize(("header", "token"), [
    ("token wbt_abc", "wbt_abc"), ("Token wbt_abc", "wbt_abc"), ("Bearer wbt_abc", "wbt_abc"),
    ("bearer   wbt_abc  ", "wbt_abc"), ("Basic d2J0X2FiYw==", None), ("token", None), ("token a b", None),
    ("", None), (None, None),
])
def test_the_token_comes_from_the_authorization_header_only(header, token) -> None:
    provider = TokenIdentityProvider()
    assert provider.get_token(_request(header, query="token=wbt_from_url")) == token


def test_the_identity_provider_offers_no_login_and_no_server_token() -> None:
    provider = TokenIdentityProvider()
    assert provider.token == "" and provider.get_handlers() == []
    assert not provider.login_available and not provider.logout_available and provider.auth_enabled


def test_the_service_keeps_only_the_api_services() -> None:
    assert set(service.WorkbenchServiceApp.default_services) == {"api", "auth"}
    app = service.WorkbenchServiceApp()
    assert not app.terminals_enabled and not app.open_browser and app.port == 8585 and app.port_retries == 0


def test_hub_settings_come_from_the_hub_environment(monkeypatch) -> None:
    from workbench.server.hub import HubIdentityProvider, ServiceAuthorizer

    for name, value in {"JUPYTERHUB_API_TOKEN": "service-token", "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
                        "JUPYTERHUB_SERVICE_NAME": "workbench", "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
                        "JUPYTERHUB_SERVICE_PREFIX": "/services/workbench/"}.items():
        monkeypatch.setenv(name, value)
    settings = service._hub_settings()
    assert (settings["base_url"], settings["ip"], settings["port"], settings["trust_xheaders"]) == (
        "/services/workbench/", "127.0.0.1", 10101, True)
    assert settings["identity_provider_class"] is HubIdentityProvider
    assert settings["authorizer_class"] is ServiceAuthorizer
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL")
    with pytest.raises(WorkbenchError, match="JUPYTERHUB_SERVICE_URL"):
        service._hub_settings()


def test_run_refuses_before_serving(tmp_path: Path, connect_as) -> None:
    with pytest.raises(WorkbenchError, match=r"No workspace at .*never creates one"):
        service.run(tmp_path / "none")
    assert not (tmp_path / "none").exists()
    ws = connect_as(ADMIN)
    with pytest.raises(InvalidInput, match="leave out --ip and --port"):
        service.run(ws.home, hub=True, port=9000)
    with pytest.raises(InvalidInput, match="not a port number"):
        service.run(ws.home, port=70000)
