"""GET /files/<token>: generated documents (policy PDFs), served without an API key.

The token is the capability, as with a presigned storage link: 256 random bits, never listed,
and replaced whenever the document is regenerated. An unknown token is a NotFound, shaped like
every other error by server/middleware/errors.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.domain import documents
from server.domain.documents import file_path
from server.store.db import Database

ROUTE = file_path("{token}")


def add_route(app, database: Database) -> None:
    async def serve_file(request: Request) -> Response:
        token = request.path_params["token"]
        return _response(await database.run(lambda: documents.fetch(database, token), write=False))

    app.add_url_rule(ROUTE, "file", serve_file, methods=["GET"])


def _response(document: documents.Document) -> Response:
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
