"""Reminders and event notices, queued by the daily crawl and sent to a real SMTP server
(aiosmtpd), on both stores: once a day at most, retried when the server is away, given up
when it refuses, and always with a state an operator can read."""

from __future__ import annotations

from datetime import date, datetime
from email.utils import parsedate_to_datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.smtp_mailer import SmtpMailer
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.domain.notices import MAX_SEND_ATTEMPTS
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from bookkeeper.services.mail.notices import send_due_notices
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.payments.postings import apply_payment
from testkit.fixtures.billing_world import World
from testkit.fixtures.kazoo_docs import stamp
from testkit.support.smtp_sink import SmtpSink
from tests.integration.test_billing_worked_examples import MSK, OFFICE_PLAN, RESELLER_ONBILL

pytestmark = pytest.mark.integration
SENDER = "billing@reseller.example"


@pytest.fixture
def sink():
    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def world(store):
    return World(store).build(reseller_onbill={**RESELLER_ONBILL, "low_balance_threshold": "1000.00"}, plan=OFFICE_PLAN)


def admin(account_id: str, email: str, n: int = 1) -> dict:
    return stamp(
        {
            "_id": f"user{n:028d}",
            "first_name": "Ivan",
            "last_name": "Petrov",
            "priv_level": "admin",
            "email": email,
            "enabled": True,
        },
        account_id,
        "user",
    )


def customer_with_admin(world: World, email: str | None = "boss@alpha.example") -> str:
    customer = world.customer(
        "Alpha Taxi",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits={"pvt_allow_postpay": True, "pvt_max_postpay_amount": 100_000_000},
        devices=2,
    )
    if email:
        world.store.put(account_db(customer), admin(customer, email))
        world.store.put(
            account_db(customer),
            stamp({"_id": "user" + "2" * 28, "priv_level": "user", "email": "clerk@alpha.example"}, customer, "user"),
        )
    return customer


def notice(store, account_id: str, day: str, kind: str) -> dict:
    return store.get(NOTICES_DB, f"notice-{account_id}-{day}-{kind}")


def notices_of(store, account_id: str) -> list:
    return store.query_view(
        NOTICES_DB, "kazbill_notices", "by_account", ViewQuery(start_key=[account_id], end_key=[account_id, {}])
    ).rows


def at(clock: SettableClock, *args) -> int:
    clock.set(datetime(*args, tzinfo=MSK))
    return to_gregorian_seconds(int(clock.now().timestamp()))


def test_a_low_balance_warning_reaches_the_admins_once_per_crossing_then_on_its_reminder_days(world, sink):
    customer = customer_with_admin(world)
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    apply_payment(ports, customer, amount=15_000_000, reason="wire_transfer", external_id="ref-1")  # 1,500.00
    bill_accounts(ports, [customer], day=date(2026, 11, 1))  # two phones, 1,000.00: 500.00 left

    now = at(clock, 2026, 11, 2, 0, 5)
    bill_accounts(ports, [customer], day=date(2026, 11, 2))  # the second day below: no warning
    report = send_due_notices(world.store, SmtpMailer("127.0.0.1", sink.port), sender=SENDER, now_gregorian=now)
    assert (report.emailed, report.failed) == (2, 0)  # the new period, and the crossing of 1 November
    subjects = sorted(message["Subject"] for message in sink.received)
    assert subjects == ["Alpha Taxi: начат новый расчётный период", "Alpha Taxi: низкий баланс"]
    low = next(m for m in sink.received if "низкий" in m["Subject"])
    assert low["To"] == "Ivan Petrov <boss@alpha.example>" and low["From"] == f"Reseller <{SENDER}>"  # admins only
    text = low.get_body(("plain",)).get_content()
    assert "500,00\xa0₽" in text and "1\xa0000,00\xa0₽" in text
    assert "с 01.11.2026" in text  # since when, written as a Russian reader writes a day
    stored = notice(world.store, customer, "2026-11-01", "low_balance")
    assert (stored["state"], stored["recipients"], stored["attempts"]) == ("emailed", ["boss@alpha.example"], 1)

    for day in range(3, 31):  # the rest of the month below the threshold: days 3 and 7 of the spell only
        now = at(clock, 2026, 11, day, 0, 5)
        bill_accounts(ports, [customer], day=date(2026, 11, day))
        send_due_notices(world.store, SmtpMailer("127.0.0.1", sink.port), sender=SENDER, now_gregorian=now)
    lows = sorted(row.value["day"] for row in notices_of(world.store, customer) if row.value["kind"] == "low_balance")
    assert lows == ["2026-11-01", "2026-11-03", "2026-11-07"]
    assert len(sink.received) == 4

    at(clock, 2026, 11, 30, 18, 0)  # the same day crawled again (a replay): nothing new to say
    bill_accounts(ports, [customer], day=date(2026, 11, 30))
    assert len(sink.received) == 4 and len(notices_of(world.store, customer)) == 4


