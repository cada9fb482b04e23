"""Service mode's point: the service runs as one operating-system user and holds the workspace; a kernel runs
as another and holds only a URL and a token. The kernel cannot read the vault, the database or the secrets
directly, yet the API works for it within its grants.

Needs root (to start processes as other users) and two system users, ``workbench-service`` and
``workbench-kernel`` (``.ci/run`` creates them: ``useradd --system --user-group workbench-service``...).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import ADMIN, ANALYST, DATASET, OTHER_PROJECT, PROJECT, SECOND_ANALYST, grant

SERVICE_USER, KERNEL_USER = "workbench-service", "workbench-kernel"

KERNEL = r'''
import json, os, sys
home = sys.argv[1]
seen = {"environment": sorted(k for k in os.environ if k.startswith(("WORKBENCH_", "JUPYTERHUB_")))}
for name in ("workbench.db", "secrets.json", "vault", "audit-head.json"):
    path = os.path.join(home, name)
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        seen[name] = "read"
    except PermissionError:
        seen[name] = "denied"
try:
    os.listdir(home)
    seen["home"] = "listed"
except PermissionError:
    seen["home"] = "denied"
import workbench as wb
ws = wb.connect()
seen["user"] = ws.user
frame = ws.project(sys.argv[2]).load(sys.argv[3])
seen["loaded"] = [len(frame), sorted(frame.columns)]
try:
    wb.connect(home)
    seen["embedded"] = "opened"
except wb.WorkbenchError as error:
    seen["embedded"] = type(error).__name__
try:
    ws.project(sys.argv[4]).load(sys.argv[3])
    seen["other project"] = "loaded"
except wb.AccessDenied as error:
    seen["other project"] = "AccessDenied"
print(json.dumps(seen))
'''


def _users_ready() -> str | None:
    """Why this test cannot run here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to start the service and the kernel as two other users"
    for user in (SERVICE_USER, KERNEL_USER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return (f"needs the system user {user} (`useradd --system --user-group {user}`; .ci/run creates "
                    "it)")
    try:
        probe = subprocess.run([sys.executable, "-c", "import workbench.remote"], user=KERNEL_USER,
                               group=KERNEL_USER, extra_groups=[], capture_output=True, text=True, cwd="/")
    except PermissionError:
        return (f"{KERNEL_USER} may not run {sys.executable} (a folder above it is private; .ci/run makes the "
                "folders above the interpreter traversable)")
    if probe.returncode != 0:
        return (f"{KERNEL_USER} cannot import the workbench from {sys.prefix} (a checkout inside a private "
                f"folder): {probe.stderr.strip().splitlines()[-1:]}")
    return None


@pytest.mark.slow
def test_a_kernel_as_another_user_reaches_governed_data_only_through_the_service(governed, tmp_path) -> None:
    reason = _users_ready()
    if reason:
        pytest.skip(reason)
    from helpers import running, service_env

    admin = governed(ADMIN)
    if admin._ctx.db.dialect != "sqlite":
        pytest.skip("the file-permission check is about the embedded SQLite database and vault")
    grant(governed)
    token = admin.tokens.create(ANALYST, label="kernel")["token"]
    # the workspace moves to a folder only the service user may enter
    base = Path(tempfile.mkdtemp(prefix="workbench-service-"))
    try:
        base.chmod(0o755)
        home = base / "ws"
        shutil.copytree(tmp_path / "ws", home)
        service = pwd.getpwnam(SERVICE_USER)
        for path in [home, *home.rglob("*")]:
            os.chown(path, service.pw_uid, service.pw_gid, follow_symlinks=False)
        home.chmod(0o700)
        runtime = base / "runtime"
        runtime.mkdir()
        os.chown(runtime, service.pw_uid, service.pw_gid)
        with running(home, user=SERVICE_USER, env=service_env(JUPYTER_RUNTIME_DIR=str(runtime), HOME=str(runtime))) \
                as url:
            kernel = subprocess.run(
                [sys.executable, "-c", KERNEL, str(home), PROJECT, DATASET, OTHER_PROJECT],
                user=KERNEL_USER, group=KERNEL_USER, extra_groups=[], cwd="/", capture_output=True, text=True,
                env={"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": "/tmp", "WORKBENCH_URL": url,
                     "WORKBENCH_TOKEN": token, "WORKBENCH_USER": SECOND_ANALYST}, timeout=300)
        assert kernel.returncode == 0, kernel.stderr
        seen = json.loads(kernel.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    # nothing of the workspace can be read as a file...
    assert seen["home"] == "denied"
    assert {seen[name] for name in ("workbench.db", "secrets.json", "vault", "audit-head.json")} == {"denied"}
    assert seen["embedded"] != "opened"
    # ...nor was the kernel given where it is; yet the API works as the token's person, within their grants
    assert seen["environment"] == ["WORKBENCH_TOKEN", "WORKBENCH_URL", "WORKBENCH_USER"]
    assert seen["user"] == ANALYST  # the token decides who acts, not WORKBENCH_USER
    assert seen["loaded"][0] == 100
    assert seen["other project"] == "AccessDenied"
