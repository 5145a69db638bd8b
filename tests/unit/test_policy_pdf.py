import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from server.pdf.layout import FALLBACK_FONTS, SPECIMEN_STAMP, Document
from server.pdf.policy import (
    Coverage,
    PolicyDocument,
    format_date,
    format_limit,
    format_money,
    render_policy,
)

JAN_1_2025 = 1735689600
JAN_1_2026 = 1767225600
DEC_30_2024_NOON = 1735560000

# Each document loads and shapes its fonts (a second each): the py env runs these.
pytestmark = pytest.mark.slow


GENERAL_LIABILITY = Coverage(
    name="General liability",
    occurrence_limit=100_000_000,
    aggregate_limit=200_000_000,
    net_rate=20,
)
OCCUPATIONAL_ACCIDENT = Coverage(
    name="Occupational accident",
    occurrence_limit=50_000_000,
    aggregate_limit=150_000_000,
    net_rate=135,
)

DOCUMENT = PolicyDocument(
    policy_number="pl_WzFRszJhoY",
    status="active",
    # Ω is outside Latin-1: the document embeds a font that draws it.
    insured_name="Zoë Ωmega",
    insured_address=["12 Harbor Road", "Portland, ME 04101"],
    entity_name="Acme Staffing Inc.",
    job_name="Delivery driver",
    job_category="Courier",
    coverages=[GENERAL_LIABILITY, OCCUPATIONAL_ACCIDENT],
    net_rate=155,
    effective_date=JAN_1_2025,
    expiration_date=JAN_1_2026,
    issued=DEC_30_2024_NOON,
    specimen=False,
)


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(pdf).pages)


def test_the_policy_renders_as_a_pdf_showing_its_terms():
    pdf = render_policy(DOCUMENT)

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in [
        "Insurance policy",
        "pl_WzFRszJhoY",
        "ACTIVE",
        "Zoë Ωmega",
        "12 Harbor Road",
        "Portland, ME 04101",
        "Acme Staffing Inc.",
        "Delivery driver",
        "Courier",
        "From 2025-01-01 to 2026-01-01 (UTC)",
        "General liability",
        "$1,000,000 per occurrence / $2,000,000 aggregate",
        "$0.20 per $100 earned",
        "Occupational accident",
        "$500,000 per occurrence / $1,500,000 aggregate",
        "$1.35 per $100 earned",
        "$1.55 per $100 earned",
        "2024-12-30",
    ]:
        assert expected in text
    assert read(pdf).metadata.title == "Insurance policy pl_WzFRszJhoY"


def test_the_status_is_shown_in_capitals():
    text = text_of(render_policy(replace(DOCUMENT, status="cancelled")))

    assert "CANCELLED" in text
    assert "ACTIVE" not in text


def test_the_same_document_renders_to_the_same_bytes():
    pdf = render_policy(DOCUMENT)

    assert render_policy(DOCUMENT) == pdf
    # Two renders within one second match anyway; the stamped date is what must not be "now".
    assert read(pdf).metadata.creation_date == datetime.fromtimestamp(DOCUMENT.issued, UTC)


def test_a_long_document_runs_onto_further_pages():
    long_line = "Building 7, Unit 1204, Long Industrial Park Access Road Extension " * 3
    document = replace(
        DOCUMENT,
        insured_address=[long_line] * 40,
        coverages=[
            GENERAL_LIABILITY,
            OCCUPATIONAL_ACCIDENT,
            Coverage("Workers' compensation", 100_000_000, 100_000_000, 410),
        ],
    )

    pdf = render_policy(document)

    assert len(read(pdf).pages) > 1
    text = text_of(pdf)
    assert "Workers' compensation" in text
    # The rows after the address reach the last page.
    assert "2024-12-30" in read(pdf).pages[-1].extract_text()

    # A sandbox's document is stamped as a specimen on every page; a live one on none.
    specimen = read(render_policy(replace(document, specimen=True))).pages
    assert len(specimen) > 1
    assert all(SPECIMEN_STAMP in page.extract_text() for page in specimen)
    assert SPECIMEN_STAMP not in text


@pytest.mark.parametrize(
    ("cents", "money", "limit"),
    [
        (0, "$0.00", "$0"),
        (5, "$0.05", "$0.05"),
        (20, "$0.20", "$0.20"),
        (123456, "$1,234.56", "$1,234.56"),
        (100_000_000, "$1,000,000.00", "$1,000,000"),
        (-2550, "-$25.50", "-$25.50"),
    ],
)
def test_money_is_shown_in_dollars(cents, money, limit):
    assert format_money(cents) == money
    assert format_limit(cents) == limit


def test_dates_are_utc_calendar_dates():
    # 2025-01-01 00:30 UTC is still 2024-12-31 in America, but the policy speaks UTC.
    assert format_date(JAN_1_2025 + 30 * 60) == "2025-01-01"
    assert format_date(JAN_1_2025 - 1) == "2024-12-31"


@pytest.mark.parametrize(
    "name",
    [
        "Łukasz Wróbel 李",  # Polish and a Chinese character
        "محمد علي",  # Arabic, right to left and shaped
        "דוד כהן",  # Hebrew
        "김민준",  # Korean
        "山田 さくら",  # Japanese
        "Αλέξανδρος Иванов",  # Greek, Cyrillic
    ],
)
def test_any_name_prints_as_written(name):
    text = text_of(render_policy(replace(DOCUMENT, insured_name=name)))
    assert name in text
    assert "?" not in text


def test_latin1_text_embeds_no_font():
    """The core fonts draw it: nothing to embed, and far less work to render."""
    latin = render_policy(replace(DOCUMENT, insured_name="Zoë Françoise"))
    other = render_policy(replace(DOCUMENT, insured_name="Łukasz"))
    assert b"/FontFile2" not in latin
    assert b"/FontFile2" in other


@pytest.mark.parametrize(
    ("name", "fallbacks"), [("Ωmega", False), ("王小明", True)], ids=["greek", "chinese"]
)
def test_fallback_fonts_are_loaded_only_for_what_dejavu_cannot_draw(name, fallbacks):
    """Loading a font costs more than the rest of a document. Every document has line breaks
    (in the address), which no font draws: they call for no fallback."""
    document = Document([name, "12 Harbor Road\nPortland, ME 04101"], specimen=False)
    fallback_keys = {family.lower() for family in FALLBACK_FONTS}  # fpdf's keys of the fonts
    assert (fallback_keys <= set(document.fonts)) is fallbacks, document.fonts


def test_a_cancelled_policy_says_when_and_why():
    cancelled = replace(
        DOCUMENT,
        status="cancelled",
        cancelled_at=JAN_1_2025 + 45 * 86400,
        cancellation_reason="the insured contractor was deleted",
    )
    text = text_of(render_policy(cancelled))
    assert "CANCELLED on 2025-02-15 (UTC): the insured contractor was deleted" in text


def test_an_expired_policy_says_when_and_why():
    text = text_of(render_policy(replace(DOCUMENT, status="expired")))
    assert "EXPIRED on 2026-01-01 (UTC): the policy period ended" in text
