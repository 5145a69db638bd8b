import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from server.pdf.certificate import CertificateDocument, render_certificate
from server.pdf.layout import SPECIMEN_STAMP

JAN_1_2025 = 1735689600
JAN_1_2026 = 1767225600
JUL_1_2025 = 1751328000
DEC_30_2024_NOON = 1735560000

DOCUMENT = CertificateDocument(
    certificate_number="an_Qh7bK2mPzX-gl",
    coverage_name="General liability",
    occurrence_limit=100_000_000,
    aggregate_limit=200_000_000,
    policy_number="pl_WzFRszJhoY",
    insured_name="Zoë Martin",
    insured_address=["12 Harbor Road", "Portland, ME 04101"],
    holder_name="Acme Staffing Inc.",
    job_name="Delivery driver",
    effective_date=JAN_1_2025,
    end_date=JAN_1_2026,
    issued=DEC_30_2024_NOON,
    specimen=False,
)


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(pdf).pages)


def test_the_certificate_is_a_one_page_pdf():
    pdf = render_certificate(DOCUMENT)

    assert pdf.startswith(b"%PDF-")
    assert len(read(pdf).pages) == 1
    assert read(pdf).metadata.title == "Certificate of insurance an_Qh7bK2mPzX-gl"


def test_the_certificate_shows_its_terms():
    text = text_of(render_certificate(DOCUMENT))

    for expected in [
        "Certificate of Insurance",
        "an_Qh7bK2mPzX-gl",
        "pl_WzFRszJhoY",
        "Zoë Martin",
        "12 Harbor Road",
        "Portland, ME 04101",
        "Acme Staffing Inc.",
        "Delivery driver",
        "General liability",
        "$1,000,000 per occurrence / $2,000,000 aggregate",
        "2025-01-01 to 2026-01-01",
        "Issued 2024-12-30",
    ]:
        assert expected in text
    assert "Certificate holder Acme Staffing Inc." in text


def test_the_certificate_carries_the_standard_notice():
    words = " ".join(text_of(render_certificate(DOCUMENT)).split())

    assert "issued as a matter of information only" in words
    assert "confers no rights upon the certificate holder" in words
    assert "does not amend, extend or alter the coverage" in words


def test_the_coverage_and_limits_come_from_the_document():
    document = replace(
        DOCUMENT,
        coverage_name="Workers' compensation",
        occurrence_limit=50_000_000,
        aggregate_limit=150_000_050,
    )

    text = text_of(render_certificate(document))

    assert "Workers' compensation" in text
    assert "$500,000 per occurrence / $1,500,000.50 aggregate" in text
    assert "General liability" not in text


@pytest.mark.slow
def test_names_in_any_script_print_as_written_on_the_certificate():
    document = replace(DOCUMENT, insured_name="Zoë Łukasz 李", holder_name="Łódź Couriers 株式会社")

    pdf = render_certificate(document)

    assert len(read(pdf).pages) == 1
    text = text_of(pdf)
    assert "Zoë Łukasz 李" in text
    assert "Łódź Couriers 株式会社" in text
    assert "pl_WzFRszJhoY" in text


def test_the_same_certificate_renders_to_the_same_bytes():
    pdf = render_certificate(DOCUMENT)

    assert render_certificate(replace(DOCUMENT)) == pdf
    # Two renders within one second match anyway; the stamped date is what must not be "now".
    assert read(pdf).metadata.creation_date == datetime.fromtimestamp(DOCUMENT.issued, UTC)


def test_a_different_period_renders_differently():
    pdf = render_certificate(DOCUMENT)

    changed = render_certificate(replace(DOCUMENT, end_date=JUL_1_2025))

    assert changed != pdf
    text = text_of(changed)
    assert "2025-01-01 to 2025-07-01" in text
    assert "2026-01-01" not in text


def test_a_sandbox_certificate_is_stamped_as_a_specimen_and_a_live_one_is_not():
    stamped = text_of(render_certificate(replace(DOCUMENT, specimen=True)))
    assert SPECIMEN_STAMP in stamped
    assert "Certificate of Insurance" in stamped  # the stamp lies under the page, not over it
    assert SPECIMEN_STAMP not in text_of(render_certificate(DOCUMENT))
