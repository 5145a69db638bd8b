"""GET /files/<token>: generated documents (policy PDFs, certificates), served without an API key.

The token is the capability, as with a presigned storage link: 256 random bits, never listed,
and replaced whenever the document is regenerated. An unknown token is a NotFound, shaped like
every other error by server/middleware/errors.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.core.errors import NotFound
from server.core.links import FILES, may_be_file_token
from server.store import documents
from server.store.db import Database


def add_route(app, database: Database) -> None:
    def fetch(token: str) -> documents.Document | None:
        with database.server_work(write=False) as work:
            return work.file(token)

    async def serve_file(request: Request) -> Response:
        token = request.path_params["token"]
        if not may_be_file_token(token):
            raise NotFound("file", token)
        document = await database.run(lambda: fetch(token))
        if document is None:
            raise NotFound("file", token)
        return _response(document)

    app.add_url_rule(FILES, "file", serve_file, methods=["GET"])


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
