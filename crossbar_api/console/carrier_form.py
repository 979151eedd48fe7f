"""One carrier of a reseller, field by field: the legal entity that issues its documents (name,
legal and bank details, the documents it issues and how the invoices are numbered, the calls it
carries, how VAT is rounded, e-invoices). The form reads the onbill's carriers through the API,
changes the one carrier (or adds it) and writes the whole list back through the API, which
checks it as it checks any onbill; what it refuses is shown next to the field it names. Details
the form does not ask for (other legal or bank lines, other documents' numbering) are kept.

    GET  /console/accounts/{id}/settings/carriers/{carrier_id}    ("new": an empty form)
    POST /console/accounts/{id}/settings/carriers/{carrier_id}
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

import falcon

from bookkeeper.domain.documents.carriers import DOCUMENT_TYPES
from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX
from crossbar_api.console.api_calls import call_api
from crossbar_api.console.texts import TEXTS
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of

NEW = "new"
LEGAL = ("name", "address", "postcode", "city", "country", "registration", "inn", "kpp", "vat_id")
BANK = ("bank", "account", "bik", "correspondent_account", "iban", "bic")
CHOICES = {"vat_rounding": ("per_line", "per_rate"), "e_invoice": ("factur-x", "none")}


def form_of(carrier: dict[str, Any]) -> dict[str, str]:
    """The form's fields for a stored carrier."""
    legal, bank = carrier.get("legal") or {}, carrier.get("bank") or {}
    numbering = carrier.get("numbering") or {}
    invoice, act = numbering.get("invoice") or {}, numbering.get("act") or {}
    types = carrier.get("document_types") or ["invoice", "act"]
    fields = {
        "id": str(carrier.get("id") or ""),
        "name": str(carrier.get("name") or ""),
        "main": "on" if carrier.get("main") is True else "",
        **{f"legal_{key}": str(legal.get(key) or "") for key in LEGAL},
        **{f"bank_{key}": str(bank.get(key) or "") for key in BANK},
        **{f"type_{kind}": "on" if kind in types else "" for kind in DOCUMENT_TYPES},
        "invoice_start": str(invoice.get("start", "")),
        "invoice_per_year": "" if invoice.get("per_year") is False else "on",
        "invoice_format": str(invoice.get("format") or ""),
        "act_follows_invoice": "on" if act.get("follows") == "invoice" else "",
        "called_patterns": "\n".join(carrier.get("called_patterns") or []),
        "caller_patterns": "\n".join(carrier.get("caller_patterns") or []),
        **{name: str(carrier.get(name) or "") for name in CHOICES},
    }
    return fields


