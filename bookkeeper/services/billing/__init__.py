"""Billing an account: the pass that bills it now or for a day (account_pass), the period it
opens and grows, what a pass reads (its context, once), the daily crawl's plan, and the ledger
it writes in Kazoo's layout (ledger_book)."""
