"""The receipt font: Noto Serif JP (SIL OFL 1.1) from the ``pylopdf-fonts-jp`` wheel.

The font is installed with the project's dependencies; nothing is downloaded at
run time. Two steps make rendering fast enough for the annual batch (≥ 50 PDFs/s):

1. Once per installation, the 17,000-glyph CFF font is cut down to the characters
   a receipt can need (everything in Shift_JIS/CP932 — JIS level 1 and 2 kanji,
   kana, NEC/IBM extensions — plus Latin with Vietnamese diacritics) and its
   outlines converted to TrueType. fontTools subsets TrueType outlines far faster
   than CFF ones, and fpdf2 subsets the font again for every PDF. The result is
   cached under ``VAR_DIR/cache/fonts/`` keyed by the package version.
2. Once per process, that font is parsed; each PDF gets a tiny font built from it
   with just the characters the receipt prints (≈ 8 ms) instead of fpdf2 parsing
   and subsetting the whole font (≈ 100 ms).

Characters outside that set (rare kanji in a name) print as the font's
placeholder box; fpdf2 logs a warning naming them.
"""

from __future__ import annotations

import fcntl
import io
import os
import tempfile
import threading
from importlib.metadata import version
from pathlib import Path

from django.conf import settings

FAMILY = "kyoseiserif"

_EXTRA_RANGES = (
    (0x20, 0x250),  # Latin-1, Latin Extended-A/B (names abroad)
    (0x300, 0x370),  # combining diacritics
    (0x1EA0, 0x1F00),  # Vietnamese (Latin Extended Additional)
    (0x2000, 0x2070),  # punctuation
    (0x20A0, 0x20C0),  # currency signs (₫ €)
    (0x3000, 0x3100),  # CJK punctuation, kana
)

_lock = threading.Lock()
_source = None
# Always in the per-document font: ASCII and the fixed Japanese labels' signs.
_ALWAYS = frozenset(range(0x20, 0x7F)) | frozenset(map(ord, "¥〒（）：・〜　也様"))


def _source_path() -> Path:
    import pylopdf_fonts_jp

    return Path(pylopdf_fonts_jp.serif_path())


def _wanted_codepoints() -> set[int]:
    wanted: set[int] = set()
    for cp in range(0x20, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        try:
            chr(cp).encode("cp932")
        except UnicodeEncodeError:
            continue
        wanted.add(cp)
    for start, end in _EXTRA_RANGES:
        wanted.update(range(start, end))
    return wanted


def _build(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(source), recalcTimestamp=False)
    options = subset.Options()
    options.desubroutinize = True
    options.layout_features = []
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.name_IDs = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "VORG", "vhea", "vmtx", "BASE"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_wanted_codepoints())
    subsetter.subset(font)

    # Cubic (CFF) to quadratic (TrueType) outlines, within 1 font unit.
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    del font["CFF "]
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        font.save(tmp)
    os.replace(tmp.name, target)


def receipt_font_path() -> Path:
    """The prepared TrueType font, built on first use (about 10 s, once)."""
    cache = Path(settings.VAR_DIR) / "cache" / "fonts"
    target = cache / f"receipt-serif-{version('pylopdf-fonts-jp')}.ttf"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Several processes (test workers, Celery workers) may start at once.
    with open(cache / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _build(_source_path(), target)
    return target


class _Source:
    """The prepared font, parsed once per process and only read afterwards."""

    def __init__(self, path: Path) -> None:
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), recalcBBoxes=False)
        self.cmap = font.getBestCmap()
        self.metrics = font["hmtx"].metrics
        self.glyphs = font["glyf"].glyphs  # packed outlines, never unpacked here
        self.gid = {name: i for i, name in enumerate(font.getGlyphOrder())}
        self.head = font["head"]
        self.hhea = font["hhea"]
        self.os2 = font["OS/2"]
        font.reader.close()

    def build(self, codepoints: set[int]) -> bytes:
        """A TrueType font holding only ``codepoints`` (plus .notdef)."""
        from fontTools.fontBuilder import FontBuilder
        from fontTools.ttLib import newTable

        cmap = {cp: self.cmap[cp] for cp in codepoints if cp in self.cmap}
        names = [".notdef", *sorted(set(cmap.values()) - {".notdef"}, key=self.gid.get)]
        head, hhea, os2 = self.head, self.hhea, self.os2
        builder = FontBuilder(head.unitsPerEm, isTTF=True)
        builder.font.recalcBBoxes = False
        builder.setupGlyphOrder(names)
        builder.setupCharacterMap(cmap)
        glyf = newTable("glyf")
        glyf.glyphOrder = names
        glyf.glyphs = {name: self.glyphs[name] for name in names}
        builder.font["glyf"] = glyf
        builder.font["loca"] = newTable("loca")
        builder.setupHorizontalMetrics({name: self.metrics[name] for name in names})
        builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
        builder.setupHead(
            unitsPerEm=head.unitsPerEm,
            created=head.created,
            modified=head.modified,
            xMin=head.xMin,
            yMin=head.yMin,
            xMax=head.xMax,
            yMax=head.yMax,
        )
        builder.setupNameTable({"familyName": "KyoseiSerif", "styleName": "Regular"})
        builder.setupOS2(
            sTypoAscender=os2.sTypoAscender,
            sTypoDescender=os2.sTypoDescender,
            usWinAscent=os2.usWinAscent,
            usWinDescent=os2.usWinDescent,
            sCapHeight=getattr(os2, "sCapHeight", 0),
            fsType=0,  # installable embedding (OFL)
        )
        builder.setupPost()
        builder.setupMaxp()
        out = io.BytesIO()
        builder.save(out)
        return out.getvalue()


def _get_source() -> _Source:
    global _source
    with _lock:
        if _source is None:
            _source = _Source(receipt_font_path())
    return _source


def install_font(pdf, text: str) -> None:
    """Add the receipt font to ``pdf`` as a tiny font holding the chars of ``text``.

    Parsing the 10,000-glyph font costs fpdf2 about 100 ms per document; building
    a font of the ~150 glyphs one receipt uses from the parsed prototype costs
    about 8 ms, and fpdf2 then parses and subsets that in a few ms. A character
    not in ``text`` prints as a blank box: callers pass every string they print.
    """
    data = _get_source().build(set(map(ord, text)) | _ALWAYS)
    # mkstemp makes a new file of mode 0600 with an unpredictable name
    # (O_EXCL), wherever it is; /dev/shm only keeps it in memory.
    directory = "/dev/shm" if os.path.isdir("/dev/shm") else None  # nosec B108  # see above
    fd, path = tempfile.mkstemp(suffix=".ttf", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        pdf.add_font(FAMILY, "", path)
        tables = pdf.fonts[FAMILY].ttfont
        for tag in list(tables.keys()):
            tables[tag]  # read everything now: the file goes away below
        tables.recalcBBoxes = False  # keep outlines packed when fpdf2 subsets
        tables.reader.close()
        tables.reader = None
    finally:
        os.unlink(path)
