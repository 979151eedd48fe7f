"""A change is charged from the moment it happened in Kazoo, whenever Kazbill sees it: worked
examples for each kind of change, on both stores, and a property comparing a service that sees
every change at once with one that sees them days late.

Also the numbers that went unbilled on real CouchDB: a number whose features Kazoo wrote out of
alphabetical order made the view drop the account's numbers (its map sorted the document's own,
frozen, list)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_months import event_part
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import ViewQuery
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from bookkeeper.services.payments.postings import apply_payment
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, RESELLER_ONBILL, kazbill_entries

pytestmark = pytest.mark.integration

PLAN = {
    "_id": "plan_office",
    "name": "Office",
    "plan": {
        "devices": {"sip_device": {"name": "Desk phone", "rate": 310}},
        "users": {"user": {"name": "User", "rate": 62}},
        "limits": {"twoway_trunks": {"name": "Trunk", "rate": 155}},
        "phone_numbers": {"did": {"name": "City number", "rate": 100}},
        "number_services": {"cnam": {"name": "Caller name", "rate": 31}},
        "periodic_fees": {"static_ip": {"name": "Static IP", "rate": 93}},
    },
}
MARCH = [(2026, 3), (2026, 4)]


def build(store, *, onbill=RESELLER_ONBILL, billing_day=1, limits=GENEROUS, devices=0):
    world = World(store).build(reseller_onbill=onbill, plan=PLAN)
    customer = world.customer(
        "Late Ltd",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": billing_day},
        limits={**limits, "twoway_trunks": 1},
        devices=devices,
    )
    # The limits as Kazoo saved them when the account was made.
    limits_doc = store.get(account_db(customer), "limits")
    store.put(
        account_db(customer),
        {
            **limits_doc,
            "pvt_created": gregorian(datetime(2026, 1, 10, tzinfo=MSK)),
            "pvt_modified": gregorian(datetime(2026, 1, 10, tzinfo=MSK)),
        },
    )
    clock = SettableClock(datetime(2026, 3, 1, 0, 5, tzinfo=MSK))
    return world, customer, clock, BillingPorts(store, clock, world.design_docs)


def crawl_to(ports, clock, customer, first: date, last: date) -> None:
    day = first
    while day <= last:
        clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
        crawl_account_day(ports, customer, day)
        day += timedelta(days=1)


# ------------------------------------------------------------------- what Kazoo writes, and when


def add_device(world, customer, at: datetime) -> None:
    world.add_devices(customer, 1, created=at)


def add_user(world, customer, at: datetime) -> None:
    n = sum(1 for row in world.store.all_docs(account_db(customer)).rows if row.id.startswith("user"))
    world.store.put(
        account_db(customer),
        stamp({"_id": f"user{n:028d}", "priv_level": "user", "enabled": True}, customer, "user", created=gregorian(at)),
    )


def add_static_ip(world, customer, at: datetime) -> None:
    n = sum(1 for row in world.store.all_docs(account_db(customer)).rows if row.id.startswith("fee_"))
    world.store.put(
        account_db(customer),
        stamp(
            {"_id": f"fee_static_ip_{n}", "service_id": "static_ip", "quantity": 1},
            customer,
            "periodic_fee",
            created=gregorian(at),
        ),
    )


def set_trunks(world, customer, at: datetime, trunks: int = 3) -> None:
    db = account_db(customer)
    world.store.put(db, {**world.store.get(db, "limits"), "twoway_trunks": trunks, "pvt_modified": gregorian(at)})


def add_number(world, customer, at: datetime, number: str = "+74951230077") -> None:
    """As Kazoo 4 assigns a number: a copy of its document in the account's database."""
    world.store.put(
        account_db(customer),
        {
            **stamp(
                {
                    "_id": number,
                    "pvt_state": "in_service",
                    "pvt_module_name": "knm_local",
                    "pvt_features": {"local": {}, "cnam": {}},
                    "pvt_assigned_to": customer,
                },
                customer,
                "number",
                created=gregorian(datetime(2025, 6, 1, tzinfo=MSK)),
            ),
            "pvt_modified": gregorian(at),
        },
    )


def add_legacy_number(world, customer, at: datetime, number: str = "+74951230078") -> None:
    db = account_db(customer)
    try:
        doc = world.store.get(db, "phone_numbers")
    except Exception:
        doc = stamp({"_id": "phone_numbers"}, customer, "phone_numbers", created=gregorian(at))
    world.store.put(
        db, {**doc, number: {"state": "in_service", "features": ["local", "cnam"]}, "pvt_modified": gregorian(at)}
    )


