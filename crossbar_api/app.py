"""The API's one factory: `create_app(deps)` for tests and for gunicorn (`crossbar_api.wsgi`).
Resources are nouns that get their dependencies here; nothing is built at import time."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import falcon

from bookkeeper.domain.periods import local_day
from bookkeeper.domain.settings import SettingsError
from bookkeeper.services.billing.crawl_plan import reseller_timezone
from crossbar_api import errors
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.metrics import MetricsAccess, RequestMetrics, store_gauges
from crossbar_api.middleware import RequestContext
from crossbar_api.openapi import openapi_document
from crossbar_api.portal.pages import portal_routes
from crossbar_api.resources.audit import Audit
from crossbar_api.resources.auth import ApiAuth, TokenAuth, UserAuth
from crossbar_api.resources.cards import AutoTopUpSettings, Card, Cards, ClientToken, Credits, Refund
from crossbar_api.resources.document_templates import DocumentTemplate
from crossbar_api.resources.gateways import gateway_routes
from crossbar_api.resources.ledgers import AvailableLedgers, Ledgers, LedgerSummary, SourceLedger, SourceLedgers
from crossbar_api.resources.money import CurrentBalance, ManualLedger, Transactions
from crossbar_api.resources.onbills import (
    GenerateOnbills,
    OnbillDocument,
    OnbillPdf,
    Onbills,
    Proforma,
    TransactionInvoice,
)
from crossbar_api.resources.payment_forms import PaymentForm
from crossbar_api.resources.periods import BillingPeriod, BillingPeriods
from crossbar_api.resources.plans import PLAN_ROUTES
from crossbar_api.resources.rate_decks import RateDeckCsv, RateDeckImport, RateLookup
from crossbar_api.resources.services import Reconcile, Services
from crossbar_api.resources.settings import Onbill
from crossbar_api.resources.status import BillingStatus
from crossbar_api.resources.trial_limits import PrivateLimits, Trial

ACCOUNT = "/v2/accounts/{account_id}"
PAGED = ("created_from", "created_to", "page_size", "start_key", "paginate", "ascending")
# Kazoo's ledger body (its `ledgers` schema, read by cb_ledgers:put) and Kazbill's `reason`.
LEDGER_BODY = {
    "amount": "number",
    "description": "string",
    "reason": "string",
    "source": {
        "type": "object",
        "properties": {"service": {"type": "string"}, "id": {"type": "string"}},
        "required": ["service", "id"],
    },
    "usage": {
        "type": "object",
        "properties": {"type": {"type": "string"}, "quantity": {"type": "integer"}, "unit": {"type": "string"}},
        "required": ["type", "quantity", "unit"],
    },
    "period": {"type": "object", "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}}},
    "metadata": "object",
    "account": "object",
}


@dataclass(frozen=True)
class Route:
    path: str
    make: Callable[[ApiDeps], Any]
    summary: str
    body: dict[str, Any] | None = None  # JSON schema of `data` for PUT/POST
    query: tuple[str, ...] = ()


ROUTES = (
    Route(
        "/v2/user_auth",
        UserAuth,
        'Log in with md5("user:password") and a phone number, an account realm or an account name (as Kazoo normalises it)',
        {
            "credentials": "string",
            "account_name": "string",
            "account_realm": "string",
            "realm": "string",
            "phone_number": "string",
            "method": "string",
        },
    ),
    Route("/v2/api_auth", ApiAuth, "Log in with an account's API key", {"api_key": "string"}),
    Route("/v2/token_auth", TokenAuth, "DELETE: log out; the token presented stops working at once"),
    Route(
        f"{ACCOUNT}/transactions/current_balance",
        lambda d: CurrentBalance(d, "balance"),
        "The account's balance now, in currency units",
    ),
    Route(f"{ACCOUNT}/ledgers/total", lambda d: CurrentBalance(d, "amount"), "The account's balance (Kazoo 4.3)"),
    Route(
        f"{ACCOUNT}/transactions",
        Transactions,
        "Credits and debits created in a range, newest first",
        query=("created_from", "created_to", "reason", "page_size", "start_key"),
    ),
    Route(
        f"{ACCOUNT}/ledgers/credit",
        lambda d: ManualLedger(d, "credit"),
        "A reseller's manual credit in Kazoo's ledger body, answered as the ledger written; Idempotency-Key "
        "makes repeats safe",
        LEDGER_BODY,
    ),
    Route(
        f"{ACCOUNT}/ledgers/debit",
        lambda d: ManualLedger(d, "debit"),
        "A reseller's debit (balance correction) in Kazoo's ledger body; Idempotency-Key makes repeats safe",
        LEDGER_BODY,
    ),
    Route(
        f"{ACCOUNT}/ledgers",
        Ledgers,
        "Amount and usage per source service, created in a range (cb_ledgers)",
        query=("created_from", "created_to"),
    ),
    Route(f"{ACCOUNT}/ledgers/available", AvailableLedgers, "The ledger sources registered for the account"),
    Route(
        f"{ACCOUNT}/ledgers/summary/{{modb_suffix}}",
        LedgerSummary,
        "One month (YYYYMM): per source service, and per account and source",
    ),
    Route(
        f"{ACCOUNT}/ledgers/{{ledger}}",
        SourceLedgers,
        "GET: the ledgers of one source service, newest first, paged; DELETE (a manual entry's id): undo it "
        "with an opposite entry",
        query=PAGED,
    ),
    Route(f"{ACCOUNT}/ledgers/{{ledger}}/{{entry_id}}", SourceLedger, "One ledger of a source service"),
    Route(f"{ACCOUNT}/billing_status", BillingStatus, "Trial, standing, block, billing day and current period"),
    Route(f"{ACCOUNT}/services", Services, "Quantities, prices, discounts and the estimated monthly cost"),
    Route(f"{ACCOUNT}/services/reconcile", Reconcile, "Bill what changed, now; answers the events it caused"),
    Route(
        f"{ACCOUNT}/onbill",
        Onbill,
        "Billing settings of the account (and of a reseller, its own)",
        {
            "currency": "string",
            "timezone": "string",
            "locale": "string",
            "charging": "object",
            "force_first_billing_day": "boolean",
            "default_billing_day": "integer",
            "prorate_new_accounts": "boolean",
            "prorated_credits": "boolean",
            "cancellable": "object",
            "blocking_enabled": "boolean",
            "new_account_grace_days": "integer",
            "default_service_plan": "string",
            "vat_disposition": "string",
            "vat_rate": "number",
            "low_balance_threshold": "number",
            "billing_day": "integer",
            "payment_type": "string",
            "manual_block": "boolean",
            "language": "string",
            "default_rate_deck": "string",
            "rate_deck": "string",
            "documents_to": "string",
            "aggregate_invoice": "boolean",
            "carriers": "array",
        },
    ),
    Route(f"{ACCOUNT}/billing_periods", BillingPeriods, "The periods opened, newest first, with opening balances"),
    Route(
        f"{ACCOUNT}/billing_periods/{{start}}",
        BillingPeriod,
        "One period: opening balance, payments, monthly fees, per-minute calls and the balance",
    ),
    Route(
        f"{ACCOUNT}/onbill_trial",
        Trial,
        "End a trial now, or extend it by some days (reseller)",
        {"action": "string", "days": "integer"},
    ),
    Route(
        f"{ACCOUNT}/onbill_pvt_limits",
        PrivateLimits,
        "The private limits a reseller sets for an account",
        {
            "allow_postpay": "boolean",
            "max_postpay_amount": "number",
            "reserve_amount": "number",
            "twoway_trunks": "integer",
            "inbound_trunks": "integer",
            "outbound_trunks": "integer",
            "burst_trunks": "integer",
        },
    ),
    *(Route(path, make, summary, body) for path, make, summary, body in PLAN_ROUTES),
    *(Route(path, make, summary, body) for path, make, summary, body in gateway_routes(ACCOUNT)),
    Route(
        f"{ACCOUNT}/paypal/payment",
        lambda d: PaymentForm(d, "paypal"),
        "The PayPal form for a top-up of `amount`, with the account and the IPN hook filled in",
        query=("amount",),
    ),
    Route(f"{ACCOUNT}/braintree/client_token", ClientToken, "A Braintree client token for the card form"),
    Route(
        f"{ACCOUNT}/braintree/cards",
        Cards,
        "The account's saved cards; PUT saves one from the card form's nonce",
        {"payment_method_nonce": "string", "make_default": "boolean"},
    ),
    Route(
        f"{ACCOUNT}/braintree/cards/{{token}}",
        Card,
        'Make a saved card the default ({"default": true}) or delete it',
        {"default": "boolean"},
    ),
    Route(
        f"{ACCOUNT}/braintree/credits",
        Credits,
        "Top up by charging a saved card (the default unless `card`); Idempotency-Key required",
        {"amount": "number", "card": "string"},
    ),
    Route(
        f"{ACCOUNT}/braintree/transactions/{{transaction_id}}/refund",
        Refund,
        "A reseller refunds a card top-up, all or `amount` of it; Idempotency-Key required",
        {"amount": "number"},
    ),
    Route(
        f"{ACCOUNT}/rate_decks/{{deck}}",
        RateDeckCsv,
        "Replace a reseller's per-minute rate deck with a CSV body (all rows or none; a large deck: 202, a job)",
    ),
    Route(
        f"{ACCOUNT}/rate_decks/{{deck}}/imports/{{job_id}}",
        RateDeckImport,
        "A large deck import's progress: queued, running (rows written), done, or failed with the reason",
    ),
    Route(
        f"{ACCOUNT}/rate_decks/{{deck}}/rate",
        RateLookup,
        "The rate a number takes in a deck, and a call's cost",
        query=("number", "seconds", "direction"),
    ),
    Route(
        f"{ACCOUNT}/audit",
        Audit,
        "The ledger against what the history calls for, each difference with its cause",
        query=("from", "to", "subtree"),
    ),
    Route(
        f"{ACCOUNT}/auto_topup",
        AutoTopUpSettings,
        "Auto top-up: charge the default card `amount` below `threshold`, at most once in 24 hours",
        {"enabled": "boolean", "threshold": "number", "amount": "number"},
    ),
    Route(
        f"{ACCOUNT}/onbills",
        Onbills,
        "The account's period documents (last 12 months, or one period)",
        query=("period",),
    ),
    Route(
        f"{ACCOUNT}/onbills/generate",
        GenerateOnbills,
        "Issue a closed period's documents (same numbers when reissued); children: every account below",
        {"period_start": "string", "children": "boolean", "document_types": "array"},
    ),
    Route(
        f"{ACCOUNT}/onbills/transaction",
        TransactionInvoice,
        "An invoice for one payment (a credit's ledger id)",
        {"entry_id": "string"},
    ),
    Route(f"{ACCOUNT}/onbills/{{doc_id}}", OnbillDocument, "One document's data"),
    Route(f"{ACCOUNT}/onbills/{{doc_id}}/pdf", OnbillPdf, "One document's PDF"),
    Route(
        f"{ACCOUNT}/onbill_proforma",
        Proforma,
        "A pro-forma invoice for a bank transfer of `amount`, issued, rendered and emailed",
        {"amount": "number"},
    ),
    Route(
        f"{ACCOUNT}/onbill_templates/{{carrier}}/{{document_type}}",
        DocumentTemplate,
        "A reseller's own template for a carrier's document type (text/html, checked before use)",
    ),
    Route(
        f"{ACCOUNT}/yandex_money/payment",
        lambda d: PaymentForm(d, "yandex_money"),
        "YooMoney's wallet link and/or shop form for a top-up of `amount`",
        query=("amount",),
    ),
)


class Health:
    """The store decides the status (the API cannot answer without it); the bus is reported,
    since the API itself does not need it to serve balances and settings."""

    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            server = self.deps.store.server_info()
            store = {"ok": True, "adapter": server.adapter, "version": server.version}
        except Exception as error:  # noqa: BLE001 - any failure is "store down" to a health check
            store = {"ok": False, "error": str(error)}
        answer(req, resp, {"store": store, "bus": self._bus()}, status=200 if store["ok"] else 503)

    def _bus(self) -> dict[str, Any]:
        if not self.deps.amqp_url:
            return {"ok": None, "configured": False}
        parts = urlsplit(self.deps.amqp_url)
        address = (parts.hostname or "127.0.0.1", parts.port or (5671 if parts.scheme == "amqps" else 5672))
        try:
            with socket.create_connection(address, timeout=1.0):
                return {"ok": True, "address": f"{address[0]}:{address[1]}"}
        except OSError as error:
            return {"ok": False, "address": f"{address[0]}:{address[1]}", "error": error.strerror or str(error)}


class OpenApi:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = openapi_document(ROUTES)


def _reseller_today(deps: ApiDeps) -> Callable[[str], date]:
    def today(reseller_id: str) -> date:
        try:
            return local_day(deps.clock.now(), reseller_timezone(deps.store, reseller_id))
        except SettingsError:  # a reseller whose settings cannot be read: its crawl says so elsewhere
            return deps.clock.now().date()

    return today


def create_app(deps: ApiDeps) -> falcon.App:
    metrics = RequestMetrics(
        lambda: store_gauges(deps.store, deps.cluster_node, _reseller_today(deps)),
        MetricsAccess(deps.metrics_token, deps.metrics_port),
    )
    app = falcon.App(middleware=(RequestContext(deps), metrics))
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app)
    for route in ROUTES:
        app.add_route(route.path, route.make(deps))
    app.add_route("/health", Health(deps))
    app.add_route("/v2/openapi.json", OpenApi())
    app.add_route("/metrics", metrics)
    portal_routes(app, deps)
    return app
