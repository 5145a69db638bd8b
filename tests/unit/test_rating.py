"""Rating and eligibility of a quote (server.domain.rating), without a database.

Expected numbers come from the loaded rate table, or from small tables built here, so that the
tests prove the code takes every number from the table; one golden case pins the shipped table.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from server.domain import rating
from server.domain.rating import Circumstances, RateTable

COVERAGE_TYPES = ["general", "professional", "workers-comp", "media", "cyber"]
RISK_CLASSES = ["low", "medium", "high"]
MONOPOLISTIC = ["ND", "OH", "WA", "WY"]


def table_data(**sections) -> dict:
    """A small rate table, every number chosen here; `sections` replace whole sections."""
    data = {
        "base_rate": {
            "general": {"low": 10, "medium": 20, "high": 40},
            "professional": {"low": 30, "medium": 50, "high": 70},
            "workers-comp": {"low": 60, "medium": 80, "high": 200},
            "media": {"low": 7, "medium": 9, "high": 11},
            "cyber": {"low": 8, "medium": 12, "high": 16},
        },
        "state_factor": {"default": 100, "AA": 105, "BB": 115, "CC": 104, "DD": 100},
        "experience_factor": {
            "unknown": 120,
            "bands": [
                # Deliberately not sorted: the table's order must not matter.
                {"min_years": 3, "percent": 90},
                {"min_years": 0, "percent": 115},
                {"min_years": 1, "percent": 100},
                {"min_years": 7, "percent": 80},
            ],
        },
        "stamping_fee": {"coverage": ["general", "professional"], "states": {"AA": 3, "BB": 4}},
        "risk_purchasing_group_fee": {"general": 5, "professional": 6},
        "standard_limits": {"occurrence_limit": 1, "aggregate_limit": 2},
        "eligibility": {"monopolistic_workers_comp_states": {"ND": "North Dakota", "OH": "Ohio"}},
    }
    data.update(sections)
    return data


def small_table(**sections) -> RateTable:
    return RateTable.from_toml(table_data(**sections))


def state_with_factor(table: RateTable, percent: int) -> str:
    return next(s for s, p in table.state_factor.items() if s != "default" and p == percent)


def two_year_band(table: RateTable) -> int:
    return dict(table.experience_bands)[2]


# --- Rates from the table ---------------------------------------------------------------------


@pytest.mark.parametrize("risk_class", RISK_CLASSES)
@pytest.mark.parametrize("coverage", COVERAGE_TYPES)
def test_with_neutral_factors_the_net_rate_is_the_base_rate(coverage, risk_class):
    table = rating.rate_table()
    state = state_with_factor(table, 100)
    assert two_year_band(table) == 100
    result = rating.rate(table, [coverage], risk_class, state, 2)
    assert result.net_rate == table.base_rate[coverage][risk_class]
    key = rating.COVERAGE_KEYS[coverage]
    assert result.parts[key]["net_rate"] == table.base_rate[coverage][risk_class]


def test_golden_case_of_the_shipped_table():
    # general + workers-comp, medium risk, California (125%), 6 years (the 5-year band, 90%):
    # gl 20 x 1.25 x 0.90 = 22.5 -> 23; wc 45 x 1.25 x 0.90 = 50.625 -> 51.
    result = rating.rate(rating.rate_table(), ["general", "workers-comp"], "medium", "CA", 6)
    assert result.parts == {
        "gl": {"net_rate": 23, "stamping_fee": 1, "risk_purchasing_group_fee": 2},
        "wc": {"net_rate": 51, "stamping_fee": None, "risk_purchasing_group_fee": None},
    }
    assert result.net_rate == 74


def test_the_shipped_table_is_the_file_rating_reads():
    table = rating.rate_table()
    assert set(table.base_rate) == set(COVERAGE_TYPES)
    assert all(set(rates) == set(RISK_CLASSES) for rates in table.base_rate.values())
    assert set(table.monopolistic_states) == set(MONOPOLISTIC)


# --- Factors and rounding ---------------------------------------------------------------------


def test_the_state_factor_applies():
    table = small_table()
    # general low = 10; the 1-year band is 100%.
    assert rating.rate(table, ["general"], "low", "DD", 1).net_rate == 10
    assert rating.rate(table, ["general"], "high", "AA", 1).net_rate == 42  # 40 x 1.05
    assert rating.rate(table, ["workers-comp"], "high", "BB", 1).net_rate == 230  # 200 x 1.15


def test_the_experience_factor_applies():
    table = small_table()
    assert rating.rate(table, ["general"], "medium", "DD", 0).net_rate == 23  # 20 x 1.15
    assert rating.rate(table, ["general"], "medium", "DD", 3).net_rate == 18  # 20 x 0.90
    assert rating.rate(table, ["general"], "medium", "DD", 7).net_rate == 16  # 20 x 0.80


def test_a_half_cent_rounds_up():
    table = small_table()
    # 10 x 1.05 = 10.5 -> 11 (banker's rounding would give 10).
    assert rating.rate(table, ["general"], "low", "AA", 1).net_rate == 11
    # 50 x 1.05 = 52.5 -> 53; 70 x 1.15 = 80.5 -> 81.
    assert rating.rate(table, ["professional"], "medium", "AA", 1).net_rate == 53
    assert rating.rate(table, ["professional"], "high", "BB", 1).net_rate == 81


def test_less_than_half_a_cent_rounds_down():
    table = small_table()
    # 10 x 1.04 = 10.4 -> 10; 30 x 1.04 = 31.2 -> 31.
    assert rating.rate(table, ["general"], "low", "CC", 1).net_rate == 10
    assert rating.rate(table, ["professional"], "low", "CC", 1).net_rate == 31


def test_rounding_happens_once_after_both_factors():
    table = small_table()
    # 10 x 1.15 x 1.15 = 13.225 -> 13; rounding in between (11.5 -> 12, x 1.15 = 13.8) gives 14.
    assert rating.rate(table, ["general"], "low", "BB", 0).net_rate == 13


def test_changing_the_table_changes_the_rate():
    data = table_data()
    before = rating.rate(RateTable.from_toml(data), ["general"], "medium", "AA", 3)
    changed = copy.deepcopy(data)
    changed["base_rate"]["general"]["medium"] = 60
    changed["state_factor"]["AA"] = 150
    changed["experience_factor"]["bands"][0]["percent"] = 50  # the 3-year band
    after = rating.rate(RateTable.from_toml(changed), ["general"], "medium", "AA", 3)
    assert before.net_rate == 19  # 20 x 1.05 x 0.90 = 18.9
    assert after.net_rate == 45  # 60 x 1.50 x 0.50


def test_changing_the_fees_in_the_table_changes_the_fees():
    data = table_data(
        stamping_fee={"coverage": ["professional"], "states": {"AA": 9}},
        risk_purchasing_group_fee={"workers-comp": 7},
    )
    parts = rating.rate(RateTable.from_toml(data), COVERAGE_TYPES, "low", "AA", 1).parts
    assert [parts[k]["stamping_fee"] for k in ("gl", "pl", "wc")] == [None, 9, None]
    assert [parts[k]["risk_purchasing_group_fee"] for k in ("gl", "pl", "wc")] == [None, None, 7]


# --- Experience bands -------------------------------------------------------------------------


def test_unknown_years_use_the_unknown_factor():
    table = small_table()
    assert table.experience_percent(None) == 120
    assert rating.rate(table, ["general"], "medium", "DD", None).net_rate == 24  # 20 x 1.20


def test_zero_years_is_not_unknown():
    table = small_table()
    assert table.experience_percent(0) == 115


@pytest.mark.parametrize(
    ("years", "percent"),
    [(0, 115), (1, 100), (2, 100), (3, 90), (6, 90), (7, 80), (100, 80)],
)
def test_the_highest_band_reached_applies(years, percent):
    assert small_table().experience_percent(years) == percent


@pytest.mark.parametrize(
    ("years", "band"),
    [(0, 0), (1, 0), (2, 2), (4, 2), (5, 5), (9, 5), (10, 10), (100, 10)],
)
def test_band_boundaries_of_the_shipped_table(years, band):
    table = rating.rate_table()
    bands = dict(table.experience_bands)
    assert set(bands) == {0, 2, 5, 10}
    assert table.experience_percent(years) == bands[band]


def test_the_shipped_table_uses_unknown_for_no_years():
    table = rating.rate_table()
    assert table.experience_percent(None) == table.experience_unknown
    assert table.experience_unknown not in dict(table.experience_bands).values()


# --- State ------------------------------------------------------------------------------------


def test_no_state_uses_the_default_factor():
    table = small_table(state_factor={"default": 150, "AA": 105})
    assert table.state_percent(None) == 150
    assert rating.rate(table, ["general"], "medium", None, 1).net_rate == 30  # 20 x 1.50


def test_an_unlisted_state_uses_the_default_factor():
    table = small_table(state_factor={"default": 150, "AA": 105})
    assert rating.rate(table, ["general"], "medium", "ZZ", 1).net_rate == 30


def test_no_state_in_the_shipped_table():
    table = rating.rate_table()
    expected = rating.rate(table, ["general"], "high", state_with_factor(table, 100), 2)
    assert table.state_factor["default"] == 100
    assert rating.rate(table, ["general"], "high", None, 2).net_rate == expected.net_rate


# --- Fees -------------------------------------------------------------------------------------


def test_stamping_fee_on_liability_in_listed_states_only():
    parts = rating.rate(small_table(), COVERAGE_TYPES, "low", "BB", 1).parts
    assert parts["gl"]["stamping_fee"] == 4
    assert parts["pl"]["stamping_fee"] == 4
    assert parts["wc"]["stamping_fee"] is None


@pytest.mark.parametrize("state", ["DD", "ZZ", None])
def test_no_stamping_fee_outside_the_listed_states(state):
    parts = rating.rate(small_table(), COVERAGE_TYPES, "low", state, 1).parts
    assert [parts[k]["stamping_fee"] for k in ("gl", "pl", "wc")] == [None, None, None]


def test_stamping_fees_of_the_shipped_table():
    table = rating.rate_table()
    for state, fee in table.stamping_fee_states.items():
        parts = rating.rate(table, COVERAGE_TYPES, "low", state, 2).parts
        assert (parts["gl"]["stamping_fee"], parts["pl"]["stamping_fee"]) == (fee, fee)
        assert parts["wc"]["stamping_fee"] is None
    assert table.stamping_fee_states["NY"] == 2
    unlisted = rating.rate(table, COVERAGE_TYPES, "low", "OH", 2).parts
    assert all(part["stamping_fee"] is None for part in unlisted.values())


def test_risk_purchasing_group_fee_on_liability_only():
    parts = rating.rate(small_table(), COVERAGE_TYPES, "low", "DD", 1).parts
    assert parts["gl"]["risk_purchasing_group_fee"] == 5
    assert parts["pl"]["risk_purchasing_group_fee"] == 6
    assert parts["wc"]["risk_purchasing_group_fee"] is None


def test_risk_purchasing_group_fee_of_the_shipped_table():
    table = rating.rate_table()
    parts = rating.rate(table, COVERAGE_TYPES, "low", "OH", 2).parts
    assert parts["gl"]["risk_purchasing_group_fee"] == table.risk_purchasing_group_fee["general"]
    assert (
        parts["pl"]["risk_purchasing_group_fee"] == table.risk_purchasing_group_fee["professional"]
    )
    assert parts["wc"]["risk_purchasing_group_fee"] is None


# --- Parts and total --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coverage_types", "keys"),
    [
        (["general"], {"gl"}),
        (["professional"], {"pl"}),
        (["workers-comp"], {"wc"}),
        (["general", "workers-comp"], {"gl", "wc"}),
        (["professional", "workers-comp"], {"pl", "wc"}),
        (["general", "media", "cyber"], {"gl", "ml", "cl"}),
        (COVERAGE_TYPES, {"gl", "pl", "wc", "ml", "cl"}),
    ],
)
def test_parts_only_for_the_coverage_asked(coverage_types, keys):
    result = rating.rate(small_table(), coverage_types, "medium", "AA", 3)
    assert set(result.parts) == keys
    assert all(
        set(part) == {"net_rate", "stamping_fee", "risk_purchasing_group_fee"}
        for part in result.parts.values()
    )


def test_the_net_rate_is_the_sum_of_the_parts():
    table = small_table()
    result = rating.rate(table, COVERAGE_TYPES, "high", "BB", 7)
    # gl 40 x 1.15 x 0.8 = 36.8 -> 37; pl 70 x 1.15 x 0.8 = 64.4 -> 64; wc 200 x 0.92 = 184;
    # ml 11 x 1.15 x 0.8 = 10.12 -> 10; cl 16 x 1.15 x 0.8 = 14.72 -> 15.
    parts = [result.parts[k]["net_rate"] for k in ("gl", "pl", "wc", "ml", "cl")]
    assert parts == [37, 64, 184, 10, 15]
    assert result.net_rate == 37 + 64 + 184 + 10 + 15


def test_each_part_is_rated_on_its_own():
    table = rating.rate_table()
    together = rating.rate(table, COVERAGE_TYPES, "medium", "NY", 12)
    for coverage in COVERAGE_TYPES:
        key = rating.COVERAGE_KEYS[coverage]
        alone = rating.rate(table, [coverage], "medium", "NY", 12)
        assert together.parts[key] == alone.parts[key]
    assert together.net_rate == sum(p["net_rate"] for p in together.parts.values())


# --- Eligibility ------------------------------------------------------------------------------


def circumstances(**overrides) -> Circumstances:
    """An eligible quote: general in California, carried and required, no experience needed."""
    facts = Circumstances(
        coverage_types=["general"],
        state="CA",
        residence="CA",
        category_name="Automotive repair",
        available_coverage=["general", "workers-comp"],
        required_coverage=["general"],
        contractor_years=None,
        job_years=None,
    )
    return dataclasses.replace(facts, **overrides)


def eligibility(**overrides) -> tuple[bool, str]:
    return rating.eligibility(rating.rate_table(), circumstances(**overrides))


def test_an_eligible_quote_is_pre_approved():
    assert eligibility() == (True, rating.ELIGIBLE_MESSAGE)
    assert eligibility(coverage_types=["general", "workers-comp"], required_coverage=[]) == (
        True,
        rating.ELIGIBLE_MESSAGE,
    )


@pytest.mark.parametrize("state", MONOPOLISTIC)
def test_no_workers_comp_in_monopolistic_states(state):
    eligible, message = eligibility(state=state, coverage_types=["general", "workers-comp"])
    assert eligible is False
    assert state in message
    assert message != rating.ELIGIBLE_MESSAGE


@pytest.mark.parametrize("state", MONOPOLISTIC)
def test_general_liability_in_a_monopolistic_state_is_eligible(state):
    assert eligibility(state=state) == (True, rating.ELIGIBLE_MESSAGE)


def test_workers_comp_elsewhere_is_eligible():
    assert eligibility(state="CA", coverage_types=["general", "workers-comp"])[0] is True
    assert eligibility(state=None, coverage_types=["general", "workers-comp"])[0] is True


def test_monopolistic_states_come_from_the_table():
    table = small_table(eligibility={"monopolistic_workers_comp_states": {"CA": "California"}})
    facts = circumstances(coverage_types=["general", "workers-comp"])
    eligible, message = rating.eligibility(table, facts)
    assert eligible is False
    assert "CA" in message
    ohio = dataclasses.replace(facts, state="OH")
    assert rating.eligibility(table, ohio) == (True, rating.ELIGIBLE_MESSAGE)


@pytest.mark.parametrize("asked", [["media"], ["cyber"], ["media", "cyber", "professional"]])
def test_media_and_cyber_need_general_liability_beside_them(asked):
    carried = ["general", "professional", "media", "cyber"]
    eligible, message = eligibility(
        coverage_types=asked, available_coverage=carried, required_coverage=[]
    )
    assert eligible is False
    assert message.startswith("General liability coverage is required beside")
    with_general = eligibility(
        coverage_types=["general", *asked], available_coverage=carried, required_coverage=[]
    )
    assert with_general == (True, rating.ELIGIBLE_MESSAGE)


def test_residents_of_hawaii_get_no_general_liability_and_media_without_it():
    carried = ["general", "media", "cyber"]
    hawaiian = {"residence": "HI", "available_coverage": carried, "required_coverage": []}
    eligible, message = eligibility(coverage_types=["general", "media"], **hawaiian)
    assert (eligible, message) == (
        False,
        "General liability is not offered to residents of Hawaii.",
    )
    assert eligibility(coverage_types=["media", "cyber"], **hawaiian) == (
        True,
        rating.ELIGIBLE_MESSAGE,
    )
    # Where the work is done does not matter: where the contractor lives does.
    assert eligibility(coverage_types=["general"], state="HI", residence="CA")[0] is True


def test_a_table_without_the_general_liability_rules_has_none():
    table = small_table(eligibility={"monopolistic_workers_comp_states": {}})
    facts = circumstances(
        coverage_types=["media"], residence="HI", available_coverage=["media"], required_coverage=[]
    )
    assert rating.eligibility(table, facts) == (True, rating.ELIGIBLE_MESSAGE)


def test_a_coverage_the_category_does_not_carry_is_ineligible():
    eligible, message = eligibility(coverage_types=["general", "professional"])
    assert eligible is False
    assert "professional" in message
    assert "Automotive repair" in message


def test_a_coverage_the_entity_requires_but_the_quote_leaves_out_is_ineligible():
    eligible, message = eligibility(required_coverage=["general", "workers-comp"])
    assert eligible is False
    assert "workers-comp" in message


def test_a_deleted_entity_is_ineligible():
    eligible, message = eligibility(required_coverage=None)
    assert eligible is False
    assert message != rating.ELIGIBLE_MESSAGE
    assert "deleted" in message


def test_fewer_years_than_the_job_requires_is_ineligible():
    eligible, message = eligibility(contractor_years=4, job_years=5)
    assert eligible is False
    assert "5" in message and "4" in message


def test_experience_not_given_is_not_held_against_the_contractor():
    """The documents' flow: their contractor gives no experience, their job asks for 10 years."""
    assert eligibility(contractor_years=None, job_years=10) == (True, rating.ELIGIBLE_MESSAGE)


