"""Notices and mail: what billing says an account must hear (queued by the billing pass,
billing/notice_queue.py) sent by the mailer, in the account's language and its reseller's
name, and never once it has stopped being true."""
