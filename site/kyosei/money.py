"""Money for Kyosei: integer minor units with the currency beside them.

Invariants (see ARCHITECTURE.md, "Money"):

- Every amount is an ``int`` in the currency's ISO 4217 minor unit, stored with its
  upper-case ISO currency code. ¥1,000 is ``Money(1000, "JPY")`` (JPY has no minor
  unit); US$12.34 is ``Money(1234, "USD")``.
- No floats for money, ever: ``Money`` refuses ``float``, ``Decimal`` and ``bool``
  amounts, and ``Money.of()`` refuses a major-unit value that would need rounding.
- This module is the only place that knows currency exponents, converts to and from
  Stripe's integers (``to_stripe_amount`` / ``from_stripe_amount``) and formats
  money for people (``format_money`` / ``format_yen``). No ``/ 100`` anywhere else.
- Arithmetic never mixes currencies: it raises ``MixedCurrencyError``. Converting
  between currencies is not arithmetic; a foreign gift keeps its original amount and
  the yen Stripe actually settled, each as its own ``Money``.

Kyosei stores ISO minor units. Stripe's API integers are the same for every
currency Kyosei supports except where Stripe's exponent differs from ISO's
(``STRIPE_EXPONENT_OVERRIDES``, e.g. ISK: ISO zero-decimal, Stripe two-decimal).
Stripe's further rules (HUF and TWD payouts in multiples of 100, per-currency
minimum charges) are validated by Stripe, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, Inexact, InvalidOperation, localcontext
from types import MappingProxyType

__all__ = [
    "CURRENCY_EXPONENTS",
    "CURRENCY_SYMBOLS",
    "MAX_AMOUNT",
    "NBSP",
    "STRIPE_EXPONENT_OVERRIDES",
    "STRIPE_ZERO_DECIMAL_CURRENCIES",
    "CurrencyError",
    "MixedCurrencyError",
    "Money",
    "currency_exponent",
    "format_money",
    "format_yen",
    "from_stripe_amount",
    "normalise_currency",
    "stripe_exponent",
    "to_stripe_amount",
]


class CurrencyError(ValueError):
    """A currency code Kyosei does not know."""


class MixedCurrencyError(ValueError):
    """Two amounts in different currencies were combined or compared."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine {left} and {right} amounts")
        self.left = left
        self.right = right


#: ISO 4217 code -> minor-unit exponent (number of decimal places).
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "JPY": 0,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "AUD": 2,
        "CAD": 2,
        "NZD": 2,
        "CHF": 2,
        "SGD": 2,
        "HKD": 2,
        "TWD": 2,
        "KRW": 0,
        "VND": 0,
        "PHP": 2,
        "THB": 2,
        "IDR": 2,
        "CNY": 2,
        "MYR": 2,
        "INR": 2,
        "NPR": 2,
        "MMK": 2,
        "BDT": 2,
        "LKR": 2,
        "BRL": 2,
        "HUF": 2,
        "ISK": 0,
    }
)

#: Stripe's zero-decimal currencies: the API integer is the whole unit.
#: https://docs.stripe.com/currencies#zero-decimal
STRIPE_ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)

#: Currencies whose Stripe API exponent differs from the ISO exponent.
#: ISK is zero-decimal in ISO 4217, but Stripe takes it as a two-decimal value
#: (a multiple of 100) for backwards compatibility.
STRIPE_EXPONENT_OVERRIDES: Mapping[str, int] = MappingProxyType({"ISK": 2})

#: Symbols placed before (ja, en) or after (vi) the number. Any other currency is
#: shown by its ISO code, separated from the number by NBSP.
CURRENCY_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {
        "JPY": "¥",
        "USD": "US$",
        "EUR": "€",
        "GBP": "£",
        "AUD": "A$",
        "CAD": "CA$",
        "VND": "₫",
        "PHP": "₱",
        "KRW": "₩",
    }
)

#: U+00A0 NO-BREAK SPACE, so that a number is never wrapped away from its currency.
NBSP = "\u00a0"

