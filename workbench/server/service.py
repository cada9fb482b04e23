"""``workbench serve``: the workbench REST API alone, as a service for many people.

The same handlers as the JupyterLab extension (``workbench.server``), on a Jupyter server stripped of
everything else: no contents, files, kernels, sessions, terminals, notebook views or other server extensions,
no login page and no browser. The service never runs code or serves files; people's kernels talk to it with
their own token (standalone: ``workbench token create``; under JupyterHub: a hub-issued token).

The workspace is opened at start-up (never created), so a missing workspace or an unreachable database stops
the service at once with one clear line, and it is closed when the service stops (SIGTERM or SIGINT).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from typing import Any

from jupyter_server.serverapp import ServerApp
from traitlets import Integer, Unicode, default, validate

from workbench.config import resolve_home
from workbench.errors import InvalidInput, WorkbenchError

EXTENSION = "workbench.server"
URL_LINE = "Workbench service at {url}"  # the first line on standard output, for scripts and tests
DEFAULT_PORT = 8585


class WorkbenchServiceApp(ServerApp):
    """A Jupyter server that serves the workbench REST API and nothing else."""

    name = "workbench-service"  # reads workbench_service_config.py/json, not the notebook server's config
    description = "The workbench REST API as a service (no kernels, files or terminals)."
    # /api (version, status, /api/me: who the token names) and nothing of contents, kernels, files, views...
    default_services = ("api", "auth")  # type: ignore[assignment]  # fewer services than ServerApp's

    workspace_home = Unicode("", help="The workspace folder to serve (default: $WORKBENCH_HOME).").tag(config=True)
    kernel_body_limit = Integer(
        64 * 1024 * 1024, help="The largest request body a kernel may send, in bytes (DataFrames included); a "
        "larger one is refused with 413 before it is read.").tag(config=True)

    @validate("kernel_body_limit")
    def _positive_limit(self, proposal: Any) -> int:
        if proposal["value"] < 1024:
            raise InvalidInput(f"kernel_body_limit: {proposal['value']} bytes is too small; give at least 1024.",
                               field="kernel_body_limit")
        return proposal["value"]

    @default("terminals_enabled")
    def _no_terminals(self) -> bool:
        return False

    @default("open_browser")
    def _no_browser(self) -> bool:
        return False

    @default("port")
    def _default_port(self) -> int:
        return DEFAULT_PORT

    @default("port_retries")
    def _no_other_port(self) -> int:
        return 0  # a service answers where it was told to, or not at all

    @default("identity_provider_class")
    def _default_identity(self) -> Any:
        from workbench.server.tokens import TokenIdentityProvider

        return TokenIdentityProvider

    def find_server_extensions(self) -> None:
        """Installed extensions (JupyterLab, terminals, LSP...) are not looked for: only the workbench's runs."""

    def init_server_extensions(self) -> None:
        self.jpserver_extensions = {EXTENSION: True}
        self.terminals_enabled = False
        super().init_server_extensions()

    def init_configurables(self) -> None:
        # the contents and kernel managers exist but have no routes; root them in an empty private folder
        self._empty_root = tempfile.mkdtemp(prefix="workbench-service-")
        self.root_dir = self._empty_root
        super().init_configurables()

    def initialize(self, argv: list[str] | None = None, **kwargs: Any) -> None:  # type: ignore[override]  # passes kwargs on
        if self.workspace_home:
            os.environ["WORKBENCH_HOME"] = self.workspace_home  # where the extension opens its workspace
        self.no_browser_open_file = True
        super().initialize(argv, **kwargs)
        try:
            self._open_workspace()
        except BaseException:
            self._release()
            raise

    def _open_workspace(self) -> None:
        holder = self.web_app.settings.get("workbench")
        if holder is None:
            raise WorkbenchError(f"The {EXTENSION} server extension did not load; see the log above.")
        ws = holder.workspace()
        self.log.info("Serving the workbench workspace %s on %s", ws.home, ws._ctx.db.dialect)

    def init_signal(self) -> None:
        """SIGTERM and SIGINT stop the service at once (no interactive confirmation)."""
        signal.signal(signal.SIGTERM, self._signal_stop)
        signal.signal(signal.SIGINT, self._signal_stop)

    def running_server_info(self, kernel_count: bool = True) -> str:
        """What the log says at start-up and on SIGUSR1 (no notebook folder, no kernels to count)."""
        return f"Workbench service (Jupyter Server {self.version}) at {self.service_url}"

    @property
    def service_url(self) -> str:
        host = self.ip if self.ip not in ("", "0.0.0.0", "::") else "localhost"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://{host}:{self.port}{self.base_url}"

    async def _post_start(self) -> None:
        # runs once the HTTP server listens (its bind callback was queued first): say where, for scripts
        print(URL_LINE.format(url=self.service_url), flush=True)
        await super()._post_start()

    async def _cleanup(self) -> None:
        await super()._cleanup()
        self._release()

    def _release(self) -> None:
        """Close the workspace and remove the empty root folder (idempotent)."""
        if getattr(self, "_released", False):
            return
        self._released = True
        holder = self.web_app.settings.get("workbench") if hasattr(self, "web_app") else None
        if holder is not None:
            holder.close()
            self.log.info("Workbench workspace closed")
        root = getattr(self, "_empty_root", None)
        if root:
            shutil.rmtree(root, ignore_errors=True)


