"""What the PDF documents share: the page and its fonts, the layout of rows, and the formatting
of dates and money."""

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import cast

from fontTools.ttLib import TTFont
from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"  # with their licences
CORE_FONT = "Helvetica"
UNICODE_FONT = "DejaVu"
# Subsetting a font for embedding warns of tables it leaves out (font-editor sources), for
# every document.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
# For what DejaVu Sans lacks: Chinese and Japanese, then Korean.
FALLBACK_FONTS = {"DroidFallback": "DroidSansFallbackFull.ttf", "Nanum": "NanumGothic.ttf"}
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


@cache
def _drawn_by_dejavu() -> frozenset[int]:
    return frozenset(TTFont(FONTS / "DejaVuSans.ttf", lazy=True).getBestCmap())


# Across every page of a document a sandbox key caused: nothing from the sandbox may pass for
# real cover.
SPECIMEN_STAMP = "SANDBOX SPECIMEN - NOT EVIDENCE OF INSURANCE"


class Document(FPDF):
    """A Letter-size PDF with a font that draws every character of `texts`, the document's
    words: the core font Helvetica when they are all Latin-1 (nothing to embed, and several
    times faster), otherwise DejaVu Sans, embedded, with fallbacks for Chinese, Japanese and
    Korean, and text shaping for the scripts that need it (Arabic, Hebrew, ...). A `specimen`
    has SPECIMEN_STAMP across each page."""

    def __init__(self, texts: Iterable[str], *, specimen: bool):
        super().__init__(format="Letter")
        self.specimen = specimen
        characters = set("".join(texts)) - {"\n"}  # a line break is drawn by no font
        if all(ord(c) < 256 for c in characters):
            self.font_name = CORE_FONT
            return
        self.font_name = UNICODE_FONT
        self.add_font(UNICODE_FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(UNICODE_FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        if not {ord(c) for c in characters} <= _drawn_by_dejavu():
            for name, filename in FALLBACK_FONTS.items():
                self.add_font(name, "", FONTS / filename)
            self.set_fallback_fonts(list(FALLBACK_FONTS), exact_match=False)
        self.set_text_shaping(True)

    def use_font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.font_name, style="B" if bold else "", size=size)

    def header(self) -> None:
        """The specimen stamp, diagonally across the page, under what the page then shows."""
        if not self.specimen:
            return
        x, y = self.get_x(), self.get_y()
        self.set_font(CORE_FONT, style="B", size=30)
        self.set_text_color(230, 160, 160)
        centre_x, centre_y = self.w / 2, self.h / 2
        with self.rotation(angle=55, x=centre_x, y=centre_y):
            width = self.get_string_width(SPECIMEN_STAMP)
            self.text(centre_x - width / 2, centre_y, SPECIMEN_STAMP)
        self.set_text_color(0, 0, 0)
        self.set_xy(x, y)


def begin(pdf: Document, title: str, heading: str, issued: int) -> None:
    """Metadata, the first page and the heading of a document issued at `issued` (Unix seconds)."""
    pdf.set_title(title)
    pdf.set_author("1099Policy")
    # fpdf stamps the current time by default; the issue date keeps the output reproducible.
    pdf.set_creation_date(datetime.fromtimestamp(issued, UTC))
    pdf.add_page()

    pdf.use_font(10)
    pdf.cell(0, 6, "1099Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.use_font(18, bold=True)
    pdf.cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")


def write_row(pdf: Document, label: str, value: str) -> None:
    """A label column and a value column, ruled off from the row above; a value may run onto
    further pages.

    Not fpdf's table(): it refuses a row taller than a page, and a value may be that long."""
    pdf.use_font(10, bold=True)
    labels = wrapped_once(pdf, label, LABEL_WIDTH)
    pdf.use_font(10)
    values = wrapped(pdf, value, pdf.epw - LABEL_WIDTH)
    # Start a new page rather than leave a label without its first value line.
    label_height = len(labels) * LINE_HEIGHT
    if pdf.will_page_break(2 * ROW_GAP + max(label_height, 2 * LINE_HEIGHT)):
        pdf.add_page()
    rule(pdf)

    top, page = pdf.y, pdf.page
    pdf.use_font(10, bold=True)
    write_lines(pdf, pdf.l_margin, labels)
    pdf.set_xy(pdf.l_margin, top)
    pdf.use_font(10)
    write_lines(pdf, pdf.l_margin + LABEL_WIDTH, values)
    if pdf.page == page:  # a label may wrap to more lines than its value
        pdf.set_y(max(pdf.y, top + label_height))


def wrapped(pdf: Document, text: str, width: float) -> list[str]:
    """The lines `text` takes in a column `width` wide, in the current font. fpdf's line
    breaking measures the text once per character it adds, so a line of the core font that
    fits as it stands, as most of a document's do, is measured once, here (an embedded font's
    width depends on shaping and fallback fonts, which fpdf's line breaking knows)."""
    lines: list[str] = []
    room = width - 2 * pdf.c_margin
    for paragraph in text.split("\n"):
        if pdf.font_name == CORE_FONT and pdf.get_string_width(paragraph) <= room:
            lines.append(paragraph)
        else:
            broken = pdf.multi_cell(width, LINE_HEIGHT, paragraph, dry_run=True, output="LINES")
            lines.extend(cast(list[str], broken))
    return lines


# Lines of the documents' fixed words in the core font, whose metrics are fixed: wrapped once.
_FIXED_LINES: dict[tuple, list[str]] = {}


def wrapped_once(pdf: Document, text: str, width: float) -> list[str]:
    """wrapped(), for words every document has (labels, notices): in the core font, remembered
    for the life of the process."""
    if pdf.font_name != CORE_FONT:
        return wrapped(pdf, text, width)
    key = (pdf.font_style, pdf.font_size_pt, width, text)
    lines = _FIXED_LINES.get(key)
    if lines is None:
        lines = _FIXED_LINES[key] = wrapped(pdf, text, width)
    return lines


def write_lines(pdf: Document, x: float, lines: list[str]) -> None:
    """Lines one below the other from (x, y), onto a new page where one would cross the page's
    end. The core font's text is placed as it stands; an embedded font's is laid out by fpdf,
    which shapes it and falls back to fonts for what the first one lacks."""
    for line in lines:
        if pdf.will_page_break(LINE_HEIGHT):
            pdf.add_page()
        if pdf.font_name == CORE_FONT:
            # Where cell() puts the baseline of a line LINE_HEIGHT high.
            baseline = pdf.y + 0.5 * LINE_HEIGHT + 0.3 * pdf.font_size
            pdf.text(x + pdf.c_margin, baseline, line)
        else:
            pdf.set_x(x)
            pdf.cell(0, LINE_HEIGHT, line)
        pdf.set_y(pdf.y + LINE_HEIGHT)


def rule(pdf: Document) -> None:
    """A rule across the page, with ROW_GAP either side."""
    pdf.line(pdf.l_margin, pdf.y + ROW_GAP, pdf.l_margin + pdf.epw, pdf.y + ROW_GAP)
    pdf.ln(2 * ROW_GAP)
