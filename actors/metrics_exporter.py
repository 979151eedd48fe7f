"""`kazbill serve`'s own /metrics (KAZBILL_METRICS_BIND, e.g. 0.0.0.0:9464): Prometheus counters of
what this node's shards did since it started (events by name, among them `charged`,
`billing_failed`, `notices_queued`, `documents_issued`; accounts done, failed, handed back),
restarts and batches in flight. The serve loop asks the supervisor every few seconds and this
page shows the last answer; the store's side (failures, lag, documents, notices, nodes) is the
API's /metrics."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from actors.messages import ServiceStatus


class ServiceMetrics:
    def __init__(self, node: str) -> None:
        self.node = node
        self._text = self._render(None)
        self._lock = threading.Lock()

    def update(self, status: ServiceStatus) -> None:
        text = self._render(status)
        with self._lock:
            self._text = text

    def text(self) -> str:
        with self._lock:
            return self._text

    def _render(self, status: ServiceStatus | None) -> str:
        node = self.node.replace('"', "'")
        lines = [
            "# HELP kazbill_service_answered Whether the actor system answered the last status request.",
            "# TYPE kazbill_service_answered gauge",
            f'kazbill_service_answered{{node="{node}"}} {int(status is not None)}',
        ]
        if status is None:
            return "\n".join(lines) + "\n"
        counts = dict(status.counts)
        lines += [
            "# HELP kazbill_events_total Events the shards reported since the service started, by name.",
            "# TYPE kazbill_events_total counter",
        ]
        lines += [
            f'kazbill_events_total{{node="{node}",event="{key.split(":", 1)[1]}"}} {value}'
            for key, value in sorted(counts.items())
            if key.startswith("event:")
        ]
        lines += [
            "# HELP kazbill_accounts_total Accounts the shards worked on, by outcome.",
            "# TYPE kazbill_accounts_total counter",
        ]
        lines += [
            f'kazbill_accounts_total{{node="{node}",outcome="{outcome}"}} {counts.get(f"accounts:{outcome}", 0)}'
            for outcome in ("done", "failed", "handed_back")
        ]
        lines += [
            "# HELP kazbill_restarts_total Children of the supervisor restarted.",
            "# TYPE kazbill_restarts_total counter",
            f'kazbill_restarts_total{{node="{node}"}} {status.restarts}',
            "# HELP kazbill_shards_killed_hung_total Shards killed for answering nothing within the work deadline.",
            "# TYPE kazbill_shards_killed_hung_total counter",
            f'kazbill_shards_killed_hung_total{{node="{node}"}} {counts.get("shards:hung", 0)}',
            "# HELP kazbill_batches_in_flight Batches the shards hold now.",
            "# TYPE kazbill_batches_in_flight gauge",
            f'kazbill_batches_in_flight{{node="{node}"}} {status.batches_in_flight}',
        ]
        return "\n".join(lines) + "\n"


def serve_metrics(metrics: ServiceMetrics, bind: str) -> ThreadingHTTPServer:
    """Serves the page on `bind` (host:port) from a daemon thread; the caller shuts it down."""
    host, _, port = bind.rpartition(":")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = metrics.text().encode() if self.path == "/metrics" else b"not found\n"
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # scrapes are not news
            pass

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Page)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