#: The largest amount (in minor units) Kyosei records for one gift or transfer:
#: ¥1,000,000,000,000 — far beyond any real gift, far below the database's
#: BIGINT (9.2 × 10^18), so a mistyped or hostile 23-digit amount is refused with
#: a clear message instead of failing the database write.
MAX_AMOUNT = 10**12


def normalise_currency(code: str) -> str:
    """Return the upper-case ISO code for ``code`` ("jpy" from Stripe -> "JPY").

    Raises ``CurrencyError`` for a code not in ``CURRENCY_EXPONENTS`` and
    ``TypeError`` for anything that is not a string.
    """
    if not isinstance(code, str):
        raise TypeError(f"Currency code must be a str, not {type(code).__name__}")
    upper = code.upper()
    if upper not in CURRENCY_EXPONENTS:
        raise CurrencyError(f"Unknown currency code {code!r}")
    return upper


def currency_exponent(code: str) -> int:
    """ISO 4217 minor-unit exponent of ``code`` (JPY 0, USD 2)."""
    return CURRENCY_EXPONENTS[normalise_currency(code)]


def stripe_exponent(code: str) -> int:
    """Exponent of Stripe's API integers for ``code`` (JPY 0, USD 2, ISK 2)."""
    code = normalise_currency(code)
    return STRIPE_EXPONENT_OVERRIDES.get(code, CURRENCY_EXPONENTS[code])


def _check_int(value: object, what: str) -> int:
    # bool is an int subclass; True is not an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True, repr=False)
