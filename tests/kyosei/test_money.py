"""Tests for kyosei.money: pure Python, no database and no Django settings."""

import copy
import dataclasses
import pickle
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyosei.money import (
    CURRENCY_EXPONENTS,
    NBSP,
    STRIPE_EXPONENT_OVERRIDES,
    STRIPE_ZERO_DECIMAL_CURRENCIES,
    CurrencyError,
    MixedCurrencyError,
    Money,
    currency_exponent,
    format_money,
    format_yen,
    from_stripe_amount,
    normalise_currency,
    stripe_exponent,
    to_stripe_amount,
)

CODES = sorted(CURRENCY_EXPONENTS)

currencies = st.sampled_from(CODES)
amounts = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def monies(draw, currency=None):
    return Money(draw(amounts), currency or draw(currencies))


@st.composite
def same_currency_monies(draw, n):
    currency = draw(currencies)
    return [Money(draw(amounts), currency) for _ in range(n)]


# -- currency table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("VND", 0),
        ("USD", 2),
        ("EUR", 2),
        ("TWD", 2),
        ("IDR", 2),
        ("PHP", 2),
    ],
)
def test_iso_exponents(code, exponent):
    assert currency_exponent(code) == exponent


def test_required_currencies_are_supported():
    required = (
        "JPY USD EUR GBP AUD CAD NZD CHF SGD HKD TWD KRW VND PHP THB IDR CNY MYR INR "
        "NPR MMK BDT LKR BRL"
    ).split()
    assert set(required) <= set(CURRENCY_EXPONENTS)


def test_stripe_zero_decimal_list_matches_stripe_docs():
    assert (
        frozenset(
            "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
        )
        == STRIPE_ZERO_DECIMAL_CURRENCIES
    )


@pytest.mark.parametrize("code", CODES)
def test_stripe_exponent_agrees_with_zero_decimal_list(code):
    # A supported currency is zero-decimal to Stripe exactly when it is on the list;
    # the override table is the only place ISO and Stripe may disagree.
    assert (stripe_exponent(code) == 0) == (code in STRIPE_ZERO_DECIMAL_CURRENCIES)
    if code not in STRIPE_EXPONENT_OVERRIDES:
        assert stripe_exponent(code) == currency_exponent(code)


def test_isk_is_the_documented_override():
    assert currency_exponent("ISK") == 0
    assert stripe_exponent("ISK") == 2


def test_unknown_currency_error_message():
    with pytest.raises(CurrencyError, match=r"^Unknown currency code 'XYZ'$"):
        Money(100, "XYZ")


def test_currency_error_is_a_value_error():
    with pytest.raises(ValueError):
        normalise_currency("ZZZ")


def test_currency_must_be_a_string():
    with pytest.raises(TypeError):
        Money(100, None)


# -- construction ---------------------------------------------------------------------


def test_lower_case_currency_is_normalised():
    money = Money(1234, "usd")
    assert money.currency == "USD"
    assert money == Money(1234, "USD")
    assert normalise_currency("jpy") == "JPY"


@pytest.mark.parametrize(
    "amount", [12.0, 12.5, Decimal("12"), Decimal("12.34"), True, False, "12", None]
)
def test_non_int_amount_refused(amount):
    with pytest.raises(TypeError):
        Money(amount, "JPY")


def test_yen_and_zero():
    assert Money.yen(1000) == Money(1000, "JPY")
    assert Money.zero("usd") == Money(0, "USD")
    with pytest.raises(TypeError):
        Money.yen(1000.0)


def test_money_is_immutable():
    money = Money.yen(1000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = 2000
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.currency = "USD"
    with pytest.raises((AttributeError, TypeError)):
        money.note = "no new attributes either"  # slots


def test_money_is_hashable_copyable_and_picklable():
    money = Money(1234, "USD")
    assert {money, Money(1234, "usd")} == {money}
    assert copy.deepcopy(money) == money
    assert pickle.loads(pickle.dumps(money)) == money


def test_repr():
    assert repr(Money(1234, "USD")) == "Money(1234, 'USD')"
    assert repr(Money(-5, "jpy")) == "Money(-5, 'JPY')"


def test_equality_across_currencies_is_false_not_an_error():
    assert Money(0, "JPY") != Money(0, "USD")
    assert Money(100, "JPY") != 100


# -- Money.of -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("major", "currency", "expected"),
    [
        ("12.34", "USD", Money(1234, "USD")),
        (Decimal("12.34"), "USD", Money(1234, "USD")),
        (12, "USD", Money(1200, "USD")),
        ("0.05", "EUR", Money(5, "EUR")),
        ("-12.3", "USD", Money(-1230, "USD")),
        ("12.340", "USD", Money(1234, "USD")),
        ("1000", "JPY", Money(1000, "JPY")),
        (1000, "jpy", Money(1000, "JPY")),
        ("1000.0", "JPY", Money(1000, "JPY")),
        (Decimal("1E+3"), "JPY", Money(1000, "JPY")),
        ("12345", "VND", Money(12345, "VND")),
        ("-0", "JPY", Money(0, "JPY")),
    ],
)
def test_of_converts_major_units_exactly(major, currency, expected):
    assert Money.of(major, currency) == expected


