"""Starting ``workbench serve`` as a real process for tests: ``with start_service(home) as url: ...``.

The service prints ``Workbench service at URL`` as its first line; the harness waits for it (generously: a
loaded CI machine can be slow), and always stops the process, even when the test fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

URL_LINE = re.compile(r"Workbench service at (\S+)")
START_TIMEOUT = 120.0


@contextmanager
def start_service(home: Path, *, database_url: str | None = None, env: dict[str, str] | None = None,
                  user: str | None = None, args: tuple[str, ...] = ()) -> Iterator[str]:
    """Run ``python -m workbench serve --port 0`` on ``home`` (as OS ``user`` if given); yield its URL."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTERHUB_"))}
    if database_url:
        environment["WORKBENCH_DATABASE_URL"] = database_url
    environment.update(env or {})
    options: dict[str, Any] = {"user": user, "group": user, "extra_groups": []} if user else {}
    process = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--home", str(home), "--port", "0",
                                *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=environment, cwd=str(home.parent), **options)
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            match = URL_LINE.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not found.wait(START_TIMEOUT) or not url:
            raise RuntimeError("workbench serve did not start:\n" + "".join(lines[-40:]))
        yield url[0]
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
