"""Outbound webhooks' rules: which billing events a reseller can subscribe to, how one occurrence
is told from another, the signature a receiver checks, the retry schedule, and the settings a
reseller may send."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.webhooks import (
    EVENT_TYPES,
    MAX_ATTEMPTS,
    HookError,
    checked_hook,
    delivery_id,
    gives_up,
    retry_delay_s,
    signature_header,
    webhook_event,
)

ACCOUNT = "a" * 32


@pytest.mark.parametrize(
    "name, details, expected",
    [
        ("posted", {"entry_id": "202611-payment-1", "ledger_type": "credit"}, "payment.received"),
        ("documents_issued", {"period": "2026-10-01", "count": 2}, "invoice.issued"),
        ("blocked", {"reasons": []}, "account.blocked"),
        ("unblocked", {"reasons": []}, "account.unblocked"),
        ("low_balance", {"day": "2026-11-10"}, "balance.low"),
        ("period_opened", {"period_start": "2026-11-01"}, "period.opened"),
        ("trial_expired", {}, "trial.expired"),
    ],
)
def test_each_subscribable_event_comes_from_its_billing_event(name, details, expected):
    event = webhook_event(name, ACCOUNT, details, 63_960_000_000)
    assert event is not None and event.event_type == expected and event.account_id == ACCOUNT
    assert webhook_event(name, ACCOUNT, details, 63_960_000_000) == event  # the same occurrence, the same id
    assert sorted({expected} | set(EVENT_TYPES)) == sorted(EVENT_TYPES)


def test_a_debit_a_charge_or_a_call_is_no_webhook_event():
    assert webhook_event("posted", ACCOUNT, {"entry_id": "x", "ledger_type": "debit"}, 1) is None
    assert webhook_event("charged", ACCOUNT, {}, 1) is None
    assert webhook_event("call_charged", ACCOUNT, {}, 1) is None


def test_occurrences_are_told_apart_by_what_they_are_about():
    first = webhook_event("period_opened", ACCOUNT, {"period_start": "2026-11-01"}, 1)
    again_later = webhook_event("period_opened", ACCOUNT, {"period_start": "2026-11-01"}, 999)
    next_month = webhook_event("period_opened", ACCOUNT, {"period_start": "2026-12-01"}, 1)
    assert first and again_later and next_month
    assert first.event_id == again_later.event_id != next_month.event_id
    blocked, blocked_again = (webhook_event("blocked", ACCOUNT, {}, moment) for moment in (1, 2))
    assert blocked and blocked_again and blocked.event_id != blocked_again.event_id  # blocked, lifted, blocked
    assert delivery_id("hook1", first.event_id) == delivery_id("hook1", again_later.event_id)
    assert delivery_id("hook1", first.event_id) != delivery_id("hook2", first.event_id)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    header = signature_header("whsec_test", 1_796_000_000, b'{"type":"webhook.test"}')
    assert header == (
        "t=1796000000,v1=" + hmac.new(b"whsec_test", b'1796000000.{"type":"webhook.test"}', hashlib.sha256).hexdigest()
    )


@given(st.text(min_size=1, max_size=40), st.integers(0, 2**40), st.binary(max_size=200), st.integers(0, 199))
def test_a_receiver_verifies_every_delivery_and_no_altered_one(secret, timestamp, body, flipped):
    parts = dict(part.split("=", 1) for part in signature_header(secret, timestamp, body).split(","))
    signed = parts["t"].encode() + b"." + body
    assert hmac.compare_digest(parts["v1"], hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())
    if body:
        altered = bytearray(body)
        altered[flipped % len(body)] ^= 1
        other = hmac.new(secret.encode(), parts["t"].encode() + b"." + bytes(altered), hashlib.sha256).hexdigest()
        assert other != parts["v1"]


@given(st.integers(1, 100))
def test_retries_wait_longer_each_time_up_to_an_hour_and_stop_after_the_last_attempt(attempts):
    assert 30 <= retry_delay_s(attempts) <= 3600
    assert retry_delay_s(attempts + 1) >= retry_delay_s(attempts)
    assert gives_up(attempts) == (attempts >= MAX_ATTEMPTS)


def test_the_schedule_as_a_reseller_reads_it():
    assert [retry_delay_s(n) for n in range(1, MAX_ATTEMPTS)] == [30, 60, 120, 240, 480, 960, 1920]


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "url"),
        ({"url": "gopher://example.net"}, "url"),
        ({"url": "https://" + "x" * 600 + ".net"}, "url"),
        ({"url": "https://u:p@example.net"}, "url"),
        ({"url": "https://example.net", "events": "payment.received"}, "events"),
        ({"url": "https://example.net", "events": ["refund.sent"]}, "events"),
        ({"url": "https://example.net", "enabled": 1}, "enabled"),
        ({"url": "https://example.net", "secret": "mine"}, "secret"),
    ],
)
def test_bad_settings_name_their_field(data, field):
    with pytest.raises(HookError) as refused:
        checked_hook(data, creating=True)
    assert refused.value.field == field


def test_a_new_hook_wants_every_event_unless_told_otherwise():
    assert checked_hook({"url": "https://example.net/h"}, creating=True)["events"] == sorted(EVENT_TYPES)
    assert checked_hook({"enabled": False}, creating=False) == {"enabled": False}
