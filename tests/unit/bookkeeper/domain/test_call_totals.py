"""Per-minute totals per carrier: a worked example of carriers chosen by called and caller
patterns, the grouping by the rate's carrier when the reseller has none, and the invariant that
the totals add up to exactly the per-minute debits, whatever the carriers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.call_totals import CallCarrier, carrier_for, per_minute_totals


def call_entry(
    number: str,
    amount: int,
    seconds: int,
    *,
    caller: str = "74950000001",
    carrier: str = "",
    direction: str = "outbound",
    reason: str = "per_minute_call",
) -> dict:
    return {
        "pvt_type": "ledger",
        "pvt_ledger_type": "debit",
        "amount": amount,
        "source": {"service": reason},
        "metadata": {
            "kazbill": {
                "call": {"number": number, "caller": caller, "direction": direction, "billed_seconds": seconds},
                "rate": {"carrier": carrier},
            }
        },
    }


CARRIERS = (
    CallCarrier("Volna Long Distance", called_patterns=(r"^7(?!495|499)", r"^[1-68-9]")),
    CallCarrier("Volna Local", caller_patterns=(r"^7495",), main=True),
)


def test_calls_go_to_the_first_matching_carrier_else_the_main_one():
    assert carrier_for("78123334455", "74950000001", CARRIERS) == "Volna Long Distance"
    assert carrier_for("442071234567", "74950000001", CARRIERS) == "Volna Long Distance"
    assert carrier_for("74951234567", "74950000001", CARRIERS) == "Volna Local"
    assert carrier_for("74991234567", "", CARRIERS) == "Volna Local"  # nothing matches: the main carrier
    assert carrier_for("74991234567", "", ()) is None


def test_a_periods_calls_totalled_per_carrier():
    entries = [
        call_entry("78123334455", 36_000, 180),
        call_entry("442071234567", 120_000, 60),
        call_entry("74951234567", 12_000, 60),
        call_entry("74951234568", 6_000, 30, direction="inbound"),
        {"source": {"service": "monthly_recurring"}, "amount": 5_000_000, "pvt_ledger_type": "debit"},
        {**call_entry("74951234567", 99, 1), "pvt_deleted": True},
    ]
    totals = per_minute_totals(entries, CARRIERS)
    assert [(t.carrier, t.calls, t.billed_seconds, t.amount, t.by_direction) for t in totals] == [
        ("Volna Long Distance", 2, 240, 156_000, {"outbound": 2}),
        ("Volna Local", 2, 90, 18_000, {"outbound": 1, "inbound": 1}),
    ]


def test_without_carriers_calls_are_grouped_by_the_carrier_their_rate_names():
    entries = [
        call_entry("7495", 10, 6, carrier="MTT"),
        call_entry("7812", 20, 6, carrier="MTT"),
        call_entry("4420", 30, 6),
        call_entry("7495", 5, 6, reason="sub_account_per_minute_call"),
    ]
    assert [(t.carrier, t.calls, t.amount) for t in per_minute_totals(entries)] == [(None, 2, 35), ("MTT", 2, 30)]


ENTRY = st.builds(
    call_entry,
    number=st.text("0123456789", min_size=1, max_size=12),
    amount=st.integers(0, 10**9),
    seconds=st.integers(0, 10**5),
    caller=st.text("0123456789", max_size=12),
    carrier=st.sampled_from(["", "A", "B"]),
    direction=st.sampled_from(["outbound", "inbound"]),
)


@given(entries=st.lists(ENTRY, max_size=40), with_carriers=st.booleans())
def test_totals_add_up_to_the_per_minute_debits_and_every_call_is_counted_once(entries, with_carriers):
    totals = per_minute_totals(entries, CARRIERS if with_carriers else ())
    assert sum(t.amount for t in totals) == sum(e["amount"] for e in entries)
    assert sum(t.calls for t in totals) == len(entries)
    assert sum(t.billed_seconds for t in totals) == sum(
        e["metadata"]["kazbill"]["call"]["billed_seconds"] for e in entries
    )
    assert len({t.carrier for t in totals}) == len(totals)
    if with_carriers:
        assert {t.carrier for t in totals} <= {c.name for c in CARRIERS}
