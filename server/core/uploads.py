"""A file a request carried (a multipart part), as the domain receives it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UploadedFile:
    """A file's bytes, with its name and media type as the client gave them."""

    filename: str | None
    content_type: str | None
    content: bytes
