"""Who is calling the standalone workbench service: the person a workbench API token names.

A Jupyter server token only proves that the caller holds the server's one secret; the service acts for many
people, so each carries their own token (``workbench token create``) in the ``Authorization`` header
(``token <t>`` or ``Bearer <t>``). Tokens in the URL are refused: URLs end up in logs and browser histories.
There is no login page and no cookie: every request shows its token. The lookup runs in the workspace's
worker pool, like every other database call of the server.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import User
from sqlalchemy.exc import SQLAlchemyError
from tornado import web
from tornado.ioloop import IOLoop

from workbench.errors import WorkbenchError
from workbench.governance.tokens import user_for_token
from workbench.server.identity import PersonalTokenIdentityProvider


def lookup(holder: Any, token: str) -> str | None:
    """The person ``token`` names in the holder's workspace (blocking: run it in ``holder.executor``)."""
    try:
        return user_for_token(holder.workspace()._ctx.db, token)
    except SQLAlchemyError as error:
        raise WorkbenchError(f"the workspace database failed: {error.__class__.__name__}") from error


class TokenIdentityProvider(PersonalTokenIdentityProvider):
    """A request is signed in as the holder of the workbench API token in its Authorization header."""

    refusal_message = ("Send your workbench API token as 'Authorization: token <token>' (a kernel: set "
                       "WORKBENCH_TOKEN); `workbench token create` makes one, and a revoked or expired token no "
                       "longer works.")

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        token = self.get_token(handler)
        holder = handler.settings.get("workbench")
        if not token or holder is None:
            return None
        try:
            username = await IOLoop.current().run_in_executor(holder.executor, lookup, holder, token)
        except WorkbenchError as error:
            self.log.error("Workbench token lookup failed: %s", error)
            raise web.HTTPError(503, "The workbench service cannot reach its workspace; try again later.",
                                reason="Service Unavailable") from None
        if username is None:
            self.log.warning("Refused a workbench API token from %s (unknown, revoked or expired)",
                             handler.request.remote_ip)
            return None
        handler._token_authenticated = True  # type: ignore[attr-defined]  # an API call with a token: no XSRF cookie to check
        return User(username=username, name=username, display_name=username)
