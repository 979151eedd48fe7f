"""The console's forms call the API itself, in-process and as the signed-in user: the same
resource, the same checks (who may act "from above", what a field may hold), the same writes,
and the API's own error naming the field, which the page shows next to the form. Nothing the
console does can differ from what the API would do for the same person."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import falcon
import falcon.testing

from crossbar_api.envelope import dumps


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    data: Any
    message: str  # the error's words, its field first, for the page; "" on success
    problems: tuple[tuple[str, str], ...] = ()  # every (field, message) the API named

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def call_api(
    app: falcon.App,
    req: falcon.Request,
    method: str,
    path: str,
    data: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> ApiAnswer:
    """`data` goes as crossbar's JSON envelope; `raw` as it is (a CSV deck)."""
    headers = {"X-Auth-Token": str(req.context.token), "Content-Type": content_type}
    body = raw if raw is not None else (None if data is None else dumps({"data": data}))
    result = falcon.testing.simulate_request(
        app, method, path, body=body, headers=headers, remote_addr=req.remote_addr or "127.0.0.1"
    )
    answer = result.json if result.content_type and "json" in result.content_type else {}
    if 200 <= result.status_code < 300:
        return ApiAnswer(result.status_code, (answer or {}).get("data"), "")
    problems = tuple(_problems(answer or {}))
    message = f"{problems[0][0]}: {problems[0][1]}" if problems else str((answer or {}).get("message") or "refused")
    return ApiAnswer(result.status_code, None, message, problems)


def _problems(error: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) from crossbar's error shape ({data: {field: {rule: {message}}}})."""
    found = []
    for field, rules in (error.get("data") or {}).items():
        if isinstance(rules, dict):
            for rule in rules.values():
                if isinstance(rule, dict) and rule.get("message"):
                    found.append((str(field), str(rule["message"])))
    return found


def form_number(text: str) -> Decimal | str:
    """A number typed in a form (a comma for the decimal point too), as the API reads JSON
    numbers; what is not one goes as typed, for the API to refuse naming the field."""
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return text
