"""serve's own /metrics: the supervisor's counts as Prometheus counters, served over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request

from actors.messages import ServiceStatus
from actors.metrics_exporter import ServiceMetrics, serve_metrics
from testkit.support.kazbill_service import free_port


def status(**counts: int) -> ServiceStatus:
    return ServiceStatus(
        (), (), None, None, None, restarts=1, batches_in_flight=2, giving_up=False, counts=tuple(sorted(counts.items()))
    )


def test_the_page_shows_events_accounts_restarts_hangs_and_nothing_before_the_first_answer():
    metrics = ServiceMetrics("kazbill@billing-1")
    assert 'kazbill_service_answered{node="kazbill@billing-1"} 0' in metrics.text()
    metrics.update(status(**{"event:charged": 7, "event:billing_failed": 1, "accounts:done": 9, "shards:hung": 2}))
    text = metrics.text()
    assert 'kazbill_events_total{node="kazbill@billing-1",event="charged"} 7' in text
    assert 'kazbill_events_total{node="kazbill@billing-1",event="billing_failed"} 1' in text
    assert 'kazbill_accounts_total{node="kazbill@billing-1",outcome="done"} 9' in text
    assert 'kazbill_accounts_total{node="kazbill@billing-1",outcome="handed_back"} 0' in text
    assert 'kazbill_restarts_total{node="kazbill@billing-1"} 1' in text
    assert 'kazbill_shards_killed_hung_total{node="kazbill@billing-1"} 2' in text


def test_it_is_served_over_http_at_metrics_only():
    metrics = ServiceMetrics("n")
    metrics.update(status(**{"event:charged": 2}))
    bind = f"127.0.0.1:{free_port()}"
    server = serve_metrics(metrics, bind)
    try:
        page = urllib.request.urlopen(f"http://{bind}/metrics", timeout=10)
        assert page.headers["Content-Type"].startswith("text/plain") and b'event="charged"} 2' in page.read()
        try:
            urllib.request.urlopen(f"http://{bind}/elsewhere", timeout=10)
            raise AssertionError("another path answered")
        except urllib.error.HTTPError as error:
            assert error.code == 404
    finally:
        server.shutdown()
