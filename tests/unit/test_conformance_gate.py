"""The gate must fail when a documented status was not observed, or an undocumented one was."""

from __future__ import annotations

import json

from server.contract.spec import load_spec
from tests.conformance import gate
from tests.conformance.gate import load_operations

BASE = "http://127.0.0.1:9/api/v1"


def har(tmp_path, entries):
    path = tmp_path / "run.har"
    log = [
        {"request": {"method": m, "url": BASE + p}, "response": {"status": s}}
        for m, p, s in entries
    ]
    path.write_text(json.dumps({"log": {"entries": log}}))
    return path


def every_documented(exempt=("500",)):
    entries = []
    for op in gate.implemented_operations():
        path = op.path.replace("{contractor_id}", "cn_abc")
        entries += [(op.method, path, int(s)) for s in op.statuses if s not in exempt]
    return entries


def test_every_operation_of_the_spec_has_its_handler():
    every = {op.operation_id for op in load_operations(load_spec())}
    assert {"createWebhookEndpoint", "listWebhookDeliveries", "listEvents"} <= every
    assert {op.operation_id for op in gate.implemented_operations()} == every


def test_passes_when_every_documented_status_was_seen(tmp_path):
    assert gate.main([str(har(tmp_path, every_documented()))]) == 0


def test_fails_naming_a_status_that_was_never_seen(tmp_path, capsys):
    entries = [
        e for e in every_documented() if e[:2] != ("DELETE", "/contractors/cn_abc") or e[2] != 404
    ]
    assert gate.main([str(har(tmp_path, entries))]) == 1
    assert "deleteContractor (DELETE /contractors/{contractor_id}): 404" in capsys.readouterr().err


def test_fails_on_an_undocumented_status(tmp_path, capsys):
    entries = [*every_documented(), ("GET", "/contractors", 418)]
    assert gate.main([str(har(tmp_path, entries))]) == 1
    assert "undocumented 418" in capsys.readouterr().err


def test_without_the_configured_exemption_500_must_be_seen_too(tmp_path):
    config = tmp_path / "gate.toml"
    config.write_text("[exempt]\n")
    assert gate.main([str(har(tmp_path, every_documented())), "--config", str(config)]) == 1


def test_a_request_to_a_path_without_parameters_is_not_its_siblings(tmp_path):
    # PUT /assignments/extend (405: extend takes only POST) is no updateAssignment call.
    entries = [*every_documented(), ("PUT", "/assignments/extend", 405)]
    assert gate.main([str(har(tmp_path, entries))]) == 0
