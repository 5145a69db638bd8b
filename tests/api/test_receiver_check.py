"""`ten99-server webhooks check`: the README's own receiver passes; a receiver that accepts
anything, or refuses everything, fails, each probe named."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.cli import main
from server.domain import webhooks
from tests.api.test_readme_receiver import receiver  # noqa: F401  (the fixture)


def _answering(status: int):
    """A receiver on a free port that answers every request `status`, checking nothing."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_readme_receiver_passes(receiver, capsys):  # noqa: F811
    url, start = receiver
    secret = webhooks.new_secret()
    start(secret)
    assert main(["webhooks", "check", url, "--secret", secret]) == 0
    out = capsys.readouterr().out
    assert "5 of 5 as a receiver should answer" in out
    assert "ok     a stale timestamp: refused (400)" in out


@pytest.mark.parametrize(
    ("status", "failing"),
    [
        (200, ["a bad signature", "a stale timestamp", "a body altered after signing"]),
        (400, ["a valid event", "the same event again"]),
    ],
)
def test_a_receiver_that_checks_nothing_fails(capsys, status, failing):
    server = _answering(status)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        assert main(["webhooks", "check", url, "--secret", webhooks.new_secret()]) == 1
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert [
        line.split(":")[0].split(None, 1)[1] for line in out.splitlines() if "FAILED" in line
    ] == failing


def test_no_receiver_fails_and_a_secret_that_is_none_is_refused(capsys):
    server = _answering(200)
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()
    server.server_close()  # nothing listens there now
    assert main(["webhooks", "check", url, "--secret", webhooks.new_secret()]) == 1
    assert "FAILED a valid event: no answer" in capsys.readouterr().out
    for secret in ("nope", "whsec_x"):
        assert main(["webhooks", "check", url, "--secret", secret]) == 2
        assert "secret" in capsys.readouterr().err
