"""The insurance policy document, rendered as a PDF."""

from collections.abc import Iterable
from dataclasses import dataclass

from server.pdf.layout import (
    Document,
    begin,
    format_date,
    format_limit,
    format_limits,
    format_money,
    write_row,
)

# Re-exported: other modules import these from here.
__all__ = [
    "Coverage",
    "PolicyDocument",
    "format_date",
    "format_limit",
    "format_money",
    "format_rate",
    "render_policy",
]


@dataclass(frozen=True)
class Coverage:
    name: str
    occurrence_limit: int  # cents
    aggregate_limit: int  # cents
    net_rate: int  # cents per $100 earned


@dataclass(frozen=True)
class PolicyDocument:
    policy_number: str
    status: str
    insured_name: str
    insured_address: list[str]
    entity_name: str
    job_name: str
    job_category: str
    coverages: list[Coverage]
    net_rate: int  # cents per $100 earned
    effective_date: int  # Unix seconds
    expiration_date: int  # Unix seconds
    issued: int  # Unix seconds
    specimen: bool  # caused by a sandbox key: stamped as a specimen
    # A cancelled policy's cancellation, where it was recorded.
    cancelled_at: int | None = None  # Unix seconds
    cancellation_reason: str | None = None


def format_rate(cents: int) -> str:
    return f"{format_money(cents)} per $100 earned"


class _PolicyPdf(Document):
    def footer(self) -> None:
        # Numbered pages, so a printed multi-page policy can be checked for completeness.
        self.set_y(-15)
        self.use_font(8)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def _status(document: PolicyDocument) -> str:
    """The status, and for a policy no longer in force, since when and why."""
    status = document.status.upper()
    if document.status == "expired":
        ended = format_date(document.expiration_date)
        return f"{status} on {ended} (UTC): the policy period ended"
    if document.status == "cancelled" and document.cancelled_at is not None:
        cancelled = format_date(document.cancelled_at)
        return f"{status} on {cancelled} (UTC): {document.cancellation_reason}"
    return status


def _rows(document: PolicyDocument) -> Iterable[tuple[str, str]]:
    """(label, value) pairs of the policy table, in reading order."""
    yield "Policy number", document.policy_number
    yield "Status", _status(document)
    yield "Insured", "\n".join([document.insured_name, *document.insured_address])
    yield "Contracting entity", document.entity_name
    yield "Job", f"{document.job_name}\n{document.job_category}"
    start = format_date(document.effective_date)
    end = format_date(document.expiration_date)
    yield "Policy period", f"From {start} to {end} (UTC)"
    for coverage in document.coverages:
        limits = format_limits(coverage.occurrence_limit, coverage.aggregate_limit)
        yield coverage.name, f"{limits}\n{format_rate(coverage.net_rate)}"
    yield "Total net rate", format_rate(document.net_rate)
    yield "Issued", format_date(document.issued)


def render_policy(document: PolicyDocument) -> bytes:
    """The policy document as PDF bytes; the same document always gives the same bytes."""
    rows = list(_rows(document))
    pdf = _PolicyPdf((text for row in rows for text in row), specimen=document.specimen)
    begin(pdf, f"Insurance policy {document.policy_number}", "Insurance policy", document.issued)
    pdf.ln(4)

    for label, value in rows:
        write_row(pdf, label, value)

    return bytes(pdf.output())
