"""`kazbill audit`: the charges an account's history calls for and the calls it placed, against
its ledger."""
