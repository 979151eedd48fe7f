"""The one builder of Kazoo ledger documents: what Kazoo's balance reads, whoever writes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.kazoo_ledger import kazoo_ledger
from bookkeeper.domain.kazoo_months import rollover_document
from bookkeeper.domain.ledger import signed_amount

ACCOUNT = "3f0ad1c2b3a4d5e6f708192a3b4c5d6e"


def posting(ledger_type: str = "credit", amount: int = 150_000, **extra) -> dict:
    return kazoo_ledger(
        "202611-kazbill-wire-1",
        ledger_type,
        amount,
        description="Wire transfer",
        source={"service": "payments", "id": "wire-1"},
        usage={"type": "wire", "quantity": 1, "unit": "posting"},
        period={"start": 63_961_000_000, "end": 63_961_000_000},
        account_id=ACCOUNT,
        account_name="Fjord Design",
        metadata={"kazbill": {"reason": "wire"}},
        now_gregorian=63_961_000_000,
        **extra,
    )


def test_a_posting_has_every_field_kazoo_writes_and_its_balance_reads():
    doc = posting()
    assert (doc["pvt_type"], doc["pvt_ledger_type"], doc["amount"], doc["pvt_account_id"]) == (
        "ledger",
        "credit",
        150_000,
        ACCOUNT,
    )
    assert doc["account"] == {"id": ACCOUNT, "name": "Fjord Design"}
    assert (doc["pvt_created"], doc["pvt_modified"], doc["pvt_vsn"]) == (63_961_000_000, 63_961_000_000, "1")
    assert "pvt_account_db" not in doc and "executor" not in doc  # only when given
    assert posting(db="account%2F3f%2F0a%2Fd1c2-202611")["pvt_account_db"] == "account%2F3f%2F0a%2Fd1c2-202611"


@pytest.mark.parametrize(
    "ledger_type, amount, field",
    [
        ("refund", 100, "pvt_ledger_type"),
        ("debit", -100, "amount"),
        ("debit", 1.5, "amount"),
        ("credit", True, "amount"),
    ],
)
def test_a_wrong_side_or_amount_is_refused_with_the_field_named(ledger_type, amount, field):
    with pytest.raises(ValueError, match=field):
        posting(ledger_type, amount)


@given(st.integers(-(10**12), 10**12))
def test_a_rollover_carries_any_total_as_kazoo_signs_it(total):
    """Invariant: the rollover's signed amount is the total carried, zero included."""
    doc = rollover_document(ACCOUNT, "Fjord Design", (2026, 12), total, "db", 63_961_000_000)
    assert signed_amount(doc) == total and doc["amount"] >= 0
    assert doc["executor"] == {"trigger": "automatic", "module": "kazbill"}
