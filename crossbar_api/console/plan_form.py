"""One service plan's prices, row by row: each item's category and name, its name on documents,
its monthly rate, activation charge and minimum, and whether additions and removals are
prorated. The form reads the plan through the API and writes it back through the API, which
checks it as it checks any plan; what it refuses is shown beside the field it names. What the
rows do not ask for (tiers, discounts, flat rates, names per language, cascades) is kept with
its item; the whole plan stays editable as JSON on the plans page.

    GET  /console/accounts/{id}/plans/{plan_id}       ("new": an empty plan)
    POST /console/accounts/{id}/plans/{plan_id}
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import falcon

from bookkeeper.domain.plans import KNOWN_CATEGORIES
from crossbar_api.access import CONSOLE_COOKIE, CONSOLE_PREFIX
from crossbar_api.console.api_calls import call_api, form_number
from crossbar_api.console.texts import TEXTS
from crossbar_api.deps import ApiDeps
from crossbar_api.errors import ApiError
from crossbar_api.page_forms import read_form
from crossbar_api.portal import session
from crossbar_api.portal.texts import language_of

NEW = "new"
EMPTY_ROWS = 3  # rows for new items under the plan's own
MAX_ROWS = 500
ROW_FIELDS = 9  # was, category, item, name, rate, activation_charge, minimum and the two checkboxes
ASKED = ("name", "rate", "activation_charge", "minimum", "prorate")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(str(value)), "f")
    return str(value)


def rows_of(plan: Any) -> list[dict[str, str]]:
    rows = []
    for category, items in (plan or {}).items():
        for item, body in (items or {}).items() if isinstance(items, dict) else ():
            body = body if isinstance(body, dict) else {}
            prorate: dict[str, Any] = body["prorate"] if isinstance(body.get("prorate"), dict) else {}
            rows.append(
                {
                    "was": f"{category}/{item}",
                    "category": str(category),
                    "item": str(item),
                    "name": str(body.get("name") or ""),
                    "rate": _shown(body.get("rate")),
                    "activation_charge": _shown(body.get("activation_charge")),
                    "minimum": _shown(body.get("minimum")),
                    "prorate_additions": "" if prorate.get("additions") is False else "on",
                    "prorate_removals": "on" if prorate.get("removals") is True else "",
                    "kept": _kept(body),
                }
            )
    return rows


def _kept(body: dict[str, Any]) -> str:
    """What the row does not ask for, as a reader would want it named: the names per language
    in full (documents in another language show those), the rest by name."""
    kept = []
    for key in sorted(key for key in body if key not in ASKED):
        names = body[key] if key == "names" and isinstance(body[key], dict) else None
        kept.append(f"{key} ({', '.join(f'{lang}: {name}' for lang, name in sorted(names.items()))})" if names else key)
    return "; ".join(kept)


def typed_rows(form: dict[str, str]) -> list[dict[str, str]]:
    count = int(form["rows"]) if form.get("rows", "").isdigit() else 0
    fields = ("was", "category", "item", "name", "rate", "activation_charge", "minimum")
    return [
        {
            **{name: form.get(f"row{n}_{name}", "").strip() for name in fields},
            "prorate_additions": form.get(f"row{n}_prorate_additions", ""),
            "prorate_removals": form.get(f"row{n}_prorate_removals", ""),
        }
        for n in range(min(count, MAX_ROWS))
    ]


def plan_of(rows: list[dict[str, str]], stored: Any) -> dict[str, Any]:
    """The plan the rows describe; an item keeps what the rows do not ask for. A row without a
    category and an item is left out (so is an item whose row was emptied)."""
    stored = stored if isinstance(stored, dict) else {}
    plan: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row["category"] and not row["item"]:
            continue
        was_category, _, was_item = row["was"].partition("/")
        body = dict(((stored.get(was_category) or {}).get(was_item) or {}) if row["was"] else {})
        for name in ("name",):
            if row[name]:
                body[name] = row[name]
            else:
                body.pop(name, None)
        for name in ("rate", "activation_charge"):
            if row[name]:
                body[name] = form_number(row[name])
            else:
                body.pop(name, None)
        if row["minimum"]:
            body["minimum"] = int(row["minimum"]) if row["minimum"].isdigit() else row["minimum"]
        else:
            body.pop("minimum", None)
        prorate = dict(body.get("prorate") or {}) if isinstance(body.get("prorate"), dict) else {}
        prorate.update(additions=row["prorate_additions"] == "on", removals=row["prorate_removals"] == "on")
        body["prorate"] = prorate
        plan.setdefault(row["category"], {})[row["item"]] = body
    return plan


def named_in_rows(problems: list[tuple[str, str]], rows: list[dict[str, str]]) -> dict[str, str]:
    """Where each refusal goes: `plan.devices.sip_device.rate` beside row n's rate."""
    named: dict[str, str] = {}
    for field, message in problems:
        found = re.fullmatch(r"plan\.([^.]+)(?:\.([^.]+))?(?:\.(.+))?", field)
        if found is None:
            named[field] = message
            continue
        category, item, rest = found.groups()
        for n, row in enumerate(rows):
            if row["category"] == category and (item is None or row["item"] == item):
                column = (rest or "item" if item else "category").split(".")[0]
                named[f"row{n}_{column if column in row else 'item'}"] = message
                break
        else:
            named[field] = message
    return named


