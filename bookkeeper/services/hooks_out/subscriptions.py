"""A reseller's outbound webhooks, kept in its own account database (`kazbill_webhooks`): each
with its URL, the events it wants, whether it is on, and the secret its deliveries are signed
with (made here, shown to the reseller, never sent)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.webhooks import MAX_HOOKS, HookError, checked_hook
from bookkeeper.ports import DocumentStore, NotFound
from bookkeeper.services.billing.context import get_or_none

HOOKS_DOC = "kazbill_webhooks"


def list_hooks(store: DocumentStore, reseller_id: str) -> list[dict[str, Any]]:
    doc = get_or_none(store, account_db(reseller_id), HOOKS_DOC) or {}
    hooks = doc.get("hooks")
    return [hook for hook in hooks if isinstance(hook, dict)] if isinstance(hooks, list) else []


def find_hook(store: DocumentStore, reseller_id: str, hook_id: str) -> dict[str, Any]:
    for hook in list_hooks(store, reseller_id):
        if hook.get("id") == hook_id:
            return hook
    raise NotFound(account_db(reseller_id), f"{HOOKS_DOC}#{hook_id}", "webhook")


def add_hook(store: DocumentStore, reseller_id: str, data: Mapping[str, Any], now_gregorian: int) -> dict[str, Any]:
    hook = {
        "id": secrets.token_hex(8),
        "enabled": True,
        **checked_hook(data, creating=True),
        "secret": "whsec_" + secrets.token_urlsafe(24),
        "created": now_gregorian,
    }

    def add(hooks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(hooks) >= MAX_HOOKS:
            raise HookError("url", f"a reseller has at most {MAX_HOOKS} webhooks")
        return [*hooks, hook]

    _change(store, reseller_id, add)
    return hook


def update_hook(store: DocumentStore, reseller_id: str, hook_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    changes = checked_hook(data, creating=False)
    find_hook(store, reseller_id, hook_id)  # NotFound before anything is written
    _change(store, reseller_id, lambda hooks: [{**h, **changes} if h.get("id") == hook_id else h for h in hooks])
    return find_hook(store, reseller_id, hook_id)


def delete_hook(store: DocumentStore, reseller_id: str, hook_id: str) -> None:
    find_hook(store, reseller_id, hook_id)
    _change(store, reseller_id, lambda hooks: [h for h in hooks if h.get("id") != hook_id])


def _change(
    store: DocumentStore, reseller_id: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> None:
    db = account_db(reseller_id)
    doc = get_or_none(store, db, HOOKS_DOC) or {"_id": HOOKS_DOC, "pvt_type": "kazbill_webhooks"}
    store.put(db, {**doc, "hooks": change(list_hooks(store, reseller_id))})  # Conflict: the caller retries


def subscribers(store: DocumentStore, account_id: str, event_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(reseller id, hook) of every account above `account_id` with an enabled hook that wants
    `event_type`: the reseller that bills it, and the resellers above that one."""
    account = get_or_none(store, ACCOUNTS_DB, account_id) or get_or_none(store, account_db(account_id), account_id)
    found = []
    for ancestor in (account or {}).get("pvt_tree") or []:
        for hook in list_hooks(store, ancestor):
            if hook.get("enabled", True) and event_type in (hook.get("events") or []):
                found.append((ancestor, hook))
    return found
