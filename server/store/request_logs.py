"""The sandboxes' request logs, kept as batches: a row holds the requests of one sandbox that
the server wrote at once (those answered in a tenth of a second), as a compressed JSON array,
oldest first.

A row a request cost the server thirty microseconds a request under load (each row's indexes,
and the pages each checkpoint copies); a row a batch, a few. Reads decode a sandbox's batches,
newest first: a sandbox keeps a bounded number of requests."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from server.core.errors import NotFound
from server.core.pagination import PageRequest
from server.core.principals import Principal
from server.store.listing import ownership
from server.store.tables import request_log_batches as batches

READ_AT_ONCE = 64  # batches read per statement, newest first


class RequestLogRepository:
    """A sandbox's logged requests, each a dict of the columns its API object shows."""

    def __init__(self, connection: Connection, principal: Principal):
        self.connection = connection
        self.principal = principal

    def get(self, request_id: str) -> dict[str, Any] | None:
        needle = orjson.dumps(request_id)
        for entries in _newest_batches(self.connection, self.principal, contains=needle):
            for entry in entries:
                if entry["id"] == request_id:
                    return entry
        return None

    def page_where(
        self,
        page: PageRequest,
        equal: dict[str, Any],
        created_gte: int | None = None,
        created_lte: int | None = None,
    ) -> list[dict[str, Any]]:
        """A page of the log, most recent first, of the requests whose fields in `equal` have
        its values and that were made in the time range; cursors must be among them."""

        def matching() -> Iterator[dict[str, Any]]:
            span = (created_gte, created_lte)
            for entries in _newest_batches(self.connection, self.principal, span=span):
                for entry in reversed(entries):
                    if (
                        all(entry[name] == value for name, value in equal.items())
                        and (created_gte is None or entry["created"] >= created_gte)
                        and (created_lte is None or entry["created"] <= created_lte)
                    ):
                        yield entry

        if page.starting_after is None and page.ending_before is None:
            return list(itertools.islice(matching(), page.limit))
        return _window(list(matching()), page)


def _window(newest_first: list[dict[str, Any]], page: PageRequest) -> list[dict[str, Any]]:
    """The page between the cursors, as server/store/listing.py's `page_of` makes it."""
    positions = {entry["id"]: index for index, entry in enumerate(newest_first)}

    def position(param: str) -> int:
        object_id = getattr(page, param)
        if object_id not in positions:
            raise NotFound(page.of, object_id, param=param)
        return positions[object_id]

    start, end = 0, len(newest_first)
    if page.starting_after is not None:
        start = position("starting_after") + 1
    if page.ending_before is not None:
        end = position("ending_before")
        if page.starting_after is None:  # the requests just newer than the cursor
            return newest_first[max(0, end - page.limit) : end]
    return newest_first[start:end][: page.limit]


def _newest_batches(
    connection: Connection,
    principal: Principal,
    *,
    contains: bytes | None = None,
    span: tuple[int | None, int | None] = (None, None),
) -> Iterator[list[dict[str, Any]]]:
    """The sandbox's batches, newest first (those that hold `contains`, those that overlap the
    time span), read READ_AT_ONCE at a time."""
    query = (
        select(batches.c.seq, batches.c.entries)
        .where(*ownership(batches, principal))
        .order_by(batches.c.seq.desc())
        .limit(READ_AT_ONCE)
    )
    created_gte, created_lte = span
    if created_gte is not None:
        query = query.where(batches.c.last_created >= created_gte)
    if created_lte is not None:
        query = query.where(batches.c.first_created <= created_lte)
    before = None
    while True:
        rows = connection.execute(
            query if before is None else query.where(batches.c.seq < before)
        ).all()
        for row in rows:
            text = _text(row.entries)
            if contains is None or contains in text:
                yield orjson.loads(text)
        if len(rows) < READ_AT_ONCE:
            return
        before = rows[-1].seq


def _packed(text: bytes) -> bytes:
    """A batch's JSON as stored: compressed, quickly (a tenth of the bytes to write and copy
    at each checkpoint, for about a microsecond a request)."""
    return zlib.compress(text, 1)


def _text(packed: bytes) -> bytes:
    return zlib.decompress(packed)


