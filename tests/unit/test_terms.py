"""The period of coverage: starts now or later, at most a year ahead; lasts at most a year."""

import pytest

from server.core.errors import InvalidRequest
from server.domain.terms import DAY, MAX_LEAD, MAX_TERM, check_term

AT = 1_800_000_000


@pytest.mark.parametrize(
    ("effective", "end"),
    [(AT, AT + 1), (AT + DAY, AT + DAY + MAX_TERM), (AT + MAX_LEAD, AT + MAX_LEAD + DAY)],
)
def test_periods_within_the_rules_pass(effective, end):
    check_term(effective, end, AT, effective_given=True)


@pytest.mark.parametrize(
    ("effective", "end", "code"),
    [
        (AT - 1, AT + DAY, "effective_date_invalid"),
        (AT + MAX_LEAD + 1, AT + MAX_LEAD + DAY, "effective_date_invalid"),
        (AT + DAY, AT + DAY, "end_date_invalid"),
        (AT + DAY, AT + DAY + MAX_TERM + 1, "end_date_invalid"),
        (AT - 5 * DAY, AT, "end_date_invalid"),  # a started period must still end in the future
    ],
)
def test_periods_breaking_a_rule_name_the_date(effective, end, code):
    with pytest.raises(InvalidRequest) as refused:
        check_term(effective, end, AT, effective_given=code == "effective_date_invalid")
    assert refused.value.code == code
    assert refused.value.param == code.removesuffix("_invalid")


def test_a_kept_effective_date_in_the_past_is_not_checked_again():
    check_term(AT - 5 * DAY, AT + DAY, AT, effective_given=False)


def test_the_end_field_names_the_error():
    with pytest.raises(InvalidRequest) as refused:
        check_term(AT + DAY, AT, AT, effective_given=True, end_field="expiration_date")
    assert (refused.value.code, refused.value.param) == (
        "expiration_date_invalid",
        "expiration_date",
    )


def test_a_quote_period_must_start_after_now():
    check_term(AT, AT + DAY, AT, effective_given=True)  # a policy may start now
    with pytest.raises(InvalidRequest) as refused:
        check_term(AT, AT + DAY, AT, effective_given=True, starts_now=False)
    assert refused.value.code == "effective_date_invalid"
    check_term(AT + 1, AT + DAY, AT, effective_given=True, starts_now=False)
