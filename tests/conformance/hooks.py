"""Schemathesis hooks for the conformance run (loaded through SCHEMATHESIS_HOOKS).

A client of the contract uses one idempotency key per distinct request. The fuzzer draws key
values without knowing that, and sends one key with different bodies, which the contract
rightly refuses with 400. So each drawn key is tied to its request: the same request keeps the
same key (and is replayed), a different request gets a different key. The 400 for a reused key
is tested in tests/api/test_idempotency.py.
"""

from __future__ import annotations

import hashlib
import json

import schemathesis

IDEMPOTENCY_HEADERS = {"ten99policy-idempotent-key", "idempotency-key"}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not case.headers:
        return
    body = json.dumps(case.body, sort_keys=True, default=repr)
    request = f"{case.method} {case.formatted_path} {body}".encode()
    digest = hashlib.sha256(request).hexdigest()[:16]
    for name, value in case.headers.items():
        if name.lower() in IDEMPOTENCY_HEADERS:
            case.headers[name] = f"{value[:200]}-{digest}"
