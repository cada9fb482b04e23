"""The ``service`` fixture: the real ``workbench serve`` process, always ended whatever the test did (the helpers
that start and call it are in tests/helpers.py). This folder is a package so that this conftest does not shadow
``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ServiceProcess, start_service, stop_service


@pytest.fixture
def service() -> Iterator[Callable[..., tuple[str, ServiceProcess]]]:
    """``service(home, database_url=None)`` → (url, process); every process started is ended afterwards."""
    started: list[ServiceProcess] = []

    def start(home: Path | str, database_url: str | None = None, **options: Any) -> tuple[str, ServiceProcess]:
        url, process = start_service(home, database_url, **options)
        started.append(process)
        return url, process

    yield start
    for process in started:
        stop_service(process)
