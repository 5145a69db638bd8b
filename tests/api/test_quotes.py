"""Quotes end to end through the real app, on SQLite and on PostgreSQL: references, dates,
rating and eligibility by the rate table, updates, and listing."""

from __future__ import annotations

import time
import tomllib

import pytest

from server.domain import rating
from tests.conftest import (
    AUTOMOTIVE,
    assert_error,
    bearer,
    bind,
    created,
    new_contractor,
    new_entity,
    new_job,
    underwrite,
)

BASE = "/api/v1"
URL = f"{BASE}/quotes"
DAY = 86400
YEAR = 365 * DAY

with (rating.RATE_TABLE.parent / "job_categories.toml").open("rb") as _file:
    CATEGORIES = {c["id"]: c for c in tomllib.load(_file)["category"]}

# A seeded category whose risk class is not AUTOMOTIVE's.
HIGH_RISK = next(code for code, c in CATEGORIES.items() if c["risk_class"] == "high")


def address(region: str, postalcode: str = "10001") -> dict:
    return {
        "line1": "1 Main St",
        "locality": "Somewhere",
        "postalcode": postalcode,
        "region": region,
    }


@pytest.fixture
def api(client, sandbox_key):
    """Create objects through the API with the sandbox key (or another key)."""

    class Api:
        def contractor(self, key: str = sandbox_key, **overrides) -> dict:
            body = new_contractor(**overrides)
            return created(client.post(f"{BASE}/contractors", json=body, headers=bearer(key)))

        def entity(self, key: str = sandbox_key, **overrides) -> dict:
            body = new_entity(**overrides)
            return created(client.post(f"{BASE}/entities", json=body, headers=bearer(key)))

        def job(self, key: str = sandbox_key, entity: str | None = None, **overrides) -> dict:
            entity = entity or self.entity(key)["id"]
            body = new_job(entity, **overrides)
            return created(client.post(f"{BASE}/jobs", json=body, headers=bearer(key)))

        def post_quote(self, key: str = sandbox_key, **body):
            return client.post(URL, json=body, headers=bearer(key))

        def quote(self, contractor: dict, job: dict, key: str = sandbox_key, **body) -> dict:
            body = {"coverage_type": ["general"], **body}
            return created(self.post_quote(key, contractor=contractor["id"], job=job["id"], **body))

        def put(self, quote_id: str, key: str = sandbox_key, **changes):
            return client.put(f"{URL}/{quote_id}", json=changes, headers=bearer(key))

        def get(self, quote_id: str, key: str = sandbox_key):
            return client.get(f"{URL}/{quote_id}", headers=bearer(key))

    return Api()


def expected_rating(coverage_types, risk_class, state, years) -> dict:
    """The rating fields of a quote, as the rate table gives them."""
    result = rating.rate(rating.rate_table(), coverage_types, risk_class, state, years)
    fields = {"net_rate": result.net_rate, "quote_json": result.parts}
    fields.update({f"{key}_net_rate": part["net_rate"] for key, part in result.parts.items()})
    return fields


def rating_of(quote: dict) -> dict:
    keys = {"net_rate", "quote_json", "gl_net_rate", "pl_net_rate", "wc_net_rate"}
    return {k: v for k, v in quote.items() if k in keys}


# --- Creation and references ------------------------------------------------------------------


