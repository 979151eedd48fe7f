"""Step 1 of auto top-up (see `auto_topup`): a billing pass that leaves the balance below the
account's threshold queues a request, one per account per day. Kept apart from the charging
step so that billing never imports the card gateway."""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID, AutoTopUp, parse_auto_topup, topup_due
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings

TOPUPS_DB = "kazbill_topups"


def auto_topup_settings(store: DocumentStore, account_id: str) -> AutoTopUp | None:
    try:
        return parse_auto_topup(get_or_none(store, account_db(account_id), AUTO_TOPUP_DOC_ID))
    except GatewayFieldError:
        return None  # a broken document charges nothing; the API refuses to write one


def request_if_due(store: DocumentStore, account_id: str, balance: int, day: date, now_gregorian: int) -> bool:
    """Step 1, from a billing pass: queue today's request when a top-up is due. True if queued now."""
    if not topup_due(auto_topup_settings(store, account_id), balance, now_gregorian):
        return False
    request = {
        "_id": f"autotopup-{account_id}-{day.isoformat()}",
        "pvt_type": "auto_topup_request",
        "account_id": account_id,
        "day": day.isoformat(),
        "state": "queued",
        "balance": balance,
        "pvt_created": now_gregorian,
    }
    store.ensure_database(TOPUPS_DB)
    return bool(store.bulk_put(TOPUPS_DB, [request])[0].ok)  # a conflict: queued before today


def configure_auto_topup(
    store: DocumentStore,
    account_id: str,
    reseller_id: str,
    *,
    enabled: bool | None,
    threshold: int | None,
    amount: int | None,
) -> dict:
    """Save an account's auto top-up settings (None: leave as stored), validated whole: on needs a
    threshold and an amount, the amount must be one the reseller's Braintree takes; turning it on
    clears the failures that switched it off. GatewayFieldError names the field refused."""
    changes: dict = {
        key: value
        for key, value in (("enabled", enabled), ("threshold", threshold), ("amount", amount))
        if value is not None
    }
    if enabled:
        changes["failures"] = 0
    merged = {**(get_or_none(store, account_db(account_id), AUTO_TOPUP_DOC_ID) or {}), **changes}
    if merged.get("enabled") and not (merged.get("threshold") and merged.get("amount")):
        raise GatewayFieldError(
            "threshold" if not merged.get("threshold") else "amount", "auto top-up needs a threshold and an amount"
        )
    if merged.get("amount"):
        try:
            settings, _ = load_gateway_settings(store, reseller_id, "braintree_config")
        except (GatewayFieldError, NotAReseller) as error:
            raise GatewayFieldError("braintree", f"this account's reseller takes no card payments ({error})") from None
        refusal = settings.within_limits(merged["amount"])
        if refusal:
            raise GatewayFieldError("amount", refusal)
    return (
        update_doc(
            store,
            account_db(account_id),
            AUTO_TOPUP_DOC_ID,
            changes,
            ("disabled_reason",) if enabled else (),
            default={"pvt_type": "kazbill_auto_topup"},
        )
        or {}
    )
