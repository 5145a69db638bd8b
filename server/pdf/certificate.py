"""The certificate of insurance (COI), rendered as a one-page PDF.

A contractor hands it to the entity they work for (the certificate holder) as evidence of one
coverage on their policy.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from server.pdf.layout import (
    Document,
    begin,
    format_date,
    format_limits,
    rule,
    wrapped_once,
    write_lines,
    write_row,
)

NOTICE = (
    "This certificate is issued as a matter of information only and confers no rights upon "
    "the certificate holder. This certificate does not amend, extend or alter the coverage "
    "afforded by the policy listed above."
)


@dataclass(frozen=True)
class CertificateDocument:
    certificate_number: str
    coverage_name: str
    occurrence_limit: int  # cents
    aggregate_limit: int  # cents
    policy_number: str
    insured_name: str  # the contractor
    insured_address: list[str]
    holder_name: str  # the entity the contractor works for
    job_name: str
    effective_date: int  # Unix seconds, start of the coverage period
    end_date: int  # Unix seconds, end of the coverage period
    issued: int  # Unix seconds, when this certificate was generated
    specimen: bool  # caused by a sandbox key: stamped as a specimen


def _rows(document: CertificateDocument) -> Iterable[tuple[str, str]]:
    """(label, value) pairs of the certificate table, in reading order."""
    yield "Certificate number", document.certificate_number
    yield "Insured", "\n".join([document.insured_name, *document.insured_address])
    yield "Certificate holder", document.holder_name
    yield "Job", document.job_name
    yield "Coverage", document.coverage_name
    yield "Limits", format_limits(document.occurrence_limit, document.aggregate_limit)
    yield "Policy number", document.policy_number
    start = format_date(document.effective_date)
    end = format_date(document.end_date)
    yield "Coverage period", f"{start} to {end} (UTC)"
    yield "Issued", format_date(document.issued)


def render_certificate(document: CertificateDocument) -> bytes:
    """The certificate as PDF bytes; the same document always gives the same bytes."""
    rows = list(_rows(document))
    pdf = Document((text for row in rows for text in row), specimen=document.specimen)
    title = f"Certificate of insurance {document.certificate_number}"
    begin(pdf, title, "Certificate of Insurance", document.issued)
    pdf.use_font(14)
    pdf.cell(0, 8, document.coverage_name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    for label, value in rows:
        write_row(pdf, label, value)

    rule(pdf)
    pdf.ln(2)
    pdf.use_font(9)
    write_lines(pdf, pdf.l_margin, wrapped_once(pdf, NOTICE, pdf.epw))

    return bytes(pdf.output())
