"""The kernel's side of the wire: one HTTP call per operation to the workbench service, with the person's token.

The kernel holds a URL and a token, nothing else: no database URL, vault path or key. Refusals come back as
the same ``WorkbenchError`` subclass, with the same message, that the embedded workspace raises.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import workbench.errors as errors
from workbench.errors import AccessDenied, InvalidInput, WorkbenchError

API_PREFIX = "workbench/api/kernel/"
TIMEOUT_SECONDS = 3600.0  # a linkage or a large load can take minutes; a dead service still fails at connect


class ServiceUnreachable(WorkbenchError):
    """The workbench service did not answer (wrong WORKBENCH_URL, service stopped, network down)."""


class Service:
    """Calls to the workbench service at ``url`` as the holder of ``token``."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"url: {url!r} is not an http(s) URL; set WORKBENCH_URL to the workbench service, "
                               "e.g. http://127.0.0.1:8585/.", field="url")
        if not isinstance(token, str) or not token.strip():
            raise InvalidInput("token: the workbench service needs your token; set WORKBENCH_TOKEN (standalone "
                               "service) or run under JupyterHub (JUPYTERHUB_API_TOKEN).", field="token")
        self.url = url if url.endswith("/") else url + "/"
        self._token = token.strip()

    def call(self, operation: str, arguments: dict[str, Any]) -> Any:
        """Run ``operation`` on the service with named ``arguments``; its answer, decoded."""
        from workbench import wire

        request = urllib.request.Request(
            self.url + API_PREFIX + operation, data=wire.dumps(arguments), method="POST",
            headers={"Authorization": f"token {self._token}", "Content-Type": wire.JSON,
                     "Accept": f"{wire.ARROW}, {wire.JSON}"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                kind = response.headers.get_content_type()
                if kind == wire.ARROW:
                    return wire.arrow_to_frame(response)
                return wire.loads(response.read())
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServiceUnreachable(f"The workbench service at {self.url} did not answer ({reason}); check "
                                     "WORKBENCH_URL and that the service is running.") from None

    def _refusal(self, error: urllib.error.HTTPError) -> WorkbenchError:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        message = body.get("message") or f"The workbench service answered {error.code} {error.reason}."
        if error.code == 403 and "error" not in body:
            return AccessDenied(f"The workbench service at {self.url} did not accept your token: {message} "
                                "Check WORKBENCH_TOKEN (or sign in to JupyterHub again).")
        kind = getattr(errors, str(body.get("error")), None)
        if not (isinstance(kind, type) and issubclass(kind, WorkbenchError)):
            return WorkbenchError(message)
        if issubclass(kind, InvalidInput):
            return kind(message, field=body.get("field"))
        return kind(message)

    def __repr__(self) -> str:
        return f"<workbench service {self.url}>"
