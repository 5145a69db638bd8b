"""Addresses as requests send them: the reference documents' examples send a ZIP code as a
number, which is stored (and answered) as the string of its five digits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ZIP_DIGITS = 5


def stored(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields with a numeric `address.postalcode` as its digits, the leading zeros a number
    loses put back (`2134` is `"02134"`)."""
    address = fields.get("address")
    if not isinstance(address, dict) or not isinstance(address.get("postalcode"), int):
        return dict(fields)
    postalcode = f"{address['postalcode']:0{ZIP_DIGITS}d}"
    return {**fields, "address": {**address, "postalcode": postalcode}}
