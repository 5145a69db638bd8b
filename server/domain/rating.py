"""Rating and eligibility of a quote. Every number comes from the rate table (data/rates.toml);
the code only says how the numbers combine."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

RATE_TABLE = Path(__file__).parent / "data" / "rates.toml"

# The short names the API gives each coverage type's rate (`gl_net_rate`, quote_json's `gl`).
CoverageType = Literal["general", "professional", "workers-comp", "media", "cyber"]
COVERAGE_KEYS = {
    "general": "gl",
    "professional": "pl",
    "workers-comp": "wc",
    "media": "ml",
    "cyber": "cl",
}
COVERAGE_NAMES = {
    "general": "General liability",
    "professional": "Professional liability",
    "workers-comp": "Workers' compensation",
    "media": "Media liability",
    "cyber": "Cyber liability",
}
ELIGIBLE_MESSAGE = "Contractor is pre-approved for insurance coverage."


@dataclass(frozen=True)
class RateTable:
    base_rate: dict[str, dict[str, int]]
    state_factor: dict[str, int]
    experience_unknown: int
    experience_bands: list[tuple[int, int]]  # (min_years, percent), lowest first
    stamping_fee_coverage: frozenset[str]
    stamping_fee_states: dict[str, int]
    risk_purchasing_group_fee: dict[str, int]
    standard_limits: dict[str, int]
    monopolistic_states: dict[str, str]
    no_general_liability_residents: dict[str, str]
    need_general_liability: frozenset[str]

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> RateTable:
        experience = data["experience_factor"]
        return cls(
            base_rate=data["base_rate"],
            state_factor=data["state_factor"],
            experience_unknown=experience["unknown"],
            experience_bands=sorted((b["min_years"], b["percent"]) for b in experience["bands"]),
            stamping_fee_coverage=frozenset(data["stamping_fee"]["coverage"]),
            stamping_fee_states=data["stamping_fee"]["states"],
            risk_purchasing_group_fee=data["risk_purchasing_group_fee"],
            standard_limits=data["standard_limits"],
            monopolistic_states=data["eligibility"]["monopolistic_workers_comp_states"],
            # Rules a table may leave out: none of them then.
            no_general_liability_residents=data["eligibility"].get(
                "no_general_liability_residents", {}
            ),
            need_general_liability=frozenset(data["eligibility"].get("need_general_liability", ())),
        )

    def experience_percent(self, years: int | None) -> int:
        if years is None:
            return self.experience_unknown
        return [percent for min_years, percent in self.experience_bands if years >= min_years][-1]

    def state_percent(self, state: str | None) -> int:
        return self.state_factor.get(state or "", self.state_factor["default"])


@cache
def rate_table() -> RateTable:
    with RATE_TABLE.open("rb") as file:
        return RateTable.from_toml(tomllib.load(file))


@dataclass(frozen=True)
class Rating:
    net_rate: int
    # quote_json: one part per coverage quoted, keyed gl / pl / wc.
    parts: dict[str, dict[str, int | None]]


def _scaled(rate: int, *percents: int) -> int:
    """`rate` times each percentage, rounded half up, in integers only."""
    value, scale = rate, 1
    for percent in percents:
        value, scale = value * percent, scale * 100
    return (2 * value + scale) // (2 * scale)


def rate(
    table: RateTable,
    coverage_types: list[str],
    risk_class: str,
    state: str | None,
    years_experience: int | None,
) -> Rating:
    """The net rate of each coverage type: base rate for the risk class, times the state's and
    the experience's factors; fees as the table gives them."""
    state_percent = table.state_percent(state)
    experience_percent = table.experience_percent(years_experience)
    parts: dict[str, dict[str, int | None]] = {}
    total = 0
    for coverage in coverage_types:
        stamping = None
        if coverage in table.stamping_fee_coverage:
            stamping = table.stamping_fee_states.get(state or "")
        net_rate = _scaled(table.base_rate[coverage][risk_class], state_percent, experience_percent)
        total += net_rate
        parts[COVERAGE_KEYS[coverage]] = {
            "net_rate": net_rate,
            "stamping_fee": stamping,
            "risk_purchasing_group_fee": table.risk_purchasing_group_fee.get(coverage),
        }
    return Rating(net_rate=total, parts=parts)


def premium(gross_pay: int, net_rate: int) -> int:
    """The premium in cents on `gross_pay` cents earned at `net_rate` cents per $100 earned,
    rounded half up: gross_pay * net_rate / 10,000."""
    return (2 * gross_pay * net_rate + 10_000) // 20_000


def net_rates(rated: dict[str, Any]) -> dict[str, int]:
    """The net rate of each coverage type of a quote or an assignment, in the order asked for."""
    parts = rated["quote_json"]
    return {c: parts[COVERAGE_KEYS[c]]["net_rate"] for c in rated["coverage_type"]}


@dataclass(frozen=True)
class Circumstances:
    """What eligibility looks at: the coverage asked for, and the facts of the contractor, the
    job, its category and its entity."""

    coverage_types: list[str]
    state: str | None
    residence: str | None  # the contractor's own state
    category_name: str
    available_coverage: list[str]
    required_coverage: list[str] | None  # None: the job's entity has been deleted
    contractor_years: int | None
    job_years: int | None


def eligibility(table: RateTable, facts: Circumstances) -> tuple[bool, str]:
    """Whether the quote can be bound, and why: every reason against it, or the approval."""
    reasons = []
    asked = facts.coverage_types
    if "workers-comp" in asked and facts.state in table.monopolistic_states:
        reasons.append(
            f"Workers' compensation is not offered in {facts.state} "
            f"({table.monopolistic_states[facts.state]}), a monopolistic-fund state."
        )
    not_offered = table.no_general_liability_residents.get(facts.residence or "")
    if "general" in asked and not_offered:
        reasons.append(f"General liability is not offered to residents of {not_offered}.")
    beside_general = sorted(table.need_general_liability.intersection(asked))
    if beside_general and "general" not in asked and not not_offered:
        reasons.append(
            f"General liability coverage is required beside {_names(beside_general)} coverage."
        )
    unavailable = [c for c in asked if c not in facts.available_coverage]
    if unavailable:
        reasons.append(
            f"The job category {facts.category_name} does not carry {_names(unavailable)} coverage."
        )
    if facts.required_coverage is None:
        reasons.append("The job's contracting entity has been deleted.")
    else:
        missing = [c for c in facts.required_coverage if c not in asked]
        if missing:
            reasons.append(f"The job's contracting entity requires {_names(missing)} coverage.")
    # Checked only when the contractor's experience is known: the documents' own contractor
    # gives none, and their job asks for ten years, and their flow binds.
    known = facts.contractor_years
    if facts.job_years and known is not None and known < facts.job_years:
        reasons.append(
            f"The job requires {facts.job_years} years of experience; the contractor has {known}."
        )
    if reasons:
        return False, " ".join(reasons)
    return True, ELIGIBLE_MESSAGE


def _names(coverage_types: list[str]) -> str:
    return ", ".join(coverage_types)
