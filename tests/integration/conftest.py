"""Both store adapters behind one fixture, so each contract test runs against each; and a
reseller taking cards through a local Braintree gateway, for the card and auto top-up tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from falcon import testing

from bookkeeper.adapters.braintree_gateway import braintree_factory
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.paypal_ipn import HttpIpnVerifier
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import DatabaseNotFound, DocumentStore
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.payments.gateway_payments import HookPorts
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from crossbar_api.app import create_app as create_api
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from testkit.fixtures.api_world import MSK, ApiWorld
from testkit.support.braintree_fake import BraintreeFake
from testkit.support.couchdb_cluster import VARIANT as CLUSTER
from testkit.support.stores import open_store  # noqa: F401 (tests import it from here)
from webhooks.app import create_app as create_hooks

ADAPTERS = ("embedded", "couchdb")


class CleaningStore:
    """Wraps a store and deletes, at the end of the test, every database the test created, so
    the shared test server stays small and tests never see each other's data."""

    def __init__(self, store: DocumentStore):
        self._store = store
        self._created: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def create_database(self, db: str) -> None:
        self._store.create_database(db)
        self._created.append(db)

    def ensure_database(self, db: str) -> bool:
        created = self._store.ensure_database(db)
        if created:
            self._created.append(db)
        return created

    def cleanup(self) -> None:
        for db in self._created:
            with contextlib.suppress(DatabaseNotFound):
                self._store.delete_database(db)
        self._store.close()


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    """Each adapter; in a module marked `couchdb_cluster`, the cluster too, and in the store
    contract (marked `store_contract`) the in-memory store too (tests/conftest.py)."""
    adapter, couch_url = request.param, ""
    if adapter == "couchdb":
        couch_url = request.getfixturevalue("couch_url")
    elif adapter == CLUSTER:
        adapter, couch_url = "couchdb", request.getfixturevalue("couch_cluster_url").url
    wrapped = CleaningStore(open_store(adapter, couch_url, tmp_path))
    try:
        yield wrapped  # type: ignore[misc]
    finally:
        wrapped.cleanup()


@pytest.fixture
def both_stores(couch_url: str, tmp_path: Path) -> Iterator[dict[str, DocumentStore]]:
    stores = {name: CleaningStore(open_store(name, couch_url, tmp_path)) for name in ADAPTERS}
    try:
        yield stores  # type: ignore[misc]
    finally:
        for wrapped in stores.values():
            wrapped.cleanup()


# ---------------------------------------------------------------- a reseller taking cards (Braintree)

BRAINTREE_KEYS = {"merchant_id": "volna_merchant", "public_key": "volna_public", "private_key": "volna_private_key"}


@pytest.fixture
def braintree(store):
    world = ApiWorld(store).build()
    reseller = world.ids["other_reseller"]  # bills in dollars, like Braintree's sample notifications
    onbill = store.get(account_db(reseller), "onbill")
    store.put(account_db(reseller), {**onbill, "currency": "USD", "timezone": "America/New_York"})
    save_gateway_settings(
        store,
        reseller,
        "braintree_config",
        {"enabled": True, "environment": "sandbox", **BRAINTREE_KEYS, "min_amount": "5.00", "max_amount": "500.00"},
        0,
    )
    with BraintreeFake(**BRAINTREE_KEYS) as fake:
        clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
        cards = braintree_factory(fake.url)
        api = testing.TestClient(
            create_api(
                ApiDeps(
                    store=store,
                    clock=clock,
                    design_docs=world.world.design_docs,
                    tokens=TokenSigner(b"test-secret-0123456789", 3600),
                    attempts=AttemptLimiter(50, 300),
                    card_gateways=cards,
                )
            )
        )
        world.clock, world.cards = clock, cards  # for the auto top-up tests' charging step
        hooks = testing.TestClient(
            create_hooks(
                HookPorts(BillingPorts(store, clock, world.world.design_docs), HttpIpnVerifier(), card_gateways=cards)
            )
        )
        yield api, hooks, world, fake