@pytest.mark.storage
def test_create_returns_the_stored_quote(client, sandbox_key, api):
    contractor, job = api.contractor(), api.job()
    quote = api.quote(contractor, job)
    assert quote["id"].startswith("qt_")
    assert quote["object"] == "quote"
    assert isinstance(quote["created"], int)
    assert quote["contractor"] == contractor["id"]
    assert quote["job"] == job["id"]
    assert quote["coverage_type"] == ["general"]
    assert quote["eligible"] is True
    assert quote["eligibility_message"] == rating.ELIGIBLE_MESSAGE
    fetched = api.get(quote["id"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == quote


def test_an_unknown_contractor_is_a_404(api):
    response = api.post_quote(
        contractor="cn_missing", job=api.job()["id"], coverage_type=["general"]
    )
    assert_error(response, 404, "invalid_contractor_id", "contractor")


def test_an_unknown_job_is_a_404(api):
    response = api.post_quote(
        contractor=api.contractor()["id"], job="jb_missing", coverage_type=["general"]
    )
    assert_error(response, 404, "invalid_job_id", "job")


def test_another_accounts_contractor_is_a_404(api, new_key):
    theirs = api.contractor(key=new_key(account="acct_b"))
    response = api.post_quote(
        contractor=theirs["id"], job=api.job()["id"], coverage_type=["general"]
    )
    assert_error(response, 404, "invalid_contractor_id", "contractor")


def test_another_accounts_job_is_a_404(api, new_key):
    theirs = api.job(key=new_key(account="acct_b"))
    response = api.post_quote(
        contractor=api.contractor()["id"], job=theirs["id"], coverage_type=["general"]
    )
    assert_error(response, 404, "invalid_job_id", "job")


def test_a_deleted_contractor_is_a_404(client, sandbox_key, api):
    contractor = api.contractor()
    response = client.delete(f"{BASE}/contractors/{contractor['id']}", headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    response = api.post_quote(
        contractor=contractor["id"], job=api.job()["id"], coverage_type=["general"]
    )
    assert_error(response, 404, "invalid_contractor_id", "contractor")


@pytest.mark.parametrize("coverage_type", [[], ["dental"], ["general", "general"], "general", None])
def test_a_bad_coverage_type_is_a_400(api, coverage_type):
    response = api.post_quote(
        contractor=api.contractor()["id"], job=api.job()["id"], coverage_type=coverage_type
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "invalid_input"


@pytest.mark.parametrize("missing", ["contractor", "job", "coverage_type"])
def test_required_fields(api, missing):
    body = {
        "contractor": api.contractor()["id"],
        "job": api.job()["id"],
        "coverage_type": ["general"],
    }
    del body[missing]
    response = api.post_quote(**body)
    assert response.status_code == 400, response.text
    assert missing in response.json()["message"]


def test_unknown_fields_are_refused(api):
    response = api.post_quote(
        contractor=api.contractor()["id"],
        job=api.job()["id"],
        coverage_type=["general"],
        net_rate=1,
    )
    assert response.status_code == 400
    assert "net_rate" in response.json()["message"]


# --- Dates ------------------------------------------------------------------------------------


def test_dates_default_to_tomorrow_for_30_days(api):
    contractor, job = api.contractor(), api.job()
    before = int(time.time())
    quote = api.quote(contractor, job)
    after = int(time.time())
    assert before + DAY <= quote["effective_date"] <= after + DAY
    assert quote["end_date"] == quote["effective_date"] + 30 * DAY


def test_end_date_defaults_to_30_days_after_a_given_effective_date(api):
    effective = int(time.time()) + 10 * DAY
    quote = api.quote(api.contractor(), api.job(), effective_date=effective)
    assert quote["effective_date"] == effective
    assert quote["end_date"] == effective + 30 * DAY


def test_given_dates_are_kept(api):
    effective = int(time.time()) + 3 * DAY
    end = effective + DAY
    quote = api.quote(api.contractor(), api.job(), effective_date=effective, end_date=end)
    assert (quote["effective_date"], quote["end_date"]) == (effective, end)
    fetched = api.get(quote["id"]).json()
    assert (fetched["effective_date"], fetched["end_date"]) == (effective, end)


@pytest.mark.parametrize("end_of_day", [0, 1, "last second"])
def test_an_end_date_on_the_effective_dates_day_moves_to_the_next_day(api, end_of_day):
    """As the reference has it: "If the end_date is on the same day as the effective_date, it
    will automatically be adjusted to the start of the next day"."""
    midnight = (int(time.time()) // DAY + 3) * DAY
    effective = midnight + 9 * 3600  # 09:00 UTC
    end = midnight + DAY - 1 if end_of_day == "last second" else effective + end_of_day
    contractor, job = api.contractor(), api.job()
    quote = api.quote(contractor, job, effective_date=effective, end_date=end)
    assert (quote["effective_date"], quote["end_date"]) == (effective, midnight + DAY)
    assert api.get(quote["id"]).json()["end_date"] == midnight + DAY
    # An update onto the same day moves it too.
    updated = api.put(quote["id"], end_date=effective + 60)
    assert updated.status_code == 200, updated.text
    assert updated.json()["end_date"] == midnight + DAY


def test_an_end_date_alone_is_checked_against_the_default_effective_date(api):
    contractor, job = api.contractor(), api.job()
    response = api.post_quote(
        contractor=contractor["id"],
        job=job["id"],
        coverage_type=["general"],
        end_date=int(time.time()) + DAY // 2,
    )
    assert_error(response, 400, "end_date_invalid", "end_date")
    end = int(time.time()) + 2 * DAY
    quote = api.quote(contractor, job, end_date=end)
    assert quote["end_date"] == end


@pytest.mark.parametrize("offset", [-DAY, -1, 0])
def test_an_effective_date_not_in_the_future_is_a_400(api, sandbox_clock, offset):
    frozen = sandbox_clock.start()
    response = api.post_quote(
        contractor=api.contractor()["id"],
        job=api.job()["id"],
        coverage_type=["general"],
        effective_date=frozen + offset,
    )
    assert_error(response, 400, "effective_date_invalid", "effective_date")


def test_an_effective_date_a_second_ahead_is_accepted(api, sandbox_clock):
    frozen = sandbox_clock.start()
    quote = api.quote(api.contractor(), api.job(), effective_date=frozen + 1)
    assert quote["effective_date"] == frozen + 1


def test_an_effective_date_at_most_a_year_ahead(api, sandbox_clock):
    frozen = sandbox_clock.start()
    contractor, job = api.contractor(), api.job()
    quote = api.quote(contractor, job, effective_date=frozen + YEAR)
    assert quote["effective_date"] == frozen + YEAR
    response = api.post_quote(
        contractor=contractor["id"],
        job=job["id"],
        coverage_type=["general"],
        effective_date=frozen + YEAR + 1,
    )
    assert_error(response, 400, "effective_date_invalid", "effective_date")


def test_a_term_of_at_most_a_year(api):
    effective = int(time.time()) + DAY
    contractor, job = api.contractor(), api.job()
    quote = api.quote(contractor, job, effective_date=effective, end_date=effective + YEAR)
    assert quote["end_date"] == effective + YEAR
    response = api.post_quote(
        contractor=contractor["id"],
        job=job["id"],
        coverage_type=["general"],
        effective_date=effective,
        end_date=effective + YEAR + 1,
    )
    assert_error(response, 400, "end_date_invalid", "end_date")
    response = api.put(quote["id"], end_date=effective + YEAR + 1)
    assert_error(response, 400, "end_date_invalid", "end_date")


@pytest.mark.parametrize("offset", [-1, -DAY])
def test_an_end_date_before_the_effective_date_is_a_400(api, offset):
    effective = int(time.time()) + 5 * DAY
    response = api.post_quote(
        contractor=api.contractor()["id"],
        job=api.job()["id"],
        coverage_type=["general"],
        effective_date=effective,
        end_date=effective + offset,
    )
    assert_error(response, 400, "end_date_invalid", "end_date")


def test_a_refused_quote_is_not_stored(client, sandbox_key, api):
    response = api.post_quote(
        contractor=api.contractor()["id"],
        job=api.job()["id"],
        coverage_type=["general"],
        effective_date=int(time.time()) - DAY,
    )
    assert response.status_code == 400
    assert client.get(URL, headers=bearer(sandbox_key)).json() == []


# --- Rating -----------------------------------------------------------------------------------


def test_rating_matches_the_rate_table(api):
    assert CATEGORIES[AUTOMOTIVE]["risk_class"] == "medium"
    contractor = api.contractor(years_experience=6)
    job = api.job()  # in California
    quote = api.quote(contractor, job, coverage_type=["general", "workers-comp"])
    expected = expected_rating(["general", "workers-comp"], "medium", "CA", 6)
    assert rating_of(quote) == expected
    assert quote["net_rate"] == quote["gl_net_rate"] + quote["wc_net_rate"]
    assert set(quote["quote_json"]) == {"gl", "wc"}
    assert (
        quote["quote_json"]["gl"]["stamping_fee"] == rating.rate_table().stamping_fee_states["CA"]
    )
    assert quote["quote_json"]["gl"]["risk_purchasing_group_fee"] == 2
    assert quote["quote_json"]["wc"]["stamping_fee"] is None
    assert quote["quote_json"]["wc"]["risk_purchasing_group_fee"] is None
    assert "pl_net_rate" not in quote
    assert "pl" not in quote["quote_json"]
    assert rating_of(api.get(quote["id"]).json()) == expected


def test_golden_quote(api):
    # The shipped table: gl 20 x 1.25 x 0.90 = 22.5 -> 23; wc 45 x 1.25 x 0.90 = 50.625 -> 51.
    contractor = api.contractor(years_experience=6)
    quote = api.quote(contractor, api.job(), coverage_type=["general", "workers-comp"])
    assert (quote["gl_net_rate"], quote["wc_net_rate"], quote["net_rate"]) == (23, 51, 74)


def test_only_the_coverage_quoted_is_rated(api):
    quote = api.quote(api.contractor(years_experience=6), api.job(), coverage_type=["general"])
    assert rating_of(quote) == expected_rating(["general"], "medium", "CA", 6)
    assert "wc_net_rate" not in quote and "pl_net_rate" not in quote
    assert set(quote["quote_json"]) == {"gl"}


def test_professional_liability_is_rated(api):
    contractor = api.contractor(years_experience=12)
    job = api.job(category_code=HIGH_RISK)
    coverage = ["general", "professional", "workers-comp"]
    quote = api.quote(contractor, job, coverage_type=coverage)
    assert rating_of(quote) == expected_rating(coverage, "high", "CA", 12)
    assert set(quote["quote_json"]) == {"gl", "pl", "wc"}


def test_the_risk_class_of_the_category_applies(api):
    contractor = api.contractor(years_experience=6)
    medium = api.quote(contractor, api.job(category_code=AUTOMOTIVE))
    high = api.quote(contractor, api.job(category_code=HIGH_RISK))
    assert CATEGORIES[HIGH_RISK]["risk_class"] == "high"
    assert rating_of(high) == expected_rating(["general"], "high", "CA", 6)
    assert high["net_rate"] > medium["net_rate"]


def test_the_contractors_experience_applies(api):
    job = api.job()
    rates = {}
    for years in (None, 0, 2, 5, 10):
        overrides = {} if years is None else {"years_experience": years}
        quote = api.quote(api.contractor(**overrides), job, coverage_type=["workers-comp"])
        assert rating_of(quote) == expected_rating(["workers-comp"], "medium", "CA", years)
        rates[years] = quote["net_rate"]
    assert len(set(rates.values())) == 5


def test_the_jobs_state_applies_not_the_contractors(api):
    new_yorker = api.contractor(address=address("NY"), years_experience=3)
    quote = api.quote(new_yorker, api.job(), coverage_type=["general", "workers-comp"])
    assert rating_of(quote) == expected_rating(["general", "workers-comp"], "medium", "CA", 3)


def test_a_remote_job_is_rated_by_the_contractors_state(api):
    table = rating.rate_table()
    assert table.state_percent("NY") != table.state_percent("AR")
    remote = api.job(address=None)
    assert remote["address"] is None
    coverage = ["general", "workers-comp"]
    in_ny = api.quote(
        api.contractor(address=address("NY"), years_experience=3), remote, coverage_type=coverage
    )
    in_ar = api.quote(
        api.contractor(address=address("AR"), years_experience=3), remote, coverage_type=coverage
    )
    assert rating_of(in_ny) == expected_rating(coverage, "medium", "NY", 3)
    assert rating_of(in_ar) == expected_rating(coverage, "medium", "AR", 3)
    assert in_ny["net_rate"] != in_ar["net_rate"]
    # New York charges a stamping fee on general liability; Arkansas does not.
    assert in_ny["quote_json"]["gl"]["stamping_fee"] == table.stamping_fee_states["NY"]
    assert in_ar["quote_json"]["gl"]["stamping_fee"] is None


def test_rating_is_deterministic(api):
    contractor, job = api.contractor(years_experience=7), api.job()
    coverage = ["general", "workers-comp"]
    first = api.quote(contractor, job, coverage_type=coverage)
    second = api.quote(contractor, job, coverage_type=coverage)
    keys = [
        "net_rate",
        "gl_net_rate",
        "wc_net_rate",
        "quote_json",
        "eligible",
        "eligibility_message",
    ]
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
    assert first["id"] != second["id"]


# --- Eligibility ------------------------------------------------------------------------------


def test_workers_comp_in_ohio_is_ineligible_but_rated(api):
    job = api.job(address={"postalcode": "43004", "region": "OH"})
    quote = api.quote(
        api.contractor(years_experience=4), job, coverage_type=["general", "workers-comp"]
    )
    assert quote["eligible"] is False
    assert "OH" in quote["eligibility_message"]
    assert quote["net_rate"] > 0
    assert rating_of(quote) == expected_rating(["general", "workers-comp"], "medium", "OH", 4)


def test_general_liability_in_ohio_is_eligible(api):
    job = api.job(address={"postalcode": "43004", "region": "OH"})
    quote = api.quote(api.contractor(), job, coverage_type=["general"])
    assert quote["eligible"] is True
    assert quote["eligibility_message"] == rating.ELIGIBLE_MESSAGE


def test_a_remote_job_for_an_ohio_contractor_offers_no_workers_comp(api):
    contractor = api.contractor(address=address("OH", "43004"))
    quote = api.quote(contractor, api.job(address=None), coverage_type=["general", "workers-comp"])
    assert quote["eligible"] is False
    assert "OH" in quote["eligibility_message"]


def test_a_coverage_the_category_does_not_carry_is_ineligible(api):
    assert "professional" not in CATEGORIES[AUTOMOTIVE]["available_coverage"]
    quote = api.quote(api.contractor(), api.job(), coverage_type=["general", "professional"])
    assert quote["eligible"] is False
    assert "professional" in quote["eligibility_message"]
    assert quote["net_rate"] > 0
    assert set(quote["quote_json"]) == {"gl", "pl"}


def test_a_coverage_the_entity_requires_but_the_quote_leaves_out_is_ineligible(api):
    entity = api.entity(required_coverage=["general", "workers-comp"])
    job = api.job(entity=entity["id"])
    contractor = api.contractor()
    left_out = api.quote(contractor, job, coverage_type=["general"])
    assert left_out["eligible"] is False
    assert "workers-comp" in left_out["eligibility_message"]
    assert left_out["net_rate"] > 0
    both = api.quote(contractor, job, coverage_type=["general", "workers-comp"])
    assert both["eligible"] is True


def test_a_deleted_entity_makes_the_quote_ineligible(client, sandbox_key, api):
    entity = api.entity()
    job = api.job(entity=entity["id"])
    response = client.delete(f"{BASE}/entities/{entity['id']}", headers=bearer(sandbox_key))
    assert response.status_code == 200, response.text
    quote = api.quote(api.contractor(), job)
    assert quote["eligible"] is False
    assert quote["eligibility_message"] != rating.ELIGIBLE_MESSAGE


@pytest.mark.parametrize(
    ("contractor_years", "eligible"), [(3, False), (4, False), (5, True), (9, True)]
)
def test_the_job_requires_years_of_experience(api, contractor_years, eligible):
    job = api.job(years_experience=5)
    quote = api.quote(api.contractor(years_experience=contractor_years), job)
    assert quote["eligible"] is eligible
    if not eligible:
        assert "5" in quote["eligibility_message"]
        assert quote["net_rate"] > 0
    else:
        assert quote["eligibility_message"] == rating.ELIGIBLE_MESSAGE


def test_experience_not_given_is_not_held_against_the_contractor(api):
    """The documents' own contractor gives no experience, and their job asks for 10 years."""
    quote = api.quote(api.contractor(), api.job(years_experience=10))
    assert quote["eligible"] is True
    assert (
        api.quote(api.contractor(years_experience=9), api.job(years_experience=10))["eligible"]
        is False
    )


def test_every_reason_is_reported(api):
    entity = api.entity(required_coverage=["general"])
    job = api.job(
        entity=entity["id"], address={"postalcode": "43004", "region": "OH"}, years_experience=8
    )
    quote = api.quote(
        api.contractor(years_experience=2), job, coverage_type=["professional", "workers-comp"]
    )
    message = quote["eligibility_message"]
    assert quote["eligible"] is False
    assert "OH" in message
    assert "professional" in message
    assert "general" in message
    assert "8" in message


# --- Update -----------------------------------------------------------------------------------


def test_update_re_rates_a_new_coverage_type(api):
    contractor, job = api.contractor(years_experience=6), api.job()
    quote = api.quote(contractor, job, coverage_type=["general"])
    response = api.put(quote["id"], coverage_type=["general", "workers-comp"])
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["coverage_type"] == ["general", "workers-comp"]
    assert rating_of(updated) == expected_rating(["general", "workers-comp"], "medium", "CA", 6)
    assert updated["net_rate"] > quote["net_rate"]
    assert api.get(quote["id"]).json() == updated

    narrowed = api.put(quote["id"], coverage_type=["workers-comp"]).json()
    assert rating_of(narrowed) == expected_rating(["workers-comp"], "medium", "CA", 6)
    assert "gl_net_rate" not in narrowed
    assert set(narrowed["quote_json"]) == {"wc"}


def test_update_re_rates_for_a_job_in_another_state(api):
    contractor = api.contractor(years_experience=6)
    quote = api.quote(contractor, api.job(), coverage_type=["general", "workers-comp"])
    in_arkansas = api.job(address={"postalcode": "72201", "region": "AR"})
    updated = api.put(quote["id"], job=in_arkansas["id"]).json()
    assert updated["job"] == in_arkansas["id"]
    assert rating_of(updated) == expected_rating(["general", "workers-comp"], "medium", "AR", 6)
    assert updated["net_rate"] != quote["net_rate"]


def test_update_re_rates_for_another_contractor(api):
    quote = api.quote(api.contractor(years_experience=1), api.job(address=None))
    other = api.contractor(years_experience=12, address=address("NY"))
    updated = api.put(quote["id"], contractor=other["id"]).json()
    assert updated["contractor"] == other["id"]
    assert rating_of(updated) == expected_rating(["general"], "medium", "NY", 12)
    assert updated["net_rate"] != quote["net_rate"]


def test_update_re_rates_with_the_current_contractor_and_job(client, sandbox_key, api):
    contractor = api.contractor(years_experience=1)
    job = api.job(years_experience=5)
    quote = api.quote(contractor, job)
    assert quote["eligible"] is False
    response = client.put(
        f"{BASE}/contractors/{contractor['id']}",
        json={"years_experience": 10},
        headers=bearer(sandbox_key),
    )
    assert response.status_code == 200, response.text
    assert api.get(quote["id"]).json() == quote  # a quote is rated when written, not when read
    updated = api.put(quote["id"]).json()
    assert updated["eligible"] is True
    assert rating_of(updated) == expected_rating(["general"], "medium", "CA", 10)


def test_update_re_decides_eligibility(api):
    contractor = api.contractor()
    quote = api.quote(contractor, api.job(), coverage_type=["general"])
    assert quote["eligible"] is True
    in_ohio = api.job(address={"postalcode": "43004", "region": "OH"})
    updated = api.put(quote["id"], job=in_ohio["id"], coverage_type=["workers-comp"]).json()
    assert updated["eligible"] is False
    assert "OH" in updated["eligibility_message"]


def test_fields_left_out_stay(api):
    effective = int(time.time()) + 4 * DAY
    contractor, job = api.contractor(years_experience=6), api.job()
    quote = api.quote(
        contractor,
        job,
        coverage_type=["general", "workers-comp"],
        effective_date=effective,
        end_date=effective + 9 * DAY,
    )
    updated = api.put(quote["id"], end_date=effective + 20 * DAY).json()
    assert updated["end_date"] == effective + 20 * DAY
    unchanged = {k: v for k, v in quote.items() if k != "end_date"}
    assert {k: updated.get(k) for k in unchanged} == unchanged

    updated = api.put(quote["id"], coverage_type=["general"]).json()
    assert updated["contractor"] == contractor["id"]
    assert updated["job"] == job["id"]
    assert (updated["effective_date"], updated["end_date"]) == (effective, effective + 20 * DAY)


def test_an_empty_update_changes_nothing(api):
    quote = api.quote(api.contractor(years_experience=3), api.job())
    response = api.put(quote["id"])
    assert response.status_code == 200, response.text
    assert response.json() == quote


def test_update_moves_both_dates(api):
    quote = api.quote(api.contractor(), api.job())
    effective = int(time.time()) + 40 * DAY
    updated = api.put(quote["id"], effective_date=effective, end_date=effective + DAY).json()
    assert (updated["effective_date"], updated["end_date"]) == (effective, effective + DAY)


def test_update_refuses_an_effective_date_in_the_past(api):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], effective_date=int(time.time()) - DAY)
    assert_error(response, 400, "effective_date_invalid", "effective_date")
    assert api.get(quote["id"]).json() == quote


def test_update_refuses_an_effective_date_of_now(api, sandbox_clock):
    quote = api.quote(api.contractor(), api.job())
    frozen = sandbox_clock.start()
    response = api.put(quote["id"], effective_date=frozen)
    assert_error(response, 400, "effective_date_invalid", "effective_date")


def test_update_refuses_an_end_date_before_the_effective_date(api):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], end_date=quote["effective_date"] - 1)
    assert_error(response, 400, "end_date_invalid", "end_date")
    assert api.get(quote["id"]).json() == quote


def test_update_refuses_an_effective_date_after_the_stored_end_date(api):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], effective_date=quote["end_date"] + 1)
    assert_error(response, 400, "end_date_invalid", "end_date")
    assert api.get(quote["id"]).json() == quote


