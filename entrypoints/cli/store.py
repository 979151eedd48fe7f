"""`kazbill store init` and `kazbill store check`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import click

from bookkeeper import __version__
from bookkeeper.bootstrap import build_store
from bookkeeper.design_docs import load_design_docs
from bookkeeper.services.setup import store_setup
from entrypoints.cli import Context, _emit, main, operator_errors


def _report_json(report: store_setup.StoreReport) -> dict[str, Any]:
    return {
        "kazbill_version": __version__,
        "server": asdict(report.server) if report.server else None,
        "created_databases": report.created_databases,
        "missing_databases": report.missing_databases,
        "design_docs": [asdict(status) for status in report.design_docs],
        "view_errors": report.view_errors,
        "view_error_samples": report.view_error_samples,
        "conflicts": [asdict(found) for found in report.conflicts],
        "shared_decision_databases": report.shared_decision_databases,
        "healthy": report.healthy,
    }


def _server_line(report: store_setup.StoreReport) -> str:
    server = report.server
    assert server is not None
    return f"store: {server.adapter} at {server.location} ({server.vendor} {server.version}); kazbill {__version__}"


@main.group("store")
def store_group() -> None:
    """Create Kazbill's databases and design documents, and check them."""


@store_group.command("init")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
@operator_errors
def store_init(obj: Context, as_json: bool) -> None:
    """Create the system databases and install or upgrade the design documents of couch_views/
    in every database they belong in. Safe to run again: it changes only what is out of date."""
    design_docs = load_design_docs()
    store = build_store(obj.settings)
    try:
        report = store_setup.initialise(store, design_docs)
    finally:
        store.close()
    _emit(
        _report_json(report),
        as_json,
        [
            _server_line(report),
            f"databases created: {', '.join(report.created_databases) or 'none'}",
            f"design documents: {report.count('installed')} installed, {report.count('upgraded')} upgraded, "
            f"{report.count('unchanged')} unchanged",
        ],
    )


@store_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
@operator_errors
def store_check(obj: Context, as_json: bool) -> None:
    """Check that the store is reachable, that the system databases exist and that every design
    document is the one this version of Kazbill ships. Exit status 1 when anything is off."""
    design_docs = load_design_docs()
    store = build_store(obj.settings)
    try:
        report = store_setup.check(store, design_docs)
    finally:
        store.close()
    stale = [
        f"  {status.state}: {status.design_id} in {status.db}"
        for status in report.design_docs
        if status.state != "current"
    ]
    _emit(
        _report_json(report),
        as_json,
        [
            _server_line(report),
            f"system databases missing: {', '.join(report.missing_databases) or 'none'}",
            f"design documents: {report.count('current')} current, {report.count('outdated')} outdated, "
            f"{report.count('missing')} missing",
            *stale,
            *(
                [
                    f"documents the views leave out (a map threw on them; kazbill_failures, source view): "
                    f"{report.view_errors}"
                ]
                + [f"  {sample}" for sample in report.view_error_samples]
                if report.view_errors
                else []
            ),
            f"conflicted documents: {len(report.conflicts)}",
            *[
                f"  {found.db} {found.doc_id}: revisions {', '.join(found.revisions)}; {found.what_was_done}"
                for found in report.conflicts
            ],
            *(
                [
                    f"Kazbill's databases kept in more than one copy: {', '.join(report.shared_decision_databases)} "
                    "(their decisions can race on a cluster: recreate them with q=1&n=1, see "
                    "docs/couchdb-cluster.md)"
                ]
                if report.shared_decision_databases
                else []
            ),
            "store is ready"
            if report.healthy
            else (
                "store needs `kazbill store init`"
                if report.missing_databases or stale
                else "store holds documents its views cannot read: see above"
                if report.view_errors
                else "store needs attention: see above"
            ),
        ],
    )
    if not report.healthy:
        sys.exit(1)
