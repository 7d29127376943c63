"""Receipt PDFs: A4, print-ready, the Japanese font embedded (subset).

``ReceiptDocument`` is everything printed on a receipt, built by the services from
the receipt, its gifts and the organisation profile; ``render_receipt_pdf`` lays
it out and is a pure function of the document (no database), so the batch and the
benchmark can render in worker processes.

The legal wording is fixed here per language rather than taken from the
translation catalogues: what a tax receipt says must not change with a
translator's edit. Japanese receipts are in Japanese; receipts for donors abroad
are in English and make no Japanese tax claim.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, field

from fpdf import FPDF

from donors.receipts.fonts import FAMILY, install_font
from kyosei.money import Money, format_money, format_yen

logger = logging.getLogger(__name__)

STATEMENT_JA = "特定非営利活動に係る事業に関連する寄附金"


@dataclass(frozen=True)
class ReceiptLine:
    received_on: dt.date
    amount_yen: int
    original: Money | None = None  # set for a foreign-currency gift
    description: str = ""


@dataclass(frozen=True)
class ReceiptDocument:
    language: str  # "ja" or "en"
    number: str
    issued_on: dt.date
    annual: bool
    year: int
    certified: bool
    donor_name: str
    donor_address: list[str]
    total_yen: int
    lines: list[ReceiptLine]
    org_name: str
    org_address: list[str]
    org_representative: str
    # Set when ``certified``: 認定 / 特例認定, authority, notice number and date.
    certification_label: str = ""
    certification_authority: str = ""
    certification_number: str = ""
    certification_date: dt.date | None = None
    # Why a plain receipt claims no tax status (uncertified / before the date).
    plain_reason: str = ""
    replaces_number: str = ""
    show_wareki: bool = False
    closing_note: str = ""
    seal: bytes | None = field(default=None, repr=False)


def wareki(day: dt.date) -> str:
    """令和 / 平成 date: 2019-05-01 is 令和元年5月1日."""
    if day >= dt.date(2019, 5, 1):
        era, year = "令和", day.year - 2018
    elif day >= dt.date(1989, 1, 8):
        era, year = "平成", day.year - 1988
    else:
        return ""
    return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def date_ja(day: dt.date, with_wareki: bool = False) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    if with_wareki and wareki(day):
        text += f"（{wareki(day)}）"
    return text


def date_en(day: dt.date) -> str:
    return f"{day:%d %B %Y}".lstrip("0")


class _Labels:
    def __init__(self, doc: ReceiptDocument) -> None:
        ja = doc.language == "ja"
        self.ja = ja
        if ja:
            self.title = "寄附金受領証明書" if doc.certified else "寄附金領収書"
            self.number = f"No. {doc.number}"
            self.issued = f"発行日　{date_ja(doc.issued_on, doc.show_wareki)}"
            self.reissue = "再発行"
            self.replaces = f"（No. {doc.replaces_number} を無効とし再発行）"
            self.honorific = "様"
            self.amount = "金額"
            self.period = f"対象期間　{doc.year}年1月1日〜{doc.year}年12月31日"
            self.col_date = "受領日"
            self.col_amount = "金額（円）"
            self.col_note = "備考"
            self.total = "合計"
            self.statement = (
                f"上記の金額を、{STATEMENT_JA}として受領したことを証明します。"
                if doc.certified
                else "上記の金額を、寄附金として確かに受領いたしました。"
            )
        else:
            self.title = "Donation Receipt"
            self.number = f"No. {doc.number}"
            self.issued = f"Date of issue: {date_en(doc.issued_on)}"
            self.reissue = "REISSUED"
            self.replaces = f"(replaces No. {doc.replaces_number}, now void)"
            self.honorific = ""
            self.amount = "Amount"
            self.period = f"Period: 1 January - 31 December {doc.year}"
            self.col_date = "Date received"
            self.col_amount = "Amount (JPY)"
            self.col_note = "Note"
            self.total = "Total"
            self.statement = (
                "We gratefully acknowledge receipt of the donation above. "
                "This receipt is not issued for Japanese tax-deduction purposes."
            )

    def date(self, day: dt.date, with_wareki: bool = False) -> str:
        return date_ja(day, with_wareki) if self.ja else date_en(day)

    def yen(self, amount: int) -> str:
        return format_yen(amount, "ja" if self.ja else "en")


def _line_note(line: ReceiptLine, labels: _Labels) -> str:
    parts = []
    if line.original is not None:
        original = format_money(line.original, "ja" if labels.ja else "en")
        parts.append(
            f"原通貨 {original}（円換算・受領額）"
            if labels.ja
            else f"{original} given (yen settled)"
        )
    if line.description:
        parts.append(line.description)
    return " / ".join(parts)


def _certification_lines(doc: ReceiptDocument) -> list[str]:
    details = [
        doc.certification_label,
        f"所轄庁　{doc.certification_authority}",
        f"認定番号　{doc.certification_number}",
    ]
    if doc.certification_date:
        details.append(f"認定日　{date_ja(doc.certification_date, doc.show_wareki)}")
    return details


def _donor_heading(doc: ReceiptDocument, labels: _Labels) -> str:
    return f"{doc.donor_name}　{labels.honorific}" if labels.ja else doc.donor_name


def _total_text(doc: ReceiptDocument, labels: _Labels) -> str:
    return labels.yen(doc.total_yen) + ("　也" if labels.ja else "")


def _all_text(doc: ReceiptDocument, labels: _Labels) -> str:
    """Every string the receipt prints: the font is built for these characters."""
    parts = [value for value in vars(labels).values() if isinstance(value, str)]
    parts += [
        _donor_heading(doc, labels),
        _total_text(doc, labels),
        labels.yen(doc.total_yen),
        doc.org_name,
        doc.org_representative,
        doc.plain_reason,
        doc.closing_note,
        *doc.donor_address,
        *doc.org_address,
    ]
    if doc.certified:
        parts += _certification_lines(doc)
    for line in doc.lines:
        parts += [
            labels.date(line.received_on),
            labels.yen(line.amount_yen),
            _line_note(line, labels),
        ]
    return "".join(parts)


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    """The receipt as PDF bytes (A4 portrait, 20 mm margins)."""
    labels = _Labels(doc)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creator("Kyosei")
    pdf.set_title(f"{labels.title} {doc.number}")
    pdf.set_creation_date(dt.datetime.combine(doc.issued_on, dt.time(), tzinfo=dt.UTC))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    install_font(pdf, _all_text(doc, labels))
    pdf.add_page()
    width = pdf.epw

    # Header: number and issue date on the right, the reissue mark on the left.
    pdf.set_font(FAMILY, size=9.5)
    top = pdf.get_y()
    pdf.cell(width, 5, labels.number, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 5, labels.issued, align="R", new_x="LMARGIN", new_y="NEXT")
    if doc.replaces_number:
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_draw_color(180, 0, 0)
        pdf.set_text_color(180, 0, 0)
        pdf.set_font(FAMILY, size=12)
        pdf.cell(28, 9, labels.reissue, border=1, align="C")
        pdf.set_font(FAMILY, size=8.5)
        pdf.set_xy(pdf.l_margin, top + 10)
        pdf.cell(width / 2, 5, labels.replaces)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin, top + 15)

    # Title.
    pdf.ln(6)
    pdf.set_font(FAMILY, size=20)
    pdf.cell(width, 12, labels.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.4)
    y = pdf.get_y()
    pdf.line(pdf.l_margin + 45, y, pdf.l_margin + width - 45, y)
    pdf.ln(8)

    # The donor.
    pdf.set_font(FAMILY, size=10)
    for line in doc.donor_address:
        pdf.cell(width, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(FAMILY, size=15)
    name = _donor_heading(doc, labels)
    pdf.cell(width * 0.65, 9, name, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(7)

    # The total, boxed.
    pdf.set_font(FAMILY, size=11)
    pdf.cell(30, 13, labels.amount, border=1, align="C")
    pdf.set_font(FAMILY, size=18)
    total = _total_text(doc, labels)
    pdf.cell(80, 13, total, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FAMILY, size=10)
    if doc.annual:
        pdf.cell(width, 6, labels.period, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    # Each gift: date received and amount.
    widths = (40, 40, width - 80)
    pdf.set_fill_color(235, 235, 235)
    pdf.set_font(FAMILY, size=9.5)
    for text, w in zip(
        (labels.col_date, labels.col_amount, labels.col_note), widths, strict=True
    ):
        pdf.cell(w, 7, text, border=1, align="C", fill=True)
    pdf.ln()
    for line in doc.lines:
        pdf.cell(widths[0], 6.5, labels.date(line.received_on), border=1, align="C")
        pdf.cell(widths[1], 6.5, labels.yen(line.amount_yen), border=1, align="R")
        note = _line_note(line, labels)
        pdf.set_font(FAMILY, size=8 if len(note) > 40 else 9.5)
        pdf.cell(widths[2], 6.5, note, border=1)
        pdf.set_font(FAMILY, size=9.5)
        pdf.ln()
    if len(doc.lines) > 1:
        pdf.cell(widths[0], 6.5, labels.total, border=1, align="C", fill=True)
        pdf.cell(
            widths[1], 6.5, labels.yen(doc.total_yen), border=1, align="R", fill=True
        )
        pdf.cell(widths[2], 6.5, "", border=1, fill=True)
        pdf.ln()
    pdf.ln(5)

    # The statement, and for a plain receipt why it claims no tax status.
    pdf.set_font(FAMILY, size=10.5)
    pdf.multi_cell(width, 6, labels.statement, new_x="LMARGIN", new_y="NEXT")
    if doc.plain_reason:
        pdf.ln(1)
        pdf.set_font(FAMILY, size=9)
        pdf.multi_cell(width, 5, doc.plain_reason, new_x="LMARGIN", new_y="NEXT")
    if doc.closing_note:
        pdf.ln(2)
        pdf.set_font(FAMILY, size=9.5)
        pdf.multi_cell(width, 5, doc.closing_note, new_x="LMARGIN", new_y="NEXT")

    # The NPO, bottom right, with its certification and the seal.
    block_w = 100
    block_x = pdf.l_margin + width - block_w
    needed = 8 + 5.5 * (len(doc.org_address) + 5)
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_y(max(pdf.get_y() + 6, pdf.h - pdf.b_margin - needed))
    block_top = pdf.get_y()
    pdf.set_font(FAMILY, size=11)
    pdf.set_x(block_x)
    pdf.multi_cell(block_w, 6, doc.org_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9)
    for line in [*doc.org_address, doc.org_representative]:
        if line:
            pdf.set_x(block_x)
            pdf.cell(block_w, 5, line, new_x="LMARGIN", new_y="NEXT")
    if doc.certified:
        pdf.ln(1)
        for line in _certification_lines(doc):
            pdf.set_x(block_x)
            pdf.cell(block_w, 5, line, new_x="LMARGIN", new_y="NEXT")
    if doc.seal:
        pdf.image(
            io.BytesIO(doc.seal), x=pdf.l_margin + width - 22, y=block_top, w=20, h=20
        )
    data = bytes(pdf.output())
    missing = pdf.fonts[FAMILY].missing_glyphs
    if missing:
        # how many, not which: the characters come from the donor's name
        logger.warning(
            "Receipt %s: %d characters have no glyph in the font",
            doc.number,
            len(missing),
        )
    return data
