"""The service's options and its identity provider's reading of requests, without starting a server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ADMIN

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
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL", raising=False)
    with pytest.raises(InvalidInput, match="JUPYTERHUB_SERVICE_URL is not set"):
        service._hub_settings()
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/services/workbench")
    assert service._hub_settings() == {"base_url": "/services/workbench/", "ip": "127.0.0.1", "port": 10101,
                                       "trust_xheaders": True}
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "https://workbench.hub.internal")
    monkeypatch.setenv("JUPYTERHUB_SSL_CERTFILE", "/etc/hub/internal.crt")
    settings = service._hub_settings()
    assert (settings["ip"], settings["port"], settings["certfile"]) == (
        "workbench.hub.internal", 443, "/etc/hub/internal.crt")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "unix:/tmp/socket")
    with pytest.raises(InvalidInput, match="is not an http"):
        service._hub_settings()


def test_the_identity_provider_is_imported_by_name(monkeypatch) -> None:
    assert service._identity_class(hub=False) is TokenIdentityProvider
    monkeypatch.setattr(service, "HUB_IDENTITY", "workbench.server.no_such_module.HubIdentityProvider")
    with pytest.raises(WorkbenchError, match="this installation lacks"):
        service._identity_class(hub=True)


def test_run_refuses_before_serving(tmp_path: Path, connect_as) -> None:
    with pytest.raises(WorkbenchError, match=r"No workspace at .*never creates one"):
        service.run(tmp_path / "none")
    assert not (tmp_path / "none").exists()
    ws = connect_as(ADMIN)
    with pytest.raises(InvalidInput, match="leave out --ip and --port"):
        service.run(ws.home, hub=True, port=9000)
    with pytest.raises(InvalidInput, match="not a port number"):
        service.run(ws.home, port=70000)
