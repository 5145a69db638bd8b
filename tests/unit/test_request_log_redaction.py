"""The request log's redaction of bodies it cannot parse: a JSON body cut short (the server
sends the log at most MAX_BODY_BYTES of a body) keeps no secret field's value."""

from __future__ import annotations

import orjson

from server.domain.request_logs import REDACTED, shown_body
from server.middleware.request_log import MAX_BODY_BYTES


def test_a_json_body_cut_short_keeps_no_secret_fields_value():
    body = orjson.dumps(
        {
            "tax_identification": "123-45-6789",
            "webhook": {"secret": "not-prefixed-at-all", "previous_secret": 42},
            "custom_metadata": {"notes": "x" * MAX_BODY_BYTES},
        }
    )
    shown = shown_body(body[:MAX_BODY_BYTES], "application/json")
    assert "123-45-6789" not in shown and "not-prefixed-at-all" not in shown
    assert f'"tax_identification":"{REDACTED}"' in shown
    assert f'"secret":"{REDACTED}"' in shown and f'"previous_secret":"{REDACTED}"' in shown


def test_a_secret_cut_in_the_middle_of_its_value_is_redacted_too():
    body = b'{"name":"a","secret":null,"tax_identification":"123-45-67'
    shown = shown_body(body, "application/json")
    assert "123-45-67" not in shown and '"secret":null' in shown
