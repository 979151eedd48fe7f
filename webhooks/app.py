"""The payment hooks, under /hooks/, with no token: each gateway authenticates its own way, on
the raw body, inside the bookkeeper's handlers (`bookkeeper.services.payments.gateway_payments`).

    POST /hooks/paypal/{reseller_id}                      PayPal IPN
    POST /hooks/yandex_money/{reseller_id}/notification   YooMoney wallet HTTP notification
    POST /hooks/yandex_money/{reseller_id}/check          shop protocol checkOrder (XML answer)
    POST /hooks/yandex_money/{reseller_id}/paymentaviso   shop protocol paymentAviso (XML answer)
    POST /hooks/braintree/{reseller_id}                   Braintree webhook (disputes, settlement declined)

Answers: 200 when the gateway may stop sending (posted, a duplicate, or nothing to post), 4xx
naming the field when the notification is refused, 503 when it could not be judged now (store
or PayPal unreachable) so the gateway sends it again. The shop protocol answers its refusals in
its XML with HTTP 200, except a body that is not a form at all: no YooMoney server sends one,
so it gets a 400 as well.

Each delivery is recorded with the sender's address, which bounds how many unvouched ones are
kept a minute (`bookkeeper.services.payments.hook_attempts`); behind a proxy that is the proxy's address.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

import falcon

from bookkeeper import come_back_later
from bookkeeper.domain.gateways import yandex_money
from bookkeeper.ports import StoreError, gregorian_now
from bookkeeper.services.payments.braintree_hooks import receive_braintree_webhook
from bookkeeper.services.payments.gateway_payments import (
    HookAnswer,
    HookPorts,
    receive_paypal_ipn,
    receive_yandex_shop,
    receive_yandex_wallet,
)
from bookkeeper.services.payments.hook_attempts import record_attempt

log = logging.getLogger("kazbill.hooks")
MAX_BODY = 64 * 1024  # IPNs and YooMoney forms are a few kilobytes


def _source(req: falcon.Request) -> str:
    return req.remote_addr or "unknown"


def _read_body(req: falcon.Request, ports: HookPorts, gateway: str, route: str, reseller_id: str) -> bytes:
    body = req.bounded_stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        try:
            record_attempt(
                ports.billing.store,
                gateway=gateway,
                route=route,
                raw_body=body,
                outcome="refused",
                message=f"body larger than {MAX_BODY} bytes",
                field="body",
                reseller_id=reseller_id,
                now_gregorian=gregorian_now(ports.billing.clock),
                source=_source(req),
                budget=ports.refusal_budget,
            )
        except StoreError as error:  # the refusal stands whether or not it could be recorded
            log.warning("an oversized %s delivery could not be recorded: %s", gateway, error)
        raise falcon.HTTPContentTooLarge(description=f"body: larger than {MAX_BODY} bytes")
    return body


def _answer_later(resp: falcon.Response) -> None:
    resp.status = falcon.code_to_http_status(come_back_later.STATUS)
    for name, value in come_back_later.HEADERS.items():
        resp.set_header(name, value)


def _json_answer(req: falcon.Request, resp: falcon.Response, answer: HookAnswer) -> None:
    resp.status = falcon.code_to_http_status(answer.status)
    if answer.status == come_back_later.STATUS:
        _answer_later(resp)
    if answer.status < 400:
        resp.media = {
            "status": "success",
            "outcome": answer.outcome,
            "message": answer.message,
            "request_id": req.context.request_id,
        }
    else:
        resp.media = {
            "status": "error",
            "error": str(answer.status),
            "outcome": answer.outcome,
            "message": answer.message,
            "request_id": req.context.request_id,
            "data": {answer.field or "body": {answer.outcome: {"message": answer.message}}},
        }
    log.info("request_id=%s hook %s -> %s %s", req.context.request_id, req.path, answer.status, answer.outcome)


def _guarded(receive: Callable[[], HookAnswer]) -> HookAnswer:
    try:
        return receive()
    except come_back_later.FOR_A_PAYMENT_HOOK as error:  # nothing judged, nothing posted: ask again later
        log.warning("hook could not be handled now: %s", error)
        return HookAnswer(come_back_later.STATUS, "unavailable", f"try again later: {error}")


class JsonHook:
    """A hook answered in JSON: read the body (bounded), let the bookkeeper judge it, answer."""

    def __init__(
        self, ports: HookPorts, gateway: str, route: str, receive: Callable[[HookPorts, str, bytes, str], HookAnswer]
    ):
        self.ports, self.gateway, self.route, self.receive = ports, gateway, route, receive

    def on_post(self, req: falcon.Request, resp: falcon.Response, reseller_id: str) -> None:
        body = _read_body(req, self.ports, self.gateway, self.route, reseller_id)
        _json_answer(req, resp, _guarded(lambda: self.receive(self.ports, reseller_id, body, _source(req))))


class YandexShop:
    """checkOrder and paymentAviso answer with the protocol's XML, whose `code` carries the verdict:
    HTTP 200, or 400 for a body that is no form at all, or 503 to be asked again."""

    def __init__(self, ports: HookPorts, action: str):
        self.ports, self.action = ports, action

    def on_post(self, req: falcon.Request, resp: falcon.Response, reseller_id: str) -> None:
        body = _read_body(req, self.ports, "yandex_money", self.action, reseller_id)
        try:
            answer, code = receive_yandex_shop(self.ports, reseller_id, self.action, body, _source(req))
        except come_back_later.FOR_A_PAYMENT_HOOK as error:
            log.warning("shop %s could not be handled now: %s", self.action, error)
            answer = HookAnswer(come_back_later.STATUS, "unavailable", "try again later")
            code = yandex_money.SHOP_BAD_REQUEST
        fields = {"invoiceId": _field(body, "invoiceId"), "shopId": _field(body, "shopId")}
        if answer.status == come_back_later.STATUS:
            _answer_later(resp)
        else:
            resp.status = falcon.HTTP_400 if answer.malformed else falcon.HTTP_200
        resp.content_type = "application/xml"
        resp.text = yandex_money.shop_answer(
            self.action,
            code,
            self.ports.billing.clock.now(),
            fields,
            "" if code == yandex_money.SHOP_OK else answer.message,
        )
        log.info("request_id=%s hook %s -> %s code=%s", req.context.request_id, req.path, answer.outcome, code)


def _field(body: bytes, name: str) -> str:
    """A field echoed in the XML answer, read leniently (the answer is sent even for a bad form)."""
    try:
        values = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200).get(name) if body else None
    except ValueError:  # more fields than any shop request has: nothing of it is echoed
        return ""
    return values[0][:64] if values else ""


class RequestId:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = uuid.uuid4().hex
        resp.set_header("X-Request-ID", req.context.request_id)


def create_app(ports: HookPorts) -> falcon.App:
    app = falcon.App(middleware=[RequestId()])
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route("/hooks/paypal/{reseller_id}", JsonHook(ports, "paypal", "paypal", receive_paypal_ipn))
    app.add_route(
        "/hooks/yandex_money/{reseller_id}/notification",
        JsonHook(ports, "yandex_money", "notification", receive_yandex_wallet),
    )
    app.add_route("/hooks/yandex_money/{reseller_id}/check", YandexShop(ports, "checkOrder"))
    app.add_route("/hooks/yandex_money/{reseller_id}/paymentaviso", YandexShop(ports, "paymentAviso"))
    app.add_route("/hooks/braintree/{reseller_id}", JsonHook(ports, "braintree", "webhook", receive_braintree_webhook))
    return app
