"""Money: a Decimal amount in an ISO 4217 currency, at that currency's precision. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from disputes.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# ISO 4217 minor units (digits after the point). Currencies not listed are refused.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD "
    "HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD "
    "MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
    "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
)
CURRENCY_EXPONENTS: dict[str, int] = {
    **{c: 0 for c in _ZERO.split()},
    **{c: 2 for c in _TWO.split()},
    **{c: 3 for c in _THREE.split()},
    **{c: 4 for c in _FOUR.split()},
}
MAX_AMOUNT = Decimal("1000000000000")  # 10^12 units: far beyond any order, small enough to be safe


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(
            f"{currency!r} is not an ISO 4217 currency code this platform accepts"
        ) from None


@dataclass(frozen=True, order=False)
class Money:
    """An amount with its currency, always quantised to the currency's minor unit."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Parse and validate: finite, at most the currency's precision. Sign is checked by callers."""
        exponent = currency_exponent(currency)
        if isinstance(amount, float):  # pragma: no cover - refused by type, kept as a guard
            raise InvalidAmount("amounts are decimal strings, never floats")
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidAmount(f"{amount!r} is not a decimal amount") from None
        if not value.is_finite():
            raise InvalidAmount(f"{amount!r} is not a finite amount")
        # The bound first: quantising a value with more digits than the decimal context holds would
        # raise decimal.InvalidOperation instead of a domain error.
        if abs(value) > MAX_AMOUNT:
            raise InvalidAmount(f"{amount} is beyond the largest amount accepted")
        exp = value.as_tuple().exponent
        assert isinstance(exp, int)
        if exp < -exponent and value != value.quantize(Decimal(1).scaleb(-exponent)):
            raise InvalidAmount(
                f"{amount} has more than {exponent} decimal places, the precision of {currency}"
            )
        return cls(value.quantize(Decimal(1).scaleb(-exponent)), currency)

    @classmethod
    def positive(cls, amount: str | Decimal | int, currency: str, what: str = "amount") -> Money:
        money = cls.of(amount, currency)
        if money.amount <= 0:
            raise InvalidAmount(f"{what} must be positive, got {money.amount}")
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{other.currency} amount used with a {self.currency} claim")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def as_dict(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}
