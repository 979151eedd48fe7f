"""Logins for installations whose people are not in Kazoo yet: a user added to an account (as
Kazoo's crossbar keeps one, so that Kazoo and Kazbill accept the same credentials), a password
changed, and the account's API key shown or made anew.

Kazoo keeps a user in its account's database with the hashes of "username:password" it logs in
with (`pvt_md5_auth`, `pvt_sha1_auth`), never the password: the username lower-cased first
(kzd_users.erl:1044-1050, maybe_normalize_username), then both hashes of it (rehash_creds,
kzd_users.erl:1361-1368, through kzd_module_utils:pass_hashes).
Changing the password changes those hashes, which ends the user's open sessions (every token
carries a digest of them); a new API key ends the sessions opened with the old one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, NotFound, ViewQuery

PRIV_LEVELS = ("admin", "user")
USERNAME = re.compile(r"[A-Za-z0-9._@+-]{1,128}")
MIN_PASSWORD = 8


class UserError(FieldError):
    """A login that cannot be made as asked (the field names what)."""


@dataclass(frozen=True)
class Login:
    account_id: str
    account_name: str
    user_id: str
    username: str


def find_account(store: DocumentStore, named: str) -> dict[str, Any]:
    """The account by its id, its realm or its name (exactly, ignoring case); UserError naming
    `account` when none or several match."""
    given = named.strip()
    if re.fullmatch(r"[0-9a-f]{32}", given):
        try:
            account = store.get(ACCOUNTS_DB, given)
        except NotFound:
            account = None
        if account is not None and not account.get("pvt_deleted"):
            return account
    found: dict[str, dict[str, Any]] = {}
    for view in ("by_realm", "by_name"):
        rows = store.query_view(
            ACCOUNTS_DB, "kazbill_accounts", view, ViewQuery(key=given.lower(), key_is_set=True, include_docs=True)
        ).rows
        found.update({str(row.id): row.doc for row in rows if row.doc and not row.doc.get("pvt_deleted")})
    if not found:
        raise UserError("account", f"no account has the id, realm or name {named!r}")
    if len(found) > 1:
        raise UserError("account", f"{len(found)} accounts are called {named!r}: give the account's id")
    return next(iter(found.values()))


def credentials(username: str, password: str) -> dict[str, str]:
    """Kazoo's hashes of "username:password" (the username lower-cased, as crossbar does)."""
    text = f"{username.lower()}:{password}".encode()
    return {
        "pvt_md5_auth": hashlib.md5(text, usedforsecurity=False).hexdigest(),
        "pvt_sha1_auth": hashlib.sha1(text, usedforsecurity=False).hexdigest(),
    }


def add_user(
    store: DocumentStore,
    account: dict[str, Any],
    username: str,
    password: str,
    *,
    priv_level: str = "admin",
    email: str | None = None,
    now_gregorian: int,
) -> Login:
    """A new user of the account; UserError when the username is taken there (use a new password
    instead) or a value is unfit."""
    _check(username, password)
    if priv_level not in PRIV_LEVELS:
        raise UserError("priv_level", f"one of {', '.join(PRIV_LEVELS)}")
    db = account_db(account["_id"])
    if _user_named(store, db, username) is not None:
        raise UserError("username", f"{username!r} is already a user of this account: set its password instead")
    user_id = uuid.uuid4().hex
    doc = {
        "_id": user_id,
        "pvt_type": "user",
        "username": username.lower(),
        "priv_level": priv_level,
        "enabled": True,
        **({"email": email} if email else {}),
        **credentials(username, password),
        "pvt_account_id": account["_id"],
        "pvt_account_db": db,
        "pvt_created": now_gregorian,
        "pvt_modified": now_gregorian,
    }
    store.put(db, doc)
    return Login(account["_id"], str(account.get("name") or ""), user_id, username.lower())


def set_password(
    store: DocumentStore, account: dict[str, Any], username: str, password: str, *, now_gregorian: int
) -> Login:
    _check(username, password)
    db = account_db(account["_id"])
    for _ in range(20):
        user = _user_named(store, db, username)
        if user is None:
            raise UserError("username", f"no user {username!r} in this account")
        try:
            store.put(db, {**user, **credentials(username, password), "pvt_modified": now_gregorian})
            return Login(account["_id"], str(account.get("name") or ""), user["_id"], username.lower())
        except Conflict:
            continue  # written meanwhile (Kazoo, or another command): read it again
    raise UserError("username", "the user keeps changing; try again")


def api_key(store: DocumentStore, account: dict[str, Any], *, new: bool = False) -> str:
    """The account's API key (`PUT /v2/api_auth`), made when it has none or when `new` (the old
    key's sessions end). Kazoo keeps it on the account document, in both copies."""
    for _ in range(20):
        current = store.get(ACCOUNTS_DB, account["_id"])
        key = current.get("pvt_api_key")
        if isinstance(key, str) and key and not new:
            return key
        key = secrets.token_hex(32)
        try:
            store.put(ACCOUNTS_DB, {**current, "pvt_api_key": key})
        except Conflict:
            continue
        db = account_db(account["_id"])
        try:
            copy = store.get(db, account["_id"])
            store.put(db, {**copy, "pvt_api_key": key})
        except (NotFound, DatabaseNotFound, Conflict):
            pass  # the account database's copy follows Kazoo's own writes; the login reads `accounts`
        return key
    raise UserError("account", "the account keeps changing; try again")


def _check(username: str, password: str) -> None:
    if not USERNAME.fullmatch(username):
        raise UserError("username", "1 to 128 letters, digits and . _ @ + -")
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"at least {MIN_PASSWORD} characters")


def _user_named(store: DocumentStore, db: str, username: str) -> dict[str, Any] | None:
    wanted = username.lower()
    for row in store.all_docs(db, ViewQuery(include_docs=True)).rows:
        doc = row.doc or {}
        if doc.get("pvt_type") == "user" and not doc.get("pvt_deleted") and str(doc.get("username")).lower() == wanted:
            return doc
    return None
