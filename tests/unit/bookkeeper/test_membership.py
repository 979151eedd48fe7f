"""Leases of the nodes of a cluster, on the embedded store with a clock the test moves; and the
crawl's fall-back when the cluster changes."""

from __future__ import annotations

from datetime import date

import pytest

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import SYSTEM_DB
from bookkeeper.domain.ownership import owner_of
from bookkeeper.services.billing import crawl_plan
from bookkeeper.services.cluster.membership import Membership, NotLive, Ownership


class Wall:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    opened = EmbeddedStore(tmp_path / "nodes.sqlite3")
    yield opened
    opened.close()


def test_a_lease_lives_its_length_is_renewed_and_given_up(store):
    wall = Wall()
    a, b = (Membership(store, name, lease_s=15, wall=wall) for name in ("kazbill@a", "kazbill@b"))
    assert a.live() == ()
    a.renew()
    b.renew()
    assert a.live() == ("kazbill@a", "kazbill@b")
    wall.now += 10
    a.renew()
    wall.now += 6  # b's lease is 16 s old, a's 6 s
    assert b.live() == ("kazbill@a",)
    b.renew()  # b comes back (the store was slow): it takes its own lease up again
    assert a.live() == ("kazbill@a", "kazbill@b")
    b.leave()
    assert a.live() == ("kazbill@a",)


def test_a_restarted_node_takes_over_the_lease_it_left_behind(store):
    wall = Wall()
    Membership(store, "kazbill@a", wall=wall).renew()
    again = Membership(store, "kazbill@a", wall=wall)  # a new process: it does not know the revision
    wall.now += 5
    again.renew()
    assert again.live() == ("kazbill@a",)


def test_a_node_owns_its_share_and_nothing_once_its_lease_ran_out(store):
    wall, ticks = Wall(), iter(range(0, 1000, 2))
    nodes = [Membership(store, name, lease_s=15, wall=wall) for name in ("kazbill@a", "kazbill@b", "kazbill@c")]
    for node in nodes:
        node.renew()
    view = Ownership(nodes[0], refresh_s=1.0, monotonic=lambda: float(next(ticks)))
    accounts = [f"{n:032x}" for n in range(60)]
    live = ("kazbill@a", "kazbill@b", "kazbill@c")
    assert view.mine(accounts) == [account for account in accounts if owner_of(account, live) == "kazbill@a"]
    wall.now += 20
    nodes[1].renew()
    nodes[2].renew()
    with pytest.raises(NotLive):
        view.mine(accounts)


def test_when_the_cluster_changes_a_nodes_crawl_falls_back_to_the_earliest_day(store, monkeypatch):
    monkeypatch.setattr(crawl_plan, "resellers", lambda _store: ["r" * 32])
    reseller = "r" * 32
    crawl_plan.mark_crawled(store, reseller, date(2026, 3, 4), "kazbill@a")
    crawl_plan.mark_crawled(store, reseller, date(2026, 3, 2), "kazbill@b")  # b died behind
    crawl_plan.fall_back(store, "kazbill@a", ["kazbill@a", "kazbill@b"])
    assert store.get(SYSTEM_DB, f"kazbill_crawl-{reseller}@kazbill@a")["last_day"] == "2026-03-02"
    # A node joining starts where the cluster stands, not from nothing.
    crawl_plan.fall_back(store, "kazbill@d", ["kazbill@a"])
    assert store.get(SYSTEM_DB, f"kazbill_crawl-{reseller}@kazbill@d")["last_day"] == "2026-03-02"