@pytest.mark.parametrize(
    ("major", "currency"),
    [("1.5", "JPY"), ("0.1", "VND"), ("12.345", "USD"), (Decimal("0.001"), "EUR")],
)
def test_of_refuses_more_decimals_than_the_currency_has(major, currency):
    with pytest.raises(ValueError, match="decimal places"):
        Money.of(major, currency)


@pytest.mark.parametrize(
    "major", ["", "abc", "1,000", "NaN", "Infinity", "-inf", "1E+999999999"]
)
def test_of_refuses_non_numbers(major):
    with pytest.raises(ValueError):
        Money.of(major, "JPY")


@pytest.mark.parametrize("major", [1.5, 1000.0, True, None])
def test_of_refuses_float_and_bool(major):
    with pytest.raises(TypeError):
        Money.of(major, "JPY")


def test_of_unknown_currency():
    with pytest.raises(CurrencyError):
        Money.of("1", "XYZ")


def test_major_and_exponent():
    assert Money(1234, "USD").major == Decimal("12.34")
    assert str(Money(5, "USD").major) == "0.05"
    assert str(Money(-1230, "USD").major) == "-12.30"
    assert Money.yen(1000).major == Decimal(1000)
    assert Money.yen(1000).exponent == 0
    assert Money(1, "USD").exponent == 2


@given(monies())
def test_of_major_round_trip(money):
    assert Money.of(money.major, money.currency) == money
    assert Money.of(str(money.major), money.currency) == money


# -- predicates -----------------------------------------------------------------------


def test_predicates():
    assert Money.zero("JPY").is_zero
    assert not Money.zero("JPY").is_positive
    assert not Money.zero("JPY").is_negative
    assert Money.yen(1).is_positive
    assert Money.yen(-1).is_negative
    assert not Money.yen(-1).is_zero


# -- arithmetic -----------------------------------------------------------------------


def test_add_subtract_negate_abs():
    a, b = Money(1234, "USD"), Money(66, "usd")
    assert a + b == Money(1300, "USD")
    assert a - b == Money(1168, "USD")
    assert -a == Money(-1234, "USD")
    assert +a == a
    assert abs(Money(-5, "USD")) == Money(5, "USD")


def test_multiply_by_int_only():
    assert Money.yen(1000) * 3 == Money.yen(3000)
    assert 3 * Money.yen(1000) == Money.yen(3000)
    for factor in (1.5, Decimal("1.5"), True, Money.yen(2)):
        with pytest.raises(TypeError):
            Money.yen(1000) * factor
        with pytest.raises(TypeError):
            factor * Money.yen(1000)


def test_no_division():
    with pytest.raises(TypeError):
        Money(1234, "USD") / 100
    with pytest.raises(TypeError):
        Money(1234, "USD") // 100


def test_cannot_add_plain_numbers():
    with pytest.raises(TypeError):
        Money.yen(1000) + 1
    with pytest.raises(TypeError):
        1 + Money.yen(1000)
    with pytest.raises(TypeError):
        Money.yen(1000) + 0.0
    with pytest.raises(TypeError):
        Money.yen(1000) - 0


def test_sum():
    gifts = [Money.yen(1000), Money.yen(2500), Money.yen(-500)]
    assert sum(gifts) == Money.yen(3000)
    assert sum(gifts, Money.zero("JPY")) == Money.yen(3000)
    assert sum([], Money.zero("JPY")) == Money.zero("JPY")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: sum([a, b]),
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge", "sum"],
)
def test_mixed_currencies_refused(operation):
    with pytest.raises(MixedCurrencyError) as excinfo:
        operation(Money.yen(1000), Money(1000, "USD"))
    assert "JPY" in str(excinfo.value)
    assert "USD" in str(excinfo.value)


