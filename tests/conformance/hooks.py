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
from schemathesis.core.parameters import ParameterLocation
from schemathesis.transport.serialization import Binary

from server.core.faults import HEADER
from server.pdf import sample
from server.sandbox import MEETS_THE_EXAMPLE

IDEMPOTENCY_HEADERS = {"ten99policy-idempotent-key", "idempotency-key"}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _no_faults_on_purpose(case)
    _complete_linked_references(case)
    _extend_from_the_current_end(case)
    _send_as_json_what_no_form_carries(case)
    _tie_idempotency_keys(case)


# A PDF the examples' covered contractor's certificate review can pass. The fuzzer's files are
# images and bytes: an upload is refused before its contractor is looked at unless it is a PDF,
# so each generated file becomes this one (the refusals of other files are API tests,
# tests/api/test_certificate_uploads.py), and the contractor decides the answer.
CERTIFICATE = sample.stating(*MEETS_THE_EXAMPLE)


@schemathesis.hook
def map_body(ctx, body):
    """Each generated certificate becomes CERTIFICATE, as it is drawn (a case changed later is
    judged again as a whole, and its headers then read as invalid)."""
    operation = ctx.operation
    uploading = operation is not None and (operation.method.upper(), operation.path) == (
        "POST",
        "/files/certificates",
    )
    if uploading and isinstance(body, dict) and isinstance(body.get("certificate"), bytes | Binary):
        return {**body, "certificate": Binary(CERTIFICATE)}
    return body


# A fault asked for on purpose is a 500 or an unanswered request, which the run's checks count
# as failures, or a wait of up to 10 s; and the fuzzer takes values that do not match the
# header's pattern ("0") for valid ones, and the server's 400 for them for a failure. So the
# header is not sent: tests/api/test_faults.py makes each fault, and has the server refuse
# values that name none.
def _no_faults_on_purpose(case) -> None:
    for name in list(case.headers or {}):
        if name.lower() == HEADER.lower():
            del case.headers[name]


FORM = "application/x-www-form-urlencoded"


def _send_as_json_what_no_form_carries(case) -> None:
    """A form has no empty array or object (`events: []` is sent as no field at all, which the
    contract allows), nor an object key that has a bracket (`custom_metadata[a]b]=`), is empty
    or is a number (`custom_metadata[0]=` is a list's first item), so a body holding one is
    sent as JSON, as openapi.yaml tells a client to: the fuzzer's case then says what it
    means."""
    if case.media_type == FORM and not (_form_carries(case.body) and _valid_body(case)):
        object.__setattr__(case, "media_type", "application/json")


def _valid_body(case) -> bool:
    """A form carries strings: a body invalid on purpose (a number where a string goes) reads
    as valid once it is a form, so it is sent as JSON, which keeps its types."""
    return case.meta is None or not case.meta.is_negative_at(ParameterLocation.BODY)


def _form_carries(value) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_form_key(str(k)) and _form_carries(v) for k, v in value.items())
    if isinstance(value, list):
        return bool(value) and all(_form_carries(v) for v in value)
    return True


def _form_key(key: str) -> bool:
    return bool(key) and not key.isdigit() and not set(key) & {"[", "]"}


def _tie_idempotency_keys(case) -> None:
    if not case.headers:
        return
    body = json.dumps(case.body, sort_keys=True, default=repr)
    # The same fields as JSON and as a form are two requests (their bytes differ).
    request = f"{case.method} {case.formatted_path} {case.media_type} {body}".encode()
    digest = hashlib.sha256(request).hexdigest()[:16]
    for name, value in case.headers.items():
        # A key the contract refuses (empty, too long, with U+0000) stays as drawn, refused.
        if name.lower() in IDEMPOTENCY_HEADERS and _valid_key(value):
            case.headers[name] = f"{value[:200]}-{digest}"