def _hub_settings() -> dict[str, Any]:
    """Address, prefix, identity and authorizer of a service JupyterHub manages (``workbench.server.hub``)."""
    try:
        from workbench.server.hub import server_config
    except ImportError as error:
        raise WorkbenchError(f"--hub needs JupyterHub's Python package ({error}); install jupyterhub in the "
                             "service's environment or start the service without --hub.") from None
    settings = dict(server_config()["ServerApp"])
    settings["trust_xheaders"] = True  # behind the hub's proxy, as JupyterHub's own single-user servers are
    return settings


def run(home: str | os.PathLike[str] | None = None, *, ip: str | None = None, port: int | None = None,
        hub: bool = False, log_level: str = "INFO", max_body_mib: int | None = None) -> int:
    """Serve the workspace at ``home`` until SIGTERM/SIGINT; refuse (WorkbenchError) if it cannot be opened.

    ``max_body_mib``: the largest request body a kernel may send (default 64 MiB)."""
    from traitlets.config import Config

    from workbench.workspace import connect, exists

    path = resolve_home(home)
    if not exists(path):
        raise WorkbenchError(f"No workspace at {path}; the service never creates one: run `workbench init` "
                             "(or `workbench demo`) there first, or give --home.")
    # Any Host header: behind a proxy it is the public name. Standalone, tokens travel in a header a browser never
    # adds by itself, so a page on another host name (DNS rebinding) gains nothing; under a hub, as JupyterHub's
    # own single-user servers do.
    settings: dict[str, Any] = {"workspace_home": str(path), "log_level": log_level, "allow_remote_access": True}
    if max_body_mib is not None:
        if isinstance(max_body_mib, bool) or not isinstance(max_body_mib, int) or not 1 <= max_body_mib <= 4096:
            raise InvalidInput(f"--max-body-mib: {max_body_mib!r} is not a whole number of MiB from 1 to 4096.",
                               field="max_body_mib")
        settings["kernel_body_limit"] = max_body_mib * 1024 * 1024
    if hub:
        if ip is not None or port is not None:
            raise InvalidInput("--hub: the hub's JUPYTERHUB_SERVICE_URL sets the address; leave out --ip and "
                               "--port.", field="hub")
        settings.update(_hub_settings())
    else:
        settings["ip"] = ip if ip is not None else "127.0.0.1"
        settings["port"] = DEFAULT_PORT if port is None else port
    if not 0 <= settings["port"] <= 65535:
        raise InvalidInput(f"--port: {settings['port']} is not a port number (0–65535; 0 picks a free one).",
                           field="port")
    if not hub:
        from workbench.server.tokens import TokenIdentityProvider

        settings["identity_provider_class"] = TokenIdentityProvider
    connect(path, create=False).close()  # the database is reachable and migrated, or one clear line now
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        settings["allow_root"] = True  # the service runs no code; containers often run as root
    app = WorkbenchServiceApp(config=Config({"WorkbenchServiceApp": settings}))
    app.initialize(argv=[])
    try:
        app.start()
    finally:
        app._release()
    print("Workbench service stopped", flush=True)
    return 0

