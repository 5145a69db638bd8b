"""What is measured: five operations, and the data each needs, made through the API itself
before the load starts (so the same code sets up this server, Prism and the ceiling; Prism
answers from the contract's examples, whose ids are as good as any). Two more create
contractors while a webhook endpoint receives every event, as every platform has one: this
server's alone, since only it delivers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.load import Request
from bench.receiver import ANSWERING, DOWN

# The README's contractor; the job category is one of the approved ones the migrations seed.
CONTRACTOR = {
    "first_name": "Joe",
    "last_name": "Parker",
    "email": "parker@gmail.com",
    "phone": "415-474-9088",
    "address": {
        "line1": "1 Kearny St",
        "locality": "San Francisco",
        "postalcode": "94104",
        "region": "CA",
    },
}
ENTITY = {
    "name": "Acme Logistics",
    "required_coverage": ["general"],
    "coverage_limit": {"aggregate_limit": 200000000, "occurrence_limit": 100000000},
}
APPROVED_CATEGORY = "jc_MTqpkbkp6G"
COVERAGE = ["general"]
LISTED = 100  # the contract's largest page


class SetupFailed(RuntimeError):
    """The API refused a request that sets up the data."""


@dataclass(frozen=True)
class Api:
    """A tiny JSON client for the setup (the load itself is wrk's)."""

    base_url: str
    api_key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=self.headers()
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise SetupFailed(f"{method} {path} answered {error.code}: {detail}") from None

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, body)


@dataclass(frozen=True)
class Fixtures:
    contractor: str
    quote_body: dict[str, Any]
    extend_body: dict[str, Any]


def job_body(entity: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Repair cars on site",
        "entity": entity,
        "category_code": APPROVED_CATEGORY,
        "wage": 15000,
        "wage_type": "flatfee",
        "address": {"region": "CA", "postalcode": "94104"},
    }


def bound_assignment(api: Api, entity: str, contractor: str) -> dict[str, Any]:
    """Quote, policy and assignment on a job of their own; the assignment must be bound, as
    only a bound one can be extended."""
    job = api.create("/jobs", job_body(entity, "Assigned technician"))["id"]
    quote = {"contractor": contractor, "job": job, "coverage_type": COVERAGE}
    api.create("/policies", {"quote": api.create("/quotes", quote)["id"]})
    assignment = api.create("/assignments", quote)
    if assignment.get("bind") is not True:
        raise SetupFailed(f"the assignment came back unbound: {assignment}")
    return assignment


def set_up(api: Api) -> Fixtures:
    for _ in range(LISTED):
        api.create("/contractors", CONTRACTOR)
    contractor = api.create("/contractors", CONTRACTOR)["id"]
    entity = api.create("/entities", ENTITY)["id"]
    job = api.create("/jobs", job_body(entity, "Field technician"))["id"]
    assignment = bound_assignment(api, entity, contractor)
    # Quoted again and again: a contractor with no policy on file (a quote for cover on file is
    # refused, contractor_has_matching_policy).
    uncovered = api.create("/contractors", CONTRACTOR)["id"]
    return Fixtures(
        contractor=contractor,
        quote_body={"contractor": uncovered, "job": job, "coverage_type": COVERAGE},
        # The same end date without email: the documented 200 no-op that still regenerates
        # the certificates, so every request does the same work.
        extend_body={
            "job_id": assignment["job"],
            "end_date": assignment["end_date"],
            "send_email": False,
        },
    )


@dataclass(frozen=True)
class Scenario:
    key: str  # what --scenarios names
    title: str  # what the table shows
    request: Callable[[Api, Fixtures], Request]
    # An endpoint that receives every event while the scenario runs: ANSWERING or DOWN.
    webhook: str | None = None


def _get(path: str) -> Callable[[Api, Fixtures], Request]:
    def request(api: Api, fixtures: Fixtures) -> Request:
        url = api.base_url + path.format(contractor=fixtures.contractor)
        return Request("GET", url, {"Authorization": f"Bearer {api.api_key}"})

    return request


def _post(
    path: str, body: Callable[[Fixtures], dict[str, Any]]
) -> Callable[[Api, Fixtures], Request]:
    def request(api: Api, fixtures: Fixtures) -> Request:
        return Request("POST", api.base_url + path, api.headers(), json.dumps(body(fixtures)))

    return request


# In this order: the extension queues certificate work, so it goes last, where nothing else
# measured in the same server start can pay for that backlog.
SCENARIOS = (
    Scenario("get", "GET /contractors/{id}", _get("/contractors/{contractor}")),
    Scenario("create", "POST /contractors", _post("/contractors", lambda _: CONTRACTOR)),
    Scenario(
        "create-hook",
        "POST /contractors, endpoint answering",
        _post("/contractors", lambda _: CONTRACTOR),
        webhook=ANSWERING,
    ),
    Scenario(
        "create-hook-down",
        "POST /contractors, endpoint down",
        _post("/contractors", lambda _: CONTRACTOR),
        webhook=DOWN,
    ),
    Scenario("list", "GET /contractors?limit=100", _get(f"/contractors?limit={LISTED}")),
    Scenario("quote", "POST /quotes", _post("/quotes", lambda f: f.quote_body)),
    Scenario(
        "extend", "POST /assignments/extend", _post("/assignments/extend", lambda f: f.extend_body)
    ),
)
