"""The receiver the README shows a newcomer verifies real deliveries and rejects forged ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.domain import webhooks
from server.worker import webhooks as delivery
from tests.conftest import bearer, created, new_contractor
from tests.live import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    """The Python block after "A receiver that verifies `Ten99Policy-Signature`" in the README."""
    text = README.read_text()
    start = text.index("A receiver that verifies `Ten99Policy-Signature`")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


@pytest.fixture
def receiver(tmp_path):
    """The README's receiver on a free port: (its URL, a function starting it with a secret)."""
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver())
    port = free_port()
    started = []

    def start(secret: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(script), secret, str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                return process
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the README receiver did not start"
                time.sleep(0.1)

    yield f"http://127.0.0.1:{port}/hooks", start
    for process in started:
        process.kill()
        process.wait()


def test_the_readme_receiver_verifies_a_delivery_and_rejects_a_forgery(
    client, sandbox_key, database, settings, receiver
):
    url, start = receiver
    endpoint = created(
        client.post(
            "/api/v1/webhook_endpoints",
            json={"url": url, "enabled_events": ["contractor.created"]},
            headers=bearer(sandbox_key),
        )
    )
    process = start(endpoint["secret"])
    contractor = created(
        client.post("/api/v1/contractors", json=new_contractor(), headers=bearer(sandbox_key))
    )

    with delivery.client() as http:
        assert delivery.deliver_due(database, settings, http) == 1
    verdict, body = process.stdout.readline().split(" ", 1)
    assert verdict == "verified"
    assert json.loads(body)["data"]["object"] == contractor

    forged = body.replace(contractor["id"], "cn_forged").encode()
    signature = webhooks.signature("whsec_" + "x" * 32, int(time.time()), forged)
    answer = httpx.post(url, content=forged, headers={"Ten99Policy-Signature": signature})
    assert answer.status_code == 400
    assert process.stdout.readline().startswith("REJECTED ")
