"""GET .../paypal/payment?amount= and .../yandex_money/payment?amount=: what the payments page
needs to send a customer to its reseller's gateway for a top-up of `amount` (currency units):
the form's address and fields, with the account in the field the hook reads it back from."""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.gateways import paypal, yandex_money
from bookkeeper.domain.gateways.amounts import GatewayFieldError, gateway_amount
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid


def _amount(req: falcon.Request, currency: str) -> int:
    raw = req.get_param("amount")
    if raw is None:
        raise invalid("amount", "required", "the top-up amount, in currency units (e.g. 500.00)")
    try:
        return gateway_amount(raw, currency, "amount")
    except GatewayFieldError as error:
        raise invalid("amount", "type", error.reason) from None


class PaymentForm:
    def __init__(self, deps: ApiDeps, gateway: str):
        self.deps, self.gateway = deps, gateway

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = account_for(req, self.deps, account_id)
        context = billing_context(self.deps, account_id)
        try:
            settings, currency = load_gateway_settings(self.deps.store, context.reseller_id, f"{self.gateway}_config")
        except (GatewayFieldError, NotAReseller) as error:
            raise ApiError(
                404,
                "bad identifier",
                {
                    self.gateway: {
                        "configured": {"message": f"this account's reseller takes no {self.gateway} payments ({error})"}
                    }
                },
            ) from None
        amount = _amount(req, currency)
        refusal = settings.within_limits(amount)
        if refusal:
            raise invalid("amount", "limits", refusal)
        purpose = f"Top-up of {account.get('name') or account_id}"
        if self.gateway == "paypal":
            form = paypal.payment_form(
                settings,
                account_id,
                amount,
                currency,
                item_name=purpose,
                notify_url=f"{self.deps.public_url}/hooks/paypal/{context.reseller_id}",
            )
            answer(req, resp, {"paypal": form})
            return
        options: dict[str, Any] = {}
        if settings.get("wallet"):
            options["wallet"] = {"url": yandex_money.wallet_payment_url(settings, account_id, amount, purpose)}
        if settings.get("shop_id"):
            options["shop"] = yandex_money.shop_payment_form(settings, account_id, amount)
        answer(req, resp, options)
