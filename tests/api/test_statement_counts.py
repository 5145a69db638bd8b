"""TEN99_COUNT_STATEMENTS: each answer says what database work its request ran."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, underwrite
from tests.official_payloads import CONTRACTOR

HEADER = "Ten99-Database-Work"


def counts(response) -> dict[str, int]:
    said = response.headers[HEADER]
    return {
        name: int(value) for name, value in (part.strip().split("=") for part in said.split(","))
    }


@pytest.mark.storage
def test_each_answer_counts_its_statements_and_transactions(
    client_with, sandbox_key, database_kind
):
    client = client_with(count_statements=True)
    created = client.post("/api/v1/contractors", json=CONTRACTOR, headers=bearer(sandbox_key))
    assert created.status_code == 201
    # The key (looked up at its first use), the sandbox's clock, the row and its event: on
    # SQLite in one transaction, on PostgreSQL in one statement that needs none
    # (tests/api/test_postgres_writes.py).
    written = counts(created)
    if database_kind == "sqlite":
        assert written == {"statements": 5, "transactions": 1}
    else:
        assert written == {"statements": 3, "transactions": 0}
    path = f"/api/v1/contractors/{created.json()['id']}"
    read = client.get(path, headers=bearer(sandbox_key))
    assert counts(read) == {"statements": 1, "transactions": 0}
    missing = client.get("/api/v1/contractors/cn_missing", headers=bearer(sandbox_key))
    assert missing.status_code == 404
    assert counts(missing) == {"statements": 1, "transactions": 0}


@pytest.mark.storage
def test_a_quote_reads_its_parties_and_the_sandbox_clock_in_one_statement(
    client_with, sandbox_key, database_kind
):
    client = client_with(count_statements=True)
    made = underwrite(client, sandbox_key)  # the key is looked up by then
    body = {"contractor": made["contractor"]["id"], "job": made["job"]["id"]}
    quoted = client.post(
        "/api/v1/quotes", json={**body, "coverage_type": ["general"]}, headers=bearer(sandbox_key)
    )
    assert quoted.status_code == 201, quoted.text
    # The contractor, the job, its entity, the clock and whether the contractor has a policy
    # (it has none: no look for cover on file); then the quote, its event and the event's row
    # to route (on PostgreSQL one statement).
    if database_kind == "sqlite":
        assert counts(quoted) == {"statements": 4, "transactions": 1}
    else:
        assert counts(quoted) == {"statements": 2, "transactions": 0}


def test_answers_do_not_count_unless_asked(client, sandbox_key):
    answer = client.get("/api/v1/contractors", headers=bearer(sandbox_key))
    assert answer.status_code == 200
    assert HEADER not in answer.headers
