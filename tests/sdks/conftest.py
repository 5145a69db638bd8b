"""The official Python client library, `ten99policy` from PyPI, unchanged, against a live server.

tox -e sdks installs it and runs these tests; the py env leaves them out. The library keeps its
settings in module globals (`api_base`, `api_key`, `environment`), as its README sets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer, running_server

ten99policy = pytest.importorskip(
    "ten99policy", reason="the official client library runs in its own env: tox -e sdks"
)

LOG = Path(__file__).resolve().parents[2] / "build" / "sdks" / "server.log"


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    with running_server(log_path=LOG) as running:
        yield running


@pytest.fixture(autouse=True)
def configured(server):
    """The library pointed at the live server with its sandbox key, as its README configures
    it; the library's `api_base` is the host, it adds /api/v1 itself."""
    ten99policy.api_base = server.base_url.removesuffix("/api/v1")
    ten99policy.api_key = server.api_key
    ten99policy.environment = "sandbox"
    ten99policy.log = None
    yield ten99policy
