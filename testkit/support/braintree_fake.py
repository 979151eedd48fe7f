"""A local Braintree gateway for the tests: a real HTTP server speaking the SDK's XML on a free
loopback port, reached through a custom braintree Environment (`KAZBILL_BRAINTREE_URL`). It keeps
a vault (customers and cards), approves or declines sales by the card's nonce, checks the
merchant's keys, and can be taken down (503).

Nonces, as in Braintree's sandbox: `fake-valid-visa-nonce`, `fake-valid-mastercard-nonce`, and
`fake-processor-declined-visa-nonce` (a card whose sales are declined)."""

from __future__ import annotations

import base64
import itertools
import re
import threading
import warnings
from decimal import Decimal
from typing import Any

from testkit.support.local_http import LocalHttpServer, QuietHandler

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from braintree.util.generator import Generator
    from braintree.util.xml_util import XmlUtil

NONCES = {
    "fake-valid-visa-nonce": ("Visa", "1111", False),
    "fake-valid-mastercard-nonce": ("MasterCard", "4444", False),
    "fake-processor-declined-visa-nonce": ("Visa", "0002", True),
}


def xml(document: dict[str, Any]) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + Generator(document).generate()).encode()


class BraintreeFake(LocalHttpServer):
    def __init__(
        self,
        merchant_id: str = "volna_merchant",
        public_key: str = "volna_public",
        private_key: str = "volna_private_key",
    ) -> None:
        super().__init__()
        self.merchant_id, self.public_key, self.private_key = merchant_id, public_key, private_key
        self.customers: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}  # token → card (with customer_id, declines)
        self.sales: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.down = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ the vault's answers
    def _card_xml(self, card: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in card.items() if key not in ("declines",)}

    def _customer_xml(self, customer_id: str) -> dict[str, Any]:
        cards = [self._card_xml(card) for card in self.cards.values() if card["customer_id"] == customer_id]
        return {"customer": {**self.customers[customer_id], "credit_cards": cards}}

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        prefix = f"/merchants/{self.merchant_id}"
        if not path.startswith(prefix + "/"):
            return 404, b""
        route = path[len(prefix) :]
        with self._lock:
            if method == "POST" and route == "/client_token":
                return 201, xml(
                    {"client_token": {"value": f"fake-client-token-{body['client_token'].get('customer_id')}"}}
                )
            if method == "GET" and (found := re.fullmatch(r"/customers/([\w-]+)", route)):
                return (200, xml(self._customer_xml(found[1]))) if found[1] in self.customers else (404, b"")
            if method == "POST" and route == "/customers":
                customer = body["customer"]
                self.customers[customer["id"]] = {"id": customer["id"], "company": customer.get("company") or ""}
                return 201, xml(self._customer_xml(customer["id"]))
            if method == "POST" and route == "/payment_methods":
                return self._add_card(body["payment_method"])
            if found := re.fullmatch(r"/payment_methods/any/([\w-]+)", route):
                return self._card_action(method, found[1])
            if method == "POST" and route == "/transactions":
                return self._sale(body["transaction"])
            if method == "POST" and (found := re.fullmatch(r"/transactions/([\w-]+)/refund", route)):
                return self._refund(found[1], body["transaction"])
        return 404, b""

    def _add_card(self, request: dict[str, Any]) -> tuple[int, bytes]:
        nonce = request.get("payment_method_nonce")
        if nonce not in NONCES or request.get("customer_id") not in self.customers:
            return 422, xml(
                {
                    "api_error_response": {
                        "errors": {
                            "payment_method": {
                                "errors": [
                                    {
                                        "attribute": "payment_method_nonce",
                                        "code": "91925",
                                        "message": "Unknown or expired payment_method_nonce.",
                                    }
                                ]
                            }
                        },
                        "message": "Unknown or expired payment_method_nonce.",
                        "params": {},
                    }
                }
            )
        card_type, last_4, declines = NONCES[nonce]
        token = f"card{next(self._ids)}"
        owner = request["customer_id"]
        first = not any(card["customer_id"] == owner for card in self.cards.values())
        if (request.get("options") or {}).get("make_default") or first:
            for card in self.cards.values():
                if card["customer_id"] == owner:
                    card["default"] = False
        self.cards[token] = {
            "token": token,
            "customer_id": owner,
            "card_type": card_type,
            "last_4": last_4,
            "expiration_month": "12",
            "expiration_year": "2030",
            "expired": False,
            "default": bool((request.get("options") or {}).get("make_default") or first),
            "declines": declines,
        }
        return 201, xml({"credit_card": self._card_xml(self.cards[token])})

    def _card_action(self, method: str, token: str) -> tuple[int, bytes]:
        card = self.cards.get(token)
        if card is None:
            return 404, b""
        if method == "DELETE":
            del self.cards[token]
            return 200, b""
        for other in self.cards.values():
            if other["customer_id"] == card["customer_id"]:
                other["default"] = other is card
        return 200, xml({"credit_card": self._card_xml(card)})

    def _sale(self, request: dict[str, Any]) -> tuple[int, bytes]:
        card = self.cards.get(request.get("payment_method_token"))
        transaction = {
            "id": f"bt{next(self._ids):06d}",
            "type": "sale",
            "amount": request["amount"],
            "currency_iso_code": "USD",
            "order_id": request.get("order_id"),
            "customer_id": request.get("customer_id"),
            "created_at": None,
        }
        if card is None or card["customer_id"] != request.get("customer_id"):
            return 422, xml(
                {
                    "api_error_response": {
                        "errors": {
                            "transaction": {
                                "errors": [
                                    {
                                        "attribute": "payment_method_token",
                                        "code": "91518",
                                        "message": "Payment method token is invalid.",
                                    }
                                ]
                            }
                        },
                        "message": "Payment method token is invalid.",
                        "params": {},
                    }
                }
            )
        if card["declines"]:
            transaction.update(
                status="processor_declined", processor_response_code="2000", processor_response_text="Do Not Honor"
            )
            self.sales.append(transaction)
            return 422, xml(
                {
                    "api_error_response": {
                        "errors": {"errors": []},
                        "message": "Do Not Honor",
                        "transaction": transaction,
                        "params": {},
                    }
                }
            )
        transaction["status"] = "submitted_for_settlement"
        self.sales.append(transaction)
        return 201, xml({"transaction": transaction})

    def _refund(self, sale_id: str, request: dict[str, Any]) -> tuple[int, bytes]:
        sale = next(
            (sale for sale in self.sales if sale["id"] == sale_id and sale["status"] != "processor_declined"), None
        )
        if sale is None:
            return 404, b""
        refunded = sum(Decimal(r["amount"]) for r in self.refunds if r["refunded_transaction_id"] == sale_id)
        amount = Decimal(request.get("amount") or sale["amount"])
        if refunded + amount > Decimal(sale["amount"]):
            return 422, xml(
                {
                    "api_error_response": {
                        "errors": {
                            "transaction": {
                                "errors": [
                                    {"attribute": "amount", "code": "91521", "message": "Refund amount is too large."}
                                ]
                            }
                        },
                        "message": "Refund amount is too large.",
                        "params": {},
                    }
                }
            )
        refund = {
            "id": f"bt{next(self._ids):06d}",
            "type": "credit",
            "amount": f"{amount:.2f}",
            "currency_iso_code": "USD",
            "status": "submitted_for_settlement",
            "refunded_transaction_id": sale_id,
            "order_id": request.get("order_id"),
            "created_at": None,
        }
        self.refunds.append(refund)
        return 201, xml({"transaction": refund})

    # ------------------------------------------------------------ the HTTP server
    def handler(self) -> type[QuietHandler]:
        fake = self
        expected = "Basic " + base64.b64encode(f"{self.public_key}:{self.private_key}".encode()).decode()

        class Handler(QuietHandler):
            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.down:
                    status, answer = 503, b""
                elif self.headers.get("Authorization", "").strip() != expected:
                    status, answer = 401, b""
                else:
                    body = XmlUtil.dict_from_xml(raw) if raw.strip() else {}
                    status, answer = fake.handle(self.command, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
