"""The README's walk-through, run as it stands: every `sh` block marked `<!-- walk-through -->`,
top to bottom, in one bash, against a live server, with `receiver.py` saved from the README as it
tells the reader to. It must run to its end with no error, produce the documents it downloads,
and reach the receiver with deliveries it verifies, an expired policy's among them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.test_readme_receiver import readme_receiver
from tests.live import running_server

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- walk-through -->\n```sh\n"


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = [part.split("\n```", 1)[0] for part in text.split(MARKER)[1:]]
    assert len(blocks) >= 5, "the walk-through's blocks are marked <!-- walk-through -->"
    return "\n".join(blocks)


def test_the_walkthrough_names_no_placeholder():
    """Every id is captured by the script: nothing for the reader to fill in by hand."""
    for line in walkthrough().splitlines():
        code = line.split("#", 1)[0]
        assert "…" not in code and not re.search(r"<[a-z]+ [^>]*>", code), line


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")),
    reason="the walk-through needs curl and jq (apt-get install curl jq), as the README says",
)
@pytest.mark.live
@pytest.mark.slow
def test_the_readme_walkthrough_runs_top_to_bottom(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'walkthrough.db'}"
    with running_server(database_url=database_url) as server:
        (tmp_path / "receiver.py").write_text(readme_receiver())
        (tmp_path / ".venv").symlink_to(ROOT / ".venv")
        env = {
            **os.environ,
            "API": server.base_url,
            "KEY": server.api_key,
            "TEN99_DATABASE_URL": database_url,  # for `ten99-server mail list`
        }
        script = "set -euo pipefail\n" + walkthrough()
        run = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    for document in ("policy.pdf", "gl_coi.pdf"):
        assert (tmp_path / document).read_bytes().startswith(b"%PDF-"), document
    out = run.stdout
    assert '"premium":926' in out.replace(" ", "")
    assert "303 https://example.com/done" in out
    assert '{"status":"complete","policy":"pl_' in out
    assert "Your insurance coverage for Night shift" in out  # the extension email
    assert '"cancelled":true' in out.replace(" ", "")  # the cancellation
    assert '"cancellation_reason":"client_request"' in out.replace(" ", "")
    # A certificate review of each outcome; a form-encoded request; cover on file refused.
    assert '"summary":{"total_rules":1,"passed":1,"failed":0}' in out
    assert "Each occurrence $500,000 is below the required $1,000,000." in out
    assert '["certificate.approved","certificate.flagged"]' in out
    assert '"contractor_has_matching_policy"' in out
    assert "5 of 5 as a receiver should answer" in out  # the README's receiver, checked
    assert "2 of 5 as a receiver should answer\nexit 1" in out  # one that accepts anything
    # A snapshot restored; a fault and its retry; a request found in the log by its id.
    assert re.search(r"restored: \d+ contractors, as before", out)
    assert "curl: exit 52 (the connection closed with no answer)" in out
    assert "ten99policy-idempotent-replayed: true" in out.lower()
    assert '"path":"/api/v1/contractors/cn_0NoSuchOne","status":404' in out
    assert "GET /api/v1/contractors/cn_0NoSuchOne  retrieveContractor" in out
    origin = server.base_url.removesuffix("/api/v1")
    assert f"{origin}/files/" in out  # with links that open
    verified = [line for line in out.splitlines() if line.startswith("verified ")]
    assert verified and '"type":"assignment.extended"' in verified[0]
    # The test clock: the policy expired, said so on the API and in a verified delivery, and
    # the trigger's policy.expired reached the receiver too.
    assert '{"status":"expired","is_active":false}' in out
    assert len([line for line in verified if '"type":"policy.expired"' in line]) >= 2
    assert "/hooks: delivered (answered 200)" in out
    # No delivery rejected but the three forgeries of `webhooks check`, of its one event.
    rejected = [line for line in out.splitlines() if line.startswith("REJECTED ")]
    assert len(rejected) == 3
    assert len({json.loads(line.split(" ", 1)[1])["id"] for line in rejected}) == 1
