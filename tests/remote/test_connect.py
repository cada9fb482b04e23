"""``wb.connect()`` in service mode: where the URL and token come from, what is refused before any call, and
what a kernel sees when the service refuses or is not there."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

import workbench as wb
from workbench.errors import AccessDenied, BudgetExceeded, InvalidInput, WorkbenchError
from workbench.remote.service import ServiceUnreachable


class FakeService(BaseHTTPRequestHandler):
    """Answers whoami with the token it was given as the user name, and refuses as the service does."""

    seen: ClassVar[list[tuple[str, str, dict]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        FakeService.seen.append((self.path, self.headers.get("Authorization", ""), body))
        token = self.headers.get("Authorization", "").removeprefix("token ")
        if token == "bad":
            self.reply(403, {"message": "Sign in first.", "field": None})
        elif self.path.endswith("/whoami"):
            self.reply(200, {"user": token, "roles": ["analyst"]})
        elif self.path.endswith("/dp.query"):
            self.reply(409, {"message": "Only ε 0.1 remains.", "field": None, "error": "BudgetExceeded"})
        else:
            self.reply(400, {"message": "columns: not a list.", "field": "columns", "error": "InvalidInput"})

    def reply(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeService.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/workbench"
    server.shutdown()


def test_workbench_url_and_token_from_the_environment(fake, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_URL", fake)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub.user")
    ws = wb.connect()
    assert ws.user == "hub.user" and ws.url == fake + "/"
    path, auth, body = FakeService.seen[-1]
    assert path == "/services/workbench/workbench/api/kernel/whoami" and auth == "token hub.user" and body == {}
    monkeypatch.setenv("WORKBENCH_TOKEN", "own.token")  # a workbench token wins over the hub's
    assert wb.connect().user == "own.token"
    assert wb.connect(token="given.token").user == "given.token"


def test_a_home_or_database_url_means_embedded_even_with_workbench_url(fake, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORKBENCH_URL", fake)
    monkeypatch.setenv("WORKBENCH_USER", "ann.analyst")
    with wb.connect(tmp_path / "ws") as ws:
        assert ws.home == tmp_path / "ws"


@pytest.mark.parametrize("kwargs, field", [
    ({"url": "http://127.0.0.1:1/", "home": "somewhere"}, "url"),
    ({"token": "t"}, "token"),
    ({"url": "ftp://example/", "token": "t"}, "url"),
    ({"url": "not a url", "token": "t"}, "url"),
    ({"url": "http://127.0.0.1:1/", "token": "  "}, "token"),
])
def test_wrong_connections_are_refused_before_any_call(kwargs, field, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput) as refused:
        wb.connect(**kwargs)
    assert refused.value.field == field
    assert not (tmp_path / ".workbench").exists()


def test_no_token_says_where_to_get_one(fake, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_URL", fake)
    with pytest.raises(InvalidInput, match=r"set WORKBENCH_TOKEN .*workbench token create.*JUPYTERHUB_API_TOKEN"):
        wb.connect()


def test_a_refused_token_and_a_missing_service(fake) -> None:
    with pytest.raises(AccessDenied, match=r"did not accept your token: Sign in first."):
        wb.connect(url=fake, token="bad")
    with pytest.raises(ServiceUnreachable, match=r"did not answer .*check WORKBENCH_URL"):
        wb.connect(url="http://127.0.0.1:9/", token="t")
    assert issubclass(ServiceUnreachable, WorkbenchError)


def test_refusals_come_back_as_the_same_class_message_and_field(fake) -> None:
    ws = wb.connect(url=fake, token="ann.analyst")
    service = ws._service
    with pytest.raises(BudgetExceeded, match=r"Only ε 0\.1 remains"):
        service.call("dp.query", {})
    with pytest.raises(InvalidInput) as refused:
        service.call("project.load", {})
    assert refused.value.field == "columns" and str(refused.value) == "columns: not a list."
