"""The generated clients' runs: a live server, and the clients `python -m codegen.clients` built.

tox -e clients generates the clients and then runs these tests; the py env leaves them out.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import pytest

from codegen import clients
from tests.live import LiveServer, running_server


@pytest.fixture(scope="session")
def built() -> None:
    missing = [
        path
        for path in (clients.typescript_schema(), clients.python_project())
        if not path.exists()
    ]
    if missing:
        pytest.fail(f"{missing[0]} is missing: run `python -m codegen.clients` first")


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    with running_server(log_path=clients.BUILD / "server.log") as running:
        yield running


@pytest.fixture
def run_scenario(server) -> Callable[[list[str]], tuple[subprocess.CompletedProcess, list[str]]]:
    """Run a compiled usage program against the live server: its run, and the steps it printed
    as `ok <step> ...`."""

    def run(command: list[str]) -> tuple[subprocess.CompletedProcess, list[str]]:
        env = {**os.environ, "TEN99_BASE_URL": server.base_url, "TEN99_API_KEY": server.api_key}
        ran = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        steps = [line.split()[1] for line in ran.stdout.splitlines() if line.startswith("ok ")]
        return ran, steps

    return run
