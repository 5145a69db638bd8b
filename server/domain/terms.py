"""The period of coverage that quotes and policies share: when it may start and end."""

from __future__ import annotations

from server.core.errors import InvalidRequest

DAY = 86400
# Coverage runs for at most a year, and starts at most a year ahead: the extend document's
# "within one year of the effective date", applied wherever a period is set.
MAX_TERM = 365 * DAY
MAX_LEAD = 365 * DAY


def check_term(
    effective: int,
    end: int,
    at: int,
    *,
    effective_given: bool,
    end_field: str = "end_date",
    starts_now: bool = True,
) -> None:
    """A given effective date is not in the past (nor now, unless `starts_now`) and at most a
    year ahead; the end comes after the start and after now, and at most a year after it."""
    earliest = at if starts_now else at + 1
    if effective_given and not earliest <= effective <= at + MAX_LEAD:
        first = "now" if starts_now else "after now"
        raise InvalidRequest(
            f"effective_date ({effective}) must lie between {first} ({at}) and one year ahead.",
            code="effective_date_invalid",
            param="effective_date",
        )
    if not max(effective, at) < end <= effective + MAX_TERM:
        raise InvalidRequest(
            f"{end_field} ({end}) must be in the future, after effective_date ({effective}), "
            "and at most one year after it.",
            code=f"{end_field}_invalid",
            param=end_field,
        )
