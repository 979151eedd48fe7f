"""An account shard: the single writer for the accounts hashed to it.

Its only state is the billing ports it opened; everything it knows about an account is read from
the store on each piece of work, so a restarted shard needs no recovery. Work that raises out of
the batch runner (which already retries each account once) is redelivered by Thespian once and
then comes back to the supervisor as a PoisonMessage.
"""

from __future__ import annotations

import logging
import os
from datetime import date

from thespian.actors import ActorExitRequest, ActorTypeDispatcher

from actors.messages import ShardReady, ShardStart, ShardWork, ShardWorkDone
from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls

log = logging.getLogger("kazbill.shard")


class AccountShard(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.index: int | None = None
        self.ports: BillingPorts | None = None

    def receiveMsg_ShardStart(self, message: ShardStart, sender) -> None:
        self.index = message.index
        self.ports = build_billing_ports(message.settings, message.clock_file)
        self.send(sender, ShardReady(message.index, os.getpid()))

    def receiveMsg_ShardWork(self, work: ShardWork, sender) -> None:
        if self.ports is None or self.index is None:
            raise RuntimeError("a shard got work before ShardStart")  # poison: the supervisor answers
        if work.kind == "rate":
            outcome = rate_calls(self.ports, work.calls, parts=work.parts)
        else:
            outcome = bill_accounts(
                self.ports, work.account_ids, day=date.fromisoformat(work.day) if work.day else None
            )
        log.info(
            "batch %s (%s): %d done, %d failed, %d handed back",
            work.batch_id,
            work.kind,
            len(outcome.done),
            len(outcome.failed),
            len(outcome.not_done),
            extra={
                "batch_id": work.batch_id,
                "kind": work.kind,
                "accounts": len(work.account_ids),
                "done": len(outcome.done),
                "failed": len(outcome.failed),
                "handed_back": len(outcome.not_done),
            },
        )
        self.send(
            sender,
            ShardWorkDone(
                work.batch_id,
                self.index,
                outcome.done,
                outcome.failed,
                outcome.not_done,
                tuple((event.name, event.account_id) for event in outcome.events),
            ),
        )

    def receiveMsg_ActorExitRequest(self, message: ActorExitRequest, sender) -> None:
        if self.ports is not None:
            self.ports.store.close()
