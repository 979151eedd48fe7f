"""GET/PATCH .../onbill: an account's billing settings document (a reseller's own settings
live in the same document of its account). A PATCH merges the given keys, `null` removes one
(the value is inherited again), and the whole result is validated before anything is saved;
private fields stored on the document are never shown and never dropped."""

from __future__ import annotations

from typing import Any

import falcon

from bookkeeper.domain.documents.legal_details import LegalDetailsError, checked_carrier_tax_ids, parse_legal
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.languages import SUPPORTED
from bookkeeper.domain.settings import (
    ACCOUNT_ONBILL_KEYS,
    ONBILL_DOC_ID,
    RESELLER_ONBILL_KEYS,
    SettingsError,
    account_settings,
    master_of,
    reseller_settings,
)
from bookkeeper.ports import Conflict, NotFound
from bookkeeper.services.billing.context import load_context
from crossbar_api.access import account_for, is_from_above
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid
from crossbar_api.fields import document_numbers

LANGUAGE_USED = "language_used"  # computed on every answer (see _language_used)
# What the account's own admin may set; everything else is decided from above.
SELF_SERVICE = {"language", "legal"}  # the account's own words and legal details


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if not key.startswith(("_", "pvt_"))}


class Onbill:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _stored(self, account_id: str) -> dict[str, Any]:
        try:
            return self.deps.store.get(account_db(account_id), ONBILL_DOC_ID)
        except NotFound:
            return {"_id": ONBILL_DOC_ID, "pvt_type": "onbill"}

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        doc = self._stored(account_id)
        answer(req, resp, {**_public(doc), **self._language_used(account_id)}, revision=doc.get("_rev"))

    def _language_used(self, account_id: str) -> dict[str, Any]:
        """Which language the account's documents, notices and payments page are written in, and
        why: its own `language` where Kazbill has words for it, else its reseller's, else English.
        Computed, never stored: a PATCH that sends it back has it ignored."""
        try:
            account = load_context(self.deps.store, account_id).account
        except (SettingsError, NotFound, ValueError):
            return {}  # settings that cannot be read: the billing status says why
        return {
            LANGUAGE_USED: {
                "language": account.language,
                "from": account.language_source,
                "asked": account.asked_language,
                "available": list(SUPPORTED),
            }
        }

    def on_patch(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = {key: value for key, value in read_data(req).items() if key != LANGUAGE_USED}
        account = account_for(req, self.deps, account_id, write=True)
        caller = req.context.caller
        is_reseller = bool(account.get("pvt_reseller")) or not account.get("pvt_tree")
        allowed = {*ACCOUNT_ONBILL_KEYS, "legal"} | (set(RESELLER_ONBILL_KEYS) if is_reseller else set())
        # What the account may set itself, any account above it may set too; the rest (billing day,
        # payment type, block, rate deck...) only the reseller that bills it or one above that.
        own_keys = SELF_SERVICE | (set(RESELLER_ONBILL_KEYS) if is_reseller else set())
        above = None
        for key in data:
            if key.startswith(("_", "pvt_")) or key not in allowed:
                raise invalid(
                    key,
                    "unknown",
                    f"not a billing setting of this account; expected one of {', '.join(sorted(allowed))}",
                )
            if key not in own_keys:
                above = is_from_above(self.deps, caller, account) if above is None else above
                if not above:
                    raise ApiError(
                        403,
                        "forbidden",
                        {
                            key: {
                                "access": {
                                    "message": (
                                        "set by the reseller that bills this account, or an account above that reseller"
                                    )
                                }
                            }
                        },
                    )
        stored = self._stored(account_id)
        # A rate or threshold arrives as an exact Decimal; the document keeps it as a JSON number.
        data = {key: document_numbers(value, key) for key, value in data.items()}
        if data.get("legal") is not None:
            # The buyer the account's documents name: checked here, kept trimmed. Billing never
            # reads it, so a detail that goes bad cannot stop an account's billing.
            try:
                data["legal"] = parse_legal(data["legal"])
            except LegalDetailsError as error:
                raise invalid(error.field, "invalid", error.reason) from None
        try:  # the reseller's own, checked the same way
            if data.get("carriers") is not None:
                data["carriers"] = checked_carrier_tax_ids(data["carriers"])
        except LegalDetailsError as error:
            raise invalid(error.field, "invalid", error.reason) from None
        merged = {key: value for key, value in {**stored, **data}.items() if value is not None}
        self._validate(account_id, account, merged, is_reseller)
        try:
            self.deps.store.put(account_db(account_id), merged)
        except Conflict:
            raise ApiError(409, "the settings changed meanwhile; read them again") from None
        saved = self._stored(account_id)
        answer(req, resp, {**_public(saved), **self._language_used(account_id)}, revision=saved.get("_rev"))

    on_post = on_patch

    def _validate(self, account_id: str, account: dict[str, Any], merged: dict[str, Any], is_reseller: bool) -> None:
        try:
            master = master_of(account)
            reseller = reseller_settings(
                account_id,
                merged if is_reseller else None,
                None if master == account_id else self._stored(master),
                master_id=master,
            )
            account_settings(account_id, merged, reseller, created=account.get("pvt_created") or 0)
        except SettingsError as error:
            raise invalid(error.field or "onbill", "invalid", error.reason) from None
