"""Every invoice line shows arithmetic a reader can check with a calculator: quantity × unit
price (× the share of the period) (− the plan's discount) = the line's amount. Worked examples
from the bookkeeper's own charges, and the invariant over random plans and months: the product
is the ledger's amount to within the units the split of a month into days leaves over, so to
the cent it is the amount or one cent from it, never more."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.documents.invoice_lines import InvoiceLine, invoice_lines
from bookkeeper.domain.documents.line_arithmetic import Arithmetic, monthly, prorated
from bookkeeper.domain.ledger import ledger_document
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.recurring import decrease_credit, increase_charges, opening_charges
from documents.formatting import unit_price

MSK = "Europe/Moscow"
NOVEMBER = period_containing(1, date(2026, 11, 1))  # 30 days


def phones(count: int, rate: int = 3_500_000, discount: int = 0) -> ItemPrice:
    gross = count * rate
    return ItemPrice("devices", "sip_device", "Desk phone", count, count, rate, gross, discount, gross - discount, 0)


def lines_of(charges, period=NOVEMBER) -> list[InvoiceLine]:
    entries = [
        ledger_document(c, account_id="a" * 32, account_name="Alpha", currency="RUB", tz=MSK, now_gregorian=0)
        for c in charges
        if c is not None
    ]
    return invoice_lines(entries, period.start, period.end, "RUB", MSK)


def shown(line: InvoiceLine) -> str:
    sums = line.arithmetic
    assert sums is not None
    text = f"{sums.quantity} × {unit_price(sums.unit_price, 2, 'en')}"
    if sums.share:
        text += f" × {sums.share[0]}/{sums.share[1]}"
    if sums.less:
        text += f" − {unit_price(sums.less, 2, 'en')}"
    return f"{text} = {line.amount_minor / 100:.2f}"


def test_a_prorated_increase_shows_the_units_added_and_the_share_not_the_new_total():
    # 4 → 6 desk phones at 350.00 on 3 November: 28 of 30 days left. Before: "6 × 350.00 = 653.33".
    (line,) = lines_of(increase_charges(NOVEMBER, date(2026, 11, 3), phones(6), phones(4)))
    assert shown(line) == "2 × 350.00 × 28/30 = 653.33"
    assert (line.name, line.from_quantity, line.quantity) == ("Desk phone", 4, 6)


def test_a_decrease_credit_shows_the_units_removed():
    credit = decrease_credit(NOVEMBER, date(2026, 11, 16), phones(4), phones(6), round_=0)
    (line,) = lines_of([credit])
    assert shown(line) == "-2 × 350.00 × 15/30 = -350.00"


def test_a_month_shows_the_rate_and_the_plans_discount():
    (line,) = lines_of(opening_charges(NOVEMBER, date(2026, 11, 1), [phones(3, discount=500_000)], prorate=False))
    assert shown(line) == "3 × 350.00 − 50.00 = 1000.00"


def test_a_new_account_joining_mid_month_pays_its_items_for_the_days_left():
    (line,) = lines_of(opening_charges(NOVEMBER, date(2026, 11, 21), [phones(2)], prorate=True))
    assert shown(line) == "2 × 350.00 × 10/30 = 233.33"


def test_a_daily_line_shows_the_days_and_the_days_price_not_the_monthly_one():
    # 3 phones at 6.00 a month billed daily for 11 days of a 30-day month: 0.60 a day.
    fees = [daily_fee_charge(NOVEMBER, date(2026, 11, day), phones(3, rate=60_000), None) for day in range(1, 12)]
    (line,) = lines_of(fees)
    assert shown(line) == "11 × 0.60 = 6.60"
    # 31 days of December: the month does not divide, the days differ by a unit, and the price
    # shows the digits it needs.
    december = period_containing(1, date(2026, 12, 1))
    fees = [daily_fee_charge(december, date(2026, 12, day), phones(1, rate=60_000), None) for day in range(1, 32)]
    (line,) = lines_of(fees, december)
    assert shown(line) == "31 × 0.1935 = 6.00"  # 31 × 0.1935 = 5.9985: within half a cent of 6.00


def test_records_written_before_the_level_was_kept_show_one_price_for_the_whole_charge():
    legacy = {"quantity": 6, "rate": 3_500_000, "monthly": 21_000_000, "ratio": "28/30"}
    assert prorated(legacy, 6_533_333) == Arithmetic(1, 6_533_333)
    assert monthly({"quantity": 3, "rate": 3_500_000, "monthly": 10_500_000}, 10_500_000) == Arithmetic(3, 3_500_000)
    assert monthly({"quantity": 3, "rate": None, "monthly": 9_000_000}, 9_000_000) == Arithmetic(3, 3_000_000)


def to_minor(units: Fraction) -> int:
    """Half away from zero, as documents round."""
    cents = abs(units) / 100
    whole = int(cents + Fraction(1, 2))
    return whole if units >= 0 else -whole


@given(
    billing_day=st.integers(1, 28),
    month=st.integers(1, 12),
    rate=st.integers(1, 10**8),
    discount_share=st.integers(0, 3),
    steps=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 40)), min_size=1, max_size=8),
    daily_days=st.lists(st.integers(0, 30), max_size=10, unique=True),
)
def test_every_line_multiplies_out_to_its_amount(billing_day, month, rate, discount_share, steps, daily_days):
    period = period_containing(billing_day, date(2026, month, billing_day))

    def price(count: int) -> ItemPrice:
        gross = count * rate
        discount = gross * discount_share // 10
        return ItemPrice(
            "devices", "sip_device", "Desk phone", count, count, rate, gross, discount, gross - discount, 0
        )

    charges = list(opening_charges(period, period.start, [price(2)], prorate=False))
    level, round_ = price(2), 0
    for offset, count in sorted(steps):
        day = min(period.start + timedelta(days=offset), period.end)
        if count > level.billable_quantity:
            charges += increase_charges(period, day, price(count), level, round_=round_)
            level = price(count)
        elif 0 < count < level.billable_quantity:
            credit = decrease_credit(period, day, price(count), level, round_=round_)
            charges.append(credit)
            round_ += 1
            level = price(count)
    for offset in daily_days:
        day = period.start + timedelta(days=offset)
        if day <= period.end:
            charges.append(daily_fee_charge(period, day, price(3), None))
    for line in lines_of(charges, period):
        sums = line.arithmetic
        assert sums is not None
        amount_units = sum(
            (1 if e_type == "debit" else -1) * c.amount
            for c in charges
            if c is not None
            for e_type in [c.ledger_type]
            if c.entry_id in line.entry_ids
        )
        assert abs(sums.product() - amount_units) <= sums.slack
        assert abs(to_minor(sums.product()) - line.amount_minor) <= 1


def test_an_activation_shows_the_items_activated_times_the_plans_charge():
    price = ItemPrice("devices", "sip_device", "Desk phone", 5, 5, 3_500_000, 17_500_000, 0, 17_500_000, 1_000_000)
    before = ItemPrice("devices", "sip_device", "Desk phone", 2, 2, 3_500_000, 7_000_000, 0, 7_000_000, 1_000_000)
    lines = lines_of(increase_charges(NOVEMBER, date(2026, 11, 1), price, before))
    assert [shown(line) for line in lines] == ["3 × 350.00 = 1050.00", "3 × 100.00 = 300.00"]
