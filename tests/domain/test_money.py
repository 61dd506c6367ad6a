"""Money: Decimal amounts at their currency's precision, never floats, never mixed currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from disputes.domain.errors import CurrencyMismatch, InvalidAmount, InvalidValue, UnknownCurrency
from disputes.domain.money import MAX_AMOUNT, Money, currency_exponent


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("USD", 2), ("EUR", 2), ("CNY", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("CLF", 4)],
)
def test_each_currency_has_its_iso_4217_minor_unit(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["XYZ", "usd", "", "US", "BTC"])
def test_an_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(UnknownCurrency):
        Money.of("1", currency)


def test_unknown_currency_is_an_invalid_value() -> None:
    assert issubclass(UnknownCurrency, InvalidValue)
    assert UnknownCurrency.status == 422


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("12.50", "USD", "12.50"),
        ("12.5", "USD", "12.50"),
        ("12", "USD", "12.00"),
        ("12.500", "USD", "12.50"),  # trailing zeros are not extra precision
        (12, "USD", "12.00"),
        (Decimal("0.01"), "USD", "0.01"),
        ("1500", "JPY", "1500"),
        ("1500.0", "JPY", "1500"),
        ("1.234", "KWD", "1.234"),
        ("1.2", "KWD", "1.200"),
    ],
)
def test_an_amount_is_quantised_to_its_currency_precision(
    amount: str | int | Decimal, currency: str, expected: str
) -> None:
    money = Money.of(amount, currency)

    assert isinstance(money.amount, Decimal)
    assert str(money.amount) == expected
    assert money.currency == currency


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1.001", "USD"),
        ("0.005", "USD"),
        ("1.5", "JPY"),
        ("100.01", "JPY"),
        ("1.2345", "KWD"),
        ("0.0001", "KWD"),
        ("1e-30", "USD"),
    ],
)
def test_an_over_precise_amount_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount, match="decimal places"):
        Money.of(amount, currency)


@pytest.mark.parametrize("amount", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_a_non_finite_amount_is_refused(amount: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(amount, "USD")


@pytest.mark.parametrize("amount", ["", "abc", "12,50", "1.2.3", "$5", None, [1]])
def test_something_that_is_not_a_decimal_is_refused(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(amount, "USD")  # type: ignore[arg-type]


def test_a_float_is_refused_even_when_it_looks_exact() -> None:
    with pytest.raises(InvalidAmount, match="float"):
        Money.of(0.5, "USD")  # type: ignore[arg-type]


def test_an_amount_beyond_the_largest_accepted_is_refused() -> None:
    assert Money.of(MAX_AMOUNT, "USD").amount == MAX_AMOUNT
    with pytest.raises(InvalidAmount, match="largest"):
        Money.of(MAX_AMOUNT + Decimal("0.01"), "USD")
    with pytest.raises(InvalidAmount, match="largest"):
        Money.of("1e40", "USD")


def test_a_huge_over_precise_amount_is_a_domain_error_not_a_decimal_signal() -> None:
    # 30 significant digits: quantising it would overflow the decimal context (28 digits).
    with pytest.raises(InvalidAmount):
        Money.of("123456789012345678901234567.891", "USD")


@pytest.mark.parametrize("amount", ["0", "0.00", "-0", "-1", "-0.01"])
def test_a_positive_amount_must_be_above_zero(amount: str) -> None:
    with pytest.raises(InvalidAmount, match="positive"):
        Money.positive(amount, "USD")


def test_a_positive_amount_names_what_was_wrong() -> None:
    with pytest.raises(InvalidAmount, match="claimed_amount"):
        Money.positive("0", "USD", "claimed_amount")


def test_zero_is_at_the_currency_precision() -> None:
    assert str(Money.zero("USD").amount) == "0.00"
    assert str(Money.zero("JPY").amount) == "0"
    assert str(Money.zero("KWD").amount) == "0.000"


def test_amounts_of_one_currency_add_subtract_and_compare() -> None:
    a, b = Money.of("10.25", "USD"), Money.of("0.75", "USD")

    assert a + b == Money.of("11.00", "USD")
    assert a - b == Money.of("9.50", "USD")
    assert b < a and b <= a and a > b and a >= b
    assert a <= Money.of("10.25", "USD") and a >= Money.of("10.25", "USD")
    assert (a + b).amount == Decimal("11.00")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge"],
)
def test_amounts_of_different_currencies_never_mix(operation: object) -> None:
    usd, eur = Money.of("1", "USD"), Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatch):
        operation(usd, eur)  # type: ignore[operator]


def test_money_is_shown_and_serialised_as_a_decimal_string() -> None:
    money = Money.of("12.5", "USD")

    assert str(money) == "12.50 USD"
    assert money.as_dict() == {"amount": "12.50", "currency": "USD"}


def test_money_is_immutable() -> None:
    money = Money.of("1", "USD")
    with pytest.raises(AttributeError):
        money.amount = Decimal("2")  # type: ignore[misc]
