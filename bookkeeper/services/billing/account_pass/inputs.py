"""What a billing pass knows before it decides anything: its ports, the account as loaded, the
day it bills, and what the account holds. Frozen: the steps read it and never write into it;
what they decide travels back in their outcomes (outcome.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.added_vat import netto_rate
from bookkeeper.domain.charges import Charge
from bookkeeper.domain.history import QuantityHistory
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.domain.ledger import ledger_document
from bookkeeper.domain.periods import Month, Period
from bookkeeper.domain.plan_pricing import price_services
from bookkeeper.domain.plans import ItemPrice
from bookkeeper.domain.quantities import Quantities
from bookkeeper.ports import Clock, DocumentStore, gregorian_now
from bookkeeper.services.billing.batch_reads import BatchReads
from bookkeeper.services.billing.context import BillingContext
from bookkeeper.services.billing.directory import DirectoryWrites
from bookkeeper.services.billing.ledger_book import LedgerBook, months_from, utc_month
from bookkeeper.services.billing.quantity_history import account_history
from bookkeeper.services.billing.store_refusals import StoreRefusals

EARLIEST_ZONE_AHEAD_S = 14 * 3600  # UTC+14 (Pacific/Kiritimati): the first place a day begins


@dataclass(frozen=True)
class BillingPorts:
    store: DocumentStore
    clock: Clock
    design_docs: Sequence[DesignDoc]
    passes_at_once: int = 1  # accounts a batch bills at once (threads); 1: one after another
    batch: BatchReads | None = None  # set by a batch: what its passes read alike, read once
    directory: DirectoryWrites | None = None  # set by a batch: its accounts' summaries, written at its end
    refusals: StoreRefusals = field(default_factory=StoreRefusals)  # the shard's, for as long as it lives


@dataclass(frozen=True)
class PassInputs:
    ports: BillingPorts
    context: BillingContext
    book: LedgerBook  # one per pass: it remembers which months it has already carried over
    today: date  # the day billed (a crawl may catch up a day gone by)
    present: date  # today in the reseller's time zone
    now_gregorian: int
    quantities: Quantities  # what the account holds now, read once at the pass's start
    crawl: bool = False  # a daily crawl pass (else a live reconcile)
    period_start: date | None = None  # the start of the period billed (its entries are read last)

    @property
    def account_id(self) -> str:
        return self.context.account_id

    @property
    def store(self) -> DocumentStore:
        return self.ports.store

    @property
    def catching_up(self) -> bool:
        """Crawling a day that is already over (the service was away when it began)."""
        return self.today < self.present

    @cached_property
    def history(self) -> QuantityHistory:
        """When each of the account's changes happened (read once per pass, when first needed)."""
        plan = self.context.plan
        cascading = {category for (category, _), item in plan.items.items() if item.cascade} if plan else set()
        return account_history(
            self.store,
            self.account_id,
            limits=self.context.limits,
            now_quantities=self.quantities,
            now=self.now_gregorian,
            cascading=cascading,
            clock=lambda: gregorian_now(self.ports.clock),
        )

    def prices(
        self, quantities: Quantities, kept: Mapping[str, str] | None = None
    ) -> tuple[list[ItemPrice], list[ItemPrice]]:
        """(monthly, daily): the plan's prices of `quantities`, split by the reseller's scheme,
        or by `kept`, the way the period billed has been charging a category (ledger.period_schemes)."""
        if self.context.plan is None:
            return [], []
        prices = price_services(self.context.plan, quantities)
        kept = kept or {}
        scheme = self.context.reseller.scheme_for

        def monthly(category: str) -> bool:
            return kept.get(category, scheme(category)) == "monthly"

        return [p for p in prices if monthly(p.category)], [p for p in prices if not monthly(p.category)]

    def period_months(self, period: Period) -> list[Month]:
        """The monthly databases a period's entries can be in: Kazoo's UTC months, from the one
        in which its first day began somewhere on Earth, to now. A period's entries are written
        once its first day has begun where its reseller is (a reseller east of UTC opens it
        before UTC's day turns); the earliest such moment in any zone, whatever the reseller's
        zone was then, is 10:00 UTC the day before (UTC+14). So a period that starts on the 1st
        is looked for from the month before, one that starts on the 15th from its own: a view
        query less on each read of it, where its month before was asked for nothing."""
        earliest = gregorian_of(datetime.combine(period.start, time(), tzinfo=UTC)) - EARLIEST_ZONE_AHEAD_S
        first = utc_month(earliest)
        return months_from(first, max(utc_month(self.now_gregorian), (period.end.year, period.end.month)))

    def ledger_entries(self, charges: Sequence[Charge]) -> list[dict[str, Any]]:
        context = self.context
        return [
            ledger_document(
                charge,
                account_id=self.account_id,
                account_name=context.account_name,
                currency=context.reseller.currency,
                tz=context.reseller.timezone,
                now_gregorian=self.now_gregorian,
                added_vat_rate=netto_rate(context.reseller.vat_disposition, context.reseller.vat_rate),
            )
            for charge in charges
        ]