CHANGES = {  # what is added on 20 March at 14:00, the item it bills, and what 12 of March's 31 days cost
    "device": (add_device, "devices", "sip_device", 1_200_000),  # 310.00 × 12/31
    "user": (add_user, "users", "user", 240_000),  # 62.00 × 12/31
    "periodic fee": (add_static_ip, "periodic_fees", "static_ip", 360_000),  # 93.00 × 12/31
    "trunks 1 -> 3": (set_trunks, "limits", "twoway_trunks", 1_200_000),  # 2 × 155.00 × 12/31
    "Kazoo 4 number": (add_number, "phone_numbers", "did", 387_096),  # 100.00 × 12/31, rounded down
    "older phone_numbers document": (add_legacy_number, "phone_numbers", "did", 387_096),
}


def apply_change(kind: str, world, customer, at: datetime, n: int = 0) -> None:
    change = CHANGES[kind][0]
    if kind in ("Kazoo 4 number", "older phone_numbers document"):
        change(world, customer, at, f"+7495123{n:04d}")
    else:
        change(world, customer, at)


@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_change_made_on_the_20th_and_seen_on_the_21st_is_charged_from_the_20th(store, kind):
    """March has 31 days; from the 20th, 12 are left. The service sees the change only the next
    day, after that day's crawl (a slow feed, a restart): it still charges 12/31, not 11/31."""
    _, category, item, twelve_days = CHANGES[kind]
    world, customer, clock, ports = build(store)
    crawl_to(ports, clock, customer, date(2026, 3, 1), date(2026, 3, 20))
    apply_change(kind, world, customer, datetime(2026, 3, 20, 14, 0, tzinfo=MSK))
    crawl_to(ports, clock, customer, date(2026, 3, 21), date(2026, 3, 21))  # the crawl sees it first
    clock.set(datetime(2026, 3, 21, 9, 0, tzinfo=MSK))
    reconcile_account(ports, customer)  # then the feed
    opening = "-q1" if category == "limits" else None  # one trunk opened the month
    grown = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if f"-mrc-20260301-{category}-{item}-" in entry_id and not (opening and entry_id.endswith(opening))
    }
    assert sum(grown.values()) == twelve_days
    assert len(grown) == 1 and next(iter(grown)).startswith("202603-")


