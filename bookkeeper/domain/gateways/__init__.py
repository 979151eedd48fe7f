"""What the payment gateways say and what it means for the ledger: their amounts, their
signatures, their notifications, and a reseller's gateway settings. Pure: no I/O, no clock."""
