"""Everything the bookkeeper needs to know about one account, read from the store.

Where each piece lives is Kazoo's layout: the account in `accounts`, its reseller flags and
plans in `services`, the billing settings in `onbill` documents of the account, its reseller and
the master, the limits and what the account has in its own database, the plans in the
reseller's database. A document that cannot be billed by raises `BillingInputError`, which
names the account and the field; the handler records it for the operator and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db, is_account_id
from bookkeeper.domain.plans import PlanError, ServicePlan, merge_plans, parse_service_plan, plan_rate_deck
from bookkeeper.domain.quantities import Quantities, quantities_from_views
from bookkeeper.domain.settings import (
    ONBILL_DOC_ID,
    AccountSettings,
    ResellerSettings,
    SettingsError,
    account_settings,
    credit_line,
    master_of,
    reseller_of,
    reseller_settings,
)
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound, ViewQuery
from bookkeeper.services.billing.events import BillingEvent, Refusal
from bookkeeper.services.billing.holdings import read_holdings
from bookkeeper.services.setup.failures import record_failure


class BillingInputError(ValueError):
    def __init__(self, account_id: str, field: str, reason: str):
        super().__init__(f"account {account_id}: {field}: {reason}")
        self.account_id, self.field, self.reason = account_id, field, reason


@dataclass(frozen=True)
class BillingContext:
    account_id: str
    account_name: str
    master_id: str
    reseller_id: str
    reseller: ResellerSettings
    account: AccountSettings
    plan: ServicePlan | None
    credit_line: int
    limits: Mapping[str, Any] | None
    closed_gregorian: int | None = None  # when Kazoo deleted the account (audits of closed accounts only)

    @property
    def billable(self) -> bool:
        return self.account_id != self.master_id


def get_or_none(store: DocumentStore, db: str, doc_id: str) -> dict[str, Any] | None:
    """The document, or None when it or its database does not exist."""
    try:
        return store.get(db, doc_id)
    except (NotFound, DatabaseNotFound):
        return None


def _from_every_copy(store: DocumentStore, account_id: str) -> dict[str, Any] | None:
    """Before an account is called unknown (a failure for a person), every copy is asked: on a
    Kazoo cluster, a sign-up's document that fewer copies than the quorum took yet is missed by
    the reads above, though its event has come (seen on the 3-node cluster under load)."""
    for db in (ACCOUNTS_DB, account_db(account_id)):
        try:
            if (doc := store.get_from_every_copy(db, account_id)) is not None:
                return doc
        except DatabaseNotFound:
            continue
    return None


# Plans as parsed, by (reseller, plan id, revision): a revision's content never changes, so a
# shard parses a plan once, not on every pass of each of the reseller's accounts. Bounded.
_PARSED_PLANS: dict[tuple[str, str, str], ServicePlan] = {}
_PARSED_PLANS_MAX = 2_000


def _parsed_plan(reseller_id: str, plan_id: str, doc: Mapping[str, Any]) -> ServicePlan:
    rev = doc.get("_rev")
    if not isinstance(rev, str):
        return parse_service_plan(doc)
    key = (reseller_id, plan_id, rev)
    parsed = _PARSED_PLANS.get(key)
    if parsed is None:
        parsed = parse_service_plan(doc)  # a PlanError is raised, and nothing kept
        if len(_PARSED_PLANS) >= _PARSED_PLANS_MAX:
            _PARSED_PLANS.clear()
        _PARSED_PLANS[key] = parsed
    return parsed


def _plan(
    store: DocumentStore, account_id: str, reseller_id: str, services: Mapping | None, reseller: ResellerSettings
) -> ServicePlan | None:
    plan_ids = sorted((services or {}).get("plans") or {}) or (
        [reseller.default_service_plan] if reseller.default_service_plan else []
    )
    plans = []
    for plan_id in plan_ids:
        doc = get_or_none(store, account_db(reseller_id), plan_id)
        if doc is None or doc.get("pvt_deleted"):
            raise BillingInputError(
                account_id,
                f"services.plans.{plan_id}",
                f"service plan {plan_id!r} not found in reseller {reseller_id}'s database",
            )
        try:
            plans.append(_parsed_plan(reseller_id, plan_id, doc))
        except PlanError as error:
            raise BillingInputError(account_id, f"service_plan {plan_id}: {error.field}", error.reason) from None
    return merge_plans(plans) if plans else None


def find_reseller(store: DocumentStore, account_doc: Mapping[str, Any]) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(master id, reseller id, services documents of the account and its ancestors), by Kazoo's
    rule; raises SettingsError for an account document without a usable tree."""
    account_id = account_doc["_id"]
    master_id = master_of(account_doc)
    tree = account_doc.get("pvt_tree") or []
    try:
        ancestors = store.get_many(SERVICES_DB, [*tree, account_id])
    except DatabaseNotFound:  # a cluster without Kazoo's services database: nobody is flagged a reseller
        ancestors = {}
    flags = {ancestor: bool(doc.get("pvt_reseller")) for ancestor, doc in ancestors.items()}
    return master_id, reseller_of(account_doc, ancestors.get(account_id), master_id, flags), ancestors


