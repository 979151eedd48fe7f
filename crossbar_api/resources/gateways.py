"""GET/POST .../paypal_config, .../yandex_money_config, .../braintree_config: a reseller's gateway
settings (the reference app's names). Only the reseller itself or an account above it reads or
writes them; writes need an admin; secrets come back masked (`****` + last 4) and a masked value
sent back keeps the stored secret. A POST merges the given keys (`null` removes one) and the
whole result is validated before anything is saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import falcon

from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.gateways.settings import GATEWAY_DOCS, masked
from bookkeeper.ports import Conflict, gregorian_now
from bookkeeper.services.payments.gateway_settings import (
    NotAReseller,
    save_gateway_settings,
    stored_gateway_doc,
)
from crossbar_api.access import reseller_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer, read_data
from crossbar_api.errors import ApiError, invalid


def _stored_form(value: Any) -> Any:
    # Amounts arrive as exact Decimals; the document keeps their text (never a float).
    return str(value) if isinstance(value, Decimal) else value


class GatewayConfig:
    def __init__(self, deps: ApiDeps, kind: str):
        assert kind in GATEWAY_DOCS
        self.deps, self.kind = deps, kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        doc = stored_gateway_doc(self.deps.store, account_id, self.kind) or {"enabled": False}
        answer(req, resp, self._shown(doc), revision=doc.get("_rev"))

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        data = read_data(req)
        reseller_for(req, self.deps, account_id, write=True)
        now = gregorian_now(self.deps.clock)
        try:
            saved = save_gateway_settings(
                self.deps.store, account_id, self.kind, {key: _stored_form(value) for key, value in data.items()}, now
            )
        except GatewayFieldError as error:
            raise invalid(error.field, "invalid", error.reason) from None
        except NotAReseller as error:
            raise ApiError(404, "bad identifier", {"account_id": {"reseller": {"message": str(error)}}}) from None
        except Conflict:
            raise ApiError(409, "the settings changed meanwhile; read them again") from None
        answer(req, resp, self._shown(saved), revision=saved.get("_rev"))

    on_patch = on_post

    def _shown(self, doc: dict[str, Any]) -> dict[str, Any]:
        shown = masked(self.kind, doc)
        for key in ("min_amount", "max_amount"):
            if isinstance(shown.get(key), str):
                shown[key] = Decimal(shown[key])
        return shown


def gateway_routes(account_path: str) -> list[tuple[str, Any, str, dict[str, str]]]:
    bodies = {
        "paypal_config": {
            "enabled": "boolean",
            "sandbox": "boolean",
            "receiver_id": "string",
            "receiver_email": "string",
            "currency": "string",
            "min_amount": "number",
            "max_amount": "number",
        },
        "yandex_money_config": {
            "enabled": "boolean",
            "wallet": "string",
            "notification_secret": "string",
            "shop_id": "string",
            "scid": "string",
            "shop_password": "string",
            "test_mode": "boolean",
            "min_amount": "number",
            "max_amount": "number",
        },
        "braintree_config": {
            "enabled": "boolean",
            "environment": "string",
            "merchant_id": "string",
            "public_key": "string",
            "private_key": "string",
            "merchant_account_id": "string",
            "min_amount": "number",
            "max_amount": "number",
        },
    }
    return [
        (
            f"{account_path}/{kind}",
            lambda deps, kind=kind: GatewayConfig(deps, kind),
            f"A reseller's {kind.replace('_config', '').replace('_', ' ')} settings (secrets masked)",
            body,
        )
        for kind, body in bodies.items()
    ]
