"""Whose name a customer's email carries: its reseller's, from the reseller's own address when it
set one (`mail_from` in its onbill), else from the operator's sender address. One global From
made Nordic Voice's customers receive mail from Volna."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import BillingContext, get_or_none


def account_name(store: DocumentStore, account_id: str) -> str | None:
    doc = get_or_none(store, ACCOUNTS_DB, account_id) or get_or_none(store, account_db(account_id), account_id)
    name = (doc or {}).get("name")
    return name.strip() if isinstance(name, str) and name.strip() else None


def sender_for(store: DocumentStore, context: BillingContext | None, default_sender: str) -> str:
    """The From header: "Reseller name <address>"."""
    default_name, default_address = parseaddr(default_sender)
    if context is None:
        return default_sender
    address = context.reseller.mail_from or default_address
    name = account_name(store, context.reseller_id) or default_name
    return formataddr((name, address)) if name else address
