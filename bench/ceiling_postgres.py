"""The PostgreSQL ceiling: bench/ceiling.py's operations on PostgreSQL through asyncpg, each with
a lookup of the API key (its SHA-256, as the server keeps keys) and one row. What PostgreSQL
allows this stack with no validation, no rules and no middleware.

    python -m bench.ceiling_postgres --port 8002 --database-url postgresql://…/bench_x
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.ceiling import KINDS, error, new_object

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

    async def create(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return error(404, "not_found")
        assert pool is not None
        async with pool.acquire() as connection:
            if await account_of(connection, request) is None:
                return error(401, "invalid_api_key")
            obj = new_object(kind, await request.json())
            await connection.execute(
                f"INSERT INTO {kind} (id, created, job, body) VALUES ($1, $2, $3, $4)",
                obj["id"],
                obj["created"],
                obj.get("job"),
                json.dumps(obj),
            )
        return JSONResponse(obj, status_code=201)

    async def retrieve(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return error(404, "not_found")
        assert pool is not None
        async with pool.acquire() as connection:
            if await account_of(connection, request) is None:
                return error(401, "invalid_api_key")
            row = await connection.fetchval(
                f"SELECT body::text FROM {kind} WHERE id = $1", request.path_params["object_id"]
            )
        return answer(row) if row else error(404, "not_found")

    async def list_objects(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return error(404, "not_found")
        limit = min(max(int(request.query_params.get("limit", 10)), 1), 100)
        assert pool is not None
        async with pool.acquire() as connection:
            if await account_of(connection, request) is None:
                return error(401, "invalid_api_key")
            rows = await connection.fetch(
                f"SELECT body::text FROM {kind} ORDER BY seq DESC LIMIT $1", limit
            )
        return JSONResponse([json.loads(row[0]) for row in rows])

    async def extend(request: Request) -> JSONResponse:
        assert pool is not None
        body = await request.json()
        async with pool.acquire() as connection:
            if await account_of(connection, request) is None:
                return error(401, "invalid_api_key")
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
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling_postgres", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True, help="postgresql://… (asyncpg's form)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    app = create_app(args.database_url)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
