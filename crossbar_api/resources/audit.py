"""GET .../audit?from=YYYY-MM-DD&to=YYYY-MM-DD[&subtree=true]: the account's ledger (or its whole
subtree's) against what its history calls for, each difference with its cause. The caller must
be the account itself or above it; `subtree` audits every account below too."""

from __future__ import annotations

from datetime import date

import falcon

from bookkeeper.domain.audit import CAUSES
from bookkeeper.domain.money import to_major
from bookkeeper.services.audit.audit_calls import CALL_ASSUMPTIONS
from bookkeeper.services.audit.audit_scope import accounts_in_scope, audit_accounts
from bookkeeper.services.audit.charges import ASSUMPTIONS
from bookkeeper.services.billing.account_pass import BillingPorts
from crossbar_api.access import account_for
from crossbar_api.deps import ApiDeps
from crossbar_api.envelope import answer
from crossbar_api.errors import invalid
from crossbar_api.fields import day

MAX_DAYS = 400
# The spellings falcon's get_param_as_bool took, which this parameter has always accepted.
_TRUE = ("true", "t", "yes", "y", "1", "on")
_FALSE = ("false", "f", "no", "n", "0", "off")


def _day(req: falcon.Request, name: str) -> date:
    return day(req.get_param(name), name)


def _flag(req: falcon.Request, name: str) -> bool:
    raw = (req.get_param(name) or "false").lower()
    if raw not in _TRUE + _FALSE:
        raise invalid(name, "type", "must be true or false")
    return raw in _TRUE


class Audit:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account_for(req, self.deps, account_id)
        first, last = _day(req, "from"), _day(req, "to")
        if first > last or (last - first).days > MAX_DAYS:
            raise invalid("to", "range", f"must be on or after `from`, at most {MAX_DAYS} days later")
        ports = BillingPorts(self.deps.store, self.deps.clock, self.deps.design_docs)
        scope = (
            accounts_in_scope(ports, reseller_id=account_id)
            if _flag(req, "subtree")
            else accounts_in_scope(ports, account_id=account_id)
        )
        audits = audit_accounts(ports, scope, first, last)
        answer(
            req,
            resp,
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "accounts": len(audits),
                "clean": all(a.clean for a in audits),
                "assumptions": [*ASSUMPTIONS, *CALL_ASSUMPTIONS],
                "findings": [
                    {
                        "account_id": a.account_id,
                        "name": a.name,
                        "error": a.error,
                        "differences": [
                            {
                                "entry_id": d.entry_id,
                                "kind": d.kind,
                                "cause": CAUSES[d.kind],
                                "expected": None if d.expected is None else to_major(d.expected),
                                "actual": None if d.actual is None else to_major(d.actual),
                            }
                            for d in a.differences
                        ],
                    }
                    for a in audits
                    if not a.clean
                ],
            },
        )
