"""A request body's two-step check: the compiled validator only ever accepts what the bounded
Python validator accepts, so its speed changes no verdict."""

from __future__ import annotations

import pytest

from server.core.errors import InvalidRequest
from server.middleware.validation import BodySchema, compile_schema

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "note": {"type": "string", "nullable": True, "maxLength": 5},
        "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
        "amount": {"type": "integer", "format": "int64"},
        "small": {"type": "integer", "format": "int32"},
        "email": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3, "uniqueItems": True},
        # Properties named like keywords are properties, not keywords.
        "format": {"type": "string"},
        "nullable": {"type": "boolean"},
        "type": {"type": "string", "example": {"format": {"nested": True}}},
    },
}

BODIES = [
    {},
    {"note": None},
    {"note": "hello"},
    {"note": "toolong"},
    {"kind": None},
    {"kind": "a"},
    {"kind": "c"},
    {"amount": 2**63 - 1},
    {"amount": 2**63},
    {"amount": -(2**63)},
    {"amount": 1.0},
    {"small": 2**31},
    {"email": "joe@example.com"},
    {"email": "joe"},
    {"site": "https://example.com/x"},
    {"site": "not a uri"},
    {"tags": ["a", "b"]},
    {"tags": ["a", "a"]},
    {"tags": ["a", "b", "c", "d"]},
    {"format": "x", "nullable": True, "type": "t"},
    {"format": 1},
    {"nullable": "yes"},
    {"unknown": 1},
    [],
    None,
]


def python_accepts(body) -> bool:
    return not list(compile_schema(SCHEMA).iter_errors(body))


def two_step_accepts(body) -> bool:
    try:
        BodySchema(SCHEMA).check(body)
    except InvalidRequest:
        return False
    return True


@pytest.mark.parametrize("body", BODIES, ids=[repr(b)[:40] for b in BODIES])
def test_the_verdict_is_the_python_validators(body):
    assert two_step_accepts(body) == python_accepts(body)


def test_both_verdicts_occur():
    verdicts = {python_accepts(body) for body in BODIES}
    assert verdicts == {True, False}


def test_a_refusal_names_the_field():
    with pytest.raises(InvalidRequest) as refused:
        BodySchema(SCHEMA).check({"amount": 2**63})
    assert refused.value.param == "amount"