def test_update_with_an_unknown_contractor_is_a_404(api, new_key):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], contractor="cn_missing")
    assert_error(response, 404, "invalid_contractor_id", "contractor")
    theirs = api.contractor(key=new_key(account="acct_b"))
    response = api.put(quote["id"], contractor=theirs["id"])
    assert_error(response, 404, "invalid_contractor_id", "contractor")
    assert api.get(quote["id"]).json() == quote


def test_update_with_an_unknown_job_is_a_404(api, new_key):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], job="jb_missing")
    assert_error(response, 404, "invalid_job_id", "job")
    theirs = api.job(key=new_key(account="acct_b"))
    response = api.put(quote["id"], job=theirs["id"])
    assert_error(response, 404, "invalid_job_id", "job")
    assert api.get(quote["id"]).json() == quote


@pytest.mark.parametrize(
    "changes",
    [{"coverage_type": []}, {"coverage_type": ["dental"]}, {"coverage_type": None}, {"job": None}],
)
def test_update_refuses_invalid_values(api, changes):
    quote = api.quote(api.contractor(), api.job())
    response = api.put(quote["id"], **changes)
    assert response.status_code == 400, response.text
    assert api.get(quote["id"]).json() == quote


def test_a_bound_quote_cannot_be_updated(client, sandbox_key, api):
    made = underwrite(client, sandbox_key)
    quote = made["quote"]
    bind(client, sandbox_key, quote["id"])
    later = int(time.time()) + 10 * DAY
    for changes in (
        {"coverage_type": ["general", "workers-comp"]},
        {"end_date": quote["end_date"] + DAY},
        {"effective_date": later, "end_date": later + DAY},
        {"job": api.job()["id"]},
        {"contractor": api.contractor()["id"]},
        {},
    ):
        response = api.put(quote["id"], **changes)
        assert_error(response, 400, "cant_update_create_new_quote")
    assert api.get(quote["id"]).json() == quote


