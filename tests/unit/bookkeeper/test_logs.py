"""JSON log lines: one object per line, with the ids a line was given."""

from __future__ import annotations

import json
import logging

from bookkeeper.logs import JsonLines


def test_a_json_line_carries_the_message_node_and_the_ids_it_was_given(monkeypatch):
    monkeypatch.setenv("KAZBILL_NODE", "kazbill@billing-2")
    record = logging.LogRecord("kazbill.shard", logging.INFO, __file__, 1, "batch %s: %d done", ("b-1", 3), None)
    record.batch_id, record.done = "b-1", 3
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "batch b-1: 3 done" and line["logger"] == "kazbill.shard" and line["level"] == "INFO"
    assert line["node"] == "kazbill@billing-2" and line["batch_id"] == "b-1" and line["done"] == 3
    assert line["ts"].endswith("+00:00") and "request_id" not in line


def test_an_exception_is_kept_in_the_line_not_spread_over_several():
    try:
        raise ValueError("the store said no")
    except ValueError:
        import sys

        record = logging.LogRecord("kazbill.api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonLines().format(record)
    assert "\n" not in text and "the store said no" in json.loads(text)["exception"]
