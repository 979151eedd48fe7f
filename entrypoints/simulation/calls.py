"""The simulated cluster's calls: each reseller's per-minute deck, and the CDRs Kazoo writes into
an account's monthly database when a call to a carrier ends. The truth kept here (who called
what number for how long, and when) is what the calls audit holds the ledger to: every call
charged exactly once per level of the reseller chain that has a deck, at that deck's rate.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bookkeeper.domain.audit import Difference
from bookkeeper.domain.calls import call_entry_id
from bookkeeper.domain.kazoo_names import account_db, account_modb, gregorian_of
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.rating import RateDeck, call_cost
from bookkeeper.ports import DatabaseNotFound, DocumentStore, ViewQuery
from bookkeeper.services.rating.rate_decks import import_rate_deck, load_rate_deck

DECK = "sim"
# prefix, rate per minute (major units), increment, minimum: Moscow, Russian mobiles, Germany, the US.
RATES = (("7495", "0.90", 60, 60), ("79", "2.40", 60, 60), ("49", "0.05", 6, 30), ("1", "0.02", 1, 1))
NUMBERS = ("7495", "79", "49", "1")


@dataclass(frozen=True)
class SimulatedCall:
    account_id: str
    call_id: str
    number: str
    billing_seconds: int
    ended_gregorian: int


def install_deck(store: DocumentStore, reseller_id: str) -> None:
    lines = ["prefix,rate_cost,rate_increment,rate_minimum,direction"] + [
        f"{prefix},{cost},{increment},{minimum},outbound" for prefix, cost, increment, minimum in RATES
    ]
    imported = import_rate_deck(store, reseller_id, DECK, lines)
    if not imported.report.ok:
        raise ValueError(f"the simulator's own deck is refused: {imported.report.errors}")


def place_calls(
    store: DocumentStore, rng: random.Random, account_id: str, index: int, now: datetime, count: int, bus=None
) -> list[SimulatedCall]:
    """`count` outbound calls that ended at `now`, each a CDR as Kazoo's cdr app writes it (and,
    given the bus, the carrier leg's CHANNEL_DESTROY, as ecallmgr publishes it)."""
    calls, ended = [], gregorian_of(now)
    db = account_modb(account_id, now.year, now.month)
    store.ensure_database(db)
    for n in range(count):
        call_id = f"sim-{account_id[:8]}-{now:%Y%m%d}-{n}"
        number = rng.choice(NUMBERS) + "".join(str(rng.randrange(10)) for _ in range(8))
        seconds = rng.choice((0, 7, 45, 61, 300, 1800))  # 0: unanswered, nothing to bill
        store.put(
            db,
            {
                "_id": f"{now:%Y%m}-{call_id}",
                "pvt_type": "cdr",
                "call_id": call_id,
                "billing_seconds": str(seconds),
                "call_direction": "outbound",
                "custom_channel_vars": {
                    "account_id": account_id,
                    "resource_id": "sim-carrier",
                    "authorizing_type": "device",
                },
                "callee_id_number": f"+{number}",
                "caller_id_number": f"+7495{index:07d}",
                "request": f"+{number}@sim.example",
                "timestamp": ended,
                "pvt_account_id": account_id,
                "pvt_created": ended,
            },
        )
        if bus is not None:
            bus.call_ended(
                account_id=account_id,
                call_id=call_id,
                number=f"+{number}",
                caller=f"+7495{index:07d}",
                billing_seconds=seconds,
                ended_gregorian=ended,
            )
        if seconds:
            calls.append(SimulatedCall(account_id, call_id, number, seconds, ended))
    return calls


def audit_calls(
    store: DocumentStore,
    calls: Iterable[SimulatedCall],
    accounts: Iterable[str],
    levels: Callable[[str], list[tuple[str, str, str]]],
) -> list[tuple[str, Difference]]:
    """Every (account, difference) between the calls' expected debits and the call entries of
    `accounts`. `levels(account_id)` names who pays a call of that account: (payer, the reseller
    whose deck rates it, that reseller's time zone), the customer first, then up the chain."""
    wanted: dict[str, dict[str, int]] = {}
    decks: dict[str, RateDeck] = {}
    for call in calls:
        for payer, reseller_id, timezone in levels(call.account_id):
            if reseller_id not in decks:
                decks[reseller_id] = load_rate_deck(store, reseller_id, DECK)
            rate = decks[reseller_id].find(call.number, "outbound")
            cost = call_cost(rate, call.billing_seconds).amount if rate else 0
            if cost:
                day = local_day_of_gregorian(call.ended_gregorian, timezone)
                wanted.setdefault(payer, {})[call_entry_id(day, call.call_id)] = -cost
    differences, databases = [], store.list_databases()
    for payer in sorted(wanted.keys() | set(accounts)):
        held = _call_entries(store, databases, payer)
        for entry_id in sorted(wanted.get(payer, {}).keys() | held.keys()):
            want, have = wanted.get(payer, {}).get(entry_id), held.get(entry_id)
            if want != have:
                kind = "missing" if have is None else "unexpected" if want is None else "amount"
                differences.append((payer, Difference(entry_id, kind, want, have)))
    return differences


def _call_entries(store: DocumentStore, databases: list[str], account_id: str) -> dict[str, int]:
    """The account's per-minute call entries, whichever month's database holds them (a late
    report of a call from a month that is over lands in the current month)."""
    held: dict[str, int] = {}
    prefix = account_db(account_id) + "-"
    for db in databases:
        if not db.startswith(prefix):
            continue
        try:
            rows = store.all_docs(db, ViewQuery(include_docs=True)).rows
        except DatabaseNotFound:
            continue
        for row in rows:
            doc = row.doc or {}
            assert row.id is not None  # all_docs rows name their document
            if "-kazbill-call-" in row.id and doc.get("pvt_type") == "ledger" and not doc.get("pvt_deleted"):
                signed = -doc["amount"] if doc.get("pvt_ledger_type") == "debit" else doc["amount"]
                held[row.id] = held.get(row.id, 0) + signed
    return held
