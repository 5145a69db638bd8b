"""What the official Node library (`1099policy-node` 2.0.1) sends, request for request, and the
exception class it would raise for each error. The library is not on the npm registry, so CI
cannot install it; this client sends what its `Resource` class sends (axios, JSON bodies):

- `Authorization: Bearer <key>` and `Ten99policy-Environment: <environment>` on every request,
  the environment `production` unless configured, whatever the key;
- `Ten99Policy-Idempotent-Key: <key>` on every request (GETs included) when one is configured:
  the same key for the client's whole life;
- `Content-Type: application/json` on `create` (POST) and `update` (PUT);
- its README's payloads.

Its error rule: `error_code` in PascalCase plus `Error`, if its error list has that class, else
its base `Ten99PolicyError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from server.core.principals import Environment
from tests import official_payloads as readme
from tests.conftest import new_contractor

# The exception classes of the library's lib/errors.js, base class aside.
NODE_ERROR_CLASSES = frozenset(
    [
        "GeneralError",
        "InvalidApiKeyError",
        "AuthTokenExpiredError",
        "ResourceNotFoundError",
        "DatabaseOperationalError",
        "InsufficientPermissionsError",
        "NoTenantFoundError",
        "InvalidWebhookSignatureError",
        "InvalidInputError",
        "BadRequestError",
        "InvalidQuoteIdError",
        "InvalidSessionIdError",
        "SessionExpiredError",
        "ApplicationAlreadyCompleteError",
        "EffectiveDateInvalidError",
        "EndDateInvalidError",
        "InvalidContractorIdError",
        "InvalidPolicyIdError",
        "InvalidJobIdError",
        "JobIsUsedError",
        "InvalidAssignmentIdError",
        "InvoiceAlreadyPaidError",
        "MissingCertificatesError",
        "InvalidFileTypeError",
        "DuplicateEmailError",
        "InvalidEntityIdError",
        "InvalidEventIdError",
        "InvalidPaycycleStartdateError",
        "InvalidPaycycleEnddateError",
        "NoActivePolicyError",
        "AgencyPayInvoiceExistsError",
        "InvalidInvoiceIdError",
        "MissingJobCategoryCodeError",
        "InvalidJobCategoryCodeError",
        "JobCategoryNotApprovedError",
        "InvoiceExistsError",
        "CustomApplicationsDisabledError",
        "ContractHasMatchingPolicyError",
        "CantUpdateCreateNewQuoteError",
        "PolicyAlreadyExistsError",
        "InvalidWebhookEndpointIdError",
        "MissingContractorIdError",
        "MissingCertificateError",
        "NoInsuranceRequirementFoundError",
        "InvalidMimeTypeError",
        "InvalidFileSizeError",
        "InvoiceUneditableAlreadyExistsError",
    ]
)
DAY = 86400

# The library's resources: their paths, by the name it gives them.
RESOURCES = {
    "entities": "/entities",
    "contractors": "/contractors",
    "applicationSessions": "/apply/sessions",
    "jobs": "/jobs",
    "jobCategories": "/category_codes",
    "policies": "/policies",
    "quotes": "/quotes",
    "assignments": "/assignments",
    "invoices": "/invoices",
    "webhooks": "/webhook_endpoints",
}


class NodeError(Exception):
    def __init__(self, class_name: str, status: int, body: dict):
        super().__init__(f"{class_name} ({status}): {body.get('message')}")
        self.class_name, self.status, self.body = class_name, status, body


def error_class(error_code: object) -> str:
    if not isinstance(error_code, str) or not error_code:
        return "Ten99PolicyError"
    name = "".join(word[:1].upper() + word[1:] for word in error_code.split("_")) + "Error"
    return name if name in NODE_ERROR_CLASSES else "Ten99PolicyError"


@dataclass
class NodeClient:
    """`new Ten99Policy({key, environment, idempotencyKey})`, over the test client."""

    http: object
    key: str
    environment: str = "production"
    idempotency_key: str | None = None
    sent: list[dict] = field(default_factory=list)

    def _headers(self, json_body: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/json, text/plain, */*",
            "User-Agent": "axios/1.7.7",
            "Authorization": f"Bearer {self.key}",
            "Ten99policy-Environment": self.environment,
        }
        if self.idempotency_key:
            headers["Ten99Policy-Idempotent-Key"] = self.idempotency_key
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _call(self, method: str, path: str, data=None, params=None):
        json_body = method in ("POST", "PUT")
        response = self.http.request(
            method,
            "/api/v1" + path,
            headers=self._headers(json_body),
            json=data if json_body else None,
            params=params,
        )
        self.sent.append(dict(response.request.headers))
        body = response.json()
        if not 200 <= response.status_code < 300:
            raise NodeError(error_class(body.get("error_code")), response.status_code, body)
        return body

    def list(self, resource: str, params=None):
        return self._call("GET", RESOURCES[resource], params=params)

    def create(self, resource: str, data: dict):
        return self._call("POST", RESOURCES[resource], data)

    def update(self, resource: str, object_id: str, data: dict):
        return self._call("PUT", f"{RESOURCES[resource]}/{object_id}", data)

    def retrieve(self, resource: str, object_id: str):
        return self._call("GET", f"{RESOURCES[resource]}/{object_id}")

    def delete(self, resource: str, object_id: str):
        return self._call("DELETE", f"{RESOURCES[resource]}/{object_id}")


def raises(class_name: str, call, *args) -> NodeError:
    with pytest.raises(NodeError) as raised:
        call(*args)
    assert raised.value.class_name == class_name, raised.value
    return raised.value


@pytest.fixture
def node(client, sandbox_key) -> NodeClient:
    """The README's configuration: a test key, and `environment: 'production'`."""
    return NodeClient(client, sandbox_key)


