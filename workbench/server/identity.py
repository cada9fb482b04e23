"""Who is signed in to a single-person JupyterLab started by ``workbench lab``.

Jupyter's own token login knows only that the token was right, not who holds it, and names the holder with
a random id. On one person's machine the token holder is the person who started the server, so this identity
provider names them as the workbench does everywhere else (``$JUPYTERHUB_USER`` → ``$WORKBENCH_USER`` → the
operating-system user). Under JupyterHub it is not used: the hub's identity provider names the hub user.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import Bool, Unicode, default

from workbench.config import current_user

AUTHORIZATION = re.compile(r"^\s*(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)


class PersonalTokenIdentityProvider(IdentityProvider):
    """The workbench service's identity providers: every request shows a person's token in its Authorization
    header (``token <t>`` or ``Bearer <t>``). No Jupyter server token, no login page, no cookie, and never a token
    in the URL (URLs end up in logs and browser histories). Subclasses say whom ``get_token``'s token names."""

    need_token = Bool(False)

    @default("token")
    def _no_server_token(self) -> str:
        return ""  # the server's own token would name nobody

    @property
    def login_available(self) -> bool:
        return False

    @property
    def logout_available(self) -> bool:
        return False

    def get_handlers(self) -> list[tuple[str, object]]:
        return []  # no /login, no /logout

    def get_token(self, handler: Any) -> str | None:
        """The token in the Authorization header; never one in the URL."""
        match = AUTHORIZATION.match(handler.request.headers.get("Authorization", ""))
        return match.group(1) if match else None


class WorkspaceUserIdentityProvider(IdentityProvider):
    """Token or password login as usual; the signed-in person is the workbench's environment user."""

    workbench_user = Unicode(help="The workbench user name of whoever holds this server's token.").tag(config=True)

    @default("workbench_user")
    def _default_workbench_user(self) -> str:
        return current_user()

    async def get_user(self, handler: Any) -> User | None:
        user = await super().get_user(handler)  # type: ignore[misc]  # the base class's get_user is async
        if user is None:
            return None
        name = self.workbench_user
        return User(username=name, name=name, display_name=name)
