"""A reseller's gateway settings in its own database: read them parsed, write them validated.

The currency a gateway must take is the one the reseller bills its customers in (its own onbill,
inheriting the master's), so a PayPal account in dollars cannot be attached to a rouble reseller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.gateways.settings import GatewaySettings, merged_update, parse_gateway_settings
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db
from bookkeeper.domain.settings import ONBILL_DOC_ID, ResellerSettings, SettingsError, master_of, reseller_settings
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.context import get_or_none


class NotAReseller(ValueError):
    pass


def is_reseller(store: DocumentStore, account_id: str) -> bool:
    """A reseller by Kazoo's flag on its services document, or the master (which bills its own)."""
    account = get_or_none(store, ACCOUNTS_DB, account_id)
    if account is None or account.get("pvt_deleted"):
        return False
    if not account.get("pvt_tree"):
        return True
    services = get_or_none(store, SERVICES_DB, account_id) or {}
    return bool(services.get("pvt_reseller"))


def own_reseller_settings(store: DocumentStore, reseller_id: str) -> ResellerSettings:
    """How `reseller_id` bills its customers; NotAReseller if it bills none."""
    if not is_reseller(store, reseller_id):
        raise NotAReseller(f"account {reseller_id} is not a reseller")
    master_id = master_of(get_or_none(store, ACCOUNTS_DB, reseller_id) or {"_id": reseller_id})
    try:
        return reseller_settings(
            reseller_id,
            get_or_none(store, account_db(reseller_id), ONBILL_DOC_ID),
            get_or_none(store, account_db(master_id), ONBILL_DOC_ID),
            master_id=master_id,
        )
    except SettingsError as error:
        raise GatewayFieldError(f"onbill.{error.field}", error.reason) from None


def stored_gateway_doc(store: DocumentStore, reseller_id: str, kind: str) -> dict[str, Any] | None:
    return get_or_none(store, account_db(reseller_id), kind)


def load_gateway_settings(store: DocumentStore, reseller_id: str, kind: str) -> tuple[GatewaySettings, str]:
    """(the reseller's parsed settings of this gateway, the currency it bills in). Raises
    NotAReseller, or GatewayFieldError naming what is missing or broken."""
    currency = own_reseller_settings(store, reseller_id).currency
    doc = stored_gateway_doc(store, reseller_id, kind)
    if doc is None:
        raise GatewayFieldError(kind, f"reseller {reseller_id} has not configured this gateway")
    try:
        settings = parse_gateway_settings(kind, doc, currency)
    except GatewayFieldError as error:
        raise GatewayFieldError(f"{kind}.{error.field}", error.reason) from None
    if not settings.enabled:
        raise GatewayFieldError(f"{kind}.enabled", f"reseller {reseller_id} has disabled this gateway")
    return settings, currency


def save_gateway_settings(
    store: DocumentStore, reseller_id: str, kind: str, incoming: Mapping[str, Any], now_gregorian: int
) -> dict[str, Any]:
    """Merge the given keys into the stored document, validate the result whole, and save it
    against the revision read (a concurrent write makes this raise Conflict, changing nothing)."""
    currency = own_reseller_settings(store, reseller_id).currency
    for key in incoming:
        if key.startswith(("_", "pvt_")):
            raise GatewayFieldError(key, "private fields are not accepted")
    stored = stored_gateway_doc(store, reseller_id, kind) or {
        "_id": kind,
        "pvt_type": kind,
        "pvt_account_id": reseller_id,
        "pvt_created": now_gregorian,
    }
    merged = merged_update(kind, stored, incoming)
    parse_gateway_settings(kind, merged, currency)
    merged["pvt_modified"] = now_gregorian
    merged["_rev"] = store.put(account_db(reseller_id), merged).rev
    return merged
