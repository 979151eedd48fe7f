"""An account's auto top-up settings, as the API and the payments page save them, checked
against what the reseller's Braintree takes. The requests a billing pass queues are
billing/topup_requests.py; the charging is auto_topup.py."""

from __future__ import annotations

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_docs import update_doc
from bookkeeper.services.billing.context import get_or_none
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings


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
