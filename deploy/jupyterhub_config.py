# JupyterHub configuration: the workbench as a hub-managed service (docs/service-mode.md, "Under JupyterHub").
#
#   jupyterhub -f deploy/jupyterhub_config.py
#
# What runs where:
#   - the hub and its proxy (configurable-http-proxy, from npm) face the users;
#   - the service "workbench" (started and restarted by the hub, at <hub>/services/workbench/) alone holds the
#     workspace: its vault, its database and its keys. It learns who calls from the caller's hub token;
#   - each user's single-user server and kernels get only WORKBENCH_URL and their own hub token
#     ($JUPYTERHUB_API_TOKEN), never the workspace's folder, database URL or keys.
#
# Every setting below comes from an environment variable with a default, so this file is used as it is:
#   WORKBENCH_HOME                 the workspace the service serves (default /srv/workbench; `workbench init` it)
#   WORKBENCH_DATABASE_URL         its PostgreSQL database, if not the SQLite file inside WORKBENCH_HOME
#   WORKBENCH_HUB_BIND_URL         where the proxy listens for users (default http://127.0.0.1:8000/)
#   WORKBENCH_HUB_PUBLIC_URL       the hub's address as kernels reach it (default: WORKBENCH_HUB_BIND_URL)
#   WORKBENCH_HUB_API_URL          where the hub itself listens, behind the proxy (default http://127.0.0.1:8081)
#   WORKBENCH_HUB_PROXY_API_URL    the proxy's REST API, for the hub only (default http://127.0.0.1:8001)
#   WORKBENCH_SERVICE_URL          where the workbench service listens, behind the proxy (default
#                                  http://127.0.0.1:10101)
#   WORKBENCH_HUB_STATE            folder for the hub's own database, cookie secret and proxy pid (default .)
# Trying it on one machine, without operating-system accounts (never in production):
#   WORKBENCH_HUB_SHARED_PASSWORD  when set (8+ characters), anyone signs in with this password under a workbench
#                                  user name, and servers run as local processes of the hub's own OS user
#   WORKBENCH_HUB_ALLOWED_USERS    then only these (comma-separated) names may sign in
#   WORKBENCH_HUB_USER_HOMES       their home folders, a template (default /tmp/{username})
# Without WORKBENCH_HUB_SHARED_PASSWORD JupyterHub's defaults apply (PAM sign-in, one OS account per user); a
# real deployment sets its own authenticator_class and spawner_class below (OAuthenticator, DockerSpawner,
# KubeSpawner...) and keeps the rest.

import os
import sys
from urllib.parse import urljoin

c = get_config()  # noqa: F821 (JupyterHub defines it)

SERVICE = "workbench"  # the service's name: its URL (/services/workbench/) and its access scope name it


def setting(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


workbench_home = setting("WORKBENCH_HOME", "/srv/workbench")
database_url = os.environ.get("WORKBENCH_DATABASE_URL", "").strip()
bind_url = with_slash(setting("WORKBENCH_HUB_BIND_URL", "http://127.0.0.1:8000/"))
public_url = with_slash(setting("WORKBENCH_HUB_PUBLIC_URL", bind_url))
service_url = setting("WORKBENCH_SERVICE_URL", "http://127.0.0.1:10101").rstrip("/")
state = os.path.abspath(setting("WORKBENCH_HUB_STATE", "."))

# -- the hub and its proxy --------------------------------------------------------------------------------------
c.JupyterHub.bind_url = bind_url
c.JupyterHub.hub_bind_url = setting("WORKBENCH_HUB_API_URL", "http://127.0.0.1:8081")
c.ConfigurableHTTPProxy.api_url = setting("WORKBENCH_HUB_PROXY_API_URL", "http://127.0.0.1:8001")
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "jupyterhub-proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")

# -- the workbench service: the only process with the workspace ---------------------------------------------------
# The hub starts it with JUPYTERHUB_API_TOKEN (its own token, to ask the hub who owns a caller's token),
# JUPYTERHUB_API_URL, JUPYTERHUB_SERVICE_NAME, JUPYTERHUB_SERVICE_URL (where to listen) and
# JUPYTERHUB_SERVICE_PREFIX (/services/workbench/); it answers under <prefix>workbench/api/.
# Identity: workbench.server.hub.HubIdentityProvider (a caller is the hub user owning the token, if the token may
# access this service); Jupyter's own kernels, terminals and files are refused there (ServiceAuthorizer).
service_environment = {"WORKBENCH_HOME": workbench_home}
if database_url:
    service_environment["WORKBENCH_DATABASE_URL"] = database_url


c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": service_url,
        "command": [sys.executable, "-m", "workbench", "serve", "--hub", "--home", workbench_home],
        "environment": service_environment,
        "display": False,  # an API for kernels, not a page for the hub's menu
    },
]

# -- who may call the service -----------------------------------------------------------------------------------
# A token must hold access:services!service=workbench. Users get it through the default "user" role, so their API
# tokens (which inherit their owner's scopes) carry it; their single-user servers' tokens ($JUPYTERHUB_API_TOKEN,
# which kernels see) get it through server_token_scopes, on top of the "server" role's two scopes.
ACCESS = f"access:services!service={SERVICE}"
c.JupyterHub.load_roles = [
    {"name": "user", "description": "Standard user privileges and the workbench service", "scopes": ["self", ACCESS]},
]
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", ACCESS]

# -- what user servers and kernels see --------------------------------------------------------------------------
# Only where the service is. Spawners pass on a few variables of the hub's environment (Spawner.env_keep: PATH,
# LANG, the virtual environment...); keep WORKBENCH_HOME, WORKBENCH_DATABASE_URL and any key out of that list.
c.Spawner.environment = {"WORKBENCH_URL": urljoin(public_url, f"services/{SERVICE}/")}

# -- trying it on one machine -----------------------------------------------------------------------------------
shared_password = os.environ.get("WORKBENCH_HUB_SHARED_PASSWORD", "")
if shared_password:
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = shared_password
    allowed = {name.strip() for name in os.environ.get("WORKBENCH_HUB_ALLOWED_USERS", "").split(",") if name.strip()}
    if allowed:
        c.Authenticator.allowed_users = allowed
    else:
        c.Authenticator.allow_all = True
    c.JupyterHub.spawner_class = "simple"  # local processes of the hub's own OS user: no isolation between users
    c.SimpleLocalProcessSpawner.home_dir_template = setting("WORKBENCH_HUB_USER_HOMES", "/tmp/{username}")
    c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]
