"""The PostgreSQL ceiling: bench/ceiling.py's operations on PostgreSQL through asyncpg, each with
a lookup of the API key (its SHA-256, as the server keeps keys) and one row. What PostgreSQL
allows this stack with no validation, no rules and no middleware.

    python -m bench.ceiling_postgres --port 8002 --database-url postgresql://…/bench_x
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.ceiling import KINDS, arguments, error, new_object, serve

# A request's work once its key is known, on a connection of the pool.
Handler = Callable[[Request, asyncpg.Connection], Awaitable[JSONResponse]]
POOL_SIZE = 16  # one connection per wrk connection

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY, account TEXT NOT NULL)",
    *(
        f"CREATE TABLE IF NOT EXISTS {kind} (seq BIGSERIAL PRIMARY KEY, id TEXT UNIQUE NOT NULL, "
        "created BIGINT NOT NULL, job TEXT, body JSONB NOT NULL)"
        for kind in KINDS
    ),
    "CREATE INDEX IF NOT EXISTS assignments_job ON assignments (job, seq)",
]


def key_hash(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    return hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()


def create_app(database_url: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(database_url, min_size=POOL_SIZE, max_size=POOL_SIZE)
        async with pool.acquire() as connection:
            for statement in SCHEMA:
                await connection.execute(statement)
        yield
        await pool.close()

    async def account_of(connection: asyncpg.Connection, request: Request) -> str | None:
        """The key's account; a key seen for the first time is registered (the bench's own)."""
        digest = key_hash(request)
        if digest is None:
            return None
        account = await connection.fetchval(
            "SELECT account FROM api_keys WHERE key_hash = $1", digest
        )
        if account is None:
            account = await connection.fetchval(
                "INSERT INTO api_keys VALUES ($1, 'acct_bench') ON CONFLICT (key_hash) "
                "DO UPDATE SET account = EXCLUDED.account RETURNING account",
                digest,
            )
        return account

    def answer(row: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(json.loads(row), status_code=status)

    def guarded(handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        """The handler, on a connection of the pool, once the kind is known and the key is."""

        async def endpoint(request: Request) -> JSONResponse:
            if request.path_params.get("kind", "assignments") not in KINDS:
                return error(404, "not_found")
            assert pool is not None
            async with pool.acquire() as connection:
                if await account_of(connection, request) is None:
                    return error(401, "invalid_api_key")
                return await handler(request, connection)

        return endpoint

    @guarded
    async def create(request: Request, connection: asyncpg.Connection) -> JSONResponse:
        kind = request.path_params["kind"]
        obj = new_object(kind, await request.json())
        await connection.execute(
            f"INSERT INTO {kind} (id, created, job, body) VALUES ($1, $2, $3, $4)",
            obj["id"],
            obj["created"],
            obj.get("job"),
            json.dumps(obj),
        )
        return JSONResponse(obj, status_code=201)

    @guarded
    async def retrieve(request: Request, connection: asyncpg.Connection) -> JSONResponse:
        row = await connection.fetchval(
            f"SELECT body::text FROM {request.path_params['kind']} WHERE id = $1",
            request.path_params["object_id"],
        )
        return answer(row) if row else error(404, "not_found")

    @guarded
    async def list_objects(request: Request, connection: asyncpg.Connection) -> JSONResponse:
        limit = min(max(int(request.query_params.get("limit", 10)), 1), 100)
        rows = await connection.fetch(
            f"SELECT body::text FROM {request.path_params['kind']} ORDER BY seq DESC LIMIT $1",
            limit,
        )
        return JSONResponse([json.loads(row[0]) for row in rows])

    @guarded
    async def extend(request: Request, connection: asyncpg.Connection) -> JSONResponse:
        body = await request.json()
        row = await connection.fetchval(
            "UPDATE assignments SET body = jsonb_set(body, '{end_date}', to_jsonb($1::bigint)) "
            "WHERE seq = (SELECT max(seq) FROM assignments WHERE job = $2) "
            "RETURNING body::text",
            body["end_date"],
            body["job_id"],
        )
        return answer(row) if row else error(404, "invalid_job_id")

    return Starlette(
        routes=[
            Route("/api/v1/assignments/extend", extend, methods=["POST"]),
            Route("/api/v1/{kind}", create, methods=["POST"]),
            Route("/api/v1/{kind}", list_objects, methods=["GET"]),
            Route("/api/v1/{kind}/{object_id}", retrieve, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = arguments("python -m bench.ceiling_postgres", __doc__)
    parser.add_argument("--database-url", required=True, help="postgresql://… (asyncpg's form)")
    args = parser.parse_args()
    serve(create_app(args.database_url), args)


if __name__ == "__main__":
    main()
