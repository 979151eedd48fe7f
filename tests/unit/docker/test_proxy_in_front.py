"""The API in compose is reached only through the buffering proxy, and the two agree: the header
the API trusts is the one nginx replaces with the peer's address, slow senders are cut off by
nginx's timeouts before gunicorn sees them, and /metrics is neither published nor forwarded."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
SERVICES = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]
NGINX = (ROOT / "docker" / "nginx.conf").read_text()


def test_only_the_proxy_is_published_and_it_forwards_to_the_api():
    assert "ports" not in SERVICES["api"]
    assert SERVICES["proxy"]["ports"] == ["127.0.0.1:8000:8080"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in SERVICES["proxy"]["volumes"]
    api_port = SERVICES["api"]["environment"]["KAZBILL_API_BIND"].rsplit(":", 1)[1]
    assert re.search(rf"server api:{api_port};", NGINX) and re.search(r"listen 8080;", NGINX)


def test_the_api_trusts_exactly_the_header_the_proxy_overwrites():
    header = SERVICES["api"]["environment"]["KAZBILL_API_TRUSTED_PROXY_HEADER"]
    assert re.search(rf"proxy_set_header {re.escape(header)} \$remote_addr;", NGINX)


def test_the_proxy_reads_whole_requests_within_a_deadline():
    for directive in ("client_header_timeout", "client_body_timeout"):
        assert re.search(rf"{directive} \d+s;", NGINX), directive
    assert "proxy_request_buffering on;" in NGINX


def test_the_apis_metrics_stay_inside_the_compose_network():
    assert re.search(r"location = /metrics \{\s*return 404;", NGINX)
    metrics_port = SERVICES["api"]["environment"]["KAZBILL_API_METRICS_BIND"].rsplit(":", 1)[1]
    published = [port for spec in SERVICES.values() for port in spec.get("ports", [])]
    assert not any(port.rsplit(":", 1)[-1] == metrics_port for port in published)