def _unpacked(packed: bytes) -> list[dict[str, Any]]:
    return orjson.loads(zlib.decompress(packed))


def batches_of(logged: dict[Principal, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each sandbox's requests, oldest first, as the row of one batch: made before the
    transaction that writes them, which then holds the writers' lock only to insert them."""
    return [
        {
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            **_batch_values(entries),
        }
        for principal, entries in logged.items()
        if entries
    ]


def write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(batches), rows)


def _rewrite(connection: Connection, seq: int, entries: list[dict], remaining: list[dict]) -> int:
    """Rewrite the batch of these entries with the remaining ones; returns how many went."""
    if not remaining:
        connection.execute(delete(batches).where(batches.c.seq == seq))
    elif len(remaining) < len(entries):
        values = _batch_values(remaining)
        connection.execute(update(batches).where(batches.c.seq == seq).values(**values))
    return len(entries) - len(remaining)


def _batch_values(entries: list[dict[str, Any]]) -> dict[str, Any]:
    created = [entry["created"] for entry in entries]
    return {
        "first_created": min(created),
        "last_created": max(created),
        "size": len(entries),
        "entries": _packed(orjson.dumps(entries)),
    }


def forget(connection: Connection, principal: Principal, request_ids: Iterable[str]) -> None:
    gone = set(request_ids)
    needles = [orjson.dumps(request_id) for request_id in gone]
    rows = connection.execute(
        select(batches.c.seq, batches.c.entries).where(*ownership(batches, principal))
    ).all()
    for row in rows:
        text = _text(row.entries)
        if any(needle in text for needle in needles):
            entries = orjson.loads(text)
            _rewrite(connection, row.seq, entries, [e for e in entries if e["id"] not in gone])


def prune(connection: Connection, principals: Iterable[Principal], keep: int) -> None:
    """Of each sandbox's log, only its latest `keep` requests."""
    for principal in principals:
        newest_first = connection.execute(
            select(batches.c.seq, batches.c.size)
            .where(*ownership(batches, principal))
            .order_by(batches.c.seq.desc())
        ).all()
        newer = 0
        for index, batch in enumerate(newest_first):
            if newer + batch.size > keep:
                entries = _unpacked(
                    connection.execute(
                        select(batches.c.entries).where(batches.c.seq == batch.seq)
                    ).scalar_one()
                )
                _rewrite(connection, batch.seq, entries, entries[len(entries) - (keep - newer) :])
                if index + 1 < len(newest_first):
                    older = newest_first[index + 1].seq
                    connection.execute(
                        delete(batches).where(
                            *ownership(batches, principal), batches.c.seq <= older
                        )
                    )
                break
            newer += batch.size


def purge_before(connection: Connection, created_before: int) -> int:
    """Forget every request made before `created_before`; returns how many."""
    old = batches.c.last_created < created_before
    gone = int(
        connection.execute(
            select(func.coalesce(func.sum(batches.c.size), 0)).where(old)
        ).scalar_one()
    )
    connection.execute(delete(batches).where(old))
    straddling = connection.execute(
        select(batches.c.seq, batches.c.entries).where(batches.c.first_created < created_before)
    ).all()
    for row in straddling:
        entries = _unpacked(row.entries)
        recent = [entry for entry in entries if entry["created"] >= created_before]
        gone += _rewrite(connection, row.seq, entries, recent)
    return gone


def after(connection: Connection, principal: Principal, seq: int | None, limit: int) -> list[dict]:
    """The sandbox's latest `limit` requests (seq None), or those of its batches after the batch
    `seq`, whole batches up to `limit` requests or the first past it; oldest first, each with
    its batch's `seq`."""
    ordered = select(batches.c.seq, batches.c.entries).where(*ownership(batches, principal))
    if seq is None:
        query = ordered.order_by(batches.c.seq.desc())
    else:
        query = ordered.where(batches.c.seq > seq).order_by(batches.c.seq)
    read: list[list[dict]] = []
    count = 0
    for row in connection.execute(query.limit(limit)):
        read.append([{**entry, "seq": row.seq} for entry in _unpacked(row.entries)])
        count += len(read[-1])
        if count >= limit:
            break
    if seq is not None:
        return [entry for entries in read for entry in entries]
    return [entry for entries in reversed(read) for entry in entries][-limit:]
