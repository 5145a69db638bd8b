"""Every resource and method of the official Python library, unchanged, on a live server: the
underwriting flow from entity to invoice, and the exception class each documented error code
raises. Payloads are the library README's where the contract takes them as written; where it
refuses one, the test says why and spec/CHANGELOG.md records it."""

from __future__ import annotations

import time

import httpx
import pytest
import ten99policy
from ten99policy import error

from tests import official_payloads as readme

DAY = 86400


def entity(**fields):
    # The README's entity (with `line2: ""`), its limits as the integers the documents type.
    body = {**readme.ENTITY, "coverage_limit": readme.ENTITY_LIMITS}
    body["address"] = {**body["address"], "line2": ""}
    return ten99policy.Entities.create(**{**body, **fields})


def contractor(**fields):
    return ten99policy.Contractors.create(**{**readme.CONTRACTOR, **fields})


def job(entity_id, **fields):
    return ten99policy.Jobs.create(**{**readme.job(entity_id), **fields})


def quote(contractor_id, job_id, **fields):
    body = {
        "job": job_id,
        "contractor": contractor_id,
        "coverage_type": ["general", "workers-comp"],
    }
    return ten99policy.Quotes.create(**{**body, **fields})


def unbound_quote(insured):
    """A quote for the insured's job, of another contractor: the insured has the cover on file,
    and a quote for it is refused."""
    return quote(contractor(years_experience=20).id, insured["job"].id)


def test_a_quote_for_cover_on_file_raises_its_error_class(insured):
    with pytest.raises(ten99policy.error.ContractorHasMatchingPolicyError) as refused:
        quote(insured["contractor"].id, insured["job"].id)
    assert refused.value.http_status == 400


@pytest.fixture
def insured():
    """An entity, a contractor with enough experience for the README's job, that job, an
    eligible quote and its policy, all through the library."""
    made = {"entity": entity()}
    made["contractor"] = contractor(years_experience=20)
    made["job"] = job(made["entity"].id)
    made["quote"] = quote(made["contractor"].id, made["job"].id)
    assert made["quote"].eligible, made["quote"].eligibility_message
    made["policy"] = ten99policy.Policies.create(quote=made["quote"].id)
    return made


def test_entities_every_method():
    # The README's limits are strings; the documents type them as integers.
    with pytest.raises(error.InvalidInputError):
        ten99policy.Entities.create(**readme.ENTITY)
    made = entity()
    assert made.id.startswith("en_") and made.name == "Brooklyn Bowl"
    renamed = ten99policy.Entities.modify(made.id, name="California Roll")
    assert renamed.name == "California Roll"
    assert made.id in [e.id for e in ten99policy.Entities.list()]
    assert ten99policy.Entities.retrieve(made.id).name == "California Roll"
    assert ten99policy.Entities.delete(made.id).deleted is True
    with pytest.raises(error.ResourceNotFoundError):
        ten99policy.Entities.retrieve(made.id)


def test_contractors_every_method():
    made = contractor()
    assert made.id.startswith("cn_") and made.address.country == "USA"
    changed = ten99policy.Contractors.modify(
        made.id, email="john.doe@gmail.com", first_name="George"
    )
    assert (changed.email, changed.first_name) == ("john.doe@gmail.com", "George")
    assert made.id in [c.id for c in ten99policy.Contractors.list()]
    assert ten99policy.Contractors.retrieve(made.id).first_name == "George"
    assert ten99policy.Contractors.delete(made.id).deleted is True


def test_jobs_every_method():
    owner = entity()
    made = job(owner.id)
    assert made.id.startswith("jb_") and made.duration_hours == 20
    assert ten99policy.Jobs.modify(made.id, name="Mechanic").name == "Mechanic"
    assert made.id in [j.id for j in ten99policy.Jobs.list()]
    assert ten99policy.Jobs.retrieve(made.id).name == "Mechanic"
    assert ten99policy.Jobs.delete(made.id).deleted is True


def test_job_categories_list_and_retrieve():
    listed = ten99policy.JobCategories.list()
    assert listed and all(c.id.startswith("jc_") for c in listed)
    assert ten99policy.JobCategories.retrieve("jc_MTqpkbkp6G").approved is True


def test_quotes_every_method(insured):
    again = quote(insured["contractor"].id, insured["job"].id, coverage_type=["general"])
    assert again.id.startswith("qt_") and again.gl_net_rate > 0
    later = int(time.time()) + 5 * DAY
    assert ten99policy.Quotes.modify(again.id, effective_date=later).effective_date == later
    assert again.id in [q.id for q in ten99policy.Quotes.list()]
    assert ten99policy.Quotes.retrieve(again.id).net_rate == again.net_rate
    # The README's update sends `name`, which a quote does not have.
    with pytest.raises(error.InvalidInputError):
        ten99policy.Quotes.modify(again.id, name="Mechanic")


