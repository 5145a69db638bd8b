"""A plain PDF that states lines of text: in the sandbox, a certificate of insurance to upload
for review, whose text decides the review (server/domain/uploaded_certificates.py)."""

from __future__ import annotations

from fpdf import FPDF


def stating(*lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
