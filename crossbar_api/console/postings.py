"""A credit or a debit posted from the console's customer page, through the postings the API's
`PUT .../ledgers/credit|debit` uses: the page's key is the Idempotency-Key (a form sent twice
posts once), the user who posted it is recorded, and the account's pass runs after it."""

from __future__ import annotations

from bookkeeper.domain.money import exact_units
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.payments.postings import MANUAL_CREDITS, PaymentError, apply_payment, manual_debit
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps

MAX_DESCRIPTION = 200


def post_from_form(deps: ApiDeps, caller: Caller, account_id: str, form: dict[str, str]) -> str:
    """The direction posted ("credit" or "debit"); PaymentError or MoneyError name a bad field."""
    direction = form.get("direction", "")
    if direction not in ("credit", "debit"):
        raise PaymentError("direction", "must be credit or debit")
    amount = exact_units(form.get("amount", "").strip().replace(",", "."), "amount")
    description = form.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION or not description.isprintable():
        raise PaymentError("description", f"at most {MAX_DESCRIPTION} printable characters")
    key = form.get("key", "")
    if not (0 < len(key) <= 64 and key.isalnum()):
        raise PaymentError("key", "reload the page and try again")
    ports = BillingPorts(deps.store, deps.clock, deps.design_docs)
    by = caller.user_id or f"api_key:{caller.account_id}"
    external_id = f"console-{key}"
    if direction == "credit":
        reason = form.get("reason", MANUAL_CREDITS[0])
        if reason not in MANUAL_CREDITS:
            raise PaymentError("reason", f"must be one of {', '.join(MANUAL_CREDITS)}")
        apply_payment(
            ports, account_id, amount=amount, reason=reason, external_id=external_id, description=description, by=by
        )
    else:
        manual_debit(ports, account_id, amount=amount, external_id=external_id, description=description, by=by)
    return direction