def load_context(store: DocumentStore, account_id: str, *, closed_too: bool = False) -> BillingContext:
    """What billing an account reads. A closed account is refused ("account closed") unless
    `closed_too`: the audit, the crawl and the rating still answer for what it owed while open."""
    if not is_account_id(account_id):
        raise BillingInputError(str(account_id), "account_id", "not a Kazoo account id")
    # Kazoo saves a new account's document in the account's own database first and copies it to
    # `accounts` after; a change seen in between is billed from the account's own copy (which is
    # the one Kazoo itself reads), not refused as an unknown account.
    account_doc = (
        get_or_none(store, ACCOUNTS_DB, account_id)
        or get_or_none(store, account_db(account_id), account_id)
        or _from_every_copy(store, account_id)
    )
    if account_doc is None:
        raise BillingInputError(account_id, "account", "unknown account")
    closed = account_doc.get("pvt_modified") if account_doc.get("pvt_deleted") else None
    if account_doc.get("pvt_deleted") and not closed_too:
        raise BillingInputError(account_id, "account", "account closed")
    try:
        master_id, reseller_id, ancestors = find_reseller(store, account_doc)
        if reseller_id != account_id and get_or_none(store, ACCOUNTS_DB, reseller_id) is None:
            raise BillingInputError(
                account_id, "services.pvt_reseller_id", f"the account's reseller {reseller_id} does not exist"
            )
        reseller = reseller_settings(
            reseller_id,
            get_or_none(store, account_db(reseller_id), ONBILL_DOC_ID),
            get_or_none(store, account_db(master_id), ONBILL_DOC_ID),
            master_id=master_id,
        )
        plan = _plan(store, account_id, reseller_id, ancestors.get(account_id), reseller)
        account = account_settings(
            account_id,
            get_or_none(store, account_db(account_id), ONBILL_DOC_ID),
            reseller,
            created=account_doc.get("pvt_created"),
            trial_expires=account_doc.get("pvt_trial_expires"),
            plan_rate_deck=plan_rate_deck(plan),
        )
        limits = get_or_none(store, account_db(account_id), "limits")
        line = credit_line(limits, account_id=account_id)
    except SettingsError as error:
        raise BillingInputError(error.account_id, f"{error.document}.{error.field}".rstrip("."), error.reason) from None
    return BillingContext(
        account_id,
        str(account_doc.get("name", "")),
        master_id,
        reseller_id,
        reseller,
        account,
        plan,
        line,
        limits,
        closed if isinstance(closed, int) else None,
    )


def load_or_refuse(
    store: DocumentStore,
    account_id: str,
    *,
    source: str,
    reason_code: str,
    refusal: Refusal,
    payload: Mapping[str, Any],
    now_gregorian: int,
    closed_too: bool = False,
) -> BillingContext | BillingEvent:
    """The account's context, or, when its documents cannot be billed by, the event that says
    so, after recording the failure for the operator (once per distinct input). A closed
    account is such a failure too (a payment for it needs a person), unless `closed_too` (the
    caller decides what a closed account still owes)."""
    try:
        return load_context(store, account_id, closed_too=closed_too)
    except BillingInputError as error:
        record_failure(
            store,
            source=source,
            reason_code=reason_code,
            reason=str(error),
            payload={**payload, "account_id": account_id, "document_of": error.account_id},
            account_id=account_id,
            now_gregorian=now_gregorian,
            field=error.field,
        )
        return BillingEvent(refusal, account_id, {"field": error.field, "reason": error.reason})


def current_quantities(store: DocumentStore, account_id: str) -> Quantities:
    held = read_holdings(store, account_id)
    return quantities_from_views(held.billable_rows(), held.number_rows())


def billing_quantities(store: DocumentStore, context: BillingContext) -> Quantities:
    """The account's own quantities, plus, for plan items with `cascade`, those of every
    account below it (Kazoo's cascade: a reseller priced on its whole tree's devices)."""
    own = current_quantities(store, context.account_id)
    cascading = [key for key, item in (context.plan.items.items() if context.plan else ()) if item.cascade]
    if not cascading:
        return own
    below = store.query_view(
        ACCOUNTS_DB,
        "kazbill_accounts",
        "by_ancestor",
        ViewQuery(start_key=[context.account_id], end_key=[context.account_id, {}], reduce=False),
    ).rows
    total = {category: dict(items) for category, items in own.items()}
    for row in below:
        assert row.id is not None  # map rows name their document
        if not store.database_exists(account_db(row.id)):
            continue
        theirs = current_quantities(store, row.id)
        for category, item in cascading:
            count = theirs.get(category, {}).get(item, 0)
            if count:
                total.setdefault(category, {})[item] = total.get(category, {}).get(item, 0) + count
    return total
