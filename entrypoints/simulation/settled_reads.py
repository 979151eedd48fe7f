"""The simulator's truth read as every copy of a CouchDB cluster has it."""

from __future__ import annotations

import time

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.quantities import Quantities
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import current_quantities
from bookkeeper.services.billing.ledger_readback import on_a_cluster

# How many reads running must agree before the truth is recorded (more than the nodes behind the
# load balancer), and how long to wait for that at most.
SETTLED_READS = 4
SETTLE_TIMEOUT_S = 10.0


def settled_quantities(store: DocumentStore, account_id: str) -> Quantities:
    """The quantities views give once every copy has the write just made. On a CouchDB
    cluster a write is acknowledged by two copies of three, and a view is answered, per
    shard range, by whichever copy replies first: read at once, the truth the audit checks
    the bookkeeper against was now and then the state before the change (four false audit
    differences in two runs). Through a load balancer each read has another coordinator,
    answering mostly from its own copies: the same answer SETTLED_READS times running is
    taken as every copy's."""
    found = current_quantities(store, account_id)
    if not on_a_cluster(store, account_db(account_id)):
        return found
    same, deadline = 1, time.monotonic() + SETTLE_TIMEOUT_S
    while same < SETTLED_READS and time.monotonic() < deadline:
        again = current_quantities(store, account_id)
        same = same + 1 if again == found else 1
        found = again
        if same < SETTLED_READS:
            time.sleep(0.05)
    return found
