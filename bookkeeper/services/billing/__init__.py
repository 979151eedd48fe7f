"""Billing an account: the pass that bills it now or for a day (account_pass), the period it
opens and grows, what a pass reads (its context, once), the daily crawl's plan, the ledger it
writes in Kazoo's layout (ledger_book), and what the pass leaves for others with the billing
itself: the notices its events call for (notice_queue), the low-balance spells behind the
warnings (low_balance_spells), the day's auto top-up request (topup_requests)."""
