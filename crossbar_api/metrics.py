"""GET /metrics: Prometheus text of this worker's requests by method, route and status. Each
gunicorn worker counts its own; Prometheus sums the workers it scrapes."""
from __future__ import annotations

import threading
from collections import Counter

import falcon


class RequestMetrics:
    """Middleware and resource at once: it counts every response and serves the counts."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded: bool) -> None:
        route = req.uri_template or "unmatched"
        with self._lock:
            self._counts[(req.method, route, str(resp.status).split()[0])] += 1

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        lines = ["# HELP kazbill_api_requests_total Requests answered by this API worker.",
                 "# TYPE kazbill_api_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self._counts.items()):
                lines.append(f'kazbill_api_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}')
        resp.content_type = "text/plain; version=0.0.4"
        resp.text = "\n".join(lines) + "\n"
