"""The routes a reseller runs its business from (issue 22): its outbound webhooks, its revenue
figures and its customers (the console's API); kept apart from routes.py, which they joined."""

from __future__ import annotations

from crossbar_api.resources.billing_webhooks import BODY as HOOK_BODY
from crossbar_api.resources.billing_webhooks import (
    BillingWebhook,
    BillingWebhookDeliveries,
    BillingWebhooks,
    BillingWebhookTest,
)
from crossbar_api.resources.customers import QUERY as CUSTOMER_QUERY
from crossbar_api.resources.customers import AccountSummary, Customers
from crossbar_api.resources.revenue import Revenue
from crossbar_api.route import Route

ACCOUNT = "/v2/accounts/{account_id}"

RESELLER_ROUTES = (
    Route(
        f"{ACCOUNT}/billing_webhooks", BillingWebhooks, "GET: a reseller's outbound webhooks; PUT: a new one", HOOK_BODY
    ),
    Route(
        f"{ACCOUNT}/billing_webhooks/{{hook_id}}",
        BillingWebhook,
        "One outbound webhook: GET, POST (change), DELETE",
        HOOK_BODY,
    ),
    Route(
        f"{ACCOUNT}/billing_webhooks/{{hook_id}}/test",
        BillingWebhookTest,
        "Deliver a webhook.test event now, signed as every delivery is; answers the outcome",
    ),
    Route(
        f"{ACCOUNT}/billing_webhooks/{{hook_id}}/deliveries",
        BillingWebhookDeliveries,
        "The webhook's delivery log, newest first: each event, its attempts and their outcome",
    ),
    Route(
        f"{ACCOUNT}/revenue",
        Revenue,
        "The accounts below, per currency: MRR, overdue, suspended, owed, and what the month (YYYYMM) billed and "
        "collected per ledger source, and billed per service category (devices, users, phone_numbers, limits, "
        "calls...)",
        query=("month",),
    ),
    Route(
        f"{ACCOUNT}/customers",
        Customers,
        "The accounts below this one by name, with balance (as of the last billing pass), standing, block, "
        "trial and monthly charges; searched (q: part of the name or realm), filtered, paged, or all as CSV "
        "(Accept: text/csv or format=csv)",
        query=CUSTOMER_QUERY,
    ),
    Route(
        f"{ACCOUNT}/summary",
        AccountSummary,
        "The account as its reseller's list shows it (standing, trial, monthly charges), its balance read now",
    ),
)
