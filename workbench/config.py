"""Where a workspace lives and who is using it.

Resolved from the environment so that the same notebook works in a laptop demo, on a JupyterHub and in CI:
``$WORKBENCH_HOME`` (default ``./.workbench``), ``$WORKBENCH_DATABASE_URL`` (default: SQLite inside the home)
and the identity ``$JUPYTERHUB_USER`` → ``$WORKBENCH_USER`` → the operating-system user.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from pathlib import Path
from typing import Any

from workbench.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")
WORKSPACE_FILE = "workspace.json"  # the workspace's marker, and its operator's settings (e.g. "person_index")


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: the argument, else ``$WORKBENCH_HOME``, else ``./.workbench``."""
    chosen = home if home is not None else os.environ.get("WORKBENCH_HOME") or ".workbench"
    if isinstance(chosen, str) and not chosen.strip():
        raise InvalidInput("The workspace folder is empty; give a path or unset WORKBENCH_HOME.",
                           field="home")
    return Path(chosen).expanduser().resolve()


def resolve_database_url(home: Path, database_url: str | None = None) -> str:
    """The SQLAlchemy URL: the argument, else ``$WORKBENCH_DATABASE_URL``, else SQLite in the workspace.

    ``postgresql://`` and ``postgres://`` URLs are given the psycopg 3 driver, which the workbench ships with.
    """
    url = database_url or os.environ.get("WORKBENCH_DATABASE_URL") or f"sqlite:///{home / 'workbench.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+")):
        raise InvalidInput(
            f"Unsupported database URL {redact_url(url)!r}: use sqlite:///path/to/file.db or "
            "postgresql://user@host:port/database.", field="database_url")
    return url


def redact_url(url: str) -> str:
    """The URL with any password hidden, safe to print."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def workspace_settings(home: Path, section: str) -> dict[str, Any]:
    """One section of the operator's settings in the workspace's ``workspace.json`` (empty when there is none):
    written by whoever runs the service, never by a kernel's call, and read when the setting is used, so a change
    takes effect without a restart."""
    path = home / WORKSPACE_FILE
    try:
        content = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"The workspace settings file {path} cannot be read as JSON ({exc}); fix it or restore "
                           "it from a backup.", field=section) from None
    value = content.get(section, {}) if isinstance(content, dict) else None
    if not isinstance(value, dict):
        raise InvalidInput(f'The "{section}" settings in {path} must be a JSON object, not {value!r}.',
                           field=section)
    return value


def current_user() -> str:
    """The acting person's username, from JupyterHub, then WORKBENCH_USER, then the OS."""
    for variable in ("JUPYTERHUB_USER", "WORKBENCH_USER"):
        value = os.environ.get(variable)
        if value:
            source = variable
            break
    else:
        value, source = getpass.getuser(), "the operating-system user"
    name = value.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            f"User name {value!r} (from {source}) is not a valid workbench user name: use 2–63 characters, "
            "lower-case letters, digits, '.', '_' or '-', starting with a letter.", field="user")
    return name
