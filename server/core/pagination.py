"""Cursor pagination over lists sorted most recent first."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class PageRequest:
    """`limit` objects; after the object `starting_after` and/or before `ending_before`.

    With both cursors the page is the window between them, read from `starting_after` on.
    `of` names the objects listed, for the error of a cursor that is none of them.
    """

    of: str
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
