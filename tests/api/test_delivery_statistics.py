"""PostgreSQL: routing analyzes the deliveries table as it grows it, so that the read of due
deliveries walks its index in order instead of sorting a backlog it was planned as empty for
(store/deliveries.py, `_Growth`)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert, text

from server.store.deliveries import _DUE, ANALYZE_AFTER_ROWS, DeliveryQueue, NewEvent
from server.store.tables import events, events_to_route

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True),
]
ENDPOINT = "we_statistics"


def _events_to_route(database, count: int) -> list[NewEvent]:
    now = int(time.time())
    rows = [
        {
            "id": f"evt_statistics{index}",
            "account_id": "acct_a",  # `sandbox_key`'s account
            "environment": "sandbox",
            "created": now,
            "type": "contractor.created",
            "object_kind": "contractor",
            "object_id": f"cn_statistics{index}",
            "data": {},
        }
        for index in range(count)
    ]
    with database.engine.begin() as connection:
        made = connection.execute(insert(events).returning(events.c.seq, events.c.id), rows)
        seqs = dict(made.all())
        connection.execute(insert(events_to_route), [{"event_seq": seq} for seq in seqs])
    by_id = {row["id"]: row for row in rows}
    return [
        NewEvent(seq, id_, "acct_a", "sandbox", "contractor.created", by_id[id_]["object_id"], now)
        for seq, id_ in seqs.items()
    ]


def _planned_rows(database) -> float:
    with database.engine.connect() as connection:
        return connection.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'webhook_deliveries'")
        ).scalar_one()


def test_routing_analyzes_what_it_grew_and_the_due_read_walks_its_index(database, sandbox_key):
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE webhook_deliveries"))  # planned as empty
    routed = _events_to_route(database, ANALYZE_AFTER_ROWS + 100)

    with database.engine.begin() as connection:
        queue = DeliveryQueue(connection)
        assert queue.route(routed, [(event, ENDPOINT) for event in routed]) == len(routed)

    assert _planned_rows(database) >= ANALYZE_AFTER_ROWS
    wall = int(time.time()) + 60
    due = _DUE[False].params(wall=wall, horizon=wall, skipping=["acct_none"], limit=64)
    with database.engine.connect() as connection:
        sql = due.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_webhook_deliveries_due_seq" in plan
    assert "Sort" not in plan, plan


def test_a_few_deliveries_are_not_analyzed(database, sandbox_key):
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE webhook_deliveries"))
    routed = _events_to_route(database, 10)
    with database.engine.begin() as connection:
        DeliveryQueue(connection).route(routed, [(event, ENDPOINT) for event in routed])
    assert _planned_rows(database) <= 0  # as planned before: no analysis for ten rows
