"""How Kazbill's processes log: plain lines for a person at a terminal, or one JSON object per
line (KAZBILL_LOG_FORMAT=json) for a log shipper. A JSON line carries the time (UTC), level,
logger, message, node and process, and the ids a line was given (`extra=`): the API's
request_id, a batch's batch_id, an account_id, so that one request or one event can be followed
across the API, the bridges, the supervisor and the shards."""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"
CONTEXT_FIELDS = (
    "request_id",
    "batch_id",
    "kind",
    "account_id",
    "accounts",
    "method",
    "path",
    "status",
    "done",
    "failed",
    "handed_back",
)


class JsonLines(logging.Formatter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        self.node = os.environ.get("KAZBILL_NODE") or f"kazbill@{socket.gethostname()}"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
            "pid": record.process,
        }
        entry.update({key: getattr(record, key) for key in CONTEXT_FIELDS if hasattr(record, key)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter_config(log_format: str) -> dict:
    """The formatter, as logging.config.dictConfig (and Thespian's logDefs) takes it."""
    return {"()": "bookkeeper.logs.JsonLines"} if log_format == "json" else {"format": PLAIN_FORMAT}


def configure(log_format: str, level: int = logging.INFO) -> None:
    """For a command's own process (serve, a bridge, the API): the root logger to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
