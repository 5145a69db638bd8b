"""Calls the handler of each operation: the last of the middlewares connexion routes for.

connexion's resolver finds each operation's handler in server/api/; this layer calls it with
what it names among its parameters, worked out once at start-up: the spec's path and query
parameters (parsed and typed by validation), `body`, `uow` (a unit of work of the caller, opened
here and committed when the handler returns), `base_url` (where the caller reached this
server) and `settings` (the server's). Where the database work runs is server/store/db.py's to
say (`Database.run`); the answer, or the refusal of a domain rule, is written as JSON there too.
"""

from __future__ import annotations

import inspect
import typing as t

import orjson
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.core.errors import DomainError
from server.core.faults import FaultBeforeCommit, FaultKind
from server.core.principals import Principal
from server.core.settings import Settings
from server.middleware.errors import error_body, status_of
from server.middleware.faults import fault_of
from server.middleware.idempotency import SHOULD_RETRY
from server.middleware.request_ids import request_id_of
from server.middleware.security import ENVIRONMENT_HEADER, token_info_of
from server.middleware.validation import CHECKED
from server.store.db import Database

JSON_HEADERS = [(b"content-type", b"application/json")]
FAILED_BEFORE_COMMIT = orjson.dumps(
    {
        "error_code": "general",
        "message": "The request failed before its changes were committed (the fault asked for "
        "by Ten99Policy-Test-Fault); nothing was kept: retry it.",
    }
)
ENVIRONMENT = ENVIRONMENT_HEADER.lower().encode()


class _Operation:
    def __init__(self, operation, database: Database, settings: Settings):
        self.function = operation.function
        self.database = database
        self.settings = settings
        self.write = operation.method.lower() != "get"
        # A handler returns the object; the status is the one the spec documents for success.
        self.success = int(next(code for code in operation.responses if code.startswith("2")))
        self.wants = frozenset(inspect.signature(self.function).parameters)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arguments = self._arguments(scope)
        token_info = token_info_of(scope)
        assert token_info is not None  # every operation requires a key
        principal = token_info["principal"]
        fault = fault_of(scope)
        failing = fault is not None and fault.kind is FaultKind.ERROR_BEFORE_COMMIT
        status, body = await self.database.run(
            lambda: self._answer(principal, arguments, failing=failing)
        )
        headers = [
            *JSON_HEADERS,
            (b"content-length", str(len(body)).encode()),
            (ENVIRONMENT, principal.environment.value.encode()),
        ]
        if body is FAILED_BEFORE_COMMIT:
            headers.append((SHOULD_RETRY, b"true"))
        request_id = request_id_of(scope)
        if request_id:
            headers.append((b"request-id", request_id.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _arguments(self, scope: Scope) -> dict[str, t.Any]:
        checked = scope[CHECKED]
        arguments = {name: value for name, value in checked.params.items() if name in self.wants}
        if "body" in self.wants:
            arguments["body"] = checked.body
        if "base_url" in self.wants:
            arguments["base_url"] = self._base_url(scope)
        if "settings" in self.wants:
            arguments["settings"] = self.settings
        return arguments

    def _base_url(self, scope: Scope) -> str:
        """Where clients reach this server: TEN99_PUBLIC_URL; or the Host of this request when
        TEN99_LINK_HOSTS names it or it is the address the request reached; else that
        address."""
        if self.settings.public_url is not None:
            return self.settings.public_url
        host = Headers(scope=scope).get("host")
        server_host, port = scope.get("server") or ("localhost", 80)
        if host is None or not self._may_link_to(host, server_host):
            host = f"[{server_host}]:{port}" if ":" in server_host else f"{server_host}:{port}"
        return f"{scope.get('scheme', 'http')}://{host}"

    def _may_link_to(self, host: str, server_host: str) -> bool:
        allowed = self.settings.link_hosts
        name = host.lower()
        name = name[1 : name.find("]")] if name.startswith("[") else name.rsplit(":", 1)[0]
        return "*" in allowed or name in allowed or name == server_host.lower()

    def _answer(
        self, principal: Principal, arguments: dict[str, t.Any], *, failing: bool = False
    ) -> tuple[int, bytes]:
        """The handler's answer as (status, JSON bytes), once its unit of work has committed;
        a domain refusal (its unit of work rolled back) in the error shape; `failing`, a 500
        in place of the commit (a fault asked for)."""
        try:
            with self.database.unit_of_work(principal, write=self.write) as uow:
                result = self.function(uow=uow, **arguments)
                if failing:
                    raise FaultBeforeCommit
        except DomainError as refused:
            return status_of(refused), orjson.dumps(error_body(refused))
        except FaultBeforeCommit:
            return 500, FAILED_BEFORE_COMMIT
        return self.success, orjson.dumps(result)


class _OperationsAPI(RoutedAPI[_Operation]):
    def __init__(self, *args, database: Database, settings: Settings, **kwargs):
        super().__init__(*args, **kwargs)
        self.database, self.settings = database, settings
        self.add_paths()

    def make_operation(self, operation) -> _Operation:
        return _Operation(operation, self.database, self.settings)


class Operations(RoutedMiddleware[_OperationsAPI]):
    """Operations whose handler could not be resolved are passed on, to connexion's own app,
    which answers them 501."""

    api_cls = _OperationsAPI

    def __init__(self, app: ASGIApp, *, database: Database, settings: Settings):
        super().__init__(app)
        self.database, self.settings = database, settings

    def add_api(self, specification, **kwargs):
        return super().add_api(
            specification, database=self.database, settings=self.settings, **kwargs
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routed = scope.get("extensions", {}).get("connexion_routing", {})
            for api in self.apis.get(routed.get("api_base_path"), ()):
                operation = api.operations.get(routed.get("operation_id"))
                if operation is not None:
                    await operation(scope, receive, send)
                    return
        await self.app(scope, receive, send)