class PlanPage:
    def __init__(self, deps: ApiDeps, app: falcon.App, render: Any, reading: Any):
        self.deps, self.app, self.render, self.reading = deps, app, render, reading

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        stored = self._stored(req, account_id, plan_id)
        values = {"id": "" if stored is None else plan_id, "name": (stored or {}).get("name", "")}
        self._show(req, resp, account, plan_id, values, rows_of((stored or {}).get("plan")), {}, [])

    def on_post(self, req: falcon.Request, resp: falcon.Response, account_id: str, plan_id: str) -> None:
        account = self.reading(req, self.deps, account_id)
        form = read_form(req, max_bytes=MAX_ROWS * 1024, max_fields=MAX_ROWS * ROW_FIELDS + 10)
        if not session.check_form(req, form, cookie=CONSOLE_COOKIE):
            raise ApiError(403, "forbidden", {"form_token": {"session": {"message": "reload the page and try again"}}})
        stored = self._stored(req, account_id, plan_id)
        rows = typed_rows(form)
        body: dict[str, Any] = {"name": form.get("name", "").strip(), "plan": plan_of(rows, (stored or {}).get("plan"))}
        base = f"/v2/accounts/{account_id}/onbill_service_plans"
        if stored is None:
            saved = call_api(self.app, req, "PUT", base, {**body, "id": form.get("id", "").strip()})
        else:
            saved = call_api(self.app, req, "POST", f"{base}/{quote(plan_id, safe='')}", body)
        if saved.ok:
            lang = language_of(req.get_param("lang"), None)
            raise falcon.HTTPSeeOther(
                f"{CONSOLE_PREFIX}/accounts/{account_id}/plans?" + urlencode({"lang": lang, "done": saved.data["id"]})
            )
        problems = list(saved.problems or (("plan", saved.message),))
        values = {"id": form.get("id", ""), "name": form.get("name", "")}
        shown = [row for row in rows if any(row[key] for key in ("category", "item", "name", "rate"))]
        self._show(req, resp, account, plan_id, values, shown, named_in_rows(problems, shown), problems, 400)

    def _stored(self, req: falcon.Request, account_id: str, plan_id: str) -> dict[str, Any] | None:
        if plan_id == NEW:
            return None
        found = call_api(
            self.app, req, "GET", f"/v2/accounts/{account_id}/onbill_service_plans/{quote(plan_id, safe='')}"
        )
        if found.status == 404:
            raise falcon.HTTPNotFound(description=f"plan_id: no plan {plan_id!r} in this catalogue")
        if not found.ok:
            raise ApiError(found.status, found.message)
        return found.data

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        account: dict[str, Any],
        plan_id: str,
        values: dict[str, str],
        rows: list[dict[str, str]],
        named: dict[str, str],
        problems: list[tuple[str, str]],
        status: int = 200,
    ) -> None:
        lang = language_of(req.get_param("lang"), None)
        empty = {"was": "", "category": "", "item": "", "name": "", "rate": "", "activation_charge": ""}
        blank = {**empty, "minimum": "", "prorate_additions": "on", "prorate_removals": "", "kept": ""}
        self.render(
            resp,
            "plan.html",
            status,
            lang=lang,
            t=TEXTS[lang],
            account=account,
            plan_id=plan_id,
            new=plan_id == NEW,
            action=f"{CONSOLE_PREFIX}/accounts/{account['_id']}/plans/{quote(plan_id, safe='')}",
            v=values,
            rows=[*rows, *([blank] * EMPTY_ROWS)],
            named=named,
            problems=problems,
            categories=sorted(KNOWN_CATEGORIES),
            form_token=session.form_token(req.context.token),
            home=req.context.caller.account_id,
        )