def test_a_device_of_20_march_seen_on_the_21st_costs_26_of_31_days_and_audits_clean(store):
    """The period runs 15 March to 14 April (31 days). A desk phone created at 14:00 Moscow time
    on the 20th reaches the bookkeeper on the 21st: 26/31 of 310.00 = 260.00, not 25/31."""
    world, customer, clock, ports = build(store, billing_day=15)
    crawl_to(ports, clock, customer, date(2026, 3, 15), date(2026, 3, 21))
    add_device(world, customer, datetime(2026, 3, 20, 14, 0, tzinfo=MSK))
    clock.set(datetime(2026, 3, 21, 10, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    grown = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if "-mrc-20260315-devices-sip_device-" in entry_id
    }
    assert grown == {"202603-kazbill-mrc-20260315-devices-sip_device-q1": 2_600_000}
    assert audit_account(ports, customer, date(2026, 3, 15), date(2026, 3, 21)).differences == []


def test_a_daily_fee_for_a_day_gone_by_is_raised_when_a_change_of_that_day_is_seen_late(store):
    """Fjord Design's 12 November: two phones added at noon on a daily plan, seen after the next
    midnight. The 12th is charged at five phones, the 13th too, and nothing twice."""
    world, customer, clock, ports = build(
        store, onbill={**RESELLER_ONBILL, "charging": {"devices": "daily"}}, devices=3
    )
    crawl_to(ports, clock, customer, date(2026, 3, 1), date(2026, 3, 12))
    world.add_devices(customer, 2, created=datetime(2026, 3, 12, 12, 0, tzinfo=MSK))
    crawl_to(ports, clock, customer, date(2026, 3, 13), date(2026, 3, 13))
    clock.set(datetime(2026, 3, 13, 9, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    reconcile_account(ports, customer)
    daily = {
        entry_id.split("-daily-")[1]: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if "-daily-" in entry_id
    }
    # 310.00 a month a phone over 31 days is 10.00 a day (100,000 units).
    assert {day: amount for day, amount in daily.items() if day.startswith(("20260312", "20260313"))} == {
        "20260312-devices-sip_device-q3": 300_000,
        "20260312-devices-sip_device-q5": 200_000,
        "20260313-devices-sip_device-q5": 500_000,
    }


def test_a_change_seen_only_after_its_period_ended_is_charged_to_that_period_in_the_current_month(store):
    """A phone added on the evening of 31 March; the service was away that night and comes back
    at 09:00 on 1 April (06:00 UTC, April for Kazoo). The pass that opens April also charges
    March the phone's last day: dated 31 March, naming March's period, written into April's
    database under April's prefix, where Kazoo's balance sees it."""
    world, customer, clock, ports = build(store)
    crawl_to(ports, clock, customer, date(2026, 3, 1), date(2026, 3, 31))
    add_device(world, customer, datetime(2026, 3, 31, 22, 0, tzinfo=MSK))
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=MSK))
    crawl_account_day(ports, customer, date(2026, 4, 1))
    reconcile_account(ports, customer)
    phones = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if "sip_device" in entry_id
    }
    assert phones == {
        "202604-kazbill-mrc-20260301-devices-sip_device-q1": 100_000,  # 1/31 of 310.00
        "202604-kazbill-mrc-20260401-devices-sip_device-q1": 3_100_000,
    }
    entry = store.get(account_db(customer) + "-202604", "202604-kazbill-mrc-20260301-devices-sip_device-q1")
    assert entry["metadata"]["kazbill"]["day"] == "2026-03-31"
    assert entry["metadata"]["kazbill"]["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    # The audit finds nothing missing, and says which charge came after its period had ended.
    report = audit_account(ports, customer, date(2026, 3, 1), date(2026, 4, 1))
    assert report.differences == []
    assert report.late_charges == ("202604-kazbill-mrc-20260301-devices-sip_device-q1",)


@pytest.mark.parametrize("created", [None, "later"], ids=["missing", "in the future"])
def test_a_device_whose_creation_cannot_be_believed_is_charged_from_when_it_was_seen_and_recorded(store, created):
    world, customer, clock, ports = build(store)
    crawl_to(ports, clock, customer, date(2026, 3, 1), date(2026, 3, 20))
    doc = stamp({"_id": "device_untimed", "device_type": "sip_device", "enabled": True}, customer, "device")
    doc["pvt_created"] = None if created is None else gregorian(datetime(2027, 1, 1, tzinfo=MSK))
    store.put(account_db(customer), doc)
    clock.set(datetime(2026, 3, 22, 10, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    crawl_to(ports, clock, customer, date(2026, 3, 23), date(2026, 3, 25))
    clock.set(datetime(2026, 3, 25, 10, 0, tzinfo=MSK))
    reconcile_account(ports, customer)
    phones = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if "sip_device" in entry_id
    }
    assert phones == {"202603-kazbill-mrc-20260301-devices-sip_device-q1": 1_000_000}  # 10 of 31 days, from the 22nd
    failures = store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[customer], end_key=[customer, {}], include_docs=True),
    ).rows
    assert [(row.doc["reason_code"], row.doc["field"]) for row in failures] == [
        ("untrusted_timestamp", "device_untimed.pvt_created")
    ]