def test_policies_every_method(insured):
    policy = insured["policy"]
    assert policy.id.startswith("pl_") and policy.status == "active"
    assert ten99policy.Policies.modify(policy.id, is_active=False).status == "cancelled"
    assert policy.id in [p.id for p in ten99policy.Policies.list()]
    assert ten99policy.Policies.retrieve(policy.id).is_active is False
    listed = ten99policy.ContractorPolicies.list(insured["contractor"].id)
    assert [p.id for p in listed] == [policy.id]
    assert ten99policy.Policies.delete(policy.id).deleted is True


def test_the_readmes_policy_creation_names_a_field_the_contract_calls_quote(insured):
    fresh = unbound_quote(insured)
    with pytest.raises(error.InvalidInputError) as refused:
        ten99policy.Policies.create(quote_id=fresh.id, is_active=True)
    assert "quote" in str(refused.value)


def test_application_sessions_every_method(insured):
    fresh = unbound_quote(insured)
    session = ten99policy.InsuranceApplicationSessions.create(
        quote=fresh.id,
        success_url="http://example.com/success",
        cancel_url="http://example.com/cancel",
    )
    assert session.id.startswith("ias_") and session.status == "open"
    changed = ten99policy.InsuranceApplicationSessions.modify(
        session.id,
        success_url="http://example.com/welcome",
        cancel_url="http://example.com/cancel",
    )
    assert changed.success_url == "http://example.com/welcome"
    assert session.id in [s.id for s in ten99policy.InsuranceApplicationSessions.list()]
    assert ten99policy.InsuranceApplicationSessions.retrieve(session.id).quote == fresh.id


def test_assignments_every_method(insured):
    # The README's assignment, as written: no coverage_type, so the entity's requirement.
    night = job(insured["entity"].id, name="Night driver")
    made = ten99policy.Assignments.create(contractor=insured["contractor"].id, job=night.id)
    assert made.id.startswith("an_")
    assert made.coverage_type == ["general", "workers-comp"]
    assert made.bind is True and made.policy == insured["policy"].id
    # A code the library has no class for raises its base class.
    with pytest.raises(error.Ten99PolicyError) as refused:
        ten99policy.Assignments.modify(made.id, coverage_type=["general"])
    assert type(refused.value) is error.Ten99PolicyError
    assert refused.value.http_status == 400
    assert refused.value.json_body["error_code"] == "assignment_is_bound"
    assert made.id in [a.id for a in ten99policy.Assignments.list()]
    assert ten99policy.Assignments.retrieve(made.id).job == night.id
    assert ten99policy.Assignments.delete(made.id).deleted is True


def test_invoices_every_method(insured):
    start = insured["policy"].effective_date + DAY
    body = {
        "contractor": insured["contractor"].id,
        "job": insured["job"].id,
        "gross_pay": 1000,
        "paycycle_startdate": start,
        "paycycle_enddate": start + 7 * DAY,
    }
    made = ten99policy.Invoices.create(**body)
    assert made.id.startswith("in_") and made.status == "open"
    assert made.premium == sum(line.premium for line in made.lines)
    changed = ten99policy.Invoices.modify(made.id, gross_pay=1500)
    assert changed.gross_pay == 1500
    assert made.id in [i.id for i in ten99policy.Invoices.list()]
    assert ten99policy.Invoices.retrieve(made.id).gross_pay == 1500
    assert ten99policy.Invoices.delete(made.id).deleted is True

    paid = ten99policy.Invoices.create(**body)
    assert ten99policy.Invoices.modify(paid.id, status="paid").status == "paid"
    with pytest.raises(error.InvoiceAlreadyPaidError):
        ten99policy.Invoices.modify(paid.id, gross_pay=1)
    with pytest.raises(error.InvoiceAlreadyPaidError):
        ten99policy.Invoices.delete(paid.id)
    with pytest.raises(error.InvoiceExistsError):
        ten99policy.Invoices.create(**body)
    before = {**body, "paycycle_startdate": insured["policy"].effective_date - DAY}
    with pytest.raises(error.InvalidPaycycleStartdateError):
        ten99policy.Invoices.create(**before)
    backwards = {**body, "paycycle_enddate": start - DAY}
    with pytest.raises(error.InvalidPaycycleEnddateError):
        ten99policy.Invoices.create(**backwards)
    elsewhere = job(insured["entity"].id)
    with pytest.raises(error.NoActivePolicyError):
        ten99policy.Invoices.create(**{**body, "job": elsewhere.id})


