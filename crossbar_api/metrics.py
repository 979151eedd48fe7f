"""GET /metrics: Prometheus text of this worker's requests by method, route and status (each
gunicorn worker counts its own; Prometheus sums the workers it scrapes), and the state of the
service as the store holds it, read at each scrape (the same reading as `kazbill status`):
failures awaiting a person, notices and documents by state, announcements not yet out, payment
notifications by outcome, how far the changes follower is behind, the cluster's live nodes and
how many days each reseller's crawl is behind its clock."""

from __future__ import annotations

import hmac
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date

import falcon

from bookkeeper.ports import DocumentStore, StoreError
from bookkeeper.services.operations.status import checkpoint_of, followed, store_status


class MetricsAccess:
    """/metrics tells an outsider which accounts fail, how far billing is behind, and how busy the
    API is: it answers only on the listener an operator set aside for it (`metrics_port`, which
    gunicorn reports as the request's SERVER_PORT), or to a bearer of the metrics token. With
    neither configured it answers nowhere: 404, as for a path that does not exist."""

    def __init__(self, token: str | None = None, port: int | None = None):
        self.token, self.port = token, port

    def check(self, req: falcon.Request) -> None:
        if self.port is not None and req.env.get("SERVER_PORT") == str(self.port):
            return
        if self.token is None:
            raise falcon.HTTPNotFound()
        given = req.get_header("Authorization") or ""
        scheme, _, presented = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), self.token.encode()):
            raise falcon.HTTPUnauthorized(
                title="a bearer token for /metrics is needed", headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
            )


class RequestMetrics:
    """Middleware and resource at once: it counts every response and serves the counts."""

    def __init__(
        self, service_state: Callable[[], list[str]] | None = None, access: MetricsAccess | None = None
    ) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._service_state = service_state
        self._access = access or MetricsAccess()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded: bool) -> None:
        route = req.uri_template or "unmatched"
        with self._lock:
            self._counts[(req.method, route, str(resp.status).split()[0])] += 1

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._access.check(req)
        lines = [
            "# HELP kazbill_api_requests_total Requests answered by this API worker.",
            "# TYPE kazbill_api_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self._counts.items()):
                lines.append(
                    f'kazbill_api_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}'
                )
        if self._service_state is not None:
            lines += self._service_state()
        resp.content_type = "text/plain; version=0.0.4"
        resp.text = "\n".join(lines) + "\n"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def store_gauges(store: DocumentStore, node: str | None, today: Callable[[str], date]) -> list[str]:
    """The service's state as Prometheus gauges; `today(reseller_id)` is the reseller's local day."""
    try:
        status = store_status(store, checkpoint_id=checkpoint_of(node), followed=followed)
    except StoreError as error:
        return [
            "# HELP kazbill_store_up Whether the store answered this scrape.",
            "# TYPE kazbill_store_up gauge",
            f'kazbill_store_up{{reason="{_label(error)}"}} 0',
        ]
    out = [
        "# HELP kazbill_store_up Whether the store answered this scrape.",
        "# TYPE kazbill_store_up gauge",
        "kazbill_store_up 1",
    ]

    def gauge(name: str, help_: str, samples: list[tuple[dict[str, object], float]]) -> None:
        out.extend([f"# HELP {name} {help_}", f"# TYPE {name} gauge"])
        for labels, value in samples:
            text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            out.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    gauge(
        "kazbill_failures",
        "Failures awaiting a person, by source and reason.",
        [
            (dict(zip(("source", "reason"), key.split("/", 1), strict=False)), n)
            for key, n in sorted(status.failures.items())
        ],
    )
    gauge(
        "kazbill_notices",
        "Notices by state (queued, sent, ...).",
        [({"state": key}, n) for key, n in sorted(status.notices.items())],
    )
    gauge(
        "kazbill_documents",
        "Document jobs by state (a failed one awaits a person).",
        [({"state": key}, n) for key, n in sorted(status.documents.items())],
    )
    gauge(
        "kazbill_payment_notifications",
        "Distinct payment notifications by gateway and outcome.",
        [
            (dict(zip(("gateway", "outcome"), key.split("/", 1), strict=False)), n)
            for key, n in sorted(status.payment_hooks.items())
        ],
    )
    gauge(
        "kazbill_announcements_pending",
        "Announcements to Kazoo not yet published.",
        [({}, status.announcements_pending)],
    )
    gauge(
        "kazbill_changes_behind",
        "Changes the follower has yet to follow (each database capped at 1000).",
        [({}, sum(status.databases_behind.values()))],
    )
    gauge(
        "kazbill_databases_never_followed",
        "Databases the follower has not yet read.",
        [({}, status.databases_never_followed)],
    )
    gauge("kazbill_nodes_live", "Nodes of the cluster with a live lease.", [({}, len(status.nodes))])
    gauge(
        "kazbill_crawl_days_behind",
        "Days between a reseller's local today and its last crawled day.",
        [
            ({"reseller": reseller}, (today(reseller) - date.fromisoformat(crawl["day"])).days)
            for reseller, crawl in sorted(status.last_crawl.items())
        ],
    )
    return out
