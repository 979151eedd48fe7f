"""The API's routes: each path, what serves it (built from the dependencies by `create_app`),
a summary and, for the OpenAPI document, its body and query parameters."""

from __future__ import annotations

from crossbar_api.reseller_routes import RESELLER_ROUTES
from crossbar_api.resources.audit import Audit
from crossbar_api.resources.auth import ApiAuth, TokenAuth, UserAuth
from crossbar_api.resources.cards import AutoTopUpSettings, Card, Cards, ClientToken, Credits, Refund
from crossbar_api.resources.corrections import CreditNote, VoidDocument
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
from crossbar_api.route import Route

ACCOUNT = "/v2/accounts/{account_id}"
PAGED = ("created_from", "created_to", "page_size", "start_key", "paginate", "ascending", "format")
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


ROUTES = (
    Route(
        "/v2/user_auth",
        UserAuth,
        'Log in with md5("user:password") and a phone number, '
        "an account realm or an account name (as Kazoo normalises it)",
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
        query=("created_from", "created_to", "reason", "page_size", "start_key", "format"),
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
    *RESELLER_ROUTES,
    Route(f"{ACCOUNT}/services", Services, "Quantities, prices, discounts and the estimated monthly cost"),
    Route(f"{ACCOUNT}/services/reconcile", Reconcile, "Bill what changed, now; answers the events it caused"),
    Route(
        f"{ACCOUNT}/onbill",
        Onbill,
        "Billing settings of the account (and of a reseller, its own); every answer also says which "
        "language its documents, notices and payments page are written in, and why (language_used)",
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
        query=("period", "format"),
    ),
    Route(
        f"{ACCOUNT}/onbills/generate",
        GenerateOnbills,
        "Issue a closed period's documents (same numbers when reissued; emailed again only with email: true);"
        " children: every account below",
        {"period_start": "string", "children": "boolean", "document_types": "array", "email": "boolean"},
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
        f"{ACCOUNT}/onbills/{{doc_id}}/credit_note",
        CreditNote,
        "A credit note for `lines` of an invoice (all that is left without), credited to the balance;"
        " Idempotency-Key required",
        {"reason": "string", "lines": "array"},
    ),
    Route(
        f"{ACCOUNT}/onbills/{{doc_id}}/void",
        VoidDocument,
        "Void an invoice (a credit note for all of it, the period issued again under new numbers) or a pro-forma",
        {"reason": "string"},
    ),
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
