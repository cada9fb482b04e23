"""Who is calling the workbench service under JupyterHub: the hub user whose API token the request carries.

In service mode the workbench's REST API runs as a JupyterHub-managed service (``/services/workbench/``) that
alone holds the vault, the database and the keys. Analyst kernels hold only a hub API token (their server's
``$JUPYTERHUB_API_TOKEN`` or a token the person made) and send it as ``Authorization: token <t>`` (or
``Bearer <t>``). This identity provider asks the hub who owns the token (``GET /hub/api/user``, through
``jupyterhub.services.auth.HubAuth``), and accepts the request only when the token carries the scope to access
this service (``access:services!service=<name>``, or ``access:services``, which covers every service). The
person is then the hub user of that name: the workbench user of the same name, whom the policy judges as usual.
A token of another service, an unknown token, or one without the access scope identifies nobody (403).

The hub's answers are cached for ``cache_seconds`` (a revoked token keeps working that long) so that a busy
kernel does not cost a hub round trip per request.

Configuration comes from the environment JupyterHub gives a managed service: ``JUPYTERHUB_API_TOKEN`` (the
service's own token, to ask the hub), ``JUPYTERHUB_API_URL``, ``JUPYTERHUB_SERVICE_NAME`` and
``JUPYTERHUB_SERVICE_PREFIX`` (``JUPYTERHUB_SERVICE_URL`` tells the server where to listen).

``ServiceAuthorizer`` goes with it: the service is the workbench's API and nothing else, so Jupyter's own
resources (kernels, terminals, contents, files, sessions, shutdown) are refused to everyone; a kernel on the
service would run next to the vault and the database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from tornado.web import HTTPError
from traitlets import Instance, Integer, Set, Unicode, default

from workbench.errors import InvalidInput
from workbench.server.identity import PersonalTokenIdentityProvider


def _needed(variable: str, environ: Mapping[str, str] | None = None) -> str:
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    if not value:
        raise InvalidInput(
            f"{variable} is not set: the workbench service identifies callers through JupyterHub and needs the "
            "environment JupyterHub gives a managed service (JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL, "
            "JUPYTERHUB_SERVICE_NAME, JUPYTERHUB_SERVICE_URL). Run it as a service in jupyterhub_config.py "
            "(deploy/jupyterhub_config.py is an example) rather than by hand.", field=variable)
    return value


def server_config(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The Jupyter server settings of the workbench service under JupyterHub, from the hub-given environment.

    It listens where ``JUPYTERHUB_SERVICE_URL`` says, under ``JUPYTERHUB_SERVICE_PREFIX``, names callers by their
    hub token and refuses Jupyter's own resources. Requests arrive through the hub's proxy with the public host
    name, hence ``allow_remote_access``.
    """
    env = os.environ if environ is None else environ
    for variable in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_SERVICE_NAME"):
        _needed(variable, env)
    url = urlparse(_needed("JUPYTERHUB_SERVICE_URL", env))
    if url.scheme != "http" or not url.hostname or not url.port:
        raise InvalidInput(f"JUPYTERHUB_SERVICE_URL: {url.geturl()!r} is not an http://host:port address; give the "
                           "service a 'url' such as http://127.0.0.1:10101 in jupyterhub_config.py (JupyterHub's "
                           "internal_ssl is not supported).", field="JUPYTERHUB_SERVICE_URL")
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip() or "/"
    return {"ServerApp": {"identity_provider_class": HubIdentityProvider, "authorizer_class": ServiceAuthorizer,
                          "ip": url.hostname, "port": url.port, "port_retries": 0, "base_url": prefix,
                          "allow_remote_access": True, "open_browser": False}}


class HubIdentityProvider(PersonalTokenIdentityProvider):
    """A request's person is the JupyterHub user owning its API token, if that token may access this service."""

    service_name = Unicode(
        help="This service's name in the hub (default $JUPYTERHUB_SERVICE_NAME); the access scope names it.",
    ).tag(config=True)

    access_scopes = Set(
        Unicode(),
        help="Scopes of which a token must hold one (default access:services!service=<service_name>, which "
             "the unfiltered access:services also covers).",
    ).tag(config=True)

    cache_seconds = Integer(
        60, help="How long the hub's answer about a token is reused before asking again.",
    ).tag(config=True)

    hub_auth = Instance("jupyterhub.services.auth.HubAuth")

    # what a refused caller is told (the API's 403 for no identity)
    refusal_message = ("Send a JupyterHub API token that may access the workbench service, as "
                       "'Authorization: token <token>': $JUPYTERHUB_API_TOKEN in a kernel under JupyterHub, or a "
                       "token made on the hub's Token page.")

    @default("service_name")
    def _default_service_name(self) -> str:
        return _needed("JUPYTERHUB_SERVICE_NAME")

    @default("access_scopes")
    def _default_access_scopes(self) -> set[str]:
        return {f"access:services!service={self.service_name}"}

    @default("hub_auth")
    def _default_hub_auth(self) -> Any:
        from jupyterhub.services.auth import HubAuth

        # HubAuth reads the rest of its settings (SSL files, hub prefix) from the environment too
        return HubAuth(parent=self, api_token=_needed("JUPYTERHUB_API_TOKEN"),
                       api_url=_needed("JUPYTERHUB_API_URL"), access_scopes=self.access_scopes,
                       cache_max_age=self.cache_seconds,
                       base_url=os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/")

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        """Check the hub settings at start, so a misconfigured service stops at once rather than refusing all."""
        self.hub_auth  # noqa: B018

    async def get_user(self, handler: Any) -> User | None:
        if hasattr(handler, "_workbench_hub_user"):
            return handler._workbench_hub_user
        handler._workbench_hub_user = None
        token = self.get_token(handler)
        if not token:
            return None
        try:
            model = await self.hub_auth.user_for_token(token, sync=False)
        except HTTPError as error:  # HubAuth's own: the hub could not be reached or failed
            self.log.error("Could not ask JupyterHub who holds a token: %s", error.log_message)
            raise HTTPError(503, "JupyterHub could not be asked who holds this token; try again shortly.") from None
        if not model:
            self.log.warning("Refused a request to the workbench service: the hub knows no such token.")
            return None
        kind, name = model.get("kind", "user"), model.get("name", "")
        if kind != "user":
            self.log.warning("Refused hub %s %r: only hub users (people) use the workbench service.", kind, name)
            return None
        if not self.hub_auth.check_scopes(self.access_scopes, model):
            self.log.warning("Refused hub %s %r: its token lacks the scope %s.", kind, name,
                             " or ".join(sorted(self.access_scopes)))
            return None
        # a token-authenticated request: no XSRF cookie or same-origin check applies (as for Jupyter's own tokens)
        handler._token_authenticated = True
        handler._workbench_hub_user = User(username=name)
        return handler._workbench_hub_user


class ServiceAuthorizer(Authorizer):
    """Refuses every Jupyter resource (kernels, terminals, contents, files, sessions, shutdown...) to everyone.

    The workbench API's handlers check identity only and leave decisions to the workbench's policy, so they are
    unaffected; everything Jupyter itself offers would let a caller run code beside the vault and the database.
    """

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return False
