"""Object ids: a prefix naming the kind, then random base62 characters."""

from __future__ import annotations

import math
import os
import string

_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 14
# Random bits beyond those the characters hold, so that every character is as likely as any
# other to within 2**-64.
_SPARE_BITS = 64


def new_id(prefix: str, length: int = _LENGTH) -> str:
    bits = math.ceil(length * math.log2(len(_ALPHABET))) + _SPARE_BITS
    number = int.from_bytes(os.urandom((bits + 7) // 8), "big")
    characters = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[index])
    return f"{prefix}_" + "".join(characters)
