"""The Workbench: find governed public-sector data, link it, analyse it and release only safe outputs.

    import workbench as wb
    ws = wb.connect()                  # $WORKBENCH_HOME or ./.workbench, as $JUPYTERHUB_USER / $WORKBENCH_USER
    ws.catalogue.search("hospital")    # a DataFrame, local dataset id first

Heavy libraries load only when used, so importing this package is quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import (
    AccessDenied,
    BudgetExceeded,
    Conflict,
    DisclosureRisk,
    InvalidInput,
    NotFound,
    WorkbenchError,
)

if TYPE_CHECKING:
    from workbench.workspace import Workspace

__version__ = "0.1.0"


def connect(home: Any = None, *, database_url: str | None = None, create: bool = True) -> Workspace:
    """Open the workspace at ``home`` (default ``$WORKBENCH_HOME`` or ``./.workbench``), creating it if new."""
    from workbench.workspace import connect as _connect

    return _connect(home, database_url=database_url, create=create)


def __getattr__(name: str) -> Any:
    """Submodules used as ``wb.<name>`` load on first use (``wb.training.exercise(...)``)."""
    if name in _SUBMODULES:
        from importlib import import_module

        return import_module(f"workbench.{name}")
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


_SUBMODULES = ("linkage", "training")

__all__ = [
    "AccessDenied",
    "BudgetExceeded",
    "Conflict",
    "DisclosureRisk",
    "InvalidInput",
    "NotFound",
    "WorkbenchError",
    "__version__",
    "connect",
]
