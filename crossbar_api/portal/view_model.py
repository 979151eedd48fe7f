"""What the payments page shows for one account, gathered from the same handlers as the API."""

from __future__ import annotations

import uuid
from typing import Any

from bookkeeper.domain.auto_topup import AUTO_TOPUP_DOC_ID
from bookkeeper.domain.documents.legal_details import FIELDS as LEGAL_FIELDS
from bookkeeper.domain.gateways import paypal, yandex_money
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import local_day_of_gregorian, period_containing
from bookkeeper.domain.standing_words import reason_in
from bookkeeper.money_display import format_money
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.context import BillingContext, get_or_none
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.documents.statements import statement
from bookkeeper.services.mail.mail_from import account_name
from bookkeeper.services.payments.card_payments import CardError, cards_and_client_token
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings
from crossbar_api.deps import ApiDeps
from crossbar_api.portal.history import chosen_period_start, documents_model, periods_model
from crossbar_api.portal.texts import LOCALES
from crossbar_api.resources.cards import card_ports


def _gateway(deps: ApiDeps, context: BillingContext, kind: str):
    try:
        return load_gateway_settings(deps.store, context.reseller_id, kind)[0]
    except (GatewayFieldError, NotAReseller):
        return None


def page_model(
    deps: ApiDeps, account: dict[str, Any], context: BillingContext, lang: str, period_asked: str | None = None
) -> dict[str, Any]:
    account_id, currency = context.account_id, context.reseller.currency
    money = lambda units: format_money(units, currency, LOCALES[lang])  # noqa: E731 - a one-line formatter
    now = gregorian_now(deps.clock)
    today = local_day_of_gregorian(now, context.reseller.timezone)
    shown_start = chosen_period_start(context, period_asked, today)
    found = statement(
        deps.store, deps.design_docs, context, period_containing(context.account.billing_day, shown_start), now
    )
    current = found.period.contains(today)
    balance = found.balance if current else LedgerBook(deps.store, deps.design_docs).current_balance(account_id, now)
    standing = get_or_none(deps.store, account_db(account_id), "kazbill_standing") or {}
    model: dict[str, Any] = {
        "account_id": account_id,
        "account_name": account.get("name") or account_id,
        "currency": currency,
        "balance": money(balance),
        "credit_line": money(context.credit_line),
        "current_period": current,
        "closing_balance": money(found.balance),
        "documents": documents_model(deps, context, today, money),
        "periods": periods_model(deps, context, today),
        "standing": "blocked" if standing.get("blocked") else standing.get("status", "good_standing"),
        "reasons": [reason_in(str(reason), lang) for reason in standing.get("reasons", [])],
        "amount_to_restore": money(standing["amount_to_restore"]) if standing.get("amount_to_restore") else None,
        "reseller_name": account_name(deps.store, context.reseller_id),
        "period": {
            "start": found.period.start.isoformat(),
            "end": found.period.end.isoformat(),
            "opening_balance": None if found.opening_balance is None else money(found.opening_balance),
            "payments": money(found.payments),
            "monthly_fees": money(found.monthly_fees),
            "per_minute_calls": money(found.per_minute_calls),
            "adjustments": money(found.adjustments) if found.adjustments else None,
        },
        "entries": [
            {
                "date": local_day_of_gregorian(entry.get("pvt_created", now), context.reseller.timezone).isoformat(),
                "description": entry.get("description", ""),
                "amount": ("+" if entry.get("pvt_ledger_type") == "credit" else "−") + money(entry.get("amount", 0)),
            }
            for entry in found.entries[:100]
        ],
        "topup_key": uuid.uuid4().hex,  # one per page shown: a double submit charges once
        "amount_step": "0.01",
    }
    model["card"] = _card_section(deps, account_id)
    onbill = get_or_none(deps.store, account_db(account_id), "onbill") or {}
    legal: dict[str, Any] = onbill["legal"] if isinstance(onbill.get("legal"), dict) else {}
    model["legal"] = [(key, legal[key]) for key in LEGAL_FIELDS if isinstance(legal.get(key), str)]
    # A pro-forma is issued by the reseller's main carrier: none, no pro-forma (and no number spent).
    model["proforma_offered"] = bool(context.reseller.carriers)
    auto = get_or_none(deps.store, account_db(account_id), AUTO_TOPUP_DOC_ID) or {}
    model["auto_topup"] = {
        "enabled": bool(auto.get("enabled")),
        "switched_off": auto.get("disabled_reason"),
        "threshold": _major_text(auto.get("threshold")),
        "amount": _major_text(auto.get("amount")),
    }
    paypal_settings = _gateway(deps, context, "paypal_config")
    if paypal_settings is not None:
        form = paypal.payment_form(
            paypal_settings,
            account_id,
            10_000,
            currency,
            item_name=f"Top-up of {model['account_name']}",
            notify_url=f"{deps.public_url}/hooks/paypal/{context.reseller_id}",
        )
        form["fields"].pop("amount")
        model["paypal"] = form
    yandex = _gateway(deps, context, "yandex_money_config")
    if yandex is not None:
        model["yandex_wallet"] = (
            {
                "action": yandex_money.QUICKPAY_URL,
                "fields": {
                    "receiver": yandex.get("wallet"),
                    "quickpay-form": "button",
                    "targets": f"Top-up of {model['account_name']}",
                    "paymentType": "AC",
                    "label": account_id,
                },
            }
            if yandex.get("wallet")
            else None
        )
        shop = yandex_money.shop_payment_form(yandex, account_id, 10_000) if yandex.get("shop_id") else None
        if shop:
            shop["fields"].pop("sum")
        model["yandex_shop"] = shop
    return model


def _card_section(deps: ApiDeps, account_id: str) -> dict[str, Any] | None:
    try:
        cards, token = cards_and_client_token(card_ports(deps), account_id)
    except CardError as error:
        if error.field == "braintree" and error.status == 404:
            return None  # the reseller takes no cards
        return {"cards": [], "client_token": None, "error": error.reason}
    return {"cards": cards, "client_token": token, "error": None}


def _major_text(units: Any) -> str:
    return f"{to_major(units):.2f}" if isinstance(units, int) else ""
