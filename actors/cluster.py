"""Distributed mode, from a node's side (KAZBILL_NODE set): every node sees every event, and
hands to its own shards only the accounts it owns (bookkeeper/domain/ownership.py over the
live leases of bookkeeper/services/cluster/membership.py).

Why every node sees everything: a node that dies takes with it whatever it held, but the same
messages also reached the others, who dropped them only because the account was not theirs.
When its lease runs out, each survivor takes over the accounts it gained: a reconcile (billing
reads the account's documents, so the dropped changes need not be replayed), the days the
cluster's slowest crawl still owes, and the calls of the recent CDRs (rating is idempotent by
call id). Two nodes that briefly both think they own an account charge nothing twice: every
entry id is deterministic and a period's opening is decided once (see services/billing/account_pass/opening.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from actors.hand_off import HandOffUnavailable
from actors.messages import HandOffDone, WorkKind
from bookkeeper.config import Settings
from bookkeeper.domain.calls import CallRecordError, FinishedCall, call_from_cdr
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_modb
from bookkeeper.domain.ownership import gained, owner_of
from bookkeeper.ports import DocumentStore, StoreError, ViewQuery
from bookkeeper.services.cluster.membership import Membership, NotLive, Ownership

log = logging.getLogger("kazbill.cluster")


def ownership_for(settings: Settings, store: DocumentStore) -> Ownership | None:
    """None in single-node mode (no KAZBILL_NODE)."""
    if not settings.node:
        return None
    return Ownership(Membership(store, settings.node, settings.lease_s))


def node_queue(settings: Settings) -> str:
    """Each node consumes its own copy of Kazoo's messages (see above): the shared name plus the
    node's. One node alone keeps the shared queue, so that upgrading to a cluster loses nothing."""
    return f"{settings.amqp_queue}@{settings.node}" if settings.node else settings.amqp_queue


class HandsOff(Protocol):
    """What a bridge hands its work to: actors.system.HandOffClient, or a stand-in."""

    def hand_off(self, kind: WorkKind, account_ids: Sequence[str], day: str | None = None) -> HandOffDone: ...

    def hand_off_calls(self, calls: Sequence[FinishedCall]) -> HandOffDone: ...


@dataclass
class OwnedOnly:
    """A bridge's handle on its service that passes on only this node's accounts; the others
    are answered as done (their owner got the same message)."""

    client: HandsOff
    ownership: Ownership

    def hand_off(self, kind: WorkKind, account_ids: Sequence[str], day: str | None = None) -> HandOffDone:
        mine = self._mine(account_ids)
        if not mine:
            return HandOffDone("", (), (), ())
        return self.client.hand_off(kind, mine, day)

    def hand_off_calls(self, calls: Sequence[FinishedCall]) -> HandOffDone:
        owners = set(self._mine([call.account_id for call in calls]))
        mine = [call for call in calls if call.account_id in owners]
        if not mine:
            return HandOffDone("", (), (), ())
        return self.client.hand_off_calls(mine)

    def _mine(self, account_ids: Sequence[str]) -> list[str]:
        try:
            return self.ownership.mine(account_ids)
        except (StoreError, NotLive) as error:  # who owns what cannot be told: keep the batch, try later
            raise HandOffUnavailable(f"cannot tell this node's accounts: {error}") from error


def all_accounts(store: DocumentStore) -> list[str]:
    rows = store.query_view(ACCOUNTS_DB, "kazbill_accounts", "by_ancestor", ViewQuery(reduce=False)).rows
    return sorted({row.key[2] for row in rows} | {row.key[0] for row in rows})


def taken_over(
    store: DocumentStore, before: Sequence[str], after: Sequence[str], node: str
) -> tuple[list[str], list[str]]:
    """(the accounts this node owns among `after` and did not among `before`, those of them
    whose owner left: their recent calls may have been dropped by every node)."""
    accounts = gained(all_accounts(store), before, after, node)
    return accounts, [account for account in accounts if before and owner_of(account, before) not in after]


def recent_calls(store: DocumentStore, account_id: str, today: date, days: int = 2) -> list[FinishedCall]:
    """The billable calls of the account's CDRs in the months of the last `days` days, to be
    rated again by a node taking the account over (a call already charged is found and skipped)."""
    months = sorted({(d.year, d.month) for d in (today - timedelta(days=n) for n in range(days + 1))})
    calls: list[FinishedCall] = []
    for year, month in months:
        db = account_modb(account_id, year, month)
        if not store.database_exists(db):
            continue
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows:
            if not row.doc or row.doc.get("pvt_type") != "cdr":
                continue
            try:
                call = call_from_cdr(row.doc)
            except CallRecordError:
                continue  # the follower that first read it recorded it for a person
            if call is not None:
                calls.append(call)
    return calls
