"""URLs the server sends browsers or requests to."""

from __future__ import annotations

from urllib.parse import urlsplit

from server.core.errors import InvalidRequest


def check_http_url(url: str, param: str, why: str) -> None:
    """400 unless `url` is http(s) with a host (`format: uri` admits `https:x` and `http://`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"{param} must be an http or https URL with a host: {why}.", param=param
        )
