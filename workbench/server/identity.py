"""Who is signed in to a single-person JupyterLab started by ``workbench lab``.

Jupyter's own token login knows only that the token was right, not who holds it, and names the holder with
a random id. On one person's machine the token holder is the person who started the server, so this identity
provider names them as the workbench does everywhere else (``$JUPYTERHUB_USER`` → ``$WORKBENCH_USER`` → the
operating-system user). Under JupyterHub it is not used: the hub's identity provider names the hub user.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import Unicode, default


class WorkspaceUserIdentityProvider(IdentityProvider):
    """Token or password login as usual; the signed-in person is the workbench's environment user."""

    workbench_user = Unicode(help="The workbench user name of whoever holds this server's token.").tag(config=True)

    @default("workbench_user")
    def _default_workbench_user(self) -> str:
        from workbench.config import current_user

        return current_user()

    async def get_user(self, handler: Any) -> User | None:  # type: ignore[override]
        user = await super().get_user(handler)
        if user is None:
            return None
        name = self.workbench_user
        return User(username=name, name=name, display_name=name)
