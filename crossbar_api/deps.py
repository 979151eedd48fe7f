"""What the API is built from; `create_app(deps)` takes it, tests hand it fakes or a temp store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.domain.usage_limits import UsageLimits
from bookkeeper.ports import CardGateway, Clock, DocumentStore, WebhookPoster
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.kazoo_tokens import KazooTokens
from crossbar_api.login_throttle import LoginPolicy
from crossbar_api.month_listing import AbsentMonths
from crossbar_api.month_tops import MonthTops
from crossbar_api.revocations import ReadEveryTime, Revocations
from crossbar_api.sessions import RecentDocuments


@dataclass
class ApiDeps:
    store: DocumentStore
    clock: Clock
    design_docs: Sequence[DesignDoc]
    tokens: TokenSigner
    attempts: AttemptLimiter = field(default_factory=AttemptLimiter)  # per client address, this worker
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)  # per account, shared through the store
    recent: RecentDocuments = field(default_factory=RecentDocuments)  # users and accounts tokens are checked against
    trusted_proxy_header: str | None = None  # where the client's address is, when a proxy of ours sets it
    metrics_token: str | None = None  # a bearer token that opens /metrics on any address
    metrics_port: int | None = None  # the listener on which /metrics answers without one
    node: str = "kazbill@localhost"
    cluster_node: str | None = None  # KAZBILL_NODE: whose change-feed checkpoints /metrics reports
    amqp_url: str | None = None  # the bus /health reports on; None: not configured
    public_url: str = "http://127.0.0.1:8000"  # where gateways reach the hooks
    card_gateways: Callable[[GatewaySettings], CardGateway] | None = None  # a reseller's Braintree
    usage_limits: UsageLimits = field(default_factory=UsageLimits)  # what one account may have issued on demand
    cors_origins: tuple[str, ...] = ()  # browser apps (Monster UI) allowed to call the API; "*": any
    kazoo_tokens: KazooTokens | None = None  # Kazoo's own tokens, checked as Kazoo does; made when left out
    webhook_poster: WebhookPoster | None = None  # the test button of a reseller's webhook; None: 503
    absent_months: AbsentMonths = field(default_factory=AbsentMonths)  # past months without a ledger database
    revocations: Revocations = field(default_factory=ReadEveryTime)  # tokens logged out (crossbar_api.revocations)
    month_tops: MonthTops | None = None  # months' newest transactions, kept while unchanged (CouchDB)

    def __post_init__(self) -> None:
        if self.kazoo_tokens is None:
            self.kazoo_tokens = KazooTokens(self.store, self.recent)
