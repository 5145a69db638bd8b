"""What the PDF documents share: fpdf2 core-font layout and the formatting of dates and money."""

from datetime import UTC, datetime

from fpdf import FPDF

FONT = "Helvetica"
LABEL_WIDTH = 50  # mm; the value column takes the rest of the page width
LINE_HEIGHT = 5  # mm
ROW_GAP = 2  # mm, either side of the rule between rows


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


def format_limits(occurrence_limit: int, aggregate_limit: int) -> str:
    """A coverage's limits: "$1,000,000 per occurrence / $2,000,000 aggregate"."""
    return (
        f"{format_limit(occurrence_limit)} per occurrence / "
        f"{format_limit(aggregate_limit)} aggregate"
    )


def latin1(text: str) -> str:
    """Replace what the core fonts cannot draw with "?", rather than failing the document."""
    return text.encode("latin-1", "replace").decode("latin-1")


def begin(pdf: FPDF, title: str, heading: str, issued: int) -> None:
    """Metadata, the first page and the heading of a document issued at `issued` (Unix seconds)."""
    pdf.set_title(title)
    pdf.set_author("1099Policy")
    # fpdf stamps the current time by default; the issue date keeps the output reproducible.
    pdf.set_creation_date(datetime.fromtimestamp(issued, UTC))
    pdf.add_page()

    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, "1099Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=18)
    pdf.cell(0, 12, latin1(heading), new_x="LMARGIN", new_y="NEXT")


def write_row(pdf: FPDF, label: str, value: str) -> None:
    """A label column and a value column, ruled off from the row above.

    Not fpdf's table(): it refuses a row taller than a page, and a value may be that long.
    """
    label, value = latin1(label), latin1(value)
    pdf.set_font(FONT, style="B", size=10)
    label_height = pdf.multi_cell(LABEL_WIDTH, LINE_HEIGHT, label, dry_run=True, output="HEIGHT")
    # Start a new page rather than leave a label without its first value line.
    if pdf.will_page_break(2 * ROW_GAP + max(label_height, 2 * LINE_HEIGHT)):
        pdf.add_page()
    rule(pdf)

    top, page = pdf.y, pdf.page
    pdf.multi_cell(LABEL_WIDTH, LINE_HEIGHT, label, align="L", new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, LINE_HEIGHT, value, align="L", new_x="LMARGIN", new_y="NEXT")
    if pdf.page == page:  # a label may wrap to more lines than its value
        pdf.set_y(max(pdf.y, top + label_height))


def rule(pdf: FPDF) -> None:
    """A rule across the page, with ROW_GAP either side."""
    pdf.line(pdf.l_margin, pdf.y + ROW_GAP, pdf.l_margin + pdf.epw, pdf.y + ROW_GAP)
    pdf.ln(2 * ROW_GAP)
