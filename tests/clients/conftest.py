"""The generated clients' runs: a live server, and the clients `python -m codegen.clients` built.

tox -e clients generates the clients and then runs these tests; the py env leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator

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
