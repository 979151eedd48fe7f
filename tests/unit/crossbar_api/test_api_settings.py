"""The API's serving and security settings: how they are read, refused, masked and handed to
gunicorn and to the app."""

from __future__ import annotations

import pytest

from bookkeeper.config import ConfigError, load_settings
from crossbar_api.wsgi import metrics_port
from entrypoints.cli.api import worker_options


def test_by_default_the_api_runs_threaded_trusts_no_header_and_serves_no_metrics():
    settings = load_settings(environ={})
    assert (settings.api_worker_class, settings.api_threads, settings.api_auth_cache_s) == ("gthread", 32, 5.0)
    assert (settings.api_trusted_proxy_header, settings.api_metrics_bind, settings.api_metrics_token) == (None,) * 3
    assert worker_options(settings)[:4] == ["--worker-class", "gthread", "--threads", "32"]
    assert metrics_port(settings) is None


def test_the_settings_come_from_the_environment_or_the_file(tmp_path):
    config = tmp_path / "k.toml"
    config.write_text(
        '[api]\nworker_class = "sync"\ntrusted_proxy_header = "X-Real-IP"\n'
        'metrics_bind = "10.0.0.5:9465"\nauth_cache_s = 0\n'
    )
    settings = load_settings(environ={"KAZBILL_API_METRICS_TOKEN": "scrape-me-0123456789"}, config_file=config)
    assert (settings.api_worker_class, settings.api_trusted_proxy_header) == ("sync", "X-Real-IP")
    assert (settings.api_auth_cache_s, metrics_port(settings)) == (0.0, 9465)
    assert worker_options(settings) == ["--worker-class", "sync"]
    assert settings.describe()["KAZBILL_API_METRICS_TOKEN"] == "****"


@pytest.mark.parametrize(
    "environ, setting",
    [
        ({"KAZBILL_API_WORKER_CLASS": "gevent"}, "KAZBILL_API_WORKER_CLASS"),  # not in the pinned constraints
        ({"KAZBILL_API_THREADS": "0"}, "KAZBILL_API_THREADS"),
        ({"KAZBILL_API_METRICS_BIND": "9465"}, "KAZBILL_API_METRICS_BIND"),
        ({"KAZBILL_API_METRICS_BIND": "0.0.0.0:99999"}, "KAZBILL_API_METRICS_BIND"),
        ({"KAZBILL_API_AUTH_CACHE": "-1"}, "KAZBILL_API_AUTH_CACHE"),
    ],
)
def test_a_bad_api_setting_is_refused_naming_it(environ, setting):
    with pytest.raises(ConfigError) as refused:
        load_settings(environ=environ)
    assert refused.value.setting == setting
