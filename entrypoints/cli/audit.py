"""`kazbill audit`: recompute what an account (a reseller's subtree, or every account) should have
been charged and credited over a range of days (recurring charges, payments, and the calls of its
CDRs at every level of the reseller chain), compare with the ledger, print every difference
with its cause, and exit 1 if there is any (2 for a bad request)."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from bookkeeper.bootstrap import build_billing_ports
from bookkeeper.domain.audit import CAUSES
from bookkeeper.domain.money import to_major
from bookkeeper.services.audit.audit_calls import CALL_ASSUMPTIONS
from bookkeeper.services.audit.audit_history import HistoryError, read_history
from bookkeeper.services.audit.audit_scope import accounts_in_scope, audit_accounts
from bookkeeper.services.audit.charges import ASSUMPTIONS
from entrypoints.cli import Context, main, operator_errors


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a day, YYYY-MM-DD", param_hint=name) from None


@main.command("audit")
@click.option("--account", help="Audit this account.")
@click.option("--reseller", help="Audit this reseller and every account below it.")
@click.option("--all", "everything", is_flag=True, help="Audit every account.")
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD (each reseller's local day).")
@click.option("--to", "last", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False),
    help="Accounts' quantities day by day (as `kazbill simulate` writes them) instead of their documents'.",
)
@click.pass_obj
@operator_errors
def audit(
    obj: Context,
    account: str | None,
    reseller: str | None,
    everything: bool,
    first: str,
    last: str,
    as_json: bool,
    history_file: str | None,
) -> None:
    """Compare the ledger with what the history calls for; exit 1 on any difference."""
    if sum(map(bool, (account, reseller, everything))) != 1:
        raise click.UsageError("give exactly one of --account, --reseller or --all")
    first_day, last_day = _day(first, "--from"), _day(last, "--to")
    if first_day > last_day:
        raise click.BadParameter("must not be after --to", param_hint="--from")
    try:
        histories = read_history(history_file) if history_file else None
    except HistoryError as error:
        raise click.BadParameter(str(error), param_hint="--history") from None
    assumptions = (
        ASSUMPTIONS
        if histories is None
        else (f"the quantities of the {len(histories)} accounts in {history_file} are taken from it",)
    ) + CALL_ASSUMPTIONS
    ports = build_billing_ports(obj.settings)
    audits = audit_accounts(
        ports, accounts_in_scope(ports, account_id=account, reseller_id=reseller), first_day, last_day, histories
    )
    differences = sum(len(a.differences) for a in audits)
    errors = sum(1 for a in audits if a.error)
    conflicts = sum(len(a.conflicts) for a in audits)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "from": first,
                    "to": last,
                    "accounts": len(audits),
                    "differences": differences,
                    "unreadable": errors,
                    "conflicts": conflicts,
                    "clean": differences == 0 and errors == 0 and conflicts == 0,
                    "findings": [
                        {
                            "account_id": a.account_id,
                            "name": a.name,
                            "error": a.error,
                            "differences": [
                                {
                                    "entry_id": d.entry_id,
                                    "kind": d.kind,
                                    "expected": d.expected,
                                    "actual": d.actual,
                                    "cause": CAUSES[d.kind],
                                }
                                for d in a.differences
                            ],
                            "conflicts": [
                                {
                                    "db": c.db,
                                    "doc_id": c.doc_id,
                                    "revisions": list(c.revisions),
                                    "kept": c.kept,
                                    "withdrawn": list(c.withdrawn),
                                    "resolved": c.resolved,
                                }
                                for c in a.conflicts
                            ],
                        }
                        for a in audits
                        if not a.clean
                    ],
                    "late_charges": {
                        a.account_id: list(a.charges.late_charges)
                        for a in audits
                        if a.charges and a.charges.late_charges
                    },
                    "assumptions": list(assumptions),
                },
                indent=2,
            )
        )
    else:
        for found in audits:
            if found.error:
                click.echo(f"{found.account_id}: cannot be audited: {found.error}")
            for d in found.differences:
                amounts = " → ".join(str(to_major(v)) if v is not None else "none" for v in (d.expected, d.actual))
                click.echo(
                    f"{found.account_id} {found.name}: {d.kind} {d.entry_id} (expected → held: {amounts}): "
                    f"{CAUSES[d.kind]}"
                )
            for c in found.conflicts:
                click.echo(
                    f"{found.account_id} {found.name}: conflicted document {c.doc_id} in {c.db}, revisions "
                    f"{', '.join(c.revisions)}: {c.what_was_done}"
                )
            if found.charges and found.charges.late_charges:
                click.echo(
                    f"{found.account_id} {found.name}: charged after their period ended (a change seen late; "
                    f"not a difference): {', '.join(found.charges.late_charges)}"
                )
        click.echo(
            f"audited {len(audits)} accounts, {first}..{last}: {differences} differences"
            + (f", {errors} accounts could not be audited" if errors else "")
            + (f", {conflicts} conflicted documents resolved" if conflicts else "")
        )
        click.echo("assumed: " + "; ".join(assumptions))
    if differences or errors or conflicts:
        sys.exit(1)