def test_comparisons():
    small, big = Money.yen(100), Money.yen(1000)
    assert small < big
    assert small <= big
    assert small <= Money.yen(100)
    assert big > small
    assert big >= small
    assert max([small, big]) == big
    assert sorted([big, small]) == [small, big]


def test_comparison_with_numbers_refused():
    with pytest.raises(TypeError):
        Money.yen(100) < 1000  # noqa: B015
    with pytest.raises(TypeError):
        Money.yen(100) >= 0  # noqa: B015


@given(same_currency_monies(2))
def test_addition_commutative(pair):
    a, b = pair
    assert a + b == b + a


@given(same_currency_monies(3))
def test_addition_associative(triple):
    a, b, c = triple
    assert (a + b) + c == a + (b + c)


@given(same_currency_monies(2))
def test_subtraction_inverts_addition(pair):
    a, b = pair
    assert a + b - b == a
    assert a - a == Money.zero(a.currency)
    assert a + -a == Money.zero(a.currency)


# -- allocate -------------------------------------------------------------------------


def test_allocate_largest_remainder():
    assert Money.yen(100).allocate([1, 1, 1]) == [
        Money.yen(34),
        Money.yen(33),
        Money.yen(33),
    ]
    assert Money.yen(5).allocate([3, 7]) == [Money.yen(2), Money.yen(3)]
    # 10 * 1/6 = 1.67, 10 * 2/6 = 3.33, 10 * 3/6 = 5: the 0.67 remainder wins.
    assert Money.yen(10).allocate([1, 2, 3]) == [
        Money.yen(2),
        Money.yen(3),
        Money.yen(5),
    ]
    assert Money(1000, "USD").allocate([1, 0, 1]) == [
        Money(500, "USD"),
        Money(0, "USD"),
        Money(500, "USD"),
    ]


def test_allocate_negative_mirrors_positive():
    assert Money.yen(-100).allocate([1, 1, 1]) == [
        Money.yen(-34),
        Money.yen(-33),
        Money.yen(-33),
    ]


@pytest.mark.parametrize("ratios", [[], [0, 0], [1, -1], [1.5, 1], [Decimal(1)]])
def test_allocate_bad_ratios(ratios):
    with pytest.raises((ValueError, TypeError)):
        Money.yen(100).allocate(ratios)


@given(
    monies(),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        any
    ),
)
def test_allocate_sums_to_the_whole(money, ratios):
    shares = money.allocate(ratios)
    assert len(shares) == len(ratios)
    assert sum(shares, Money.zero(money.currency)) == money
    assert all(share.currency == money.currency for share in shares)
    total = sum(ratios)
    for share, ratio in zip(shares, ratios, strict=True):
        # Each share is within one minor unit of its exact proportion.
        assert abs(share.amount * total - money.amount * ratio) < total
        if ratio == 0:
            assert share.is_zero


# -- percent --------------------------------------------------------------------------


def test_percent():
    assert Money.yen(10_000).percent(Decimal("3.6")) == Money.yen(360)
    assert Money.yen(999).percent(10) == Money.yen(99)
    assert Money.yen(999).percent(10, rounding=ROUND_UP) == Money.yen(100)
    assert Money.yen(995).percent(Decimal("10"), ROUND_HALF_UP) == Money.yen(100)
    assert Money(1234, "USD").percent(50) == Money(617, "USD")
    assert Money.yen(-999).percent(10) == Money.yen(-99)


def test_percent_is_exact_for_large_amounts():
    big = 10**30 + 7
    assert Money.yen(big).percent(100) == Money.yen(big)
    assert Money.yen(big).percent(Decimal("1E+4")) == Money.yen(big * 100)


@pytest.mark.parametrize("rate", [3.6, True, "3.6", Decimal("NaN")])
def test_percent_refuses_bad_rates(rate):
    with pytest.raises((TypeError, ValueError)):
        Money.yen(1000).percent(rate)


# -- Stripe ---------------------------------------------------------------------------


def test_jpy_is_not_multiplied_by_100_for_stripe():
    assert to_stripe_amount(Money.yen(1000)) == 1000
    assert from_stripe_amount(1000, "jpy") == Money.yen(1000)


def test_usd_is_in_cents_for_stripe():
    assert to_stripe_amount(Money.of("12.34", "USD")) == 1234
    assert from_stripe_amount(1234, "usd") == Money.of("12.34", "USD")


