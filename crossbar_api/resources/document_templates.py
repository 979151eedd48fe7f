"""A reseller's own document templates (Jinja2 HTML, the variables of the default templates):

    PUT    .../onbill_templates/{carrier}/{document_type}   text/html: checked (sandboxed trial
                                                           render and layout), then used for that
                                                           carrier's documents of that type
    GET    .../onbill_templates/{carrier}/{document_type}   the template in use (404: the default)
    DELETE .../onbill_templates/{carrier}/{document_type}   back to the default
Only the reseller itself or an account above it; writing needs an admin. A refused template
changes nothing and the answer says why (the line, when it can)."""

from __future__ import annotations

import falcon

from bookkeeper.domain.documents.carriers import CarrierError, parse_carriers
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.ports import gregorian_now
from bookkeeper.services.documents.document_templates import remove_template, save_template, template_for
from bookkeeper.services.payments.gateway_settings import own_reseller_settings
from crossbar_api.access import reseller_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import ApiError, invalid
from documents.custom_templates import MAX_TEMPLATE_BYTES, check_template
from documents.html import CUSTOMIZABLE_TYPES, RenderRefused


class DocumentTemplate:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def _carrier_and_type(self, account_id: str, carrier: str, document_type: str) -> None:
        if document_type not in CUSTOMIZABLE_TYPES:
            raise invalid("document_type", "enum", f"one of {', '.join(CUSTOMIZABLE_TYPES)}")
        try:
            carriers = parse_carriers(own_reseller_settings(self.deps.store, account_id).carriers)
        except (CarrierError, GatewayFieldError) as error:
            raise invalid(getattr(error, "field", "onbill"), "carrier", getattr(error, "reason", str(error))) from None
        found = next((c for c in carriers if c.id == carrier), None)
        if found is None:
            raise ApiError(
                404,
                "bad identifier",
                {"carrier": {"exists": {"message": f"no carrier {carrier!r} in this reseller's onbill carriers"}}},
            )
        if document_type not in found.document_types:
            raise invalid("document_type", "carrier", f"carrier {carrier} does not issue {document_type}")

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, account_id: str, carrier: str, document_type: str
    ) -> None:
        reseller_for(req, self.deps, account_id, write=True)
        self._carrier_and_type(account_id, carrier, document_type)
        if (req.content_type or "").split(";")[0].strip() not in ("text/html", "text/plain"):
            raise ApiError(415, None, {"content_type": {"html": {"message": "send the template as text/html"}}})
        raw = req.bounded_stream.read(MAX_TEMPLATE_BYTES + 1)
        try:
            source = check_template(raw)
        except RenderRefused as refused:
            raise invalid("template", "check", refused.reason) from None
        now = gregorian_now(self.deps.clock)
        saved = save_template(self.deps.store, account_id, carrier, document_type, source, now)
        answer(
            req,
            resp,
            {"carrier": carrier, "document_type": document_type, "size": saved["size"], "sha256": saved["sha256"]},
            status=201,
        )

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, account_id: str, carrier: str, document_type: str
    ) -> None:
        reseller_for(req, self.deps, account_id, write=False)
        source = template_for(self.deps.store, account_id, carrier, document_type)
        if source is None:
            raise ApiError(
                404,
                "bad identifier",
                {
                    "template": {
                        "exists": {"message": "no template of the reseller's own: the default template is used"}
                    }
                },
            )
        resp.content_type = "text/html; charset=utf-8"
        resp.text = source

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, account_id: str, carrier: str, document_type: str
    ) -> None:
        reseller_for(req, self.deps, account_id, write=True)
        answer(req, resp, {"removed": remove_template(self.deps.store, account_id, carrier, document_type)})