def test_the_readme_flow_with_its_default_production_environment_and_a_test_key(node):
    # The README's entity gives its limits as strings; the documents type them as integers.
    refused = raises("InvalidInputError", node.create, "entities", readme.ENTITY)
    assert refused.status == 400 and refused.body["param"].startswith("coverage_limit")
    entity = node.create("entities", {**readme.ENTITY, "coverage_limit": readme.ENTITY_LIMITS})
    assert node.update("entities", entity["id"], {"name": "California Roll"})["name"] == (
        "California Roll"
    )
    assert entity["id"] in [e["id"] for e in node.list("entities")]
    assert node.retrieve("entities", entity["id"])["required_coverage"] == [
        "general",
        "workers-comp",
    ]

    contractor = node.create("contractors", {**readme.CONTRACTOR, "years_experience": 20})
    assert contractor["address"]["country"] == "USA"
    changed = node.update(
        "contractors", contractor["id"], {"email": "john.doe@gmail.com", "first_name": "George"}
    )
    assert changed["first_name"] == "George"

    job = node.create("jobs", readme.job(entity["id"]))
    assert job["duration_hours"] == 20
    assert node.update("jobs", job["id"], {"name": "Mechanic"})["name"] == "Mechanic"
    assert node.retrieve("jobCategories", "jc_MTqpkbkp6G")["approved"] is True
    assert node.list("jobCategories")

    body = {
        "job": job["id"],
        "contractor": contractor["id"],
        "coverage_type": ["general", "workers-comp"],
    }
    quote = node.create("quotes", body)
    assert quote["eligible"], quote["eligibility_message"]
    refused = raises("InvalidInputError", node.update, "quotes", quote["id"], {"name": "Mechanic"})
    assert refused.body["param"] == "name"

    # A quote for the application session, made while the contractor has no policy on file
    # (after the policy below, a quote for the same cover is refused).
    session_quote = node.create("quotes", body)

    # The README binds with quote_id and is_active; the documents' create takes `quote`.
    raises(
        "InvalidInputError", node.create, "policies", {"quote_id": quote["id"], "is_active": True}
    )
    policy = node.create("policies", {"quote": quote["id"]})
    assert policy["status"] == "active"

    session = node.create(
        "applicationSessions",
        {
            "quote": session_quote["id"],
            "success_url": "http://example.com/success",
            "cancel_url": "http://example.com/cancel",
        },
    )
    urls = {"success_url": "http://example.com/done", "cancel_url": "http://example.com/cancel"}
    assert (
        node.update("applicationSessions", session["id"], urls)["success_url"]
        == urls["success_url"]
    )
    assert node.retrieve("applicationSessions", session["id"])["status"] == "open"
    assert session["id"] in [s["id"] for s in node.list("applicationSessions")]

    # The README's assignment: a contractor and a job, no coverage_type.
    second_job = node.create("jobs", readme.job(entity["id"]))
    assignment = node.create(
        "assignments", {"contractor": contractor["id"], "job": second_job["id"]}
    )
    assert assignment["coverage_type"] == ["general", "workers-comp"] and assignment["bind"]
    # Bound, it passes to no other contractor: a code of this server's own, so the base class.
    other = node.create("contractors", readme.CONTRACTOR)
    raises(
        "Ten99PolicyError",
        node.update,
        "assignments",
        assignment["id"],
        {"contractor": other["id"]},
    )
    assert node.retrieve("assignments", assignment["id"])["policy"] == policy["id"]
    assert assignment["id"] in [a["id"] for a in node.list("assignments")]

    start = policy["effective_date"] + DAY
    invoice_body = {
        "contractor": contractor["id"],
        "job": job["id"],
        "gross_pay": 1000,
        "paycycle_startdate": start,
        "paycycle_enddate": start + 7 * DAY,
    }
    invoice = node.create("invoices", invoice_body)
    assert node.update("invoices", invoice["id"], {"gross_pay": 1500})["gross_pay"] == 1500
    assert invoice["id"] in [i["id"] for i in node.list("invoices")]
    assert node.retrieve("invoices", invoice["id"])["premium"] > 0
    raises("InvoiceExistsError", node.create, "invoices", invoice_body)
    assert node.delete("invoices", invoice["id"])["deleted"] is True

    hook = node.create("webhooks", {"url": "https://example.com/hooks", "description": "Ours"})
    assert hook["enabled_events"] == ["*"]
    assert node.update("webhooks", hook["id"], {"description": "Mine"})["description"] == "Mine"
    assert hook["id"] in [w["id"] for w in node.list("webhooks")]
    assert node.retrieve("webhooks", hook["id"])["url"] == "https://example.com/hooks"

    raises("JobIsUsedError", node.delete, "jobs", job["id"])
    for resource, object_id in (
        ("webhooks", hook["id"]),
        ("assignments", assignment["id"]),
        ("policies", policy["id"]),
        ("contractors", other["id"]),
    ):
        assert node.delete(resource, object_id)["deleted"] is True
    assert node.delete("jobs", second_job["id"])["deleted"] is True
    raises("ResourceNotFoundError", node.retrieve, "policies", policy["id"])

    # Every request said production, with a test key, and was answered from the sandbox.
    assert all(h["ten99policy-environment"] == "production" for h in node.sent)


