"""What the reliability tests share: finding a service's processes, counting the ledger, reading
the failures that await a person, and the closing audit of a simulated run."""

from __future__ import annotations

import time
from datetime import date

from bookkeeper.ports import DatabaseNotFound, ViewQuery
from bookkeeper.services.audit.audit_scope import accounts_in_scope, audit_accounts
from bookkeeper.services.setup.failures import FAILURES_DB
from entrypoints.simulation.calls import audit_calls
from entrypoints.simulation.run import SimulationRun
from testkit.support.kazbill_service import processes_mentioning


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as found:
            return found.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def bridge_pids(marker: str, bridge: str) -> list[int]:
    """The `kazbill bridge <bridge>` processes of the service whose command lines carry `marker`."""
    return [pid for pid in processes_mentioning(marker) if f"bridge {bridge}" in cmdline(pid)]


def ledger_entries(store, agreeing: int = 3, within_s: float = 60.0) -> int:
    """Every document in the November and December monthly databases of 2026, once `agreeing`
    counts in a row agree: a cluster answers each shard's listing from whichever copy is first,
    and a copy can lag a write another node acknowledged a moment ago (the balancer spreads the
    reads over the nodes, so a lagging copy shows as a count that differs)."""
    counts: list[int] = []
    deadline = time.monotonic() + within_s
    while len(counts) < agreeing or len(set(counts[-agreeing:])) > 1:
        if counts and time.monotonic() > deadline:
            raise AssertionError(f"the ledger's count did not settle within {within_s:.0f} s: {counts[-10:]}")
        if counts:
            time.sleep(0.2)
        counts.append(
            sum(
                len(store.all_docs(db).rows)
                for db in store.list_databases()
                if "-20" in db and db.endswith(("11", "12"))
            )
        )
    return counts[-1]


def described(found: list[dict]) -> str:
    """The failures as an operator reads them in `kazbill status`: who, why, which field."""
    return "\n".join(
        f"{f.get('source')} {f.get('reason_code')} account={f.get('account_id')} field={f.get('field')}: "
        f"{str(f.get('reason'))[:300]}"
        for f in found
    )


def failures(store) -> list[dict]:
    try:
        return [
            row.doc
            for row in store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
            if row.doc and not row.id.startswith("_")
        ]
    except DatabaseNotFound:
        return []


def audit_run(run: SimulationRun, first: date, last: date) -> tuple[list, list]:
    """(differences, accounts that could not be audited): every account's charges recomputed
    from the simulator's true history, and every call's debits at each level of its chain."""
    audits = audit_accounts(run.ports, accounts_in_scope(run.ports), first, last, run.cluster.history)
    differences = [(a.account_id, d) for a in audits for d in a.differences]
    differences += audit_calls(run.ports.store, run.cluster.calls, [a.account_id for a in audits], run.cluster.levels)
    return differences, [(a.account_id, a.error) for a in audits if a.error]
