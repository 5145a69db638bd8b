"""The ceiling: a bare Starlette app doing each measured operation with one SQLite row, under the
same uvicorn as the server. What this stack costs with no validation, no rules and no
middleware; the server can approach it, not pass it.

    python -m bench.ceiling --port 8001 --database ceiling.db

It answers the setup's POSTs too (entities, jobs, quotes, policies, assignments: one row each,
the body stored as JSON), so the bench sets it up through HTTP like the others. Auth is only a
check that a Bearer header is there.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sqlite3
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Collection -> (id prefix, object name).
KINDS = {
    "entities": ("en", "entity"),
    "jobs": ("jb", "job"),
    "contractors": ("cn", "contractor"),
    "quotes": ("qt", "quote"),
    "policies": ("pl", "policy"),
    "assignments": ("an", "assignment"),
}
THIRTY_DAYS = 30 * 24 * 3600


def connect(path: str) -> sqlite3.Connection:
    """One connection for the process, with the server's SQLite settings."""
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    for kind in KINDS:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {kind} "
            "(id TEXT PRIMARY KEY, created INTEGER NOT NULL, job TEXT, body TEXT NOT NULL)"
        )
        connection.execute(f"CREATE INDEX IF NOT EXISTS {kind}_created ON {kind} (created)")
    connection.execute("CREATE INDEX IF NOT EXISTS assignments_job ON assignments (job)")
    return connection


def error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": code}, status_code=status)


def authorized(request: Request) -> bool:
    return request.headers.get("authorization", "").startswith("Bearer ")


def new_object(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    prefix, name = KINDS[kind]
    created = int(time.time())
    obj = {"id": f"{prefix}_{secrets.token_urlsafe(10)}", "object": name, "created": created}
    if kind == "assignments":
        obj |= {"bind": True, "end_date": created + THIRTY_DAYS}
    return obj | body


def create_app(database: str) -> Starlette:
    # Blocking sqlite3 calls in async handlers: each takes microseconds, less than a thread hop.
    db = connect(database)

    async def create(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if not authorized(request):
            return error(401, "invalid_api_key")
        if kind not in KINDS:
            return error(404, "not_found")
        obj = new_object(kind, await request.json())
        db.execute(
            f"INSERT INTO {kind} (id, created, job, body) VALUES (?, ?, ?, ?)",
            (obj["id"], obj["created"], obj.get("job"), json.dumps(obj)),
        )
        return JSONResponse(obj, status_code=201)

    async def retrieve(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if not authorized(request):
            return error(401, "invalid_api_key")
        if kind not in KINDS:
            return error(404, "not_found")
        row = db.execute(
            f"SELECT body FROM {kind} WHERE id = ?", (request.path_params["object_id"],)
        ).fetchone()
        return JSONResponse(json.loads(row[0])) if row else error(404, "not_found")

    async def list_objects(request: Request) -> JSONResponse:
        kind = request.path_params["kind"]
        if not authorized(request):
            return error(401, "invalid_api_key")
        if kind not in KINDS:
            return error(404, "not_found")
        limit = min(max(int(request.query_params.get("limit", 10)), 1), 100)
        rows = db.execute(
            f"SELECT body FROM {kind} ORDER BY created DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return JSONResponse([json.loads(body) for (body,) in rows])

    async def extend(request: Request) -> JSONResponse:
        if not authorized(request):
            return error(401, "invalid_api_key")
        body = await request.json()
        row = db.execute(
            "UPDATE assignments SET body = json_set(body, '$.end_date', ?) "
            "WHERE id = (SELECT id FROM assignments WHERE job = ? "
            "ORDER BY created DESC, rowid DESC LIMIT 1) RETURNING body",
            (body["end_date"], body["job_id"]),
        ).fetchone()
        return JSONResponse(json.loads(row[0])) if row else error(404, "invalid_job_id")

    return Starlette(
        routes=[
            Route("/api/v1/assignments/extend", extend, methods=["POST"]),
            Route("/api/v1/{kind}", create, methods=["POST"]),
            Route("/api/v1/{kind}", list_objects, methods=["GET"]),
            Route("/api/v1/{kind}/{object_id}", retrieve, methods=["GET"]),
        ]
    )


def arguments(prog: str, description: str | None) -> argparse.ArgumentParser:
    """What a ceiling is started with: where to listen, and how much to log."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    return parser


def serve(app: Starlette, args: argparse.Namespace) -> None:
    # As `ten99-server serve` runs it: uvicorn's defaults pick httptools and uvloop when
    # installed; one process.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


def main() -> None:
    parser = arguments("python -m bench.ceiling", __doc__)
    parser.add_argument("--database", required=True, help="SQLite file, created if missing")
    args = parser.parse_args()
    serve(create_app(args.database), args)


if __name__ == "__main__":
    main()
