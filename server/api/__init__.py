"""Handlers, one module per resource tag; see server/middleware/resolver.py for how operationIds
land here and server/middleware/operations.py for what a handler is given by the names of its
parameters: the spec's parameters, `body` (already validated against the spec), `uow` (the
unit of work of the request, server/store/unit_of_work.py), `base_url` and `settings`. A
handler hands the work to the domain and shapes its answer with server/api/representation.py."""

from __future__ import annotations

from server.core.pagination import PageRequest


def page(of: str, limit: int, starting_after: str | None, ending_before: str | None) -> PageRequest:
    """The page a list operation asks for, of the objects named `of` (for its errors)."""
    return PageRequest(of, limit, starting_after, ending_before)