class Money:
    """An amount in minor units of one currency. Immutable and hashable.

    ``Money(1234, "usd")`` is US$12.34; the currency is normalised to upper case.
    Equality compares amount and currency (``Money(0, "JPY") != Money(0, "USD")``);
    ordering and arithmetic between currencies raise ``MixedCurrencyError``.
    ``sum(amounts)`` works (``0 + money`` is ``money``) but returns the int ``0``
    for an empty iterable: use ``sum(amounts, Money.zero(currency))`` when the
    iterable may be empty.
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        _check_int(self.amount, "Money amount")
        object.__setattr__(self, "currency", normalise_currency(self.currency))

    # -- constructors -------------------------------------------------------------

    @classmethod
    def of(cls, major: Decimal | int | str, currency: str) -> Money:
        """Money from a major-unit value: ``Money.of("12.34", "USD")`` is 1234 cents.

        Exact or refused: a value with more decimals than the currency has
        (``Money.of("1.5", "JPY")``) raises ``ValueError``; a ``float`` or ``bool``
        raises ``TypeError``.
        """
        exponent = currency_exponent(currency)
        if isinstance(major, bool) or not isinstance(major, Decimal | int | str):
            raise TypeError(
                "Major amount must be a Decimal, int or str, "
                f"not {type(major).__name__}"
            )
        try:
            value = Decimal(major)
        except InvalidOperation:
            raise ValueError(f"Not a decimal amount: {major!r}") from None
        if not value.is_finite():
            raise ValueError(f"Not a finite amount: {major!r}")
        if value and value.adjusted() >= 30:
            # "1E+999999999" would otherwise build a billion-digit int.
            raise ValueError(f"Amount too large: {major!r}")
        sign, digits, exp = value.as_tuple()
        assert isinstance(exp, int)  # finite, checked above
        coefficient = int("".join(map(str, digits)))
        shift = exp + exponent
        if shift >= 0:
            minor = coefficient * 10**shift
        else:
            minor, remainder = divmod(coefficient, 10**-shift)
            if remainder:
                raise ValueError(
                    f"{major} has more decimal places than {currency.upper()} allows "
                    f"({exponent})"
                )
        return cls(-minor if sign else minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def yen(cls, amount: int) -> Money:
        """``Money.yen(1000)`` is ¥1,000."""
        return cls(amount, "JPY")

    # -- properties ---------------------------------------------------------------

    @property
    def exponent(self) -> int:
        """ISO minor-unit exponent of the currency (JPY 0, USD 2)."""
        return CURRENCY_EXPONENTS[self.currency]

    @property
    def major(self) -> Decimal:
        """The amount in major units, exactly: ``Decimal("12.34")`` for 1234 USD."""
        digits = tuple(int(d) for d in str(abs(self.amount)))
        return Decimal((int(self.amount < 0), digits, -self.exponent))

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    # -- arithmetic ---------------------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MixedCurrencyError(self.currency, other.currency)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __radd__(self, other: object) -> Money:
        # Only for sum(): its start value is the int 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, other: object) -> Money:
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return Money(self.amount * other, self.currency)

    __rmul__ = __mul__

    def allocate(self, ratios: Iterable[int]) -> list[Money]:
        """Split into shares proportional to ``ratios`` without losing a minor unit.

        Largest remainder: each share is rounded down, then the leftover minor units
        go one each to the shares with the largest remainders (earlier shares win
        ties). The shares always sum to ``self``; ``(-m).allocate(r)`` is the
        negation of ``m.allocate(r)``. ``Money.yen(100).allocate([1, 1, 1])`` is
        ¥34, ¥33, ¥33.
        """
        ratios = [_check_int(r, "Allocation ratio") for r in ratios]
        if not ratios:
            raise ValueError("Cannot allocate over no ratios")
        if any(r < 0 for r in ratios):
            raise ValueError("Allocation ratios must not be negative")
        total = sum(ratios)
        if total == 0:
            raise ValueError("Allocation ratios must not all be zero")
        whole = abs(self.amount)
        parts = [divmod(whole * r, total) for r in ratios]
        shares = [share for share, _ in parts]
        leftover = whole - sum(shares)
        by_remainder = sorted(range(len(parts)), key=lambda i: -parts[i][1])
        for i in by_remainder[:leftover]:
            shares[i] += 1
        sign = -1 if self.amount < 0 else 1
        return [Money(sign * share, self.currency) for share in shares]

    def percent(self, rate: Decimal | int, rounding: str = ROUND_DOWN) -> Money:
        """``rate`` per cent of this amount, rounded to the minor unit.

        ``Money.yen(10_000).percent(Decimal("3.6"))`` is ¥360. ``rounding`` is a
        ``decimal`` rounding mode (``ROUND_DOWN``, ``ROUND_HALF_UP``, ...).
        """
        if isinstance(rate, bool) or not isinstance(rate, Decimal | int):
            raise TypeError(f"Rate must be a Decimal or int, not {type(rate).__name__}")
        rate = Decimal(rate)
        if not rate.is_finite():
            raise ValueError(f"Not a finite rate: {rate}")
        _, digits, exp = rate.as_tuple()
        assert isinstance(exp, int)  # finite, checked above
        with localcontext() as ctx:
            # Room for every digit of the product and of the rounded result, so the
            # only rounding is the one asked for.
            ctx.prec = len(str(abs(self.amount))) + len(digits) + abs(exp) + 8
            ctx.traps[Inexact] = True
            exact = (Decimal(self.amount) * rate).scaleb(-2)
            ctx.traps[Inexact] = False
            minor = exact.quantize(Decimal(1), rounding=rounding)
        return Money(int(minor), self.currency)

    # -- comparison ---------------------------------------------------------------

    def _compare_key(self, other: object) -> int | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other)
        return other.amount

    def __lt__(self, other: object) -> bool:
        other_amount = self._compare_key(other)
        if other_amount is None:
            return NotImplemented
        return self.amount < other_amount

    def __le__(self, other: object) -> bool:
        other_amount = self._compare_key(other)
        if other_amount is None:
            return NotImplemented
        return self.amount <= other_amount

    def __gt__(self, other: object) -> bool:
        other_amount = self._compare_key(other)
        if other_amount is None:
            return NotImplemented
        return self.amount > other_amount

    def __ge__(self, other: object) -> bool:
        other_amount = self._compare_key(other)
        if other_amount is None:
            return NotImplemented
        return self.amount >= other_amount

    # -- display ------------------------------------------------------------------

    def format(self, locale: str | None = "ja") -> str:
        """Format for people; see ``format_money``."""
        return format_money(self, locale)

    def __str__(self) -> str:
        return format_money(self, "ja")

    def __repr__(self) -> str:
        return f"Money({self.amount}, {self.currency!r})"


# -- Stripe ---------------------------------------------------------------------------


def to_stripe_amount(money: Money) -> int:
    """The integer Stripe's API expects for ``money``.

    ¥1,000 -> ``1000`` (JPY is zero-decimal, never multiplied by 100);
    US$12.34 -> ``1234``; ISK 500 -> ``50000`` (see ``STRIPE_EXPONENT_OVERRIDES``).
    Pass the currency to Stripe as ``money.currency.lower()``.
    """
    if not isinstance(money, Money):
        raise TypeError(f"Expected Money, not {type(money).__name__}")
    shift = stripe_exponent(money.currency) - money.exponent
    if shift >= 0:
        return money.amount * 10**shift
    amount, remainder = divmod(money.amount, 10**-shift)
    if remainder:
        raise ValueError(f"{money!r} cannot be expressed in Stripe's minor unit")
    return amount


def from_stripe_amount(amount: int, currency: str) -> Money:
    """``Money`` from an integer and currency code as Stripe sends them.

    ``from_stripe_amount(1000, "jpy")`` is ¥1,000; ``(1234, "usd")`` is US$12.34.
    Raises ``ValueError`` for an amount finer than Kyosei's (ISO) minor unit, e.g.
    ISK ``50050``.
    """
    _check_int(amount, "Stripe amount")
    code = normalise_currency(currency)
    shift = stripe_exponent(code) - CURRENCY_EXPONENTS[code]
    if shift <= 0:
        return Money(amount * 10**-shift, code)
    minor, remainder = divmod(amount, 10**shift)
    if remainder:
        raise ValueError(
            f"Stripe amount {amount} {code} is finer than the {code} minor unit"
        )
    return Money(minor, code)


# -- formatting -----------------------------------------------------------------------


def _locale_language(locale: str | None) -> str:
    # "vi-VN", "vi_VN" and "VI" all mean Vietnamese formatting. get_language() is
    # None when translation is deactivated.
    return (locale or "ja").replace("_", "-").split("-", 1)[0].lower()


def format_money(money: Money, locale: str | None = "ja") -> str:
    """Format ``money`` for people reading ``locale``.

    Always as many decimals as the currency's ISO exponent, a leading ``-`` for
    negative amounts, and NBSP (U+00A0) wherever a space separates number and
    currency.

    - ja, en: ``¥12,345``, ``US$12.34``, ``€12.34``, ``₫12,345``, ``CHF 12.34``,
      ``-¥1,000``
    - vi: ``12.345 ¥``, ``12,34 US$``, ``12,34 €``, ``12.345 ₫``, ``12,34 CHF``,
      ``-1.000 ¥``

    ``ja`` and ``en`` (and any other locale) put the symbol first, with ``,`` for
    thousands and ``.`` for decimals; a currency without a symbol in
    ``CURRENCY_SYMBOLS`` is shown by its ISO code and NBSP. ``vi`` (Vietnamese,
    any region) uses ``.`` for thousands and ``,`` for decimals and puts NBSP and
    the symbol or code after the number. Region suffixes are ignored: ``ja-JP`` is
    ``ja``. ``None`` or an unknown locale falls back to the ``ja`` style rather
    than failing a page or a receipt.
    """
    if not isinstance(money, Money):
        raise TypeError(f"Expected Money, not {type(money).__name__}")
    exponent = money.exponent
    whole, fraction = divmod(abs(money.amount), 10**exponent)
    sign = "-" if money.amount < 0 else ""
    grouped = f"{whole:,}"
    fraction_digits = str(fraction).zfill(exponent) if exponent else ""
    symbol = CURRENCY_SYMBOLS.get(money.currency)

    if _locale_language(locale) == "vi":
        number = grouped.replace(",", ".")
        if fraction_digits:
            number += "," + fraction_digits
        return f"{sign}{number}{NBSP}{symbol or money.currency}"

    number = grouped
    if fraction_digits:
        number += "." + fraction_digits
    prefix = symbol if symbol else money.currency + NBSP
    return f"{sign}{prefix}{number}"


def format_yen(amount: int, locale: str | None = "ja") -> str:
    """Format an integer yen amount: ``format_yen(12345)`` is ``¥12,345``."""
    return format_money(Money.yen(amount), locale)