def _valid_key(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 255 and "\x00" not in value


# A link's request body is written as `x-request-body` in openapi.yaml: OpenAPI 3.0 allows any
# value for `requestBody` there, but openapi-generator's parser refuses one that is not a
# string, and so refuses the whole contract. Schemathesis reads the standard field: it gets it
# back here, before the contract is loaded.
LINK_BODY = "x-request-body"


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    for link in links_in(raw_schema):
        if LINK_BODY in link:
            link["requestBody"] = link.pop(LINK_BODY)


def links_in(node):
    """Every link object in the contract, wherever its response is written."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "links" and isinstance(value, dict):
                yield from value.values()
            else:
                yield from links_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from links_in(value)


# Stateful testing follows the spec's links, and a link carries one object from the response
# before it (a job's id into a new quote). A quote also needs a contractor, and the fuzzer
# draws one at random, which is a 404 every time. So a POST that names an object this run
# created is completed as a client following the flow would send it: the run's latest objects
# for its other references, and the default period of coverage (the fuzzer's dates are mostly
# in the past, a 400 tested elsewhere). A request naming no object of the run stays as drawn,
# so unknown references (404) and bad dates (400) are still exercised. Such a client binds only
# an eligible quote, so a linked bind of an ineligible quote binds the run's latest eligible,
# unbound quote instead (ineligible binds are tested in tests/api/test_policies.py).
REFERENCE_PREFIXES = {"contractor": "cn_", "job": "jb_", "entity": "en_", "quote": "qt_"}
created: dict[str, list[str]] = {prefix: [] for prefix in REFERENCE_PREFIXES.values()}
DATE_FIELDS = ("effective_date", "end_date", "expiration_date")
bindable: list[str] = []  # eligible quotes without a policy, oldest first


def _made_by_run(field: str, object_id: str) -> bool:
    return object_id in created[REFERENCE_PREFIXES[field]]


def _complete_linked_references(case) -> None:
    body = case.body
    if case.method not in ("POST", "PUT") or not isinstance(body, dict):
        return
    references = [field for field in REFERENCE_PREFIXES if isinstance(body.get(field), str)]
    if not any(_made_by_run(field, body[field]) for field in references):
        return
    for field in references:
        latest = created[REFERENCE_PREFIXES[field]]
        if not _made_by_run(field, body[field]) and latest:
            body[field] = latest[-1]
    if case.method == "POST":
        for field in DATE_FIELDS:
            body.pop(field, None)
    binding = case.path in ("/policies", "/apply/sessions")
    if binding and body.get("quote") not in bindable and bindable:
        body["quote"] = bindable[-1]


# An extension must start from the assignment's current end date, which the fuzzer cannot know:
# a request naming a job with a bound assignment this run made asks for one more day, as a
# client extending coverage would. Other jobs stay as drawn (the example's job: its documented
# end date; 404, and the 400s of tests/api/test_assignments.py).
DAY = 86400
assignment_ends: dict[str, int] = {}


def _extend_from_the_current_end(case) -> None:
    body = case.body
    if case.path != "/assignments/extend" or not isinstance(body, dict):
        return
    job_id = body.get("job_id")
    if isinstance(job_id, str) and job_id in assignment_ends:
        body["end_date"] = assignment_ends[job_id] + DAY


@schemathesis.hook
def after_call(ctx, case, response):
    if response.status_code not in (200, 201) or case.method not in ("POST", "PUT"):
        return
    answer = response.json()
    if not isinstance(answer, dict):  # a POST that answers a list (retryFailedWebhookDeliveries)
        return
    if answer.get("object") == "assignment" and answer["bind"]:
        assignment_ends[answer["job"]] = answer["end_date"]
    if answer.get("object") == "quote":
        if answer["eligible"] and answer["id"] not in bindable:
            bindable.append(answer["id"])
        elif not answer["eligible"] and answer["id"] in bindable:
            bindable.remove(answer["id"])
    if answer.get("object") == "policy" and answer["quote"] in bindable:
        bindable.remove(answer["quote"])
    if case.method != "POST" or response.status_code != 201:
        return
    object_id = answer.get("id", "")
    for prefix, ids in created.items():
        if object_id.startswith(prefix):
            ids.append(object_id)
