"""The receipt PDF: embedded Japanese font, A4, 和暦 option, seal, page image."""

import datetime as dt
import io
import shutil
import subprocess

import pytest
from PIL import Image

from donors.receipts.pdf import ReceiptDocument, ReceiptLine, render_receipt_pdf, wareki
from kyosei.money import Money
from tests.donors.receipts.conftest import pdf_text


def _doc(**kwargs):
    defaults = dict(
        language="ja", number="2027-000042", issued_on=dt.date(2027, 1, 15),
        annual=True, year=2026, certified=True, donor_name="髙橋 美咲",
        donor_address=["〒160-0023", "東京都新宿区西新宿2-8-1"], total_yen=15_000,
        lines=[
            ReceiptLine(dt.date(2026, 5, 1), 10_000),
            ReceiptLine(dt.date(2026, 9, 1), 5_000, Money(3500, "USD")),
        ],
        org_name="特定非営利活動法人 ひだまり共生ネット",
        org_address=["〒169-0073", "東京都新宿区百人町1-2-3"],
        org_representative="理事長　共生 太郎",
        certification_label="認定特定非営利活動法人（認定NPO法人）",
        certification_authority="東京都", certification_number="第1234号",
        certification_date=dt.date(2025, 4, 1),
    )  # fmt: skip
    return ReceiptDocument(**{**defaults, **kwargs})


def test_wareki():
    assert wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki(dt.date(2026, 11, 23)) == "令和8年11月23日"
    assert wareki(dt.date(2019, 4, 30)) == "平成31年4月30日"


def test_font_is_embedded_and_page_is_a4(tmp_path):
    from pypdf import PdfReader

    data = render_receipt_pdf(_doc())
    page = PdfReader(io.BytesIO(data)).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    fonts = page["/Resources"]["/Font"]
    [font] = [f.get_object() for f in fonts.values()]
    descendant = font["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded TrueType
    text = pdf_text(data, tmp_path)
    assert "髙橋 美咲" in text  # IBM extension kanji (髙) is in the font
    assert "US$35.00" in text


def test_wareki_dates_only_when_set(tmp_path):
    assert "令和9年1月15日" not in pdf_text(render_receipt_pdf(_doc()), tmp_path)
    text = pdf_text(render_receipt_pdf(_doc(show_wareki=True)), tmp_path)
    assert "2027年1月15日（令和9年1月15日）" in text
    assert "2025年4月1日（令和7年4月1日）" in text


def test_page_renders_with_seal(tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    seal = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 30, 30)).save(seal, "PNG")
    data = render_receipt_pdf(_doc(seal=seal.getvalue(), replaces_number="2026-000007"))
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    image = Image.open(tmp_path / "p.png").convert("RGB")
    assert image.size == (497, 702)  # A4 (210 × 297 mm) at 60 dpi
    # The seal prints red in the organisation block (lower right quarter).
    width, height = image.size
    lower_right = image.crop((width // 2, height // 2, width, height))
    pixels = lower_right.load()
    reds = sum(
        1
        for x in range(lower_right.width)
        for y in range(lower_right.height)
        if pixels[x, y][0] > 150 and pixels[x, y][1] < 80 and pixels[x, y][2] < 80
    )
    assert reds > 500
    # Something is printed in every band of the upper half (header, title,
    # donor, amount, table): no blank page or lost font.
    for top in range(40, height // 2, 60):
        band = image.crop((0, top, width, top + 60)).convert("L")
        assert band.getextrema()[0] < 128, top
    assert "再発行" in pdf_text(data, tmp_path)