def test_three_numbers_with_features_in_any_order_are_billed_on_every_store(store):
    """The case that billed 0.00 on CouchDB: a prepay customer paying 1,000.00 by wire, three
    numbers in service, features ["local", "cnam"], ["local"] and ["cnam", "local"], 100.00 a
    city number (cnam is not in this plan): the opening debits exactly 300.00."""
    plan = {
        "_id": "plan_office",
        "name": "Numbers",
        "plan": {"phone_numbers": {"did": {"name": "City number", "rate": 100}}},
    }
    world = World(store).build(reseller_onbill=RESELLER_ONBILL, plan=plan)
    customer = world.customer(
        "Numbers Ltd",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": 1},
        limits={"allow_prepay": True, "pvt_allow_postpay": False},
    )
    store.put(
        account_db(customer),
        stamp(
            {
                "_id": "phone_numbers",
                "+74951230001": {"state": "in_service", "features": ["local", "cnam"]},
                "+74951230002": {"state": "in_service", "features": ["local"]},
                "+74951230003": {"state": "in_service", "features": ["cnam", "local"]},
            },
            customer,
            "phone_numbers",
            created=gregorian(datetime(2026, 1, 10, tzinfo=MSK)),
        ),
    )
    clock = SettableClock(datetime(2026, 10, 30, 12, 0, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    apply_payment(ports, customer, amount=10_000_000, reason="wire_transfer", external_id="wire-0001")
    clock.set(datetime(2026, 11, 1, 0, 5, tzinfo=MSK))
    crawl_account_day(ports, customer, date(2026, 11, 1))
    opening = {
        entry_id: (kind, amount)
        for entry_id, (kind, amount) in kazbill_entries(store, customer, [(2026, 11)]).items()
        if "-mrc-20261101-" in entry_id
    }
    # 00:05 on 1 November in Moscow is still October in UTC: Kazoo's October takes the charge.
    assert opening == {"202610-kazbill-mrc-20261101-phone_numbers-did-q3": ("debit", 3_000_000)}


# ------------------------------------------------------------------- the property

# The older single phone_numbers document has one moment for all its numbers: two numbers added
# on different days and both seen later are dated to the later one. Its worked example above
# covers the one change it can date; Kazoo 4's number documents date each number.
DATED = sorted(kind for kind in CHANGES if kind != "older phone_numbers document")
STEPS = st.lists(
    st.tuples(st.integers(0, 9), st.integers(1, 22), st.sampled_from(DATED), st.integers(0, 3)), max_size=6
)


def run_march(tmp_path, steps, daily: bool, seen_late: bool) -> dict[str, tuple[str, int]]:
    store = EmbeddedStore(tmp_path / f"m-{random.getrandbits(40)}.sqlite3")
    onbill = {**RESELLER_ONBILL, **({"charging": {"devices": "daily", "users": "daily"}} if daily else {})}
    world, customer, clock, ports = build(store, onbill=onbill, devices=1)
    pending: list[date] = []  # the days whose changes wait to be seen
    for offset in range(12):
        day = date(2026, 3, 1 + offset)
        crawl_to(ports, clock, customer, day, day)
        for n, (when, hour, kind, delay) in enumerate(sorted(steps)):
            if when != offset:
                continue
            at = datetime(day.year, day.month, day.day, hour, n, tzinfo=MSK)
            apply_change(kind, world, customer, at, n)
            clock.set(at)
            if not seen_late or delay == 0:
                reconcile_account(ports, customer)
            else:
                pending.append(day + timedelta(days=delay))
        for _due in [d for d in pending if d == day]:
            clock.set(datetime(day.year, day.month, day.day, 23, 59, tzinfo=MSK))
            reconcile_account(ports, customer)
    clock.set(datetime(2026, 3, 12, 23, 59, tzinfo=MSK))
    reconcile_account(ports, customer)  # everything is seen by now
    return kazbill_entries(store, customer, MARCH)


@settings(
    max_examples=20,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS, daily=st.booleans())
def test_a_month_seen_days_late_is_charged_exactly_as_a_month_seen_at_once(tmp_path, steps, daily):
    """Whatever changes Kazoo makes and however late each is seen (up to three days, crawls in
    between), the ledger holds the same entries with the same amounts; only a day's fee that
    the live service raised in several steps may be raised in one when they are seen together."""
    late, at_once = (by_charge(run_march(tmp_path, steps, daily, seen_late=seen)) for seen in (True, False))
    assert late == at_once


def by_charge(entries: dict[str, tuple[str, int]]) -> dict[str, int]:
    """Entries by the event they charge (an id's month prefix is the UTC month it was written
    in), a day's fees per day and item (the level in the id dropped)."""
    charged: dict[str, int] = {}
    for entry_id, (kind, amount) in entries.items():
        key = event_part(entry_id)
        key = key.rsplit("-q", 1)[0] if "-daily-" in key else key
        charged[key] = charged.get(key, 0) + (-amount if kind == "debit" else amount)
    return charged


class _PassThatRunsLong(SettableClock):
    """A pass dates itself at its first reading of the clock; every later reading is `later`, as
    when a pass started before midnight in an accelerated run is still reading at 14:00."""

    def __init__(self, start: datetime, later: datetime):
        super().__init__(start)
        self._later = later

    def now(self) -> datetime:
        moment = super().now()
        self.set(self._later)
        return moment


def test_a_device_written_while_a_pass_runs_is_believed_not_recorded_as_from_the_future(store):
    world, customer, clock, ports = build(store)
    crawl_to(ports, clock, customer, date(2026, 3, 1), date(2026, 3, 2))
    written = datetime(2026, 3, 2, 14, 0, tzinfo=MSK)
    store.put(
        account_db(customer),
        stamp(
            {"_id": "device_new", "device_type": "sip_device", "enabled": True},
            customer,
            "device",
            created=gregorian(written),
        ),
    )
    racing = BillingPorts(store, _PassThatRunsLong(datetime(2026, 3, 2, 0, 10, tzinfo=MSK), written), ports.design_docs)
    reconcile_account(racing, customer)
    failures = store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[customer], end_key=[customer, {}], include_docs=True),
    ).rows
    assert [row.doc["reason_code"] for row in failures] == []
    clock.set(datetime(2026, 3, 2, 14, 5, tzinfo=MSK))
    reconcile_account(ports, customer)
    phones = {
        entry_id: amount
        for entry_id, (_, amount) in kazbill_entries(store, customer, MARCH).items()
        if "sip_device" in entry_id
    }
    assert phones == {"202603-kazbill-mrc-20260301-devices-sip_device-q1": 3_000_000}  # 30 of 31 days, from the 2nd
