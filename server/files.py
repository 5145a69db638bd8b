"""GET /files/<token>: generated documents (policy PDFs), served without an API key.

The token is the capability, as with a presigned storage link: 256 random bits, never listed,
and replaced whenever the document is regenerated."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.services import services_of
from server.store import documents

ROUTE = "/files/{token}"


def _fetch(request: Request) -> documents.Document | None:
    database = services_of(request.scope).database
    with database.transaction() as session:
        return documents.get(session, request.path_params["token"])


async def serve_file(request: Request) -> Response:
    document = await run_in_threadpool(_fetch, request)
    if document is None:
        return JSONResponse(
            {"error_code": "resource_missing", "message": "No such file."}, status_code=404
        )
    return Response(
        document.content,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{document.filename}"',
            # A capability URL: keep it out of shared caches, search engines and referrers.
            "Cache-Control": "private, no-store",
            "X-Robots-Tag": "noindex",
            "Referrer-Policy": "no-referrer",
        },
    )
