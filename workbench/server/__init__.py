"""The Jupyter server extension: the workbench's REST API for the JupyterLab extension.

Handlers live under ``<base_url>/workbench/api/`` (``routes.ROUTES``, written down in ``docs/openapi.yaml``).
The server opens the workspace once (``$WORKBENCH_HOME``) and acts, per request, as the person Jupyter
authenticated (``current_user.username``: the hub user under JupyterHub). Every decision is taken by the same
services and policy as the kernel API; handlers only translate HTTP to service calls and errors to statuses.

Installing the package enables the extension (``jupyter-config/jupyter_server_config.d/workbench.json``).
Nothing here is imported by ``import workbench``.
"""

from __future__ import annotations

import atexit
from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "workbench.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the REST handlers; the workspace is opened on first use, so the server starts without one.

    A server given only a service (``WORKBENCH_URL`` and a token, no ``WORKBENCH_HOME``: a person's server under
    JupyterHub) forwards the same routes to that service instead (``forward.py``)."""
    from jupyter_server.utils import url_path_join

    from workbench.server.forward import ForwardHandler, forwarding_target
    from workbench.server.handlers import KERNEL_BODY_SETTING
    from workbench.server.routes import API_PREFIX, handlers
    from workbench.server.session import WorkspaceHolder

    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    target = forwarding_target()
    if target is not None:
        web_app.settings["workbench_forward"] = target
        web_app.add_handlers(".*$", [(url_path_join(base_url, API_PREFIX, "(.*)"), ForwardHandler)])
        serverapp.log.info("Workbench REST API at %s forwards to the workbench service at %s",
                           url_path_join(base_url, API_PREFIX), target[0])
        return
    from workbench.server.service import WorkbenchServiceApp

    holder = WorkspaceHolder(log=serverapp.log, service=isinstance(serverapp, WorkbenchServiceApp))
    web_app.settings["workbench"] = holder
    limit = getattr(serverapp, "kernel_body_limit", None)  # `workbench serve`'s setting (WorkbenchServiceApp)
    if isinstance(limit, int) and limit > 0:
        web_app.settings[KERNEL_BODY_SETTING] = limit
    # module extensions get no stop hook from jupyter_server: close the workspace (database) when the server exits
    atexit.register(holder.close)
    web_app.add_handlers(".*$", [(url_path_join(base_url, API_PREFIX, pattern), handler)
                                 for pattern, handler in handlers()])
    serverapp.log.info("Workbench REST API at %s", url_path_join(base_url, API_PREFIX))


# the name jupyter_server looked for before 2.0
load_jupyter_server_extension = _load_jupyter_server_extension
