"""The billing pass: bill one account now (after a document changed) or for one day (the daily
crawl). A pass loads through the ports, asks the domain, writes entries with deterministic ids,
and returns the events it caused for the actors and the notifier.

- handlers.py: the two entry points, their refusals and the notices they queue;
- steps.py: the pass itself, one step after another, each returning charges and events;
- inputs.py: what the pass knows (frozen), pass_ledger.py: the balance and the writes;
- opening.py: opening or resuming a period; growth.py: what changed since, and daily fees;
- standing.py: good, delinquent or blocked, after the pass.

Running a pass twice, or concurrently with a replay of the same event, changes nothing the
second time: every entry id comes from the business event, the ledger book skips ids already
written, and a period's opening is recorded with its entries before they are written, so a pass
cut short is finished by the next one as it was decided instead of being decided again.
"""

from bookkeeper.services.billing.account_pass.handlers import (
    ACCOUNT_DOCS_READ,
    account_reads,
    crawl_account_day,
    reconcile_account,
)
from bookkeeper.services.billing.account_pass.inputs import BillingPorts
from bookkeeper.services.billing.account_pass.standing import STANDING_DOC_ID

__all__ = [
    "ACCOUNT_DOCS_READ",
    "STANDING_DOC_ID",
    "BillingPorts",
    "account_reads",
    "crawl_account_day",
    "reconcile_account",
]
