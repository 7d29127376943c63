"""The one-pass ``payer_kana_key`` and ``kana_key`` give exactly the keys of the
step-by-step definitions they replaced (stored donors' keys were made by those,
so any difference would stop a payer matching)."""

import random
import unicodedata

import jaconv

from donors import normalise


def _reference_kana_key(value: str) -> str:
    kata = normalise.katakana(value).replace(" ", "")
    kata = kata.translate(normalise._SMALL_KANA)
    decomposed = unicodedata.normalize("NFD", kata)
    base = "".join(ch for ch in decomposed if ch not in ("\u3099", "\u309a"))
    base = unicodedata.normalize("NFC", base).replace("ヴ", "ウ")
    return normalise._LONG_VOWEL_RE.sub("", base)


def _reference_payer_kana_key(value: str) -> str:
    folded = normalise._MEMBER_NUMBER_RE.sub(" ", normalise.width(value))
    kata = normalise.strip_corporate_marks(folded)
    for word in normalise._LEGAL_FORM_WORDS:
        kata = kata.replace(word, " ")
    return _reference_kana_key(kata)


ALPHABET = (
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｯｬｭｮﾞﾟｰ()（）"
    "アイウエオガギグゲゴパピプペポヴァィゥェォッャュョヮヵヶー・"
    "あいうえおがぎぐげごぱぴぷぺぽゔぁぃぅぇぉっゃゅょゎゕゖ"
    "ABCXYZabcxyzÉéÀàđĐ０１２３４５６７８９0123456789-‐－―−ｰ 　\t.,'゛゜"
    "\u3099\u309a株式会社山田太郎"
)
WORDS = ["ｶ)", "(ﾄｸﾋ", "ﾄｸﾋ)", "(ｶ)", "カブシキガイシャ", "ｻﾞｲ)", "(ｲ", "ｼﾔ)", "123-45"]


def _samples(count: int):
    rng = random.Random(20261123)
    yield from ["", " ", "ﾔﾏﾀﾞ ﾀﾛｳ", "ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ", "ｶ)ｻｸﾗ", "0012 ﾄｸﾋ)ｷﾖｳｾｲ"]
    for _ in range(count):
        parts = [
            rng.choice(WORDS)
            if rng.random() < 0.15
            else "".join(rng.choices(ALPHABET, k=rng.randint(0, 6)))
            for _ in range(rng.randint(0, 6))
        ]
        yield rng.choice(["", " ", "  "]).join(parts)


def test_payer_kana_key_equals_the_step_by_step_definition():
    for value in _samples(8000):
        assert normalise.payer_kana_key(value) == _reference_payer_kana_key(value), (
            value
        )


def test_kana_key_equals_the_step_by_step_definition():
    for value in _samples(8000):
        assert normalise.kana_key(value) == _reference_kana_key(value), value
        hira = jaconv.kata2hira(value)
        assert normalise.kana_key(hira) == _reference_kana_key(hira), hira


def test_examples():
    assert normalise.payer_kana_key("ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ") == "クエンウアンアン"
    assert normalise.payer_kana_key("1234 ｶ)ｻｸﾗｼﾖｳｼﾞ") == "サクラシヨウシ"
    assert normalise.kana_key("ぐえん ゔぁん あん") == "クエンウアンアン"
