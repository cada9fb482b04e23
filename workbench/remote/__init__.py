"""Service mode in the kernel: ``wb.connect()`` with ``WORKBENCH_URL`` set gives a workspace run by the service.

The kernel knows the service's URL and the person's token (``WORKBENCH_TOKEN`` for a standalone service,
``JUPYTERHUB_API_TOKEN`` under JupyterHub), and nothing of the vault, the database or the keys.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from workbench.errors import InvalidInput

if TYPE_CHECKING:
    from workbench.remote.workspace import RemoteWorkspace

TOKEN_VARIABLES = ("WORKBENCH_TOKEN", "JUPYTERHUB_API_TOKEN")


def service_url() -> str | None:
    """``$WORKBENCH_URL``, if set."""
    return os.environ.get("WORKBENCH_URL") or None


def connect_remote(url: str, token: str | None = None) -> RemoteWorkspace:
    """The workspace served at ``url``, acting as whoever ``token`` (else the environment's token) names."""
    from workbench.remote.service import Service
    from workbench.remote.workspace import RemoteWorkspace

    if token is None:
        token = next((os.environ[v] for v in TOKEN_VARIABLES if os.environ.get(v)), None)
    if token is None:
        raise InvalidInput(f"token: connecting to the workbench service at {url} needs your token; set "
                           "WORKBENCH_TOKEN (ask an admin for one: `workbench token create`) or run under "
                           "JupyterHub, which sets JUPYTERHUB_API_TOKEN.", field="token")
    return RemoteWorkspace(Service(url, token))


__all__ = ["TOKEN_VARIABLES", "connect_remote", "service_url"]
