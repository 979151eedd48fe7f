"""A netto reseller's VAT is debited with each charge, so the balance and the documents tell one
truth: worked examples (Gamma Shop's phone; a credit mirrors its debit; brutto and no VAT change
nothing) and the invariants over random charges (the ledger holds net + VAT, the net read back is
what the plan priced, and the document priced from it asks for what the balance was charged, to
within the rounding of its lines to the minor unit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.added_vat import as_priced, net_of, netto_rate, vat_on, with_vat
from bookkeeper.domain.documents.carriers import parse_carrier
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import invoice_lines
from bookkeeper.domain.documents.vat import PER_LINE, PER_RATE, VatPolicy
from bookkeeper.domain.ledger import ledger_document, signed_amount
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.recurring import decrease_credit, increase_charges, opening_charges

NOVEMBER = period_containing(1, date(2026, 11, 1))
MSK = "Europe/Moscow"


def phones(count: int, rate: int = 4_500_000) -> ItemPrice:
    return ItemPrice("devices", "sip_device", "Desk phone", count, count, rate, count * rate, 0, count * rate, 0)


def written(charge, rate: Decimal) -> dict:
    return ledger_document(
        charge,
        account_id="g" * 32,
        account_name="Gamma Shop",
        currency="RUB",
        tz=MSK,
        now_gregorian=0,
        added_vat_rate=rate,
    )


def netto_invoice(entries: list[dict], rate: Decimal, rounding: str) -> dict:
    """November's invoice of `entries` as a netto reseller issues it: priced from their nets."""
    lines = invoice_lines(as_priced(entries, "netto"), NOVEMBER.start, NOVEMBER.end, "RUB", MSK)
    return document_data(
        document_type="invoice",
        carrier=parse_carrier({"id": "volna", "name": "Волна", "main": True, "vat_rounding": rounding}),
        customer={"id": "g", "name": "Gamma Shop"},
        period_start=NOVEMBER.start,
        period_end=NOVEMBER.end,
        issued=NOVEMBER.end,
        number="1",
        sequence_number=1,
        currency="RUB",
        language="ru",
        vat=VatPolicy("netto", rate),
        lines=lines,
    )


def test_gamma_shops_phone_is_debited_with_its_vat_and_invoiced_the_same():
    # 450.00 a month at 22 % netto: the balance was debited 450.00 and the invoice asked 549.00.
    (charge,) = opening_charges(NOVEMBER, date(2026, 11, 1), [phones(1)], prorate=False)
    entry = written(charge, netto_rate("netto", Decimal(22)))
    assert (entry["amount"], entry["metadata"]["kazbill"]["vat"]) == (
        5_490_000,
        {"rate": "22", "net": 4_500_000, "vat": 990_000},
    )
    assert signed_amount(entry) == -5_490_000  # what Kazoo's balance sees
    data = netto_invoice([entry], Decimal(22), PER_LINE)
    assert data["totals"] == {"net": 45_000, "vat": 9_900, "gross": 54_900}


def test_brutto_and_no_vat_debit_the_price_as_it_is():
    (charge,) = opening_charges(NOVEMBER, date(2026, 11, 1), [phones(1)], prorate=False)
    for disposition in ("brutto", "none"):
        entry = written(charge, netto_rate(disposition, Decimal(20)))
        assert entry["amount"] == 4_500_000 and "vat" not in entry["metadata"]["kazbill"]
        assert as_priced([entry], disposition) == [entry]


def test_a_credit_gives_back_the_vat_its_debit_took():
    credit = decrease_credit(NOVEMBER, date(2026, 11, 16), phones(1), phones(3), round_=0)
    entry = written(credit, Decimal(20))
    assert entry["pvt_ledger_type"] == "credit"
    assert (entry["amount"], net_of(entry)) == (5_400_000, 4_500_000)  # 2 × 450.00 × 15/30, + 20 %
    assert vat_on(-4_500_000, Decimal(20)) == -vat_on(4_500_000, Decimal(20))


@given(
    rate=st.decimals(0, 30, places=2, allow_nan=False, allow_infinity=False),
    price=st.integers(1, 10**8),
    steps=st.lists(st.tuples(st.integers(1, 29), st.integers(1, 30)), max_size=6),
    rounding=st.sampled_from([PER_LINE, PER_RATE]),
)
def test_under_netto_the_document_asks_what_the_balance_was_charged(rate, price, steps, rounding):
    charges = list(opening_charges(NOVEMBER, date(2026, 11, 1), [phones(1, price)], prorate=False))
    level = phones(1, price)
    for offset, count in sorted(steps):
        day = date(2026, 11, 1 + offset)
        if count > level.billable_quantity:
            charges += increase_charges(NOVEMBER, day, phones(count, price), level)
            level = phones(count, price)
    entries = [written(c, rate) for c in charges]
    for charge, entry in zip(charges, entries, strict=True):
        net, vat = charge.amount, vat_on(charge.amount, rate)
        assert (entry["amount"], net_of(entry)) == (net + vat, net)
        assert with_vat(net, rate)[0] == entry["amount"]
    data = netto_invoice(entries, rate, rounding)
    lines = data["lines"]
    charged_units = sum(entry["amount"] for entry in entries)
    # Each line's net and VAT are rounded to kopecks once (per line, or per rate): the document's
    # total is the balance's charge to within a kopeck a line, and one more for the VAT's rounding.
    assert abs(data["totals"]["gross"] * 100 - charged_units) <= 100 * (len(lines) + 1)
