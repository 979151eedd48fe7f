"""Invoice lines from a period's ledger: a worked example with every kind of line, carriers
taking calls by pattern, and the invariants (every service debit of the period is on exactly one
line of exactly one carrier; payments never are)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.daily_fees import daily_fee_charge
from bookkeeper.domain.documents.carriers import CarrierError, parse_carriers
from bookkeeper.domain.documents.invoice_lines import (
    InvoiceLine,
    day_ranges,
    invoice_lines,
    lines_of,
    minor_of,
    rounded_as_documents,
)
from bookkeeper.domain.kazoo_names import to_gregorian_seconds
from bookkeeper.domain.ledger import ledger_document
from bookkeeper.domain.money import currency
from bookkeeper.domain.periods import period_containing
from bookkeeper.domain.plans import ItemPrice

START, END = date(2026, 11, 1), date(2026, 11, 30)
MSK = "Europe/Moscow"
CREATED_NOV_5 = to_gregorian_seconds(int(datetime(2026, 11, 5, 12, 0, tzinfo=UTC).timestamp()))


def entry(entry_id: str, reason: str, amount: int, *, ledger_type: str = "debit", **kazbill) -> dict:
    doc = {
        "_id": entry_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "description": kazbill.pop("description", reason),
        "source": {"service": reason},
        "pvt_created": kazbill.pop("created", CREATED_NOV_5),
    }
    if kazbill:
        doc["metadata"] = {"kazbill": {"reason": reason, **kazbill}}
    return doc


def daily(day: int, rate: int = 166_667, quantity: int = 1) -> dict:
    return entry(
        f"202611-daily-{day}",
        "daily_fee",
        rate * quantity,
        category="devices",
        item="sip_phone",
        rate=rate,
        quantity=quantity,
        day=f"2026-11-{day:02d}",
        description="SIP phone, daily",
    )


def call(n: int, number: str, amount: int, seconds: int) -> dict:
    return entry(
        f"202611-kazbill-call-{n}",
        "per_minute_call",
        amount,
        day="2026-11-10",
        call={"number": number, "caller": "74950000001", "billed_seconds": seconds, "direction": "outbound"},
    )


PERIOD = {"start": "2026-11-01", "end": "2026-11-30"}
LEDGER = [
    entry(
        "202611-mrc-users",
        "monthly_recurring",
        10_000_000,
        category="users",
        item="user",
        quantity=2,
        rate=5_000_000,
        period=PERIOD,
        day="2026-11-01",
        description="Users",
    ),
    entry(
        "202611-prorate-phones",
        "recurring_prorate",
        4_838_710,
        category="devices",
        item="sip_device",
        quantity=3,
        rate=5_000_000,
        period=PERIOD,
        day="2026-11-02",
        ratio="29/30",
        description="SIP devices, added 2 Nov",
    ),
    *[daily(day) for day in (1, 2, 3, 7, 8)],
    daily(9, quantity=2),
    entry("202611-activation", "number_activation", 1_000_000),  # Kazoo's own: dated by pvt_created
    call(1, "74951234567", 24_000, 120),
    call(2, "442071234567", 120_000, 60),
    entry("202611-paypal-1", "paypal", 50_000_000, ledger_type="credit"),
    entry("202611-correction", "balance_correction", 10_000),
    entry(
        "202610-mrc-old",
        "monthly_recurring",
        10_000_000,
        period={"start": "2026-10-01", "end": "2026-10-31"},
        day="2026-10-01",
    ),
    entry("202612-late", "number_activation", 1_000_000, created=CREATED_NOV_5 + 40 * 86_400),
]
CARRIERS = parse_carriers(
    [
        {"id": "volna", "name": "Volna Telecom LLC", "main": True, "legal": {"inn": "7701234567"}},
        {
            "id": "volna-intl",
            "name": "Volna International",
            "document_types": ["invoice"],
            "called_patterns": ["^(?!7)"],
        },
    ]
)


def test_a_periods_ledger_becomes_the_lines_a_reseller_expects():
    lines = invoice_lines(LEDGER, START, END, "RUB", MSK, [c.as_call_carrier() for c in CARRIERS])
    shown = [
        (
            line.kind,
            line.carrier,
            line.description,
            line.quantity,
            line.rate_minor,
            line.amount_minor,
            line.days,
            line.ratio,
        )
        for line in lines
    ]
    assert shown == [
        ("monthly", "volna", "Users", 2, 50_000, 100_000, (), None),
        ("prorated", "volna", "SIP devices, added 2 Nov", 3, 50_000, 48_387, (("2026-11-02", "2026-11-30"),), "29/30"),
        (
            "daily",
            "volna",
            "SIP phone, daily",
            1,
            1_667,
            8_334,
            (("2026-11-01", "2026-11-03"), ("2026-11-07", "2026-11-08")),
            None,
        ),  # 5 × 16.6667 = 83.3335: 83.34, the largest fraction takes the kopeck the sum rounds to
        ("daily", "volna", "SIP phone, daily", 2, 1_667, 3_333, (("2026-11-09", "2026-11-09"),), None),
        ("one_time", "volna", "number_activation", 1, None, 10_000, (), None),  # Kazoo's own, dated by creation
        ("calls", "volna", "per-minute calls", 1, None, 240, (), None),  # 2 min at 1.20
        ("calls", "volna-intl", "per-minute calls", 1, None, 1_200, (), None),  # abroad: the other carrier
    ]
    assert [line.billed_seconds for line in lines if line.kind == "calls"] == [120, 60]
    # The main carrier's lines add up to its ledger sum rounded once: 1,702.9379... → 1,702.94,
    # where each line rounded alone gave 1,702.93 (.10 + .35 + .34 of a kopeck were lost).
    assert sum(line.amount_minor for line in lines_of(lines, "volna")) == 170_294
    assert [line.kind for line in lines_of(lines, "volna-intl")] == ["calls"]
    assert lines_of(lines, "nobody") == []  # a carrier with nothing to bill issues nothing


def test_without_carriers_every_line_belongs_to_the_reseller():
    lines = invoice_lines(LEDGER, START, END, "RUB", MSK)
    assert {line.carrier for line in lines} == {None}
    assert [line.amount_minor for line in lines if line.kind == "calls"] == [1_440]  # 2.40 + 12.00


@given(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=30), st.sampled_from(["RUB", "EUR", "JPY"]))
def test_a_documents_lines_add_up_to_its_ledger_sum_rounded_once(amounts, code):
    lines = [InvoiceLine("one_time", "c", "x", 1, None, minor_of(units, code), units=units) for units in amounts]
    shared = rounded_as_documents(lines, code)
    step = 10_000 // 10 ** currency(code).minor_units
    assert sum(line.amount_minor for line in shared) == minor_of(sum(amounts), code)
    for line, units in zip(shared, amounts, strict=True):  # each line rounded down or up, never further
        assert units // step <= line.amount_minor <= -(-units // step)


def test_consecutive_days_are_merged_into_ranges():
    days = [date(2026, 11, d) for d in (9, 1, 2, 3, 3, 30)]
    assert day_ranges(days) == (
        ("2026-11-01", "2026-11-03"),
        ("2026-11-09", "2026-11-09"),
        ("2026-11-30", "2026-11-30"),
    )


@pytest.mark.parametrize(
    "carriers, field",
    [
        ([{"id": "a", "name": "A"}], "carriers"),  # no main carrier
        ([{"id": "a", "name": "A", "main": True}, {"id": "a", "name": "B"}], "carriers[1].id"),
        ([{"id": "a b", "name": "A", "main": True}], "carriers[0].id"),
        ([{"id": "a", "name": "A", "main": True, "called_patterns": ["(unclosed"]}], "carriers[0].called_patterns[0]"),
        ([{"id": "a", "name": "A", "main": True, "document_types": ["receipt"]}], "carriers[0].document_types"),
        (
            [
                {
                    "id": "a",
                    "name": "A",
                    "main": True,
                    "numbering": {"act": {"follows": "invoice"}},
                    "document_types": ["act"],
                }
            ],
            "carriers[0].numbering.act.follows",
        ),
        (
            [{"id": "a", "name": "A", "main": True, "numbering": {"invoice": {"format": "INV-{n}"}}}],
            "carriers[0].numbering.invoice.format",
        ),
    ],
)
def test_a_bad_carrier_is_refused_with_its_field(carriers, field):
    with pytest.raises(CarrierError) as raised:
        parse_carriers(carriers)
    assert raised.value.field == field


SERVICE_ENTRY = st.one_of(
    st.builds(daily, st.integers(1, 30), st.integers(1, 10**6), st.integers(1, 5)),
    st.builds(
        call,
        st.integers(0, 10**6),
        st.sampled_from(["7495", "4420", "1212"]),
        st.integers(1, 10**7),
        st.integers(1, 10**4),
    ),
    st.builds(
        lambda n, amount: entry(f"202611-one-{n}", "feature_activation", amount, day="2026-11-20"),
        st.integers(0, 10**6),
        st.integers(1, 10**8),
    ),
)


@given(
    st.lists(SERVICE_ENTRY, max_size=40, unique_by=lambda e: e["_id"]),
    st.lists(st.integers(1, 10**8), max_size=5),
    st.integers(-(10**8), 10**8),
)
def test_every_service_debit_is_on_one_line_of_one_carrier_and_payments_on_none(services, payments, carried):
    ledger = services + [
        entry(f"pay-{n}", "wire_transfer", amount, ledger_type="credit") for n, amount in enumerate(payments)
    ]
    # The month's rollover, as Kazoo writes it: a debit when last month ended in debt. It was a
    # "one_time" line, billing last month's charges again.
    ledger.append(
        entry(
            "202611-ledgers_monthly_rollover",
            "rollovers",
            abs(carried),
            ledger_type="debit" if carried < 0 else "credit",
        )
    )
    carriers = [c.as_call_carrier() for c in CARRIERS]
    lines = invoice_lines(ledger, START, END, "RUB", MSK, carriers)
    non_call_ids = [i for line in lines if line.kind != "calls" for i in line.entry_ids]
    assert sorted(non_call_ids) == sorted(e["_id"] for e in services if e["source"]["service"] != "per_minute_call")
    assert sum(line.quantity for line in lines if line.kind == "calls") == sum(
        1 for e in services if e["source"]["service"] == "per_minute_call"
    )
    assert {line.carrier for line in lines} <= {"volna", "volna-intl"}
    assert all(line.amount_minor >= 0 for line in lines)
    units_total = sum(e["amount"] for e in services)
    assert abs(sum(line.amount_minor for line in lines) * 100 - units_total) <= 50 * len(lines)  # ≤ ½ kopeck a line


def _daily_fees_as_billed(quantities: dict[int, int]) -> list[dict]:
    """The ledger entries the bookkeeper writes for a desk phone plan (350.00 a month) billed
    daily: day → phones that day, each day's fee, and a raise's difference on the day it came."""

    def price(phones: int) -> ItemPrice:
        return ItemPrice("devices", "sip_device", "Desk phone", phones, phones, 3_500_000, 0, 0, phones * 3_500_000, 0)

    entries, before = [], 0
    for day, phones in sorted(quantities.items()):
        when = date(2026, 11, day)
        charge = daily_fee_charge(period_containing(1, when), when, price(phones), None)
        assert charge is not None
        entries.append(
            ledger_document(charge, account_id="a" * 32, account_name="Fjord", currency="EUR", tz=MSK, now_gregorian=0)
        )
        if before and phones > before:  # a phone added during the day: the difference, the same day
            raised = daily_fee_charge(period_containing(1, when), when, price(phones + 1), price(phones))
            assert raised is not None
            entries.append(
                ledger_document(
                    raised, account_id="a" * 32, account_name="Fjord", currency="EUR", tz=MSK, now_gregorian=0
                )
            )
        before = phones
    return entries


def test_daily_fees_are_one_line_per_item_and_quantity_over_the_days_they_cover():
    """Fjord Design's November had 35 lines over 2 pages for 44.60 EUR: each day's description
    carries its date, and the date was part of the grouping."""
    fees = _daily_fees_as_billed({**{d: 3 for d in range(1, 12)}, **{d: 4 for d in range(12, 31)}})
    daily = [line for line in invoice_lines(fees, START, END, "EUR", MSK) if line.kind == "daily"]
    assert [(line.description, line.quantity, line.days) for line in daily] == [
        ("Desk phone × 3", 3, (("2026-11-01", "2026-11-11"),)),
        ("Desk phone × 4", 4, (("2026-11-12", "2026-11-30"),)),
        ("Desk phone × 5 (raised from 4)", 5, (("2026-11-12", "2026-11-12"),)),
    ]
    # Units (1/10,000) → cents, rounded once per line: off the ledger by under a cent a line.
    assert abs(sum(line.amount_minor for line in daily) * 100 - sum(e["amount"] for e in fees)) <= 50 * len(daily)


@given(st.dictionaries(st.integers(1, 30), st.integers(1, 6), min_size=1))
def test_grouped_daily_lines_carry_every_fee_once(quantities):
    fees = _daily_fees_as_billed(quantities)
    daily = [line for line in invoice_lines(fees, START, END, "EUR", MSK) if line.kind == "daily"]
    assert sorted(i for line in daily for i in line.entry_ids) == sorted(e["_id"] for e in fees)
    assert len(daily) <= len({(e["metadata"]["kazbill"]["quantity"], "raised" in e["description"]) for e in fees})
    assert all("2026-" not in line.description for line in daily)