def test_webhooks_every_method():
    made = ten99policy.Webhooks.create(url="https://example.com/hooks")
    assert made.id.startswith("we_") and made.enabled_events == ["*"]
    assert made.secret.startswith("whsec_")
    changed = ten99policy.Webhooks.modify(made.id, enabled_events=["policy.created"])
    assert changed.enabled_events == ["policy.created"]
    assert made.id in [w.id for w in ten99policy.Webhooks.list()]
    assert ten99policy.Webhooks.retrieve(made.id).url == "https://example.com/hooks"
    assert ten99policy.Webhooks.delete(made.id).deleted is True


def test_events_list_and_retrieve(insured):
    listed = ten99policy.Events.list()
    assert "policy.created" in [e.type for e in listed]
    first = listed[0]
    assert ten99policy.Events.retrieve(first.id).type == first.type


@pytest.mark.parametrize(
    ("call", "exception"),
    [
        (lambda made: ten99policy.Contractors.retrieve("cn_missing"), "ResourceNotFoundError"),
        (lambda made: ten99policy.Contractors.create(first_name="No"), "InvalidInputError"),
        (lambda made: quote("cn_missing", made["job"].id), "InvalidContractorIdError"),
        (lambda made: quote(made["contractor"].id, "jb_missing"), "InvalidJobIdError"),
        (lambda made: job("en_missing"), "InvalidEntityIdError"),
        (
            lambda made: job(made["entity"].id, category_code="jc_missing"),
            "InvalidJobCategoryCodeError",
        ),
        (lambda made: ten99policy.Policies.create(quote="qt_missing"), "InvalidQuoteIdError"),
        (
            lambda made: ten99policy.Policies.create(quote=made["quote"].id),
            "PolicyAlreadyExistsError",
        ),
        (
            lambda made: ten99policy.Quotes.modify(made["quote"].id, coverage_type=["general"]),
            "CantUpdateCreateNewQuoteError",
        ),
        (
            lambda made: quote(made["contractor"].id, made["job"].id, effective_date=1),
            "EffectiveDateInvalidError",
        ),
        (
            lambda made: quote(made["contractor"].id, made["job"].id, end_date=1),
            "EndDateInvalidError",
        ),
        (lambda made: ten99policy.Jobs.delete(made["job"].id), "JobIsUsedError"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_error_code_raises_its_exception_class(insured, call, exception):
    with pytest.raises(getattr(error, exception)) as raised:
        call(insured)
    assert type(raised.value).__name__ == exception
    assert raised.value.http_status in (400, 404)


def test_an_unapproved_job_category_raises_job_category_not_approved():
    unapproved = [c.id for c in ten99policy.JobCategories.list() if not c.approved]
    assert unapproved, "the seeded catalogue has unapproved categories"
    with pytest.raises(error.JobCategoryNotApprovedError):
        job(entity().id, category_code=unapproved[0])


def test_a_wrong_key_raises_invalid_api_key():
    with pytest.raises(error.InvalidApiKeyError) as raised:
        ten99policy.Contractors.list(api_key="t9k_test_not_a_real_key")
    assert raised.value.http_status == 401


def test_production_named_with_a_test_key_answers_from_the_sandbox(configured):
    """The README configures `environment = 'production'`; the key decides."""
    made = contractor()
    configured.environment = "production"
    assert ten99policy.Contractors.retrieve(made.id).id == made.id


def test_a_completed_session_raises_application_already_complete(server, insured):
    fresh = unbound_quote(insured)
    session = ten99policy.InsuranceApplicationSessions.create(quote=fresh.id)

    host = server.base_url.removesuffix("/api/v1")
    accepted = httpx.post(f"{host}/apply/{session.id}/accept", follow_redirects=False)
    assert accepted.status_code in (200, 303), accepted.text
    with pytest.raises(error.ApplicationAlreadyCompleteError):
        ten99policy.InsuranceApplicationSessions.modify(session.id, cancel_url="http://x.example")


def test_the_readmes_error_classes(configured):
    """The README catches `error.APIError` (a response without `error_code` and `message`) and
    `error.AuthenticationError` (no key configured). Every error of this server has the shape,
    so the library raises the class of its code, never APIError: even for a URL that no
    operation serves, such as the one ContractorPolicies.retrieve builds."""
    with pytest.raises(error.ResourceNotFoundError) as raised:
        ten99policy.ContractorPolicies.retrieve("pl_any")
    assert not isinstance(raised.value, error.APIError)
    configured.api_key = None
    with pytest.raises(error.AuthenticationError):
        ten99policy.Contractors.list()
