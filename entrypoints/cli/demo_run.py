"""The demo's moving parts (see entrypoints/cli/demo.py): the clock, the service, the follower,
the scripted month, and the report of what was charged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from actors.bridges.couch_changes import CHECKPOINT_ID, UPDATES_CHECKPOINT_ID, ChangesFollower
from actors.messages import StartService
from actors.system import HandOffClient, require_done, running_service
from bookkeeper.adapters.clock import FileClock
from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.config import Settings
from bookkeeper.domain.kazoo_names import SYSTEM_DB, account_db, account_modb
from bookkeeper.domain.ledger import entry_reason, signed_amount
from bookkeeper.domain.settings import ONBILL_DOC_ID
from bookkeeper.money_display import format_money
from bookkeeper.ports import ViewQuery, gregorian_now
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, previous_month, utc_month
from bookkeeper.services.billing.notice_queue import NOTICES_DB
from entrypoints.demo.documents import DemoDocument, issue_the_month
from entrypoints.demo.month import MONTH, wire_transfer
from entrypoints.demo.world import CUSTOMERS, RESELLER_CREDITS, RESELLERS, DemoWorld

BERLIN, MOSCOW = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/Moscow")
WORKDAY = time(12, 0)


@dataclass(frozen=True)
class Replay:
    accounts: int
    crawls: int
    new_entries: int


class DemoRun:
    def __init__(self, settings: Settings, clock_file: str, first_day: date):
        self.settings, self.first_day = settings, first_day
        self.clock = FileClock(clock_file)
        self.clock.set(datetime.combine(first_day, time(0, 1), BERLIN))
        self.ports = build_billing_ports(settings, clock_file)
        self.world = DemoWorld(self.ports.store, list(self.ports.design_docs))
        self.client: HandOffClient | None = None
        self.follower: ChangesFollower | None = None
        self.diary: list[str] = []
        self.last_day = first_day

    def seed(self) -> None:
        self.world.seed()
        opening = [(c.name, c.credit) for c in CUSTOMERS if c.credit != "0.00"] + list(RESELLER_CREDITS.items())
        for name, amount in opening:  # the opening wire transfers, before the month starts
            wire_transfer(name, amount, f"{name}-opening")(self.world, self.ports, self.clock.now())

    @contextmanager
    def serving(self) -> Iterator[None]:
        config = StartService(
            settings=self.settings,
            shard_count=self.settings.shard_count,
            restart_intensity=self.settings.restart_intensity,
            restart_period_s=self.settings.restart_period_s,
            work_deadline_s=self.settings.shard_work_deadline_s,
            serve_pid=os.getpid(),
            clock_file=self.clock.path,
            scheduler_interval_s=10**6,  # the demo crawls on cue
            mailer_interval_s=None,
        )  # no SMTP here: notices stay queued, and are counted
        with running_service(config, admin_port=self.settings.actor_admin_port, log_level="WARNING") as service:
            self.client = service.client(timeout_s=120)
            client = self.client
            self.follower = ChangesFollower(
                self.ports.store, lambda ids: client.hand_off("reconcile", ids), poll_s=0.05
            )
            self.follower.step()  # what the seeding wrote
            yield

    def live_day(self, offset: int) -> None:
        """Midnight: the scheduler crawls the new day. Noon: the day's changes, followed."""
        assert self.client is not None and self.follower is not None
        day = self.first_day + timedelta(days=offset)
        self.last_day = day
        self.clock.set(datetime.combine(day, time(0, 30), BERLIN))
        self.client.crawl_now()
        self.clock.set(datetime.combine(day, WORKDAY, MOSCOW))
        for step in MONTH:
            if step.day == offset + 1:
                step.apply(self.world, self.ports, self.clock.now())
                self.diary.append(f"{day:%d %b}  {step.what}")
        self.follower.step()

    def replay_everything(self) -> Replay:
        """Resets every checkpoint and crawls every day again: the shards see each change and
        each day a second time, and must write nothing."""
        assert self.client is not None and self.follower is not None
        before = self.entry_count()
        store = self.ports.store
        store.put_local(SYSTEM_DB, UPDATES_CHECKPOINT_ID, {"seq": "0"})
        for db in store.list_databases():
            if store.get_local(db, CHECKPOINT_ID) is not None:
                store.put_local(db, CHECKPOINT_ID, {"seq": "0"})
        accounts = self.follower.step()
        crawls, day = 0, self.first_day
        ids = [account for name, account in self.world.accounts.items() if name in self.world.resellers_of]
        while day <= self.last_day:
            require_done(self.client.hand_off("crawl", ids, day.isoformat()))
            crawls, day = crawls + 1, day + timedelta(days=1)
        return Replay(accounts, crawls, self.entry_count() - before)

    def issue_documents(self, out_dir: Path) -> tuple[list[DemoDocument], list[str]]:
        """Each customer's last closed period, issued, rendered and written out (entrypoints/demo/documents.py)."""
        assert self.client is not None
        return issue_the_month(self.world, self.ports, self.clock, self.client, self.last_day, out_dir)

    # ------------------------------------------------------------------ the report
    def entries(self, account_id: str) -> list[dict]:
        found = []
        last = max((self.last_day.year, self.last_day.month), utc_month(gregorian_now(self.clock)))
        for year, month in months_from(previous_month((self.first_day.year, self.first_day.month)), last):
            db = account_modb(account_id, year, month)
            if self.ports.store.database_exists(db):
                found += [
                    row.doc
                    for row in self.ports.store.all_docs(db, ViewQuery(include_docs=True)).rows
                    if row.doc and row.doc.get("pvt_type") == "ledger"
                ]
        return found

    def entry_count(self) -> int:
        return sum(
            len(self.entries(account))
            for name, account in self.world.accounts.items()
            if name in self.world.resellers_of
        )

    def report(self) -> str:
        store, book = self.ports.store, LedgerBook(self.ports.store, self.ports.design_docs)
        now = gregorian_now(self.clock)
        notices = store.query_view(NOTICES_DB, "kazbill_notices", "by_state", ViewQuery(group=True)).rows
        lines = []
        for reseller, spec in RESELLERS.items():
            currency, locale = spec["currency"], spec["locale"]
            lines.append(f"{reseller} bills in {currency} ({spec['timezone']}):")
            lines.append(
                f"  {'account':<16}{'monthly':>14}{'prorated':>14}{'daily fees':>14}{'paid in':>14}"
                f"{'balance':>14}  standing"
            )
            for name, account_id in self.world.accounts.items():
                if self.world.resellers_of.get(name) != reseller:
                    continue
                sums = {"monthly_recurring": 0, "recurring_prorate": 0, "daily_fee": 0, "paid": 0, "other": 0}
                for entry in self.entries(account_id):
                    reason = entry_reason(entry) or ""
                    if reason == "rollovers":
                        continue  # a month's balance carried into the next is not money paid in
                    if reason in sums:  # charges count positive, a prorated refund negative
                        sums[reason] -= signed_amount(entry)
                    else:
                        sums["paid" if entry["pvt_ledger_type"] == "credit" else "other"] += abs(signed_amount(entry))
                money = partial(format_money, code=currency, locale=locale)
                standing = store.get_many(account_db(account_id), ["kazbill_standing"]).get("kazbill_standing", {})
                lines.append(
                    f"  {name:<16}{money(sums['monthly_recurring']):>14}{money(sums['recurring_prorate']):>14}"
                    f"{money(sums['daily_fee']):>14}{money(sums['paid']):>14}"
                    f"{money(book.current_balance(account_id, now)):>14}  "
                    f"{standing.get('status', '-')}{' (blocked)' if standing.get('blocked') else ''}"
                )
        counted = ", ".join(f"{row.value} {row.key[1]}" for row in notices if row.key[0] == "queued")
        lines.append(f"Notices queued for the account admins: {counted or 'none'} (the demo sends no email).")
        lines.append(
            f"Reseller settings are in each reseller's '{ONBILL_DOC_ID}' document; the store is "
            f"{self.settings.store_path}."
        )
        return "\n".join(lines)