def test_an_unreachable_or_busy_server_is_retried_later_and_a_refusal_is_final(world, sink):
    customer = customer_with_admin(world)
    clock = SettableClock(datetime(2026, 11, 2, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    bill_accounts(ports, [customer], day=date(2026, 11, 2))  # no money: low balance (and the period is pending)
    mailer = SmtpMailer("127.0.0.1", sink.port, timeout_s=5)
    now = at(clock, 2026, 11, 2, 0, 6)

    sink.answer_with("451 4.3.0 try again later")
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).retrying == 1  # then it waits
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).retrying == 1  # the other one
    low = notice(world.store, customer, "2026-11-02", "low_balance")
    assert (low["state"], low["attempts"], low["next_attempt_at"]) == ("queued", 1, now + 60)  # a minute later
    assert "451" in low["reason"]
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now + 30).retrying == 0  # not due yet

    sink.answer_with("250 OK")
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now + 61).emailed == 2
    low = notice(world.store, customer, "2026-11-02", "low_balance")
    assert (low["state"], low["attempts"]) == ("emailed", 2)
    assert [step["state"] for step in low["history"]] == ["queued", "emailed"]

    now = at(clock, 2026, 11, 4, 0, 5)  # the third day of the spell: the next warning
    bill_accounts(ports, [customer], day=date(2026, 11, 4))
    sink.answer_with("550 5.1.1 mailbox unavailable")
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).failed == 1
    refused = notice(world.store, customer, "2026-11-04", "low_balance")
    assert refused["state"] == "failed" and "550" in refused["reason"]


def test_a_server_that_stays_away_makes_the_notice_fail_visibly_after_the_last_attempt(world, sink):
    customer = customer_with_admin(world)
    clock = SettableClock(datetime(2026, 11, 2, 0, 5, tzinfo=MSK))
    bill_accounts(BillingPorts(world.store, clock, world.design_docs), [customer], day=date(2026, 11, 2))
    sink.stop()  # nothing listens on the port any more
    mailer = SmtpMailer("127.0.0.1", sink.port, timeout_s=5)
    now = at(clock, 2026, 11, 2, 0, 6)
    for _ in range(2 * MAX_SEND_ATTEMPTS):  # two notices (and period unpaid), one try per pass while it is away
        send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now)
        now += 4000  # past the longest retry delay
    low = notice(world.store, customer, "2026-11-02", "low_balance")
    assert (low["state"], low["attempts"]) == ("failed", MAX_SEND_ATTEMPTS)
    assert "cannot deliver through 127.0.0.1" in low["reason"]
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).failed == 0  # never again


def test_an_account_without_admins_writes_to_its_resellers_admins_or_records_why_not(world, sink):
    customer = customer_with_admin(world, email=None)
    clock = SettableClock(datetime(2026, 11, 2, 0, 5, tzinfo=MSK))
    bill_accounts(BillingPorts(world.store, clock, world.design_docs), [customer], day=date(2026, 11, 2))
    mailer = SmtpMailer("127.0.0.1", sink.port)
    now = at(clock, 2026, 11, 2, 0, 6)
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).no_recipients == 2
    assert notice(world.store, customer, "2026-11-02", "low_balance")["state"] == "no_recipients"

    world.store.put(account_db(world.reseller), admin(world.reseller, "support@reseller.example"))
    now = at(clock, 2026, 11, 4, 0, 5)  # the spell's third day: its second warning
    bill_accounts(BillingPorts(world.store, clock, world.design_docs), [customer], day=date(2026, 11, 4))
    assert send_due_notices(world.store, mailer, sender=SENDER, now_gregorian=now).emailed == 1  # low balance
    assert sink.received[-1]["X-Envelope-To"] == "support@reseller.example"


