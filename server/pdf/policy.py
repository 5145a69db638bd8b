"""The insurance policy document, rendered as a PDF with fpdf2's core fonts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF

FONT = "Helvetica"
LABEL_WIDTH = 50  # mm; the value column takes the rest of the page width
LINE_HEIGHT = 5  # mm
ROW_GAP = 2  # mm, either side of the rule between rows


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


def format_date(seconds: int) -> str:
    """Unix seconds as a UTC calendar date, YYYY-MM-DD."""
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def format_money(cents: int) -> str:
    """Cents as dollars: 123456 -> "$1,234.56"."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def format_limit(cents: int) -> str:
    """Like format_money, without ".00": limits are almost always whole dollars."""
    return format_money(cents).removesuffix(".00")


def format_rate(cents: int) -> str:
    return f"{format_money(cents)} per $100 earned"


def latin1(text: str) -> str:
    """Replace what the core fonts cannot draw with "?", rather than failing the document."""
    return text.encode("latin-1", "replace").decode("latin-1")


class _PolicyPdf(FPDF):
    def footer(self) -> None:
        # Numbered pages, so a printed multi-page policy can be checked for completeness.
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def _rows(document: PolicyDocument) -> Iterable[tuple[str, str]]:
    """(label, value) pairs of the policy table, in reading order."""
    yield "Policy number", document.policy_number
    yield "Status", document.status.upper()
    yield "Insured", "\n".join([document.insured_name, *document.insured_address])
    yield "Contracting entity", document.entity_name
    yield "Job", f"{document.job_name}\n{document.job_category}"
    start = format_date(document.effective_date)
    end = format_date(document.expiration_date)
    yield "Policy period", f"From {start} to {end} (UTC)"
    for coverage in document.coverages:
        limits = (
            f"{format_limit(coverage.occurrence_limit)} per occurrence / "
            f"{format_limit(coverage.aggregate_limit)} aggregate"
        )
        yield coverage.name, f"{limits}\n{format_rate(coverage.net_rate)}"
    yield "Total net rate", format_rate(document.net_rate)
    yield "Issued", format_date(document.issued)


def _write_row(pdf: FPDF, label: str, value: str) -> None:
    """A label column and a value column, ruled off from the row above.

    Not fpdf's table(): it refuses a row taller than a page, and a value may be that long.
    """
    pdf.set_font(FONT, style="B", size=10)
    label_height = pdf.multi_cell(LABEL_WIDTH, LINE_HEIGHT, label, dry_run=True, output="HEIGHT")
    # Start a new page rather than leave a label without its first value line.
    if pdf.will_page_break(2 * ROW_GAP + max(label_height, 2 * LINE_HEIGHT)):
        pdf.add_page()
    pdf.line(pdf.l_margin, pdf.y + ROW_GAP, pdf.l_margin + pdf.epw, pdf.y + ROW_GAP)
    pdf.ln(2 * ROW_GAP)

    top, page = pdf.y, pdf.page
    pdf.multi_cell(LABEL_WIDTH, LINE_HEIGHT, label, align="L", new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, LINE_HEIGHT, value, align="L", new_x="LMARGIN", new_y="NEXT")
    if pdf.page == page:  # a label may wrap to more lines than its value
        pdf.set_y(max(pdf.y, top + label_height))


def render_policy(document: PolicyDocument) -> bytes:
    """The policy document as PDF bytes; the same document always gives the same bytes."""
    pdf = _PolicyPdf(format="Letter")
    pdf.set_title(f"Insurance policy {document.policy_number}")
    pdf.set_author("1099Policy")
    # fpdf stamps the current time by default; the issue date keeps the output reproducible.
    pdf.set_creation_date(datetime.fromtimestamp(document.issued, UTC))
    pdf.add_page()

    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, "1099Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=18)
    pdf.cell(0, 12, "Insurance policy", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    for label, value in _rows(document):
        _write_row(pdf, latin1(label), latin1(value))

    return bytes(pdf.output())