def carrier_of(form: dict[str, str], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The carrier the form describes, over what was stored (kept where the form does not ask)."""
    carrier = dict(stored or {})
    carrier["id"] = (stored or {}).get("id") or form.get("id", "").strip()
    carrier["name"] = form.get("name", "").strip()
    carrier["main"] = form.get("main") == "on"
    carrier["legal"] = _lines(form, "legal", LEGAL, (stored or {}).get("legal"))
    carrier["bank"] = _lines(form, "bank", BANK, (stored or {}).get("bank"))
    carrier["document_types"] = [kind for kind in DOCUMENT_TYPES if form.get(f"type_{kind}") == "on"]
    numbering = dict((stored or {}).get("numbering") or {})
    invoice = dict(numbering.get("invoice") or {})
    start = form.get("invoice_start", "").strip()
    if start:
        invoice["start"] = int(start) if start.isdigit() else start  # not a number: the API names it
    else:
        invoice.pop("start", None)
    invoice["per_year"] = form.get("invoice_per_year") == "on"
    invoice_format = form.get("invoice_format", "").strip()
    if invoice_format:
        invoice["format"] = invoice_format
    else:
        invoice.pop("format", None)
    numbering["invoice"] = invoice
    act = dict(numbering.get("act") or {})
    if form.get("act_follows_invoice") == "on":
        act["follows"] = "invoice"
    elif act.get("follows") == "invoice":  # unticked; another type it follows is not the form's to drop
        act.pop("follows")
    if act:
        numbering["act"] = act
    else:
        numbering.pop("act", None)
    carrier["numbering"] = numbering
    for name in ("called_patterns", "caller_patterns"):
        carrier[name] = [line.strip() for line in form.get(name, "").splitlines() if line.strip()]
    for name in CHOICES:
        if form.get(name):
            carrier[name] = form[name]
        else:
            carrier.pop(name, None)
    return carrier


def _lines(form: dict[str, str], prefix: str, asked: tuple[str, ...], stored: Any) -> dict[str, str]:
    kept = {key: value for key, value in (stored or {}).items() if key not in asked}
    return {
        **kept,
        **{key: form[f"{prefix}_{key}"].strip() for key in asked if form.get(f"{prefix}_{key}", "").strip()},
    }


def with_carrier(carriers: list[dict[str, Any]], carrier: dict[str, Any], replacing: str | None) -> tuple[list, int]:
    """The list with `carrier` in the place of `replacing` (appended when new); the main one
    made main alone. Also the index the API's errors name it by."""
    others = [dict(existing) for existing in carriers]
    index = next((n for n, existing in enumerate(others) if existing.get("id") == replacing), None)
    if carrier.get("main"):
        for existing in others:
            existing["main"] = False
    if index is None:
        return [*others, carrier], len(others)
    others[index] = carrier
    return others, index


def field_of(problem_field: str, index: int) -> str:
    """The form's name for a field the API named (`carriers[2].legal.inn` -> `legal_inn`)."""
    own = re.match(rf"carriers\[{index}\]\.(.+)", problem_field)
    if own is None:
        return ""
    path = own.group(1)
    if path.startswith("numbering.invoice."):
        return "invoice_" + path.rsplit(".", 1)[1]
    return path.replace(".", "_")


def kept_lines(stored: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The stored carrier's legal and bank lines the form does not ask for: kept as they are,
    and shown so that nobody wonders where they went."""
    legal, bank = (stored or {}).get("legal") or {}, (stored or {}).get("bank") or {}
    return [(f"legal.{key}", str(value)) for key, value in legal.items() if key not in LEGAL] + [
        (f"bank.{key}", str(value)) for key, value in bank.items() if key not in BANK
    ]


class CarrierPage:
    def __init__(self, deps: ApiDeps, app: falcon.App, render: Any, reading: Any):
        self.deps, self.app, self.render, self.reading = deps, app, render, reading

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, carrier_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        carriers = self._carriers(req, account_id)
        stored = next((c for c in carriers if c.get("id") == carrier_id), None)
        if stored is None and carrier_id != NEW:
            raise falcon.HTTPNotFound(description=f"carrier_id: no carrier {carrier_id!r}")
        self._show(req, resp, account, carrier_id, stored, form_of(stored or {"main": not carriers}), {})

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, carrier_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        form = read_form(req)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        carriers = self._carriers(req, account_id)
        stored = next((c for c in carriers if c.get("id") == carrier_id), None)
        if stored is None and carrier_id != NEW:
            raise falcon.HTTPNotFound(description=f"carrier_id: no carrier {carrier_id!r}")
        carrier = carrier_of(form, stored)
        listed, index = with_carrier(carriers, carrier, None if stored is None else carrier_id)
        sent = call_api(self.app, req, "PATCH", f"/v2/accounts/{account_id}/onbill", {"carriers": listed})
        lang = language_of(req.get_param("lang"), None)
        if sent.ok:
            raise falcon.HTTPSeeOther(
                f"{CONSOLE_PREFIX}/accounts/{account_id}/settings?" + urlencode({"lang": lang, "done": "carriers"})
            )
        problems = sent.problems or (("carriers", sent.message),)
        named = {field_of(field, index) or "": message for field, message in problems}
        values = {**form_of(carrier), **form}
        self._show(req, resp, account, carrier_id, stored, values, named, list(problems), status=400)

    def _carriers(self, req: falcon.Request, account_id: str) -> list[dict[str, Any]]:
        onbill = call_api(self.app, req, "GET", f"/v2/accounts/{account_id}/onbill")
        if not onbill.ok:
            raise ApiError(onbill.status, onbill.message)
        return [dict(c) for c in (onbill.data or {}).get("carriers") or [] if isinstance(c, dict)]

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account: dict[str, Any],
        carrier_id: str,
        stored: dict[str, Any] | None,
        values: dict[str, str],
        named: dict[str, str],
        problems: list[tuple[str, str]] | None = None,
        status: int = 200,
    ) -> None:
        lang = language_of(req.get_param("lang"), None)
        self.render(
            resp,
            "carrier.html",
            status,
            lang=lang,
            t=TEXTS[lang],
            account=account,
            carrier_id=carrier_id,
            action=f"{CONSOLE_PREFIX}/accounts/{account['_id']}/settings/carriers/{quote(carrier_id, safe='')}",
            new=carrier_id == NEW,
            v=values,
            named=named,
            problems=problems or [],
            legal=LEGAL,
            bank=BANK,
            kept=kept_lines(stored),
            document_types=DOCUMENT_TYPES,
            choices=CHOICES,
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )
