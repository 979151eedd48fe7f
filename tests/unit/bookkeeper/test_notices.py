"""Which notices an account gets, how often, and how long a failed email is retried."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.notices import (
    LONGEST_RETRY_S,
    MAX_SEND_ATTEMPTS,
    NoticeDraft,
    daily_reminders,
    gives_up,
    notice_id,
    notices_for_event,
    retry_delay_s,
)
from bookkeeper.services.billing.events import BillingEvent
from bookkeeper.services.billing.notice_queue import drafts_from_events
from bookkeeper.services.mail.notice_text import compose, money_in

ACCOUNT = "4c1b7f0e5a3d4b2c8e9f1a2b3c4d5e6f"


def test_three_days_before_the_period_with_too_little_money_the_account_is_reminded_once_a_day():
    # Balance 300.00, credit line 50.00, next period costs 500.00.
    found = daily_reminders(
        today=date(2026, 11, 28),
        next_period_start=date(2026, 12, 1),
        balance=3_000_000,
        credit_line=500_000,
        next_period_cost=5_000_000,
    )
    assert [(d.kind, d.day) for d in found] == [("period_approaching", date(2026, 11, 28))]
    assert found[0].details["shortfall"] == 1_500_000  # 500.00 - 300.00 - 50.00
    assert notice_id(ACCOUNT, found[0]) == f"notice-{ACCOUNT}-2026-11-28-period_approaching"


def test_no_reminder_when_the_money_covers_the_period_or_it_is_still_far():
    assert (
        daily_reminders(
            today=date(2026, 11, 28),
            next_period_start=date(2026, 12, 1),
            balance=5_000_000,
            credit_line=0,
            next_period_cost=5_000_000,
        )
        == []
    )
    assert (
        daily_reminders(
            today=date(2026, 11, 20),
            next_period_start=date(2026, 12, 1),
            balance=0,
            credit_line=0,
            next_period_cost=5_000_000,
        )
        == []
    )


def test_only_events_an_account_must_hear_of_become_notices():
    events = [
        BillingEvent("charged", ACCOUNT, {"amount": 10}),
        BillingEvent("period_opened", ACCOUNT, {}),
        BillingEvent("blocked", ACCOUNT, {"reasons": ["balance"]}),
        BillingEvent("low_balance", ACCOUNT, {"day": "2026-11-27", "balance": 5, "threshold": 10}),
    ]
    drafts = drafts_from_events(events, date(2026, 11, 28))[ACCOUNT]
    assert [(d.kind, d.day.isoformat()) for d in drafts] == [
        ("period_charged", "2026-11-28"),
        ("service_suspended", "2026-11-28"),
        ("low_balance", "2026-11-27"),
    ]
    assert "day" not in drafts[2].details


def test_retries_double_from_a_minute_to_an_hour_then_give_up():
    assert [retry_delay_s(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert not gives_up(MAX_SEND_ATTEMPTS - 1) and gives_up(MAX_SEND_ATTEMPTS)


def test_the_russian_text_shows_roubles_and_a_missing_detail_does_not_break_the_email():
    subject, body = compose(
        "low_balance",
        {"balance": 1_234_500, "threshold": 5_000_000, "below_since": "2026-11-03"},
        account_name="Альфа Такси",
        language="ru-RU",
        money=money_in("RUB", "ru_RU"),
    )
    assert subject == "Альфа Такси: низкий баланс"
    assert "123,45\xa0₽" in body and "500,00\xa0₽" in body
    _, body = compose("period_charged", {}, account_name="Alpha", language="xx", money=money_in(None, "en_US"))
    assert "—" in body  # English for an unknown language, and a dash for what the notice did not carry


def test_a_suspension_reads_in_russian_and_german_with_no_english_and_no_iso_dates():
    details = {
        "reasons": ["the period's charges are not covered", "blocked automatically for lack of funds"],
        "day": "2026-11-05",
    }
    _, russian = compose(
        "service_suspended", details, account_name="Гамма", language="ru", money=money_in("RUB", "ru_RU")
    )
    assert "расходы периода не покрыты, заблокирован автоматически из-за недостатка средств" in russian
    assert "05.11.2026" in russian
    _, german = compose(
        "service_suspended", details, account_name="Kiel", language="de", money=money_in("EUR", "de_DE")
    )
    assert "automatisch gesperrt mangels Guthaben" in german and "05.11.2026" in german
    _, cancelled = compose(
        "services_cancelled",
        {"items": [["limits", "twoway_trunks"]], "day": "2026-11-01"},
        account_name="Гамма",
        language="ru",
        money=money_in("RUB", "ru_RU"),
    )
    for text in (russian, german, cancelled):
        assert not re.search(r"\d{4}-\d{2}-\d{2}|blocked|covered|limits/|twoway", text), text
    assert "двусторонние транки" in cancelled


amounts = st.integers(min_value=-(10**10), max_value=10**10)


@given(
    today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 1)),
    ahead=st.integers(0, 40),
    balance=amounts,
    credit=st.integers(0, 10**10),
    cost=st.integers(0, 10**10),
)
def test_reminders_follow_their_rules_and_are_at_most_one_of_each_kind_a_day(today, ahead, balance, credit, cost):
    found = daily_reminders(
        today=today,
        next_period_start=today + timedelta(days=ahead),
        balance=balance,
        credit_line=credit,
        next_period_cost=cost,
    )
    kinds = [d.kind for d in found]
    assert len(set(kinds)) == len(kinds) and all(d.day == today for d in found)
    approaching = "period_approaching" in kinds
    assert approaching == (0 < ahead <= 3 and balance + credit < cost)
    if approaching:
        assert found[-1].details["shortfall"] > 0


@given(st.integers(min_value=0, max_value=1000))
def test_retry_delays_never_shrink_and_never_exceed_the_cap(attempts):
    assert 0 < retry_delay_s(attempts) <= retry_delay_s(attempts + 1) <= LONGEST_RETRY_S


@given(st.sampled_from(["low_balance", "period_approaching", "period_charged"]), st.dates(), st.dates())
def test_a_notice_id_names_one_account_kind_and_day(kind, one, other):
    assert (notice_id(ACCOUNT, NoticeDraft(kind, one)) == notice_id(ACCOUNT, NoticeDraft(kind, other))) == (
        one == other
    )
    assert notices_for_event("charged", one, {}) == []