def test_the_environment_header_never_moves_a_key_to_other_data(client, new_key):
    sandbox, live = new_key(Environment.SANDBOX), new_key(Environment.PRODUCTION)
    made = NodeClient(client, sandbox).create("contractors", new_contractor())
    for key, environment in ((sandbox, "production"), (live, "sandbox")):
        node = NodeClient(client, key, environment=environment)
        response = client.get(
            f"/api/v1/contractors/{made['id']}", headers=node._headers(json_body=False)
        )
        answered = "sandbox" if key == sandbox else "production"
        assert response.headers["Ten99Policy-Environment"] == answered
        if key == live:
            raises("ResourceNotFoundError", node.retrieve, "contractors", made["id"])


def test_one_configured_idempotency_key_on_every_request(client, sandbox_key):
    """The library sends its configured key on every request: reads pass, the first create is
    kept, a retry of it replays, and any other create under the same key is refused."""
    node = NodeClient(client, sandbox_key, idempotency_key="order-42")
    assert node.list("contractors") == []
    first = node.create("contractors", readme.CONTRACTOR)
    assert node.retrieve("contractors", first["id"])["id"] == first["id"]
    assert node.create("contractors", readme.CONTRACTOR) == first
    assert [c["id"] for c in node.list("contractors")] == [first["id"]]
    # `idempotency` has no class in the Node library's list, so its base class.
    other = raises(
        "Ten99PolicyError", node.create, "contractors", {**readme.CONTRACTOR, "first_name": "Jane"}
    )
    assert (other.status, other.body["error_code"]) == (400, "idempotency")
    # Updates under the key are not idempotent requests: they run.
    assert node.update("contractors", first["id"], {"first_name": "Ann"})["first_name"] == "Ann"
    assert all(h["ten99policy-idempotent-key"] == "order-42" for h in node.sent)


@pytest.mark.parametrize(
    ("error_code", "class_name"),
    [
        ("resource_not_found", "ResourceNotFoundError"),
        ("invalid_input", "InvalidInputError"),
        ("invoice_already_paid", "InvoiceAlreadyPaidError"),
        ("invalid_paycycle_startdate", "InvalidPaycycleStartdateError"),
        ("quote_not_eligible", "Ten99PolicyError"),
        (None, "Ten99PolicyError"),
    ],
)
def test_the_error_class_rule(error_code, class_name):
    assert error_class(error_code) == class_name