def test_vnd_is_zero_decimal():
    assert to_stripe_amount(Money.of("50000", "VND")) == 50000
    assert from_stripe_amount(50000, "vnd") == Money(50000, "VND")
    assert format_money(from_stripe_amount(50000, "vnd"), "vi") == f"50.000{NBSP}₫"


def test_isk_override():
    assert to_stripe_amount(Money(500, "ISK")) == 50000
    assert from_stripe_amount(50000, "isk") == Money(500, "ISK")
    with pytest.raises(ValueError):
        from_stripe_amount(50050, "isk")


def test_from_stripe_refuses_non_int_and_unknown_currency():
    with pytest.raises(TypeError):
        from_stripe_amount(12.34, "usd")
    with pytest.raises(TypeError):
        from_stripe_amount(True, "usd")
    with pytest.raises(CurrencyError):
        from_stripe_amount(100, "xyz")
    with pytest.raises(TypeError):
        to_stripe_amount(1000)


@given(monies())
def test_stripe_round_trip_every_currency(money):
    assert from_stripe_amount(to_stripe_amount(money), money.currency.lower()) == money


@pytest.mark.parametrize("code", CODES)
@given(amount=amounts)
def test_stripe_round_trip_from_stripe_side(code, amount):
    stripe_amount = amount * 10 ** (stripe_exponent(code) - currency_exponent(code))
    money = from_stripe_amount(stripe_amount, code.lower())
    assert to_stripe_amount(money) == stripe_amount


# -- formatting -----------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["ja", "en", "ja-JP", "en_US", None, "zh-hans"])
@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money.yen(12345), "¥12,345"),
        (Money.yen(0), "¥0"),
        (Money.yen(1_234_567), "¥1,234,567"),
        (Money(1234, "USD"), "US$12.34"),
        (Money(5, "USD"), "US$0.05"),
        (Money(123456789, "USD"), "US$1,234,567.89"),
        (Money(1234, "EUR"), "€12.34"),
        (Money(1234, "GBP"), "£12.34"),
        (Money(1234, "AUD"), "A$12.34"),
        (Money(1234, "CAD"), "CA$12.34"),
        (Money(1234, "PHP"), "₱12.34"),
        (Money(12345, "KRW"), "₩12,345"),
        (Money(12345, "VND"), "₫12,345"),
        (Money(1234, "CHF"), f"CHF{NBSP}12.34"),
        (Money(123456, "NPR"), f"NPR{NBSP}1,234.56"),
        (Money.yen(-1000), "-¥1,000"),
        (Money(-1234, "USD"), "-US$12.34"),
        (Money(-1234, "CHF"), f"-CHF{NBSP}12.34"),
    ],
)
def test_format_ja_en(money, expected, locale):
    assert format_money(money, locale) == expected


@pytest.mark.parametrize("locale", ["vi", "vi-VN", "vi_VN", "VI"])
@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money.yen(12345), f"12.345{NBSP}¥"),
        (Money(12345, "VND"), f"12.345{NBSP}₫"),
        (Money(1_234_567, "VND"), f"1.234.567{NBSP}₫"),
        (Money(1234, "USD"), f"12,34{NBSP}US$"),
        (Money(123456789, "USD"), f"1.234.567,89{NBSP}US$"),
        (Money(1234, "EUR"), f"12,34{NBSP}€"),
        (Money(1234, "CHF"), f"12,34{NBSP}CHF"),
        (Money.yen(-1000), f"-1.000{NBSP}¥"),
        (Money(-12345, "VND"), f"-12.345{NBSP}₫"),
        (Money(-1234, "USD"), f"-12,34{NBSP}US$"),
    ],
)
def test_format_vi(money, expected, locale):
    assert format_money(money, locale) == expected


def test_str_is_ja_format_and_format_method():
    assert str(Money.yen(12345)) == "¥12,345"
    assert f"{Money(1234, 'USD')}" == "US$12.34"
    assert Money(1234, "EUR").format("vi") == f"12,34{NBSP}€"
    assert Money(1234, "EUR").format() == "€12.34"


def test_format_yen():
    assert format_yen(12345) == "¥12,345"
    assert format_yen(-1000) == "-¥1,000"
    assert format_yen(12345, "vi") == f"12.345{NBSP}¥"
    with pytest.raises(TypeError):
        format_yen(12345.0)


@given(monies(), st.sampled_from(["ja", "en", "vi"]))
def test_format_shows_every_digit(money, locale):
    text = format_money(money, locale)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert int(digits) == abs(money.amount)
    assert text.startswith("-") == money.is_negative
