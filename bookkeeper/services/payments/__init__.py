"""Money in and corrections: postings (payments, manual credits and debits), the payment
gateways' hooks and settings, cards and refunds through Braintree, auto top-up."""
