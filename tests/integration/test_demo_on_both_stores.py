"""The demo's month (the real actor system, the changes follower, the scripted changes of
1-30 November 2026) on the embedded store and on CouchDB (a real one when the suite has it, else
the CouchDB-compatible server) writes the same ledger, entry by entry, and the same balances;
and so does a month whose changes the follower sees only a day late, after the next crawl."""

from __future__ import annotations

import socket
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from bookkeeper.config import Settings
from bookkeeper.services.billing.ledger_book import LedgerBook
from entrypoints.cli.demo_run import BERLIN, MOSCOW, WORKDAY, DemoRun
from entrypoints.demo.month import MONTH

pytestmark = pytest.mark.integration
FIRST = date(2026, 11, 1)
DAYS = 30

Ledger = dict[str, dict[str, tuple[str, int]]]  # account name -> entry id -> (type, amount)


class LateFollowerRun(DemoRun):
    """The follower looks for changes only after the next midnight's crawl: each day's changes
    are seen a day late, the way a slow feed, a backlog or a restart over midnight shows them."""

    def live_day(self, offset: int) -> None:
        assert self.client is not None and self.follower is not None
        day = self.first_day + timedelta(days=offset)
        self.last_day = day
        self.clock.set(datetime.combine(day, time(0, 30), BERLIN))
        self.client.crawl_now()
        self.follower.step()  # yesterday's changes, after today's crawl
        self.clock.set(datetime.combine(day, WORKDAY, MOSCOW))
        for step in MONTH:
            if step.day == offset + 1:
                step.apply(self.world, self.ports, self.clock.now())
                self.diary.append(f"{day:%d %b}  {step.what}")

    def finish(self) -> None:
        assert self.follower is not None
        self.clock.set(datetime.combine(self.last_day + timedelta(days=1), time(0, 10), BERLIN))
        self.follower.step()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def month(tmp_path: Path, name: str, *, couch_url: str | None, late: bool = False) -> tuple[Ledger, dict[str, int]]:
    settings = Settings(store_url=couch_url, store_path=str(tmp_path / f"{name}.sqlite3"), actor_admin_port=free_port())
    run = (LateFollowerRun if late else DemoRun)(settings, str(tmp_path / f"{name}.clock"), FIRST)
    try:
        run.seed()
        with run.serving():
            for offset in range(DAYS):
                run.live_day(offset)
            if late:
                run.finish()
        book = LedgerBook(run.ports.store, run.ports.design_docs)
        customers = {name: account for name, account in run.world.accounts.items() if name in run.world.resellers_of}
        ledger = {
            name: {entry["_id"]: (entry["pvt_ledger_type"], entry["amount"]) for entry in run.entries(account)}
            for name, account in customers.items()
        }
        balances = {name: book.balance(account, (2026, 11), 0) for name, account in customers.items()}
        return ledger, balances
    finally:
        run.ports.store.close()


def test_the_demo_month_writes_the_same_ledger_on_both_stores(tmp_path, own_couch_url):
    embedded = month(tmp_path, "embedded", couch_url=None)
    couch = month(tmp_path, "couch", couch_url=own_couch_url)
    assert couch == embedded
    ledger, _ = embedded
    # Alpha Taxi's two desk phones added on 3 November: 28 of 30 days of 2 × 350.00 (653.33 and a remainder unit).
    assert ledger["Alpha Taxi"]["202611-kazbill-mrc-20261101-devices-sip_device-q6"] == ("debit", 6_533_334)
    # Kiel Logistics' trunks raised from 2 to 4 on 10 November: 21 of 30 days of 2 × 12.00.
    assert (
        sum(amount for entry_id, (_, amount) in ledger["Kiel Logistics"].items() if "twoway_trunks-q4" in entry_id)
        == 168_000
    )

    # Fjord Design's 12 November is charged at five phones, like the 13th.
    def fjord_day(day: str) -> int:
        return sum(
            amount
            for entry_id, (_, amount) in ledger["Fjord Design"].items()
            if f"-daily-{day}-devices-sip_device" in entry_id
        )

    assert fjord_day("20261112") == fjord_day("20261113") > fjord_day("20261111")


def test_a_follower_a_day_late_charges_the_same_month(tmp_path):
    assert month(tmp_path, "late", couch_url=None, late=True) == month(tmp_path, "on-time", couch_url=None)
