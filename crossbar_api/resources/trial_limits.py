"""A reseller's hand on its accounts: end or extend a trial (POST .../onbill_trial), and the
private limits Kazoo's call authorisation reads (GET/PATCH .../onbill_pvt_limits)."""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.money import to_major
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.ports import gregorian_now
from bookkeeper.services.billing.account_docs import end_trial, update_kazoo_doc, update_onbill
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from crossbar_api.access import account_for, billing_context
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import amount_units

TRUNKS = ("twoway_trunks", "inbound_trunks", "outbound_trunks", "burst_trunks")
AMOUNTS = ("max_postpay_amount", "reserve_amount")


class Trial:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        for key in data:
            if key not in ("action", "days"):
                raise invalid(key, "unknown", "expected action and, to extend, days")
        action = data.get("action")
        if action not in ("end", "extend"):
            raise invalid("action", "enum", "must be end or extend")
        days = data.get("days")
        if action == "extend" and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365):
            raise invalid("days", "range", "a whole number of days from 1 to 365")
        account = account_for(req, self.deps, account_id, write=True, from_above=True)
        expires = account.get("pvt_trial_expires")
        if expires is None:
            raise ApiError(409, "the account is not on trial", {"action": {"trial": {"message": "no trial to change"}}})
        now = gregorian_now(self.deps.clock)
        store = self.deps.store
        tz = billing_context(self.deps, account_id).reseller.timezone
        today, expiry_day = local_day_of_gregorian(now, tz), local_day_of_gregorian(expires, tz)
        if today > expiry_day:  # expired: billed since the day after (ending it would bill those days again)
            raise ApiError(
                409,
                f"the trial expired on {expiry_day.isoformat()}: the account is billed since the day after",
                {"action": {"trial": {"message": "the trial has expired; the account is billed as any other"}}},
            )
        if action == "extend":
            assert isinstance(days, int)  # checked above
            extended = max(expires, now) + days * 86_400
            for db in (ACCOUNTS_DB, account_db(account_id)):
                update_kazoo_doc(store, db, account_id, {"pvt_trial_expires": extended}, now)
            return answer(req, resp, {"trial_expires": extended})
        update_onbill(store, account_id, {"billing_day": today.day, "trial_converted_on": today.isoformat()})
        end_trial(store, account_id, now)
        events = reconcile_account(BillingPorts(store, self.deps.clock, self.deps.design_docs), account_id)
        answer(
            req, resp, {"trial_ended": today.isoformat(), "billing_day": today.day, "events": [e.name for e in events]}
        )


def _shown(limits: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"allow_postpay": bool(limits.get("pvt_allow_postpay", False))}
    for key in AMOUNTS:
        value = limits.get(f"pvt_{key}")
        shown[key] = to_major(value) if isinstance(value, int) else value
    for key in TRUNKS:
        shown[key] = limits.get(f"pvt_{key}", limits.get(key))
    return shown


class PrivateLimits:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _limits(self, account_id: str) -> dict[str, Any]:
        return self.deps.store.get_many(account_db(account_id), ["limits"]).get("limits", {})

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        answer(req, resp, _shown(self._limits(account_id)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key == "allow_postpay":
                if not isinstance(value, bool):
                    raise invalid(key, "type", "must be true or false")
                changes["pvt_allow_postpay"] = value
            elif key in AMOUNTS:
                # stored in units: Kazoo reads an integer as units
                changes[f"pvt_{key}"] = amount_units(value, key, zero_allowed=True)
            elif key in TRUNKS:
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
                    raise invalid(key, "type", "a whole number of trunks from 0")
                changes[f"pvt_{key}"] = value
            else:
                raise invalid(key, "unknown", f"expected one of allow_postpay, {', '.join(AMOUNTS + TRUNKS)}")
        account_for(req, self.deps, account_id, write=True, from_above=True)
        updated = update_kazoo_doc(
            self.deps.store,
            account_db(account_id),
            "limits",
            changes,  # jonny5 caches it
            gregorian_now(self.deps.clock),
            default={"pvt_type": "limits"},
        )
        answer(req, resp, _shown(updated or {}))