def test_an_unbound_quote_of_the_same_contractor_can_still_be_updated(client, sandbox_key, api):
    made = underwrite(client, sandbox_key)
    bind(client, sandbox_key, made["quote"]["id"])
    other = api.quote(made["contractor"], made["job"], coverage_type=["workers-comp"])
    response = api.put(other["id"], coverage_type=["general", "workers-comp"])
    assert response.status_code == 200, response.text


# --- Cover on file ----------------------------------------------------------------------------


def test_a_quote_for_cover_on_file_is_refused_and_any_other_is_not(client, sandbox_key, api):
    made = underwrite(client, sandbox_key, quote={"coverage_type": ["general", "workers-comp"]})
    policy = bind(client, sandbox_key, made["quote"]["id"])
    contractor, entity = made["contractor"], made["entity"]
    # The same cover for another job of the same category and state, in any order.
    same_cover = api.job(entity=entity["id"], name="Another shop")
    refused = api.post_quote(
        contractor=contractor["id"], job=same_cover["id"], coverage_type=["workers-comp", "general"]
    )
    body = assert_error(refused, 400, "contractor_has_matching_policy", "contractor")
    assert body["message"] == f"Contractor already has a matching policy on file ({policy['id']})."

    # Other coverage, another category, another state, or a term after the policy's.
    api.quote(contractor, same_cover, coverage_type=["general"])
    other_category = api.job(entity=entity["id"], category_code=HIGH_RISK)
    api.quote(contractor, other_category, coverage_type=["general", "workers-comp"])
    elsewhere = api.job(entity=entity["id"], address={"postalcode": "89501", "region": "NV"})
    api.quote(contractor, elsewhere, coverage_type=["general", "workers-comp"])
    after = {
        "effective_date": policy["expiration_date"],
        "end_date": policy["expiration_date"] + DAY,
    }
    api.quote(contractor, same_cover, coverage_type=["general", "workers-comp"], **after)
    # Another contractor has nothing on file.
    api.quote(api.contractor(), same_cover, coverage_type=["general", "workers-comp"])


