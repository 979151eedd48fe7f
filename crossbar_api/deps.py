"""What the API is built from; `create_app(deps)` takes it, tests hand it fakes or a temp store."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from bookkeeper.design_docs import DesignDoc
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.ports import CardGateway, Clock, DocumentStore
from crossbar_api.auth import AttemptLimiter, TokenSigner


@dataclass
class ApiDeps:
    store: DocumentStore
    clock: Clock
    design_docs: Sequence[DesignDoc]
    tokens: TokenSigner
    attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
    node: str = "kazbill@localhost"
    cluster_node: str | None = None  # KAZBILL_NODE: whose change-feed checkpoints /metrics reports
    amqp_url: str | None = None  # the bus /health reports on; None: not configured
    public_url: str = "http://127.0.0.1:8000"  # where gateways reach the hooks
    card_gateways: Callable[[GatewaySettings], CardGateway] | None = None  # a reseller's Braintree
