"""Object ids: a prefix naming the kind, then random base62 characters."""

from __future__ import annotations

import os
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 14


class _RandomBytes:
    """Bytes from the operating system's CSPRNG, read a page at a time: one system call for
    hundreds of ids instead of one each."""

    def __init__(self, page: int = 4096):
        self._page, self._buffer, self._lock = page, b"", threading.Lock()
        # A forked process must not hand out the bytes its parent holds too.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._buffer, self._lock = b"", threading.Lock()

    def take(self, count: int) -> bytes:
        with self._lock:
            if len(self._buffer) < count:
                self._buffer = os.urandom(max(self._page, count))
            taken, self._buffer = self._buffer[:count], self._buffer[count:]
        return taken


_random = _RandomBytes()


# Each random byte below 248 (4 * 62) stands for one character, so that every character is as
# likely as any other; a byte from 248 up is dropped (as zero, then removed).
_USABLE = 4 * len(_ALPHABET)
_CHARACTER_OF = bytes(
    _ALPHABET[b % len(_ALPHABET)].encode()[0] if b < _USABLE else 0 for b in range(256)
)


# Ids chosen in advance for the next objects of their kinds, by prefix (the documents' examples).
_chosen: ContextVar[dict[str, list[str]] | None] = ContextVar("chosen_ids", default=None)


@contextmanager
def chosen(*ids: str) -> Iterator[None]:
    """Within the block, the next new object of each id's kind (its prefix) gets that id."""
    by_prefix: dict[str, list[str]] = {}
    for object_id in ids:
        by_prefix.setdefault(object_id.partition("_")[0], []).append(object_id)
    token = _chosen.set(by_prefix)
    try:
        yield
    finally:
        _chosen.reset(token)


def new_id(prefix: str, length: int = _LENGTH) -> str:
    waiting = _chosen.get()
    if waiting and waiting.get(prefix):
        return waiting[prefix].pop(0)
    while True:
        characters = _random.take(length + 8).translate(_CHARACTER_OF).replace(b"\0", b"")
        if len(characters) >= length:
            return f"{prefix}_{characters[:length].decode()}"
