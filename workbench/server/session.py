"""One open workspace per Jupyter server, and a session per request acting as the authenticated person.

The workspace (database engine, vault, secrets) is opened once, on first use, from ``$WORKBENCH_HOME`` (or
``$WORKBENCH_DATABASE_URL``), never created: a server must not make an empty workspace by accident. Each request
then acts as the person Jupyter authenticated, through ``workspace.session_for``, so the policy sees who is
asking, not who started the server. Service calls block (database, Parquet), so they run in a small thread
pool and the server's event loop stays responsive.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.workspace import Workspace


class WorkspaceUnavailable(WorkbenchError):
    """The server has no usable workspace (none at WORKBENCH_HOME, or its database cannot be opened)."""


class WorkspaceHolder:
    """The server's workspace, opened once; ``session(username)`` gives it acting as that person."""

    def __init__(self, home: Any = None, *, log: Any = None, workers: int = 4, service: bool = False) -> None:
        self._home = home
        self._service = service  # `workbench serve`: kernels are remote, so the frames they send are the analyst's
        self._log = log
        self._lock = threading.Lock()
        self._workspace: Workspace | None = None
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbench-api")

    def workspace(self) -> Workspace:
        with self._lock:
            if self._workspace is None:
                from workbench.workspace import connect

                try:
                    self._workspace = connect(self._home, create=False)
                except WorkbenchError as error:
                    raise WorkspaceUnavailable(
                        f"The workbench server has no workspace to serve: {error} Set WORKBENCH_HOME before "
                        "starting JupyterLab (`workbench lab` does this).") from None
                self._workspace._ctx.service = self._service
                if self._log is not None:
                    self._log.info("Workbench workspace %s opened", self._workspace.home)
            return self._workspace

    def session(self, username: str) -> Workspace:
        from workbench.workspace import session_for

        return session_for(self.workspace(), username)

    def close(self) -> None:
        with self._lock:
            if self._workspace is not None:
                self._workspace.close()
                self._workspace = None
        self.executor.shutdown(wait=False)
