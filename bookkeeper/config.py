"""Configuration, in one place.

Sources, strongest first: environment variables (`KAZBILL_*`), then a TOML file (path in
`KAZBILL_CONFIG` or given to the CLI with `--config`), then defaults. Every setting has one
environment name and one TOML path; `kazbill config show` prints them with secrets masked.
Loading reads the environment and the file only: no connection is ever opened here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bookkeeper.config_values import (
    _bridges,
    _count,
    _flag,
    _host_port,
    _log_format,
    _optional_text,
    _passes,
    _port,
    _positive_number,
    _seconds,
    _text,
    _timezone,
    _url,
    _work_deadline,
    _worker_class,
)


class ConfigError(ValueError):
    def __init__(self, setting: str, reason: str):
        super().__init__(f"configuration {setting}: {reason}")
        self.setting = setting
        self.reason = reason


@dataclass(frozen=True)
class Setting:
    attribute: str
    env: str
    toml: tuple[str, str]
    parse: Callable[[Any], Any]
    default: Any
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("store_url", "KAZBILL_STORE_URL", ("store", "url"), _url(("http", "https")), None),
    Setting("store_username", "KAZBILL_STORE_USERNAME", ("store", "username"), _optional_text, None),
    Setting("store_password", "KAZBILL_STORE_PASSWORD", ("store", "password"), _optional_text, None, True),
    Setting("store_path", "KAZBILL_STORE_PATH", ("store", "path"), _text, "var/kazbill.sqlite3"),
    Setting("store_timeout_s", "KAZBILL_STORE_TIMEOUT", ("store", "timeout_s"), _positive_number, 30.0),
    Setting(
        "amqp_url", "KAZBILL_AMQP_URL", ("amqp", "url"), _url(("amqp", "amqps")), "amqp://guest:guest@127.0.0.1:5672/"
    ),
    Setting("amqp_queue", "KAZBILL_AMQP_QUEUE", ("amqp", "queue"), _text, "kazbill.configuration"),
    Setting("smtp_host", "KAZBILL_SMTP_HOST", ("smtp", "host"), _text, "127.0.0.1"),
    Setting("smtp_port", "KAZBILL_SMTP_PORT", ("smtp", "port"), _port, 25),
    Setting("smtp_username", "KAZBILL_SMTP_USERNAME", ("smtp", "username"), _optional_text, None),
    Setting("smtp_password", "KAZBILL_SMTP_PASSWORD", ("smtp", "password"), _optional_text, None, True),
    Setting("smtp_starttls", "KAZBILL_SMTP_STARTTLS", ("smtp", "starttls"), _flag, False),
    Setting("smtp_sender", "KAZBILL_SMTP_SENDER", ("smtp", "sender"), _text, "billing@localhost"),
    Setting("default_timezone", "KAZBILL_TIMEZONE", ("billing", "timezone"), _timezone, "UTC"),
    Setting("api_bind", "KAZBILL_API_BIND", ("api", "bind"), _text, "127.0.0.1:8000"),
    Setting("api_workers", "KAZBILL_API_WORKERS", ("api", "workers"), _port, 2),
    Setting("api_token_secret", "KAZBILL_API_TOKEN_SECRET", ("api", "token_secret"), _optional_text, None, True),
    Setting("api_token_ttl_s", "KAZBILL_API_TOKEN_TTL", ("api", "token_ttl_s"), _positive_number, 3600.0),
    Setting("api_auth_cache_s", "KAZBILL_API_AUTH_CACHE", ("api", "auth_cache_s"), _seconds, 5.0),
    Setting("api_worker_class", "KAZBILL_API_WORKER_CLASS", ("api", "worker_class"), _worker_class, "gthread"),
    Setting("api_threads", "KAZBILL_API_THREADS", ("api", "threads"), _port, 32),
    Setting(
        "api_trusted_proxy_header",
        "KAZBILL_API_TRUSTED_PROXY_HEADER",
        ("api", "trusted_proxy_header"),
        _optional_text,
        None,
    ),
    Setting("api_metrics_bind", "KAZBILL_API_METRICS_BIND", ("api", "metrics_bind"), _host_port, None),
    Setting("api_metrics_token", "KAZBILL_API_METRICS_TOKEN", ("api", "metrics_token"), _optional_text, None, True),
    Setting("api_cors_origins", "KAZBILL_API_CORS_ORIGINS", ("api", "cors_origins"), _optional_text, None),
    Setting(
        "webhooks_allow_private",
        "KAZBILL_WEBHOOKS_ALLOW_PRIVATE",
        ("webhooks", "allow_private"),
        _flag,
        False,
    ),
    Setting("actor_admin_port", "KAZBILL_ACTOR_PORT", ("service", "actor_admin_port"), _port, 19000),
    Setting("shard_count", "KAZBILL_SHARDS", ("service", "shards"), _port, 2),
    Setting("shard_passes", "KAZBILL_SHARD_PASSES", ("service", "shard_passes"), _passes, 0),
    Setting("restart_intensity", "KAZBILL_RESTART_INTENSITY", ("service", "restart_intensity"), _port, 5),
    Setting("restart_period_s", "KAZBILL_RESTART_PERIOD", ("service", "restart_period_s"), _positive_number, 60.0),
    Setting(
        "shard_work_deadline_s",
        "KAZBILL_SHARD_WORK_DEADLINE",
        ("service", "shard_work_deadline_s"),
        _work_deadline,
        90.0,
    ),
    Setting("store_refused_for_s", "KAZBILL_STORE_REFUSED_FOR", ("service", "store_refused_for_s"), _seconds, 300.0),
    Setting(
        "scheduler_interval_s",
        "KAZBILL_SCHEDULER_INTERVAL",
        ("service", "scheduler_interval_s"),
        _positive_number,
        30.0,
    ),
    Setting("mailer_interval_s", "KAZBILL_MAILER_INTERVAL", ("service", "mailer_interval_s"), _positive_number, 30.0),
    Setting(
        "public_url", "KAZBILL_PUBLIC_URL", ("api", "public_url"), _url(("http", "https")), "http://127.0.0.1:8000"
    ),
    Setting(
        "paypal_verify_url",
        "KAZBILL_PAYPAL_VERIFY_URL",
        ("gateways", "paypal_verify_url"),
        _url(("http", "https")),
        "https://ipnpb.paypal.com/cgi-bin/webscr",
    ),
    Setting(
        "paypal_sandbox_verify_url",
        "KAZBILL_PAYPAL_SANDBOX_VERIFY_URL",
        ("gateways", "paypal_sandbox_verify_url"),
        _url(("http", "https")),
        "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr",
    ),
    Setting("braintree_url", "KAZBILL_BRAINTREE_URL", ("gateways", "braintree_url"), _url(("http", "https")), None),
    Setting("bridges", "KAZBILL_BRIDGES", ("service", "bridges"), _bridges, ("couchdb",)),
    Setting("node", "KAZBILL_NODE", ("cluster", "node"), _optional_text, None),
    Setting("log_format", "KAZBILL_LOG_FORMAT", ("service", "log_format"), _log_format, "text"),
    Setting("metrics_bind", "KAZBILL_METRICS_BIND", ("service", "metrics_bind"), _optional_text, None),
    Setting("lease_s", "KAZBILL_LEASE", ("cluster", "lease_s"), _positive_number, 15.0),
    Setting(
        "document_mails_per_minute",
        "KAZBILL_DOCUMENT_MAILS_PER_MINUTE",
        ("smtp", "document_mails_per_minute"),
        _count,
        120,
    ),
    Setting(
        "template_render_s",
        "KAZBILL_TEMPLATE_RENDER_SECONDS",
        ("documents", "template_render_s"),
        _positive_number,
        60.0,
    ),
    Setting(
        "template_render_memory_mib",
        "KAZBILL_TEMPLATE_RENDER_MEMORY_MIB",
        ("documents", "template_render_memory_mib"),
        _port,
        1024,
    ),
    Setting("proformas_per_hour", "KAZBILL_PROFORMAS_PER_HOUR", ("limits", "proformas_per_hour"), _count, 20),
    Setting("proformas_per_day", "KAZBILL_PROFORMAS_PER_DAY", ("limits", "proformas_per_day"), _count, 100),
    Setting("documents_per_hour", "KAZBILL_DOCUMENTS_PER_HOUR", ("limits", "documents_per_hour"), _count, 30),
    Setting("documents_per_day", "KAZBILL_DOCUMENTS_PER_DAY", ("limits", "documents_per_day"), _count, 200),
)


@dataclass(frozen=True)
class Settings:
    store_url: str | None = None
    store_username: str | None = None
    store_password: str | None = None
    store_path: str = "var/kazbill.sqlite3"
    store_timeout_s: float = 30.0
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    amqp_queue: str = "kazbill.configuration"  # shared by every Kazbill node of a cluster
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_sender: str = "billing@localhost"
    default_timezone: str = "UTC"
    api_bind: str = "127.0.0.1:8000"
    api_workers: int = 2
    api_token_secret: str | None = None  # None: one is made and kept in the store (kazbill_system)
    api_token_ttl_s: float = 3600.0
    api_auth_cache_s: float = 5.0  # how long a worker trusts a user's or account's state it read; 0: read each time
    api_worker_class: str = "gthread"
    api_threads: int = 32  # per gthread worker: how many requests (and slow senders) one worker holds at once
    api_trusted_proxy_header: str | None = None  # e.g. X-Forwarded-For from our own proxy; unset: the peer
    api_metrics_bind: str | None = None  # host:port of an extra listener where the API's /metrics answers
    api_metrics_token: str | None = None  # or a bearer token that opens /metrics on any listener
    # Browser apps allowed to call the API (CORS), comma-separated origins such as Monster UI's
    # https://portal.example.net, or "*"; unset: none (a same-origin page needs none).
    api_cors_origins: str | None = None
    # Outbound webhooks may call addresses on private networks and this machine (a receiver in the
    # same network; the tests' own). Off: a reseller's URL cannot reach the services beside Kazbill.
    webhooks_allow_private: bool = False
    actor_admin_port: int = 19000
    shard_count: int = 2
    # Accounts one shard bills at once (threads): a CouchDB answers many requests in parallel,
    # and a pass mostly waits for it. 0: by store, 8 on CouchDB, 1 on the embedded store.
    shard_passes: int = 0
    restart_intensity: int = 5
    restart_period_s: float = 60.0
    # A shard that answers nothing about its work for this long is taken for hung, killed and
    # restarted, and the work fails (actors/hang_watch.py). Far above what a batch takes (a crawl
    # chunk is sized to about a second; the largest merged rating, 24,000 calls, ~20 s on a
    # two-core CouchDB; a store that stops answering is given up on after KAZBILL_STORE_TIMEOUT,
    # 30 s), and below the bridges' 120 s wait for the answer (config_values._work_deadline).
    shard_work_deadline_s: float = 90.0
    # How long the store must refuse one account or call (and refuse it five times in a row)
    # while answering the rest, before it is a stored failure (services/billing/store_refusals.py).
    store_refused_for_s: float = 300.0
    scheduler_interval_s: float = 30.0
    mailer_interval_s: float = 30.0  # how often the mailer looks for notices due (it is also poked)
    public_url: str = "http://127.0.0.1:8000"  # where gateways reach /hooks/ (notify URLs in payment forms)
    # Where IPNs are posted back for verification; operator settings, never a reseller's (a
    # reseller-chosen URL could "verify" anything).
    paypal_verify_url: str = "https://ipnpb.paypal.com/cgi-bin/webscr"
    paypal_sandbox_verify_url: str = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
    braintree_url: str | None = None  # unset: each reseller's own Braintree environment (sandbox/production)
    bridges: tuple[str, ...] = ("couchdb",)  # the feeds `kazbill serve` follows: amqp and/or couchdb
    # Set on every node of a cluster (unique, stable across restarts): accounts are then shared
    # out among the nodes whose lease (renewed every lease_s / 3) is live. Unset: one node.
    node: str | None = None
    lease_s: float = 15.0
    log_format: str = "text"  # "json": one JSON object per line, with request and batch ids
    metrics_bind: str | None = None  # host:port of serve's own /metrics (counters of this node); unset: none
    document_mails_per_minute: int = 120  # across every document worker of the cluster; 0: no limit
    # A reseller's own template, per document in the workers: past these it fails that document.
    template_render_s: float = 60.0
    template_render_memory_mib: int = 1024
    # What one account may have issued on demand (each numbered, rendered and emailed at the
    # reseller's cost), in any hour and any 24 hours; 0: no limit.
    proformas_per_hour: int = 20
    proformas_per_day: int = 100
    documents_per_hour: int = 30  # invoices for a payment, a period's documents issued again
    documents_per_day: int = 200

    @property
    def uses_embedded_store(self) -> bool:
        return self.store_url is None

    def describe(self) -> dict[str, Any]:
        """Every setting with its value, secrets and URL passwords masked."""
        shown: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.attribute)
            if setting.secret and value:
                value = "****"
            elif isinstance(value, str) and "://" in value:
                value = mask_url_password(value)
            shown[setting.env] = value
        return shown


def mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:****@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _read_toml(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("KAZBILL_CONFIG", f"file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("KAZBILL_CONFIG", f"file {str(path)!r} is not valid TOML: {error}") from None


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: str | os.PathLike[str] | None = None
) -> Settings:
    environ = os.environ if environ is None else environ
    path = config_file or environ.get("KAZBILL_CONFIG")
    document = _read_toml(Path(path)) if path else {}
    known_tables = {setting.toml[0] for setting in SETTINGS}
    for table, body in document.items():
        if table not in known_tables or not isinstance(body, dict):
            raise ConfigError(f"[{table}]", f"unknown section; expected one of {sorted(known_tables)}")
        known_keys = {s.toml[1] for s in SETTINGS if s.toml[0] == table}
        for key in body:
            if key not in known_keys:
                raise ConfigError(f"{table}.{key}", f"unknown key; expected one of {sorted(known_keys)}")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        table, key = setting.toml
        if setting.env in environ:
            raw, source = environ[setting.env], setting.env
        elif key in document.get(table, {}):
            raw, source = document[table][key], f"{table}.{key}"
        else:
            values[setting.attribute] = setting.default
            continue
        try:
            values[setting.attribute] = setting.parse(raw)
        except ValueError as error:
            raise ConfigError(source, str(error)) from None
    return Settings(**values)


assert {f.name for f in fields(Settings)} == {s.attribute for s in SETTINGS}
