"""A billing pass cut short at any write (the store lost mid-pass, the process killed) and
finished by later passes after the account has grown meanwhile: the period is opened once, as
the pass that opened it decided, and the growth is charged for the days left. Found by CI: the
pass died between its opening debits and the period marker, the next pass saw no marker and
opened the period again at the new quantity (a full month for three phones on top of two).
Each history ends with the audit finding no difference."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import StoreUnavailable
from bookkeeper.services.audit.charges import audit_account
from bookkeeper.services.billing.account_pass import crawl_account_day, reconcile_account
from testkit.fixtures.billing_world import gregorian
from tests.integration.test_billing_worked_examples import MSK, RESELLER_ONBILL, kazbill_entries, one_customer

pytestmark = pytest.mark.integration
WRITES = ("put", "bulk_put", "create_database", "ensure_database", "soft_delete", "delete", "put_local")
MARCH = [(2026, 3)]
TWO_PHONES_FULL_MARCH = 10_000_000  # 2 × 500.00 RUB
THIRD_PHONE_FROM_2_MARCH = 4_838_710  # 500.00 RUB × 30/31


class StoreLost:
    """The store as a pass sees it when the connection goes: after `writes_left` writes (or after
    the first write `after` picks), every further write raises StoreUnavailable. With
    `reply_lost` the last write is done by the server but its answer never arrives."""

    def __init__(
        self,
        store,
        *,
        writes_left: int | None = None,
        after: Callable[[str, tuple[Any, ...]], bool] | None = None,
        reply_lost: bool = False,
    ):
        self._store, self._left, self._after, self._reply_lost = store, writes_left, after, reply_lost
        self.cut = writes_left == 0

    def __getattr__(self, name: str):
        attr = getattr(self._store, name)
        if name not in WRITES:
            return attr

        def write(*args, **kwargs):
            if self.cut:
                raise StoreUnavailable("test", "connection lost")
            result = attr(*args, **kwargs)
            if self._left is not None:
                self._left -= 1
                self.cut = self._left <= 0
            if self._after is not None and self._after(name, args):
                self.cut = True
            if self.cut and self._reply_lost:
                raise StoreUnavailable("test", "connection lost before the answer")
            return result

        return write


def writes_ledger(name: str, args: tuple[Any, ...]) -> bool:
    docs = args[1] if name == "bulk_put" else [args[1]] if name == "put" else []
    return any(doc.get("pvt_type") == "ledger" for doc in docs)


def march_with_a_phone_added_on_the_2nd(store, first_crawl_store: Callable) -> dict[str, tuple[str, int]]:
    """Two phones; the crawl of 1 March runs on `first_crawl_store(store)` (and may die); on 2 March
    a third phone arrives and is billed live, then the crawler catches up 1 and 2 March."""
    world, customer, clock, ports = one_customer(
        store, "Cut", created=datetime(2026, 1, 10, tzinfo=MSK), devices=2, at=datetime(2026, 3, 1, 0, 5, tzinfo=MSK)
    )
    with contextlib.suppress(StoreUnavailable):  # the pass died; the service retries it later, as the shards do
        crawl_account_day(
            type(ports)(first_crawl_store(store), ports.clock, ports.design_docs), customer, date(2026, 3, 1)
        )
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=MSK))
    world.add_devices(customer, 1, created=clock.now())
    reconcile_account(ports, customer)
    for day in (date(2026, 3, 1), date(2026, 3, 2)):
        crawl_account_day(ports, customer, day)
    assert audit_account(ports, customer, date(2026, 3, 1), date(2026, 3, 2)).differences == []
    return kazbill_entries(store, customer, MARCH)


def phone_debits(entries: dict[str, tuple[str, int]]) -> list[int]:
    return sorted(
        amount for entry_id, (kind, amount) in entries.items() if "sip_device" in entry_id and kind == "debit"
    )


@pytest.mark.parametrize("store", ["embedded", "couchdb"], indirect=True)
@pytest.mark.parametrize("reply_lost", [False, True], ids=["write-lost", "reply-lost"])
def test_a_crawl_that_dies_after_its_opening_debits_is_finished_not_reopened_at_the_new_quantity(store, reply_lost):
    entries = march_with_a_phone_added_on_the_2nd(
        store, lambda real: StoreLost(real, after=writes_ledger, reply_lost=reply_lost)
    )
    assert phone_debits(entries) == [THIRD_PHONE_FROM_2_MARCH, TWO_PHONES_FULL_MARCH]


@pytest.mark.parametrize("store", ["embedded", "couchdb"], indirect=True)
def test_a_period_first_opened_after_the_account_grew_opens_with_what_it_began_with(store):
    # The crawl of 1 March never wrote anything (the service was away at midnight); the third
    # phone of 2 March reaches the bookkeeper first. Before: three phones for the whole month.
    entries = march_with_a_phone_added_on_the_2nd(store, lambda real: StoreLost(real, writes_left=0))
    assert phone_debits(entries) == [THIRD_PHONE_FROM_2_MARCH, TWO_PHONES_FULL_MARCH]


@pytest.mark.parametrize("store", ["embedded"], indirect=True)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes_left=st.integers(0, 12), reply_lost=st.booleans())
def test_a_crawl_cut_at_any_write_opens_the_period_once(store, writes_left, reply_lost):
    entries = march_with_a_phone_added_on_the_2nd(
        store, lambda real: StoreLost(real, writes_left=writes_left, reply_lost=reply_lost)
    )
    # Wherever the pass died (and whether its last write was done), the month is what an
    # uninterrupted service charges: two phones for the month, the third for the days left.
    assert phone_debits(entries) == [THIRD_PHONE_FROM_2_MARCH, TWO_PHONES_FULL_MARCH]


def march_with_changes(store, changes, away_days: int, credits: bool) -> int:
    """Two phones; `changes` are (day offset, hour, phones added or removed) in the first week of
    March. The service is away from the start of March for `away_days` days (0: up all along),
    then crawls the days it missed and follows the changes live. Returns the month's net phone
    charges, after checking the audit agrees."""
    onbill = {**RESELLER_ONBILL, "prorated_credits": credits}
    world, customer, clock, ports = one_customer(
        store,
        "Late",
        created=datetime(2026, 1, 10, tzinfo=MSK),
        devices=2,
        at=datetime(2026, 3, 1, 0, 0, tzinfo=MSK),
        onbill=onbill,
    )
    live = [0, 1]
    for offset in range(7):
        day = date(2026, 3, 1 + offset)
        if offset == away_days:  # back: the days it missed, then today's own crawl
            clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
            for missed in range(offset + 1):
                crawl_account_day(ports, customer, date(2026, 3, 1 + missed))
        elif offset > away_days:
            clock.set(datetime(day.year, day.month, day.day, 0, 5, tzinfo=MSK))
            crawl_account_day(ports, customer, day)
        for minute, (hour, delta) in enumerate(sorted((h, d) for o, h, d in changes if o == offset)):
            clock.set(datetime(day.year, day.month, day.day, 1 + hour, minute, tzinfo=MSK))
            if delta > 0:
                world.add_devices(customer, delta, created=clock.now())
                live += list(range(world.device_count[customer] - delta, world.device_count[customer]))
            for _ in range(min(-delta, len(live))):
                doc_id = f"device{live.pop():026d}"
                doc = store.get(account_db(customer), doc_id)
                store.put(account_db(customer), {**doc, "pvt_deleted": True, "pvt_modified": gregorian(clock.now())})
            if offset >= away_days:
                reconcile_account(ports, customer)
    assert audit_account(ports, customer, date(2026, 3, 1), date(2026, 3, 7)).differences == []
    entries = kazbill_entries(store, customer, MARCH)
    return sum(
        -amount if kind == "debit" else amount
        for entry_id, (kind, amount) in entries.items()
        if "sip_device" in entry_id
    )


@pytest.mark.parametrize("store", ["embedded"], indirect=True)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 20), st.integers(-2, 2).filter(bool)), max_size=6),
    away_days=st.integers(1, 6),
    credits=st.booleans(),
)
def test_a_period_opened_days_late_charges_what_a_service_up_all_along_charges(store, changes, away_days, credits):
    assert march_with_changes(store, changes, away_days, credits) == march_with_changes(store, changes, 0, credits)
