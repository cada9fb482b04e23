"""The Workbench: find governed public-sector data, link it, analyse it and release only safe outputs.

    import workbench as wb
    ws = wb.connect()                  # $WORKBENCH_HOME or ./.workbench, as $JUPYTERHUB_USER / $WORKBENCH_USER
    ws.catalogue.search("hospital")    # a DataFrame, local dataset id first

Heavy libraries load only when used, so importing this package is quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import errors
from workbench.errors import *  # noqa: F403 (the error classes are part of the package's API)
from workbench.errors import InvalidInput
from workbench.version import __version__

if TYPE_CHECKING:
    from workbench.remote.workspace import RemoteWorkspace
    from workbench.workspace import Workspace


def connect(home: Any = None, *, database_url: str | None = None, create: bool = True, url: str | None = None,
            token: str | None = None) -> Workspace | RemoteWorkspace:
    """Open the workspace at ``home`` (default ``$WORKBENCH_HOME`` or ``./.workbench``), creating it if new.

    In service mode (``url``, or ``$WORKBENCH_URL`` when no ``home`` or ``database_url`` is given) the workspace is
    the one the workbench service runs, used with your token (``token``, ``$WORKBENCH_TOKEN`` or
    ``$JUPYTERHUB_API_TOKEN``): the same API, and the kernel holds no database, vault or key.

    Under IPython a ``WorkbenchError`` then shows as one line (its message says what to do); ``%tb`` shows the
    full traceback.
    """
    from workbench.remote import connect_remote, service_url
    from workbench.widgets.refusals import install

    install()  # in a notebook, a refusal (this call's too) reads as one line; %tb shows the traceback
    if url is None and home is None and database_url is None:
        url = service_url()
    if url is not None:
        if home is not None or database_url is not None:
            raise InvalidInput("url: connect either to a workspace folder (home, database_url) or to a workbench "
                               "service (url), not both.", field="url")
        return connect_remote(url, token)
    if token is not None:
        raise InvalidInput("token: a token is for a workbench service; give url= too (or set WORKBENCH_URL).",
                           field="token")
    from workbench.workspace import connect as _connect

    return _connect(home, database_url=database_url, create=create)


def __getattr__(name: str) -> Any:
    """Submodules used as ``wb.<name>`` load on first use (``wb.training.exercise(...)``)."""
    if name in _SUBMODULES:
        from importlib import import_module

        return import_module(f"workbench.{name}")
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


_SUBMODULES = ("linkage", "training")

__all__ = [*errors.__all__, "__version__", "connect"]