@pytest.mark.parametrize(("contractor_years", "job_years"), [(5, 5), (6, 5), (0, 0), (None, 0)])
def test_enough_years_is_eligible(contractor_years, job_years):
    facts = {"contractor_years": contractor_years, "job_years": job_years}
    assert eligibility(**facts) == (True, rating.ELIGIBLE_MESSAGE)


@pytest.mark.parametrize("contractor_years", [None, 0, 3])
def test_a_job_requiring_no_experience_is_eligible(contractor_years):
    for job_years in (None, 0):
        facts = {"contractor_years": contractor_years, "job_years": job_years}
        assert eligibility(**facts) == (True, rating.ELIGIBLE_MESSAGE)


def test_every_reason_is_reported_in_one_message():
    eligible, message = eligibility(
        state="OH",
        coverage_types=["professional", "workers-comp"],
        required_coverage=["general"],
        contractor_years=2,
        job_years=8,
    )
    assert eligible is False
    assert "OH" in message  # monopolistic workers' comp
    assert "does not carry professional" in message  # category
    assert "requires general" in message  # entity
    assert "8 years" in message  # experience
    assert rating.ELIGIBLE_MESSAGE not in message


def test_a_deleted_entity_is_reported_with_the_other_reasons():
    eligible, message = eligibility(required_coverage=None, contractor_years=1, job_years=3)
    assert eligible is False
    assert "deleted" in message
    assert "3 years" in message


@pytest.mark.parametrize(
    ("gross_pay", "net_rate", "premium"),
    [
        (125000, 20, 250),  # $1,250.00 at 20 cents per $100: 12.5 * 20
        (125000, 45, 563),  # 562.5 rounds half up
        (10000, 48, 48),  # exactly $100 earned owes the net rate
        (5000, 1, 1),  # half a cent rounds up
        (4999, 1, 0),  # under half a cent rounds down
        (0, 110, 0),
        (100_000_000_000, 999, 9_990_000_000),  # the largest gross pay, in integers only
    ],
)
def test_the_premium_is_gross_pay_times_net_rate_per_10000_rounded_half_up(
    gross_pay, net_rate, premium
):
    assert rating.premium(gross_pay, net_rate) == premium
