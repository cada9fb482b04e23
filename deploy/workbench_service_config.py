# Jupyter server configuration of the workbench service under JupyterHub, for a workbench without
# `workbench serve --hub` (deploy/jupyterhub_config.py starts `jupyter server --config=<this file>` then).
# Everything comes from the environment the hub gives a managed service: workbench.server.hub.server_config.
from workbench.server.hub import server_config

c = get_config()  # noqa: F821 (Jupyter defines it)
for section, settings in server_config().items():
    for name, value in settings.items():
        setattr(c[section], name, value)
