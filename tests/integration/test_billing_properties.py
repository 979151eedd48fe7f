"""Properties of the bookkeeper over random histories, on the embedded store (the same handlers
run on CouchDB in the worked examples): replays change nothing, and the audit of what the
bookkeeper wrote finds no difference."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import BillingPorts, crawl_account_day, reconcile_account
from testkit.fixtures.billing_world import World, gregorian
from tests.integration.test_billing_worked_examples import GENEROUS, MSK, OFFICE_PLAN, RESELLER_ONBILL, kazbill_entries

START = date(2026, 11, 20)
DAYS = 40
MONTHS = [(2026, 11), (2026, 12), (2027, 1)]


def run_history(tmp_path, billing_day, changes, daily, credits):
    store = EmbeddedStore(tmp_path / f"h-{random.getrandbits(40)}.sqlite3")
    onbill = {**RESELLER_ONBILL, "prorated_credits": credits, **({"charging": {"devices": "daily"}} if daily else {})}
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
    customer = world.customer(
        "Prop",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        onbill={"billing_day": billing_day},
        limits=GENEROUS,
        devices=2,
    )
    clock = SettableClock(datetime(2026, 11, 20, 0, 5, tzinfo=MSK))
    ports = BillingPorts(store, clock, world.design_docs)
    live = list(range(2))
    timeline = [(START - timedelta(days=1), {"devices": {"sip_device": 2}})]
    passes = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
        crawl_account_day(ports, customer, day)
        passes.append(("crawl", clock.now(), day))
        for hour, delta in sorted((h, d) for o, h, d in changes if o == offset):
            clock.set(datetime(day.year, day.month, day.day, 9 + hour, 0, tzinfo=MSK))
            if delta > 0:
                world.add_devices(customer, delta, created=clock.now())
                live += list(range(world.device_count[customer] - delta, world.device_count[customer]))
            for _ in range(min(-delta, len(live))):
                world.remove_device(customer, live.pop(), at=clock.now())
            reconcile_account(ports, customer)
            passes.append(("reconcile", clock.now(), day))
            timeline.append((day, {"devices": {"sip_device": len(live)}} if live else {}))
    return store, ports, clock, customer, passes, timeline


histories = st.lists(
    st.tuples(st.integers(0, DAYS - 1), st.integers(0, 8), st.integers(-3, 3).filter(bool)), max_size=8
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    billing_day=st.integers(1, 31), changes=histories, daily=st.booleans(), credits=st.booleans(), seed=st.integers()
)
def test_any_replay_of_the_passes_in_any_order_with_duplicates_changes_nothing(
    tmp_path, billing_day, changes, daily, credits, seed
):
    store, ports, clock, customer, passes, _ = run_history(tmp_path, billing_day, changes, daily, credits)
    ledger = kazbill_entries(store, customer, MONTHS)
    shuffled = random.Random(seed)
    replays = passes + shuffled.choices(passes, k=len(passes))
    shuffled.shuffle(replays)
    end = clock.now()
    for kind, _moment, day in replays:
        clock.set(end)  # replays arrive late, after everything happened
        if kind == "crawl":
            crawl_account_day(ports, customer, day)
        else:
            reconcile_account(ports, customer)
    assert kazbill_entries(store, customer, MONTHS) == ledger
    assert all(type(amount) is int and amount > 0 for _, amount in ledger.values())  # units, never floats
    store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(billing_day=st.integers(1, 31), changes=histories, daily=st.booleans(), credits=st.booleans())
def test_the_audit_of_a_ledger_the_bookkeeper_wrote_finds_no_difference(tmp_path, billing_day, changes, daily, credits):
    store, ports, _, customer, _, timeline = run_history(tmp_path, billing_day, changes, daily, credits)
    report = audit_account(ports, customer, START, START + timedelta(days=DAYS - 1), timeline=timeline)
    assert report.differences == [] and report.expected_total == report.ledger_total
    store.close()


def test_two_phones_deleted_in_the_same_second_and_seen_by_two_passes_are_both_credited(tmp_path):
    # Found by the property above: the first pass credited one phone; the second walked from
    # that credit's moment, where the history now says none were held, and took the level the
    # credit left (one) as "not reached yet", so the second phone was never credited.
    store, ports, _, customer, _, timeline = run_history(tmp_path, 1, [(0, 0, -1), (0, 0, -1)], False, True)
    assert kazbill_entries(store, customer, MONTHS) == {
        "202611-kazbill-mrc-20261101-devices-sip_device-q2": ("debit", 10_000_000),
        "202611-kazbill-credit-20261101-devices-sip_device-q1-r1": ("credit", 1_833_336),  # 11 of 30 days
        "202611-kazbill-credit-20261101-devices-sip_device-q0-r2": ("credit", 1_833_327),
    }
    report = audit_account(ports, customer, START, START + timedelta(days=DAYS - 1), timeline=timeline)
    assert report.differences == [] and report.expected_total == report.ledger_total
    store.close()


def test_the_audit_names_an_entry_that_was_lost_added_or_changed(tmp_path):
    store, ports, _, customer, _, timeline = run_history(tmp_path, 15, [(3, 2, 1)], False, False)
    november, december = account_modb(customer, 2026, 11), account_modb(customer, 2026, 12)
    changed = store.get(november, "202611-kazbill-mrc-20261115-devices-sip_device-q3")
    store.put(november, {**changed, "amount": changed["amount"] + 1})
    forged = {k: v for k, v in changed.items() if k != "_rev"}
    store.put(november, {**forged, "_id": "202611-kazbill-mrc-20261115-devices-sip_device-q9", "amount": 5})
    lost = store.get(december, "202612-kazbill-mrc-20261215-devices-sip_device-q3")
    store.delete(december, lost["_id"], lost["_rev"])
    report = audit_account(ports, customer, START, START + timedelta(days=DAYS - 1), timeline=timeline)
    assert [(d.entry_id, d.kind, d.expected, d.actual) for d in report.differences] == [
        ("202611-kazbill-mrc-20261115-devices-sip_device-q3", "amount", -changed["amount"], -changed["amount"] - 1),
        ("202611-kazbill-mrc-20261115-devices-sip_device-q9", "unexpected", None, -5),
        ("202612-kazbill-mrc-20261215-devices-sip_device-q3", "missing", -15_000_000, None),
    ]
    assert not report.clean


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    phones=st.lists(
        st.tuples(st.integers(-48, 20), st.one_of(st.none(), st.integers(-24, 20))), min_size=1, max_size=5
    ),
    first_pass_hour=st.integers(1, 22),
)
def test_a_day_first_seen_late_charges_its_highest_count_of_phones(tmp_path, phones, first_pass_hour):
    """Invariant: whatever phones were added or deleted before the day's first pass (the
    service away at midnight), the day's daily fee covers the most phones alive at any moment
    of the day until that pass (when it began, at the pass, and in between: a phone added at
    three and deleted at five was there that day), and a second pass of the day adds nothing."""
    store = EmbeddedStore(tmp_path / f"d-{random.getrandbits(40)}.sqlite3")
    onbill = {**RESELLER_ONBILL, "charging": {"devices": "daily"}}
    world = World(store).build(reseller_onbill=onbill, plan=OFFICE_PLAN)
    customer = world.customer(
        "Late", created=datetime(2026, 1, 10, tzinfo=MSK), onbill={"billing_day": 1}, limits=GENEROUS
    )
    midnight = datetime(2026, 12, 2, 0, 0, tzinfo=MSK)
    first_pass = midnight + timedelta(hours=first_pass_hour)
    lives = []
    for n, (created_h, deleted_h) in enumerate(phones):
        created = midnight + timedelta(hours=created_h)
        if created >= first_pass:
            continue  # not written yet when the pass comes
        deleted = None if deleted_h is None or deleted_h <= created_h else midnight + timedelta(hours=deleted_h)
        if deleted is not None and deleted >= first_pass:
            deleted = None
        doc = {
            "_id": f"device{n:026d}",
            "device_type": "sip_device",
            "enabled": True,
            "pvt_type": "device",
            "pvt_created": gregorian(created),
            "pvt_modified": gregorian(deleted or created),
        }
        store.put(account_db(customer), {**doc, **({"pvt_deleted": True} if deleted else {})})
        lives.append((created, deleted))
    clock = SettableClock(first_pass)
    ports = BillingPorts(store, clock, world.design_docs)
    reconcile_account(ports, customer)
    day = {k: v for k, v in kazbill_entries(store, customer, [(2026, 12)]).items() if "-daily-20261202-" in k}
    reconcile_account(ports, customer)
    assert {k: v for k, v in kazbill_entries(store, customer, [(2026, 12)]).items() if "-daily-20261202-" in k} == day
    instants = [midnight] + [moment for life in lives for moment in life if moment is not None and moment > midnight]
    highest = max(
        sum(created <= at and (deleted is None or deleted > at) for created, deleted in lives) for at in instants
    )
    levels = [int(entry_id.rsplit("-q", 1)[1]) for entry_id in day]
    assert max(levels, default=0) == highest
    assert sum(amount for _, amount in day.values()) == (0 if not highest else round_day_share(highest))


def round_day_share(phones: int) -> int:
    """The 2nd of December's share of `phones` × 500.00 a month, as the worked example's figures
    say: the month's remainder goes to its first days, one unit each."""
    from bookkeeper.domain.proration import remaining_share

    monthly = phones * 5_000_000
    return remaining_share(monthly, 31, 1) - remaining_share(monthly, 31, 2)
