"""The benchmark table: each figure beside its same-run reference, as a ratio, and a failed
benchmark named rather than silently missing."""

from __future__ import annotations

import json

from bench.all import markdown, table
from bench.record import record


def test_figures_are_recorded_only_under_bench_all(tmp_path, monkeypatch):
    monkeypatch.delenv("KAZBILL_BENCH_RECORD", raising=False)
    record("events.raw_rabbitmq_consume", 5869.4, "msg/s")  # nowhere to go: a no-op
    path = tmp_path / "figures.jsonl"
    monkeypatch.setenv("KAZBILL_BENCH_RECORD", str(path))
    record("events.raw_rabbitmq_consume", 5869.4, "msg/s")
    record("events.doc_events_to_ledger", 683.2, "events/s", reference="events.raw_rabbitmq_consume")
    record(
        "events.couchdb.doc_events_to_ledger",
        68.0,
        "events/s",
        reference="events.raw_rabbitmq_consume",
        store="CouchDB 3.4.3",
    )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["name"] for line in lines] == [
        "events.raw_rabbitmq_consume",
        "events.doc_events_to_ledger",
        "events.couchdb.doc_events_to_ledger",
    ]
    assert [line["store"] for line in lines] == ["", "", "CouchDB 3.4.3"]  # each row names its engine


def test_each_figure_has_its_ratio_to_the_reference_of_the_same_run():
    rows = table(
        [
            {"name": "events.raw_rabbitmq_consume", "value": 5000.0, "unit": "msg/s", "reference": None},
            {
                "name": "events.doc_events_to_ledger",
                "value": 600.0,
                "unit": "events/s",
                "reference": "events.raw_rabbitmq_consume",
            },
            {
                "name": "calls.call_events_to_debits",
                "value": 700.0,
                "unit": "events/s",
                "reference": "calls.raw_rabbitmq_consume",
            },  # its reference did not run: no ratio, not a crash
        ]
    )
    assert [(row["name"], row["ratio"]) for row in rows] == [
        ("events.raw_rabbitmq_consume", None),
        ("events.doc_events_to_ledger", 0.12),
        ("calls.call_events_to_debits", None),
    ]


def test_the_markdown_names_the_machine_the_command_and_what_failed():
    about = {
        "when": "2026-11-24 07:30 UTC",
        "runs": [{"benchmark": "store", "exit": 0}, {"benchmark": "api", "exit": 1}],
        "machine": {
            "cpus": 2,
            "cpu": "Test CPU",
            "memory": "24 GB",
            "platform": "Linux",
            "python": "3.11",
            "rabbitmq": "3.10.8",
            "weasyprint": "70.0",
            "falcon": "4",
            "thespian": "4.0.1",
        },
    }
    rows = table(
        [
            {"name": "store.embedded.bulk_write", "value": 12000.0, "unit": "docs/s", "reference": None},
            {
                "name": "period_close.embedded.entries_written",
                "value": 3000.0,
                "unit": "entries/s",
                "reference": "store.embedded.bulk_write",
                "store": "embedded (SQLite 3.40.1)",
            },
            {
                "name": "events.couchdb.store_requests_per_event",
                "value": 2.5,
                "unit": "requests/event",
                "reference": None,
                "store": "CouchDB 3.4.3",
            },
        ]
    )
    text = markdown(rows, about, "python -m bench.all")
    assert "`python -m bench.all`" in text and "2 × Test CPU" in text
    assert (
        "| period_close.embedded.entries_written | embedded (SQLite 3.40.1) | 3,000.0 | entries/s "
        "| store.embedded.bulk_write = 12,000.0 | 0.250 |"
    ) in text
    assert "| events.couchdb.store_requests_per_event | CouchDB 3.4.3 | 2.5 | requests/event |  |  |" in text
    assert "Failed (see their logs): api." in text