def test_a_cancelled_policy_is_no_cover_on_file(client, sandbox_key, api):
    made = underwrite(client, sandbox_key)
    policy = bind(client, sandbox_key, made["quote"]["id"])
    again = {"contractor": made["contractor"]["id"], "job": made["job"]["id"]}
    assert_error(
        api.post_quote(**again, coverage_type=["general"]), 400, "contractor_has_matching_policy"
    )
    deleted = client.delete(f"{BASE}/policies/{policy['id']}", headers=bearer(sandbox_key))
    assert deleted.status_code == 200, deleted.text
    assert api.post_quote(**again, coverage_type=["general"]).status_code == 201


# --- List and retrieve ------------------------------------------------------------------------


@pytest.fixture
def quotes(api):
    """Seven quotes, the most recent first."""
    contractor, job = api.contractor(), api.job()
    made = [api.quote(contractor, job) for _ in range(7)]
    return made[::-1]


def test_listed_quotes_are_the_retrieved_ones(client, sandbox_key, api, quotes):
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert listed == quotes
    assert all(api.get(q["id"]).json() == q for q in listed)


def test_listing_shows_only_the_coverage_quoted(client, sandbox_key, api):
    contractor, job = api.contractor(), api.job()
    api.quote(contractor, job, coverage_type=["general", "workers-comp"])
    api.quote(contractor, job, coverage_type=["workers-comp"])
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert set(listed[0]["quote_json"]) == {"wc"} and "gl_net_rate" not in listed[0]
    assert set(listed[1]["quote_json"]) == {"gl", "wc"} and "gl_net_rate" in listed[1]


def test_an_updated_quote_keeps_its_place_in_the_list(client, sandbox_key, api, quotes):
    api.put(quotes[-1]["id"], coverage_type=["workers-comp"])
    listed = client.get(URL, headers=bearer(sandbox_key)).json()
    assert [q["id"] for q in listed] == [q["id"] for q in quotes]


def test_another_accounts_quote_does_not_exist_for_you(client, new_key, api):
    mine = new_key(account="acct_a")
    quote = api.quote(api.contractor(key=mine), api.job(key=mine), key=mine)
    other = new_key(account="acct_b")
    assert_error(api.get(quote["id"], key=other), 404, "resource_not_found")
    response = api.put(quote["id"], key=other, coverage_type=["workers-comp"])
    assert_error(response, 404, "resource_not_found")
    assert client.get(URL, headers=bearer(other)).json() == []
    assert api.get(quote["id"], key=mine).json() == quote