def test_a_mailer_that_starts_with_a_backlog_sends_only_what_is_still_true_and_says_when(store, sink):
    """Ten days of notices queued while the mail server was away, then the customer pays: what it
    receives is the period's charge, once, with its date; the low-balance and unpaid-period notices
    its payment made untrue are recorded as superseded, not sent (31 identical mails were seen)."""
    world = World(store).build(
        reseller_onbill={**RESELLER_ONBILL, "low_balance_threshold": "1000.00", "blocking_enabled": True},
        plan=OFFICE_PLAN,
    )
    customer = world.customer(
        "Alpha Taxi",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1, "payment_type": "prepay"},
        limits={},
        devices=2,
    )
    world.store.put(account_db(customer), admin(customer, "boss@alpha.example"))
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    ports = BillingPorts(world.store, clock, world.design_docs)
    for day in range(1, 11):  # no money for the period: unpaid, suspended, low balance; nothing is sent
        at(clock, 2026, 11, day, 0, 5)
        bill_accounts(ports, [customer], day=date(2026, 11, day))
    queued = sorted((row.value["kind"], row.value["day"]) for row in notices_of(world.store, customer))
    assert ("low_balance", "2026-11-07") in queued and ("period_unpaid", "2026-11-01") in queued
    at(clock, 2026, 11, 10, 12, 0)
    apply_payment(ports, customer, amount=25_000_000, reason="wire_transfer", external_id="late")  # 2,500.00
    now = at(clock, 2026, 11, 10, 12, 5)
    report = send_due_notices(world.store, SmtpMailer("127.0.0.1", sink.port), sender=SENDER, now_gregorian=now)
    subjects = [message["Subject"] for message in sink.received]
    assert subjects == ["Alpha Taxi: начат новый расчётный период"], (report, queued)
    mail = sink.received[0]
    assert parsedate_to_datetime(mail["Date"]) == datetime(2026, 11, 10, 12, 5, tzinfo=MSK)
    assert "Дата события: 10.11.2026." in mail.get_body(("plain",)).get_content()
    states = {(row.value["kind"], row.value["day"]): row.value["state"] for row in notices_of(world.store, customer)}
    assert {state for (kind, _), state in states.items() if kind != "period_charged"} == {"superseded"}
    low = notice(world.store, customer, "2026-11-01", "low_balance")
    assert low["reason"] in ("the balance is no longer low", "a newer low_balance notice (2026-11-07) replaces it")
    assert report.superseded == len(queued) and report.emailed == 1


def test_a_suspended_customer_is_told_by_its_reseller_what_restores_the_service_and_where_to_pay(store, sink):
    world = World(store).build(
        reseller_onbill={**RESELLER_ONBILL, "blocking_enabled": True, "mail_from": "billing@volna.example"},
        plan=OFFICE_PLAN,
    )
    customer = world.customer(
        "Alpha Taxi",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1, "payment_type": "prepay"},
        limits={},
        devices=2,
    )
    world.store.put(account_db(customer), admin(customer, "boss@alpha.example"))
    clock = SettableClock(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    bill_accounts(BillingPorts(world.store, clock, world.design_docs), [customer], day=date(2026, 11, 1))
    send_due_notices(
        world.store,
        SmtpMailer("127.0.0.1", sink.port),
        sender="Billing <billing@operator.example>",
        now_gregorian=at(clock, 2026, 11, 1, 0, 6),
        public_url="https://pay.volna.example/",
    )
    suspended = next(m for m in sink.received if "приостановлено" in m["Subject"])
    assert suspended["From"] == "Reseller <billing@volna.example>"  # the reseller's name and its own address
    assert all(not header.lower().startswith("x-") or "account/" not in value for header, value in suspended.items())
    text = suspended.get_body(("plain",)).get_content()
    page = f"https://pay.volna.example/portal/accounts/{customer}"
    assert "Для восстановления обслуживания оплатите не менее 1\xa0000,00\xa0₽." in text  # two phones, no credit
    assert f"Оплатить онлайн, баланс и документы: {page}" in text
    html = suspended.get_body(("html",)).get_content()
    assert f'<a href="{page}">' in html and "1\xa0000,00\xa0₽" in html
