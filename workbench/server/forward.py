"""The JupyterLab panels of a server that has no workspace of its own: their REST calls go on to the service.

Under JupyterHub (or any set-up where kernels use ``WORKBENCH_URL``), a person's own Jupyter server holds no
workspace, only the service's URL and the person's token. Its ``/workbench/api/*`` routes then forward each call
to the same route of the service with that token, so the panels work as they do embedded, and the service's
policy decides as the token's person. Only the server's owner is forwarded: under JupyterHub a server can be
shared, and a guest must not act with the owner's token.
"""

from __future__ import annotations

import json
import os
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from workbench.remote import TOKEN_VARIABLES

FORWARDED_HEADERS = ("Content-Type", "Accept")
TIMEOUT_SECONDS = 600.0


def forwarding_target() -> tuple[str, str] | None:
    """(service URL, token) when this server should forward instead of opening a workspace, else None."""
    url = os.environ.get("WORKBENCH_URL")
    if not url or os.environ.get("WORKBENCH_HOME") or os.environ.get("WORKBENCH_DATABASE_URL"):
        return None
    token = next((os.environ[v] for v in TOKEN_VARIABLES if os.environ.get(v)), None)
    if token is None:
        return None
    return (url if url.endswith("/") else url + "/"), token


class ForwardHandler(APIHandler):
    """Any ``/workbench/api/<path>`` call, made again to the service as the token's person."""

    @property
    def target(self) -> tuple[str, str]:
        return self.settings["workbench_forward"]

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"message": message, "field": None}))

    @tornado.web.authenticated
    async def _forward(self, path: str) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest

        owner = os.environ.get("JUPYTERHUB_USER")
        if owner and self.current_user.username != owner:
            self._refuse(403, f"This server belongs to {owner}; open the workbench panels in your own server.")
            return
        url, token = self.target
        query = f"?{self.request.query}" if self.request.query else ""
        headers = {name: self.request.headers[name] for name in FORWARDED_HEADERS if name in self.request.headers}
        headers["Authorization"] = f"token {token}"
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        request = HTTPRequest(f"{url}workbench/api/{path}{query}", method=self.request.method, headers=headers,
                              body=body, allow_nonstandard_methods=True, request_timeout=TIMEOUT_SECONDS)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as error:
            self._refuse(503, f"The workbench service at {url} did not answer ({error}); check WORKBENCH_URL.")
            return
        if response.code == 599:  # tornado's code for no answer at all
            self._refuse(503, f"The workbench service at {url} did not answer ({response.error}).")
            return
        self.set_status(response.code)
        self.finish(response.body or b"",
                    set_content_type=response.headers.get("Content-Type", "application/json"))

    get = post = put = patch = delete = _forward

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        message = ("Sign in to Jupyter first: this request carried no valid token or login cookie."
                   if status_code == 403 else "The workbench panels could not reach the service.")
        self.finish(json.dumps({"message": message, "field": None}))
