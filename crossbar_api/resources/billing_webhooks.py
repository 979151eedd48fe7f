"""A reseller's outbound webhooks (bookkeeper/services/hooks_out):

    GET  .../billing_webhooks                     its webhooks (with their signing secrets)
    PUT  .../billing_webhooks                     a new one: {"url", "events"?, "enabled"?}
    GET, POST, DELETE .../billing_webhooks/{id}   one: read, change, remove
    PUT  .../billing_webhooks/{id}/test           deliver a webhook.test event now; the outcome
    GET  .../billing_webhooks/{id}/deliveries     its delivery log, newest first

Only accounts that bill others have webhooks; changes need an admin."""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.webhooks import EVENT_TYPES, HookError
from bookkeeper.ports import NotFound, gregorian_now
from bookkeeper.services.hooks_out.delivery import delivery_log, send_test
from bookkeeper.services.hooks_out.subscriptions import add_hook, delete_hook, find_hook, list_hooks, update_hook
from crossbar_api.access import reseller_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid

BODY = {
    "url": "string",
    "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
    "enabled": "boolean",
}


def public_hook(hook: dict[str, Any]) -> dict[str, Any]:
    return {key: hook.get(key) for key in ("id", "url", "events", "enabled", "secret", "created")}


def public_delivery(doc: dict[str, Any]) -> dict[str, Any]:
    event = doc.get("event") or {}
    return {
        "id": doc["_id"],
        "event": {key: event.get(key) for key in ("id", "type", "account_id", "created")},
        "state": doc.get("state"),
        "attempts": doc.get("attempts", 0),
        "history": doc.get("history", []),
        "next_attempt_at": doc.get("next_attempt_at") if doc.get("state") == "pending" else None,
        "delivered_at": doc.get("delivered_at"),
        "reason": doc.get("reason"),
    }


def _not_found(hook_id: str) -> ApiError:
    return ApiError(404, "bad identifier", {"hook_id": {"exists": {"message": f"no webhook {hook_id}"}}})


class BillingWebhooks:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        answer(req, resp, [public_hook(hook) for hook in list_hooks(self.deps.store, account_id)])

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        reseller_for(req, self.deps, account_id, write=True)
        try:
            hook = add_hook(self.deps.store, account_id, data, gregorian_now(self.deps.clock))
        except HookError as error:
            raise invalid(error.field, "invalid", error.reason) from None
        answer(req, resp, public_hook(hook), status=201)


class BillingWebhook:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, hook_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        try:
            answer(req, resp, public_hook(find_hook(self.deps.store, account_id, hook_id)))
        except NotFound:
            raise _not_found(hook_id) from None

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, hook_id: str) -> None:
        data = read_data(req)
        reseller_for(req, self.deps, account_id, write=True)
        try:
            answer(req, resp, public_hook(update_hook(self.deps.store, account_id, hook_id, data)))
        except HookError as error:
            raise invalid(error.field, "invalid", error.reason) from None
        except NotFound:
            raise _not_found(hook_id) from None

    def on_delete(self, req: falcon.Request, resp: falcon.Response, account_id: str, hook_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=True)
        try:
            delete_hook(self.deps.store, account_id, hook_id)
        except NotFound:
            raise _not_found(hook_id) from None
        answer(req, resp, {"id": hook_id, "deleted": True})


class BillingWebhookTest:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, account_id: str, hook_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=True)
        try:
            find_hook(self.deps.store, account_id, hook_id)
        except NotFound:
            raise _not_found(hook_id) from None
        if self.deps.webhook_poster is None:  # an API built without one (kazbill api always has one)
            raise ApiError(503, "webhooks are not set up on this API")
        try:
            done = send_test(
                self.deps.store, self.deps.webhook_poster, account_id, hook_id, gregorian_now(self.deps.clock)
            )
        except NotFound:
            raise _not_found(hook_id) from None
        answer(req, resp, public_delivery(done))


class BillingWebhookDeliveries:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, hook_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        try:
            find_hook(self.deps.store, account_id, hook_id)
        except NotFound:
            raise _not_found(hook_id) from None
        answer(req, resp, [public_delivery(doc) for doc in delivery_log(self.deps.store, hook_id)])
