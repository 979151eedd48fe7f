"""The one composition root: settings in, wired ports out. Nothing here runs at import time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bookkeeper.config import Settings
from bookkeeper.ports import Clock, DocumentRenderer, DocumentStore, Mailer, WebhookPoster
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.store_refusals import StoreRefusals

if TYPE_CHECKING:
    from bookkeeper.domain.usage_limits import UsageLimits
    from bookkeeper.services.payments.card_payments import CardGateways
    from bookkeeper.services.payments.gateway_payments import HookPorts


def build_store(settings: Settings) -> DocumentStore:
    """CouchDB when a URL is configured, else the embedded SQLite store (the default)."""
    if settings.store_url:
        from bookkeeper.adapters.couchdb_store import CouchDbStore

        return CouchDbStore(
            settings.store_url,
            username=settings.store_username,
            password=settings.store_password,
            timeout_s=settings.store_timeout_s,
        )
    from bookkeeper.adapters.embedded import EmbeddedStore

    return EmbeddedStore(settings.store_path, busy_timeout_s=settings.store_timeout_s)


def build_clock(clock_file: str | None) -> Clock:
    from bookkeeper.adapters.clock import FileClock, SystemClock

    return FileClock(clock_file) if clock_file else SystemClock()


# A pass on CouchDB spends most of its time waiting for answers; past about 8 at once the server
# (two cores here) is the limit: 4.6 → 9.2 openings/s from 1 to 8, 9.5 at 16 (bench notes).
PASSES_ON_COUCHDB = 8


def build_billing_ports(settings: Settings, clock_file: str | None = None) -> BillingPorts:
    """What a shard, the scheduler or a CLI command bills with."""
    from bookkeeper.design_docs import load_design_docs

    passes = settings.shard_passes or (1 if settings.uses_embedded_store else PASSES_ON_COUCHDB)
    return BillingPorts(
        build_store(settings),
        build_clock(clock_file),
        load_design_docs(),
        passes_at_once=passes,
        refusals=StoreRefusals(after_s=settings.store_refused_for_s),
    )


def build_webhook_poster(settings: Settings) -> WebhookPoster:
    from bookkeeper.adapters.webhook_poster import HttpWebhookPoster

    return HttpWebhookPoster(allow_private=settings.webhooks_allow_private)


def build_mailer(settings: Settings) -> Mailer:
    from bookkeeper.adapters.smtp_mailer import SmtpMailer

    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def build_document_renderer(settings: Settings | None = None) -> DocumentRenderer:
    """WeasyPrint with the default templates; one per process (it keeps the parsed stylesheet).
    A reseller's own templates are rendered within the settings' time and memory bounds."""
    from documents.bounded import RenderBounds
    from documents.render import WeasyRenderer

    if settings is None:
        return WeasyRenderer()
    return WeasyRenderer(bounds=RenderBounds(settings.template_render_s, settings.template_render_memory_mib))


def build_usage_limits(settings: Settings) -> UsageLimits:
    """What one account may have issued on demand, in any hour and any 24 hours."""
    from bookkeeper.domain.usage_limits import UsageLimit, UsageLimits

    return UsageLimits(
        UsageLimit("proformas", settings.proformas_per_hour, settings.proformas_per_day),
        UsageLimit("documents", settings.documents_per_hour, settings.documents_per_day),
    )


def build_hook_ports(settings: Settings, store: DocumentStore | None = None, clock: Clock | None = None) -> HookPorts:
    """What the payment hooks judge and post with."""
    from bookkeeper.adapters.clock import SystemClock
    from bookkeeper.adapters.paypal_ipn import HttpIpnVerifier
    from bookkeeper.design_docs import load_design_docs
    from bookkeeper.services.payments.gateway_payments import HookPorts

    billing = BillingPorts(store or build_store(settings), clock or SystemClock(), load_design_docs())
    return HookPorts(
        billing,
        HttpIpnVerifier(),
        (settings.paypal_verify_url, settings.paypal_sandbox_verify_url),
        build_card_gateways(settings),
    )


def build_card_gateways(settings: Settings) -> CardGateways:
    """Each reseller's Braintree, made from its settings when needed."""
    from bookkeeper.adapters.braintree_gateway import braintree_factory

    return braintree_factory(settings.braintree_url)
