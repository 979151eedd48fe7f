"""Which account a Kazoo login names, found the way cb_user_auth finds it, and what the answer
to a login carries. Kazoo's rules, written from its source (4.3):

- the account is looked up by `phone_number` first, then by `account_realm` (or the older
  `realm`), then by `account_name`; each falls back to the next when it finds nothing
  (cb_user_auth:find_account, applications/crossbar/src/modules/cb_user_auth.erl:584-618);
- a name or a realm may name several accounts; the credentials are tried in each in turn
  (cb_user_auth.erl:346-358);
- names compare normalised: lower case, only a-z and 0-9 ("Alpha Taxi" is "alphataxi";
  kzd_accounts:normalize_name, core/kazoo_documents/src/kzd_accounts.erl:1358-1371);
- a phone number is made E.164 by Kazoo's default converters, read from its `numbers/<first 5
  characters>` database, and names its account while assigned and in one of the states that
  route (knm_converter_regex.erl:13-20 and 166-176, knm_converters:to_db at 177,
  knm_number:check_number at core/kazoo_number_manager/src/knm_number.erl:424-460).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db
from bookkeeper.domain.settings import SettingsError
from bookkeeper.ports import DatabaseNotFound, NotFound, ViewQuery
from bookkeeper.services.billing.context import find_reseller, get_or_none
from bookkeeper.services.payments.gateway_settings import is_reseller
from crossbar_api.auth import Caller
from crossbar_api.deps import ApiDeps
from crossbar_api.sessions import user_credentials

# knm_converter_regex's default e164_converters, in their order: the first that matches wins and
# the prefix goes before its last captured group (or the whole number when it captures none).
E164_CONVERTERS = (
    (re.compile(r"^(\+?1)?([2-9][0-9]{2}[2-9][0-9]{6})$", re.ASCII), "+1"),
    (re.compile(r"^011([0-9]{5,})$|^00([0-9]{5,})$", re.ASCII), "+"),
    (re.compile(r"^[2-9][0-9]{7,}$", re.ASCII), "+"),
)
ROUTED_STATES = ("port_in", "in_service", "port_out", "reserved")
DEFAULT_LANGUAGE = "en-us"  # cb_user_auth.erl:26, crossbar_util:get_language


def normalize_name(name: str) -> str:
    return "".join(char for char in name.lower() if "a" <= char <= "z" or "0" <= char <= "9")


def to_e164(number: str) -> str:
    if number.startswith("+"):
        return number
    for pattern, prefix in E164_CONVERTERS:
        match = pattern.match(number)
        if match:
            captured = [group for group in match.groups() if group is not None]
            return prefix + (captured[-1] if captured else match.group(0))
    return number


def _rows(deps: ApiDeps, db: str, design: str, view: str, query: ViewQuery) -> list:
    try:
        return deps.store.query_view(db, design, view, query).rows
    except (NotFound, DatabaseNotFound):
        return []


def _keyed(deps: ApiDeps, view: str, key: str) -> list[str]:
    return [row.id for row in _rows(deps, ACCOUNTS_DB, "kazbill_accounts", view, ViewQuery(key=key, key_is_set=True))]


def accounts_by_phone(deps: ApiDeps, phone_number: str) -> list[str]:
    number = to_e164(phone_number)
    if len(number) < 5:
        return []
    doc = get_or_none(deps.store, f"numbers/{number[:5]}", number)
    if doc is None or doc.get("pvt_deleted") or doc.get("pvt_state") not in ROUTED_STATES:
        return []
    account_id = doc.get("pvt_assigned_to")
    if not isinstance(account_id, str) or not account_id:
        return []
    account = get_or_none(deps.store, ACCOUNTS_DB, account_id)
    if (
        account is None
        or account.get("pvt_deleted")
        or account.get("enabled") is False
        or account.get("pvt_enabled") is False
    ):
        return []
    return [account_id]


def accounts_by_name(deps: ApiDeps, name: str) -> Iterator[str]:
    """Accounts whose normalised name is the one given. The view is keyed by the lower-cased
    name, so the exact spelling is looked up first (the usual login costs one read) and only
    then every name is compared, normalised, as Kazoo's own listing_by_name view does."""
    wanted = normalize_name(name)
    tried = set()
    for account_id in _keyed(deps, "by_name", name.strip().lower()):
        tried.add(account_id)
        yield account_id
    for row in _rows(deps, ACCOUNTS_DB, "kazbill_accounts", "by_name", ViewQuery()):
        if row.id not in tried and isinstance(row.key, str) and normalize_name(row.key) == wanted:
            tried.add(row.id)
            yield row.id


def candidate_accounts(deps: ApiDeps, phone_number: str | None, realm: str | None, name: str | None) -> Iterator[str]:
    if phone_number:
        found = accounts_by_phone(deps, phone_number)
        if found:
            yield from found
            return
    if realm:
        found = _keyed(deps, "by_realm", realm.strip().lower())
        if found:
            yield from found
            return
    if name is not None:
        yield from accounts_by_name(deps, name)


def find_user_login(
    deps: ApiDeps,
    method: str,
    credentials: str,
    *,
    phone_number: str | None = None,
    realm: str | None = None,
    account_name: str | None = None,
    before_trying: Callable[[str], None] | None = None,
) -> tuple[Caller, dict] | None:
    """The user whose Kazoo credentials hash (md5 or sha1 of "user:password") matches in the
    account the login names: (the caller, its account document), or None. `before_trying` is
    told each account before the credentials are tried in it (the login throttle counts there,
    and may refuse by raising); the candidates stay lazy, so the usual login costs one read."""
    for account_id in candidate_accounts(deps, phone_number, realm, account_name):
        if before_trying is not None:
            before_trying(account_id)
        for user in _rows(
            deps,
            account_db(account_id),
            "kazbill_users",
            "by_credentials",
            ViewQuery(key=[method, credentials.lower()], key_is_set=True),
        ):
            account = get_or_none(deps.store, ACCOUNTS_DB, account_id)
            user_doc = get_or_none(deps.store, account_db(account_id), user.id)
            if account is None or user_doc is None:
                break
            return Caller(
                account_id,
                user.id,
                user.value.get("priv_level") == "admin",
                bool(user.value.get("superduper")) and not account.get("pvt_tree"),
                "user_auth",
                user_credentials(deps.tokens, user_doc),
            ), account
    return None


def login_answer(deps: ApiDeps, caller: Caller, account: dict[str, Any]) -> dict[str, Any]:
    """crossbar_util:populate_resp (applications/crossbar/src/crossbar_util.erl:598-613): the
    account, its reseller, the language (the user's, else the account's, else en-us) and the
    apps. Kazbill serves no Monster apps, so `apps` is empty; Kazoo leaves out what it cannot
    tell, and so does this."""
    account_id = caller.account_id
    user = get_or_none(deps.store, account_db(account_id), caller.user_id) if caller.user_id else None
    language = (user or {}).get("language") or account.get("language") or DEFAULT_LANGUAGE
    try:
        reseller_id: str | None = find_reseller(deps.store, account)[1]
    except SettingsError:
        reseller_id = None
    answer: dict[str, Any] = {
        "account_id": account_id,
        "owner_id": caller.user_id,
        "account_name": account.get("name"),
        "reseller_id": reseller_id,
        "is_reseller": is_reseller(deps.store, account_id),
        "is_master_account": not account.get("pvt_tree"),
        "is_superduper_admin": caller.is_superduper,
        "language": language,
        "apps": [],
    }
    return {key: value for key, value in answer.items() if value is not None}
