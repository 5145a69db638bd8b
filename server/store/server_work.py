"""The server's own work, for no caller: one transaction of the worker, a key lookup, the
idempotency of a request, an operator's command. As a caller's unit of work does, it reaches
data only through its repositories; what is not an account's is reached here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from server.core.lazy import lazy
from server.core.metrics import Backlog
from server.core.principals import Principal
from server.store import (
    application_sessions,
    clocks,
    documents,
    emails,
    request_logs,
    sandboxes,
    schema,
)
from server.store.deliveries import DeliveryQueue
from server.store.idempotency import IdempotencyKeys
from server.store.job_categories import JobCategories
from server.store.keys import KeyStore
from server.store.tasks import TaskQueue


class ServerWork:
    def __init__(self, connection: Connection, wall: Callable[[], int]):
        self._connection = connection
        self.wall = wall

    @lazy
    def keys(self) -> KeyStore:
        return KeyStore(self._connection)

    @lazy
    def tasks(self) -> TaskQueue:
        return TaskQueue(self._connection)

    @lazy
    def deliveries(self) -> DeliveryQueue:
        return DeliveryQueue(self._connection)

    @lazy
    def job_categories(self) -> JobCategories:
        return JobCategories(self._connection)

    @lazy
    def idempotency_keys(self) -> IdempotencyKeys:
        return IdempotencyKeys(self._connection)

    def backlog(self) -> list[Backlog]:
        """The queued work of every kind, for /metrics."""
        wall = self.wall()
        return [*self.tasks.backlog(wall), self.deliveries.backlog(wall)]

    def schema_version(self) -> schema.SchemaVersion:
        return schema.version_on(self._connection)

    def due_expiries(self, endings: Sequence[clocks.Ending]) -> list[clocks.Expiry]:
        return clocks.due_expiries(self._connection, endings, self.wall())

    def file(self, token: str) -> documents.Document | None:
        return documents.fetch(self._connection, token)

    def session_owner(self, session_id: str) -> Principal | None:
        return application_sessions.owner_of(self._connection, session_id)

    def newest_emails(self, limit: int) -> list[dict]:
        return emails.newest(self._connection, limit)

    def wipe_sandbox(self, principal: Principal) -> None:
        sandboxes.SandboxState(self._connection, principal).wipe()

    def log_requests(self, rows: list[dict]) -> None:
        """Write batches of logged requests (made by server/store/request_logs.py's
        `batches_of`)."""
        request_logs.write(self._connection, rows)

    def forget_requests(self, principal: Principal, request_ids: list[str]) -> None:
        request_logs.forget(self._connection, principal, request_ids)

    def prune_request_logs(self, principals: Sequence[Principal], keep: int) -> None:
        request_logs.prune(self._connection, principals, keep)

    def purge_request_logs(self, created_before: int) -> int:
        return request_logs.purge_before(self._connection, created_before)

    def request_logs_after(self, principal: Principal, seq: int | None, limit: int) -> list[dict]:
        """The sandbox's latest logged requests, or those after the batch `seq`, oldest first."""
        return request_logs.after(self._connection, principal, seq, limit)
