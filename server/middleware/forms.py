"""Form-encoded request bodies, as the guides' curl examples send them: `-d email=…`, nested
`-d "address[line1]=…"`, arrays `-d "events[]=…"` (or repeated, or indexed). qs-codec decodes
the nesting; each string is then typed by the operation's schema (an integer field's digits, a
boolean's `true` or `false`, a nullable field's `null`), so that the same schema
validates the form as it would the JSON body, and a value that has no such type is left a
string for validation to refuse by name."""

from __future__ import annotations

import json
import re
import typing as t

import qs_codec
from jsonschema import Draft4Validator

from server.core.errors import InvalidRequest

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000
MAX_DEPTH = 5
MAX_LIST = 100
_OPTIONS = qs_codec.DecodeOptions(
    depth=MAX_DEPTH,
    strict_depth=True,
    list_limit=MAX_LIST,
    parameter_limit=MAX_FIELDS,
    raise_on_limit_exceeded=True,
)
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
# A nullable field's null, as the reference documents write an empty field (`"null"`); an
# empty value is the empty string, which a field may refuse.
NULL = "null"


def decode(text: str, schema: dict | None) -> t.Any:
    """The body's values, typed by `schema`. A body that is a JSON object is read as JSON: curl
    labels whatever `-d` sends form-encoded, the JSON of the guides' examples included."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # a form whose first field's name starts with a brace
    if any(field.startswith("=") for field in text.split("&")):
        raise InvalidRequest("A form field has no name.", code="invalid_input")
    try:
        values = qs_codec.decode(text, _OPTIONS)
    except (IndexError, ValueError) as exceeded:
        raise InvalidRequest(
            f"The form body is too large or nests too deeply: {exceeded}", code="bad_request"
        ) from None
    return typed(values, schema or {})


def typed(value: t.Any, schema: dict) -> t.Any:
    """A decoded form value as the JSON value `schema` describes."""
    if isinstance(value, str):
        return _scalar(value, schema)
    if isinstance(value, list):
        items = schema.get("items", {})
        return [typed(item, items if isinstance(items, dict) else {}) for item in value]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        others = schema.get("additionalProperties")
        return {
            name: typed(item, properties.get(name) or (others if isinstance(others, dict) else {}))
            for name, item in value.items()
        }
    return value


def _scalar(text: str, schema: dict) -> t.Any:
    """A form string as the schema's kind, or as the first of its alternatives (oneOf, anyOf)
    that it is valid as (`postalcode=1` is the number 1, `postalcode=94104` the string); a
    field declared an array that got one value gets a list of it."""
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if not alternatives:
        return _as_kind(text, schema)
    candidates = [(kind, _as_kind(text, kind)) for kind in alternatives]
    for kind, candidate in candidates:
        if Draft4Validator(kind).is_valid(candidate):
            return candidate
    return candidates[0][1]


def _as_kind(text: str, kind: dict) -> t.Any:
    if text == NULL and kind.get("nullable"):
        return None
    match kind.get("type"):
        case "integer" if _INTEGER.fullmatch(text):
            return int(text)
        case "number" if _NUMBER.fullmatch(text):
            return float(text) if not _INTEGER.fullmatch(text) else int(text)
        case "boolean" if text in _BOOLEANS:
            return _BOOLEANS[text]
        case "array":
            return [_scalar(text, kind.get("items", {}))]
    return text
