"""Small writes to an account's own documents, each retried once on a conflict (a Kazoo app or
the API may have saved the same document a moment before). A write to a document Kazoo owns
(the account, its limits) is announced, so that Kazoo's caches hear of it (announcements.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.settings import ONBILL_DOC_ID
from bookkeeper.ports import Conflict, DocumentStore, NotFound
from bookkeeper.services.billing.announcements import announce_write


def update_doc(
    store: DocumentStore,
    db: str,
    doc_id: str,
    changes: Mapping[str, Any],
    removals: tuple[str, ...] = (),
    default: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Merge `changes` into the document (creating it from `default` when it does not exist and
    a default is given); None when it does not exist and there is no default."""
    for attempt in range(2):
        try:
            current = store.get(db, doc_id)
        except NotFound:
            if default is None:
                return None
            current = {"_id": doc_id, **default}
        updated = {key: value for key, value in {**current, **changes}.items() if key not in removals}
        try:
            written = store.put(db, updated)
            return {**updated, "_rev": written.rev}
        except Conflict:
            if attempt:
                raise
    return None


def update_kazoo_doc(
    store: DocumentStore,
    db: str,
    doc_id: str,
    changes: Mapping[str, Any],
    now_gregorian: int,
    removals: tuple[str, ...] = (),
    default: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    written = update_doc(store, db, doc_id, changes, removals, default)
    if written is not None:
        announce_write(store, db, written, now_gregorian)
    return written


def update_onbill(store: DocumentStore, account_id: str, changes: Mapping[str, Any]) -> None:
    update_doc(store, account_db(account_id), ONBILL_DOC_ID, changes, default={"pvt_type": "onbill"})


def end_trial(store: DocumentStore, account_id: str, now_gregorian: int) -> None:
    """Kazoo marks a trial with pvt_trial_expires on the account document, in `accounts` and in
    the account's own database; a converted account has none."""
    for db in (ACCOUNTS_DB, account_db(account_id)):
        update_kazoo_doc(store, db, account_id, {}, now_gregorian, removals=("pvt_trial_expires",))


def cancel_limits(store: DocumentStore, account_id: str, items: list[tuple[str, str]], now_gregorian: int) -> None:
    """Cancel flat-rate services where Kazoo reads them: zero the trunk counts of the limits
    document, the public value and the reseller's pvt_ one."""
    limits = store.get(account_db(account_id), "limits")
    changes: dict[str, Any] = {"pvt_modified": now_gregorian}
    for category, item in items:
        if category == "limits":
            changes[item] = 0
            if f"pvt_{item}" in limits:
                changes[f"pvt_{item}"] = 0
    update_kazoo_doc(store, account_db(account_id), "limits", changes, now_gregorian)


def set_blocked(store: DocumentStore, account_id: str, blocked: bool, now_gregorian: int) -> None:
    """Block or unblock the way Kazoo's call authorisation reads it: `pvt_enabled` on the
    account document (in `accounts` and the account's own copy). Kazbill marks the blocks it
    makes, and lifts only those: an operator's own disabling is never undone by a payment."""
    for db in (ACCOUNTS_DB, account_db(account_id)):
        try:
            current = store.get(db, account_id)
        except NotFound:
            continue
        if blocked:
            if current.get("pvt_enabled", True) is False and not current.get("pvt_kazbill_blocked"):
                continue  # already disabled by someone else: not ours to mark
            update_kazoo_doc(
                store,
                db,
                account_id,
                {"pvt_enabled": False, "pvt_kazbill_blocked": True, "pvt_modified": now_gregorian},
                now_gregorian,
            )
        elif current.get("pvt_kazbill_blocked"):
            update_kazoo_doc(
                store,
                db,
                account_id,
                {"pvt_enabled": True, "pvt_modified": now_gregorian},
                now_gregorian,
                removals=("pvt_kazbill_blocked",),
            )
