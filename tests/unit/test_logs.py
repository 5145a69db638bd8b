"""The log format: every line of a request or a piece of work carries its context, in the human
format or as JSON, one object per line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from server.core import logs


@pytest.fixture
def captured():
    """A logger writing through the server's formatter of each kind into a buffer."""
    logs.install()
    streams = {}
    logger = logging.getLogger("test.logs")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for name, formatter in logs.FORMATTERS.items():
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter())
        logger.addHandler(handler)
        streams[name] = stream
    yield logger, streams
    logger.handlers.clear()
    logs.unbind()


def test_a_line_carries_the_context_it_was_written_in(captured):
    logger, streams = captured
    logs.bind(request_id="req_abc")
    logs.bind(account="acct_a", environment="sandbox")
    logger.info("request", extra={"method": "GET", "route": "/api/v1/x/{id}", "status": 200})
    line = json.loads(streams["json"].getvalue())
    assert line["message"] == "request"
    assert line["level"] == "INFO" and line["logger"] == "test.logs"
    assert line["time"].endswith("Z")
    assert (line["request_id"], line["account"], line["environment"]) == (
        "req_abc",
        "acct_a",
        "sandbox",
    )
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/x/{id}", 200)
    human = streams["human"].getvalue()
    assert "INFO    test.logs: request method=GET route=/api/v1/x/{id} status=200" in human
    assert human.rstrip().endswith("request_id=req_abc account=acct_a environment=sandbox")


def test_a_line_outside_any_request_has_no_context(captured):
    logger, streams = captured
    logs.unbind()
    logger.warning("alone")
    line = json.loads(streams["json"].getvalue())
    assert "request_id" not in line and "account" not in line


def test_a_traceback_stays_inside_its_json_line(captured):
    logger, streams = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    (line,) = streams["json"].getvalue().splitlines()
    assert "RuntimeError: boom" in json.loads(line)["traceback"]
    assert "RuntimeError: boom" in streams["human"].getvalue()
