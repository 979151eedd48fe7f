"""Every view in couch_views/, installed by `store init` and queried on both stores: worked
examples of what each view answers, and a parity run of many query shapes on the same
documents that requires the two stores to give identical results."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db, account_modb
from bookkeeper.ports import InvalidQuery, NotFound, ViewQuery, ViewResult
from bookkeeper.services.billing.context import current_quantities
from bookkeeper.services.setup import store_setup
from testkit.fixtures.kazoo_docs import (
    GREGORIAN_2026_11_01,
    account_contents,
    account_tree,
    failure_doc,
    month_of_ledgers,
    new_account_id,
)

pytestmark = pytest.mark.integration
DAY = 86_400


def seed(store, customer_id: str, tree: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The same fixture documents in any store; returns the database names used."""
    dbs = {
        "accounts": "accounts",
        "account": account_db(customer_id),
        "modb": account_modb(customer_id, 2026, 11),
        "failures": "kazbill_failures",
    }
    # The shared test server keeps the fixed-name databases between tests: start them afresh,
    # so revisions and rows are this test's only.
    for name in ("accounts", "kazbill_failures", "kazbill_notices", "kazbill_outbox", "kazbill_hooks", "services"):
        if store.database_exists(name):
            store.delete_database(name)
    for name in dbs.values():
        store.ensure_database(name)
    store.bulk_put("accounts", list(tree.values()))
    store.ensure_database("services")
    store.bulk_put(
        "services",
        [
            {
                "_id": customer_id,
                "pvt_type": "service",
                "plans": {"plan_office": {"account_id": tree["reseller"]["_id"]}, "plan_promo": {}},
            },
            {
                "_id": tree["customer_b"]["_id"],
                "pvt_type": "service",
                "plans": {"plan_office": {"account_id": tree["reseller"]["_id"]}},
            },
            {"_id": tree["customer_c"]["_id"], "pvt_type": "service", "plans": {}, "pvt_deleted": True},
        ],
    )
    store.bulk_put(
        dbs["account"],
        [
            {"_id": "plan_office", "pvt_type": "service_plan", "name": "Office", "plan": {}},
            {"_id": "plan_old", "pvt_type": "service_plan", "name": "Old", "plan": {}, "pvt_deleted": True},
        ],
    )
    store.bulk_put(dbs["account"], account_contents(customer_id))
    store.bulk_put(dbs["modb"], month_of_ledgers(customer_id))
    store.bulk_put(
        "kazbill_failures",
        [
            failure_doc(1, "amqp", "malformed_json", None, GREGORIAN_2026_11_01 + 10),
            failure_doc(2, "amqp", "unknown_account", customer_id, GREGORIAN_2026_11_01 + 20),
            failure_doc(3, "paypal", "forged_signature", customer_id, GREGORIAN_2026_11_01 + 30),
            failure_doc(4, "amqp", "malformed_json", None, GREGORIAN_2026_11_01 + 40),
        ],
    )
    store.ensure_database("kazbill_notices")
    store.bulk_put(
        "kazbill_notices",
        [
            notice_doc(customer_id, "2026-11-01", "period_charged", "emailed", GREGORIAN_2026_11_01),
            notice_doc(customer_id, "2026-11-02", "low_balance", "queued", GREGORIAN_2026_11_01 + 86_400),
            notice_doc(customer_id, "2026-11-03", "low_balance", "sending", GREGORIAN_2026_11_01 + 2 * 86_400),
            notice_doc(tree["customer_b"]["_id"], "2026-11-03", "low_balance", "queued", GREGORIAN_2026_11_01 + 100),
        ],
    )
    store.ensure_database("kazbill_outbox")
    store.bulk_put(
        "kazbill_outbox",
        [
            {
                "_id": f"announce-{n}",
                "pvt_type": "announcement",
                "database": "accounts",
                "doc_id": customer_id,
                "doc_type": "account",
                "rev": f"{n}-abc",
                "pvt_created": GREGORIAN_2026_11_01 + n,
                **({"published_at": GREGORIAN_2026_11_01 + 100} if n % 2 else {}),
            }
            for n in range(1, 6)
        ],
    )
    store.ensure_database("kazbill_hooks")
    store.bulk_put(
        "kazbill_hooks",
        [
            {
                "_id": f"hook-{gateway}-{n}",
                "pvt_type": "hook_attempt",
                "gateway": gateway,
                "outcome": outcome,
                "account_id": account,
                "external_id": f"T{n}",
                "count": n,
                "first_seen": GREGORIAN_2026_11_01 + n,
                "last_seen": GREGORIAN_2026_11_01 + 10 * n,
            }
            for n, (gateway, outcome, account) in enumerate(
                [
                    ("paypal", "credited", customer_id),
                    ("paypal", "forged", None),
                    ("paypal", "credited", customer_id),
                    ("yandex_money", "refused", tree["customer_b"]["_id"]),
                ],
                start=1,
            )
        ],
    )
    store_setup.initialise(store, load_design_docs())
    return dbs


def notice_doc(account_id: str, day: str, kind: str, state: str, at: int) -> dict[str, Any]:
    return {
        "_id": f"notice-{account_id}-{day}-{kind}",
        "pvt_type": "notice",
        "account_id": account_id,
        "kind": kind,
        "day": day,
        "state": state,
        "attempts": 0,
        "next_attempt_at": at,
        "claimed_at": at,
        "pvt_created": at,
    }


@pytest.fixture
def seeded(store):
    tree = account_tree()
    customer_id = tree["customer_a"]["_id"]
    return store, seed(store, customer_id, tree), tree


def grouped(result: ViewResult) -> dict[Any, Any]:
    return {tuple(row.key) if isinstance(row.key, list) else row.key: row.value for row in result.rows}


# ------------------------------------------------------------------------------- worked examples


def test_quantities_count_what_kazoo_bills_and_skip_deleted_and_disabled_documents(seeded):
    store, dbs, tree = seeded
    assert current_quantities(store, tree["customer_a"]["_id"]) == {
        "devices": {"sip_device": 2, "softphone": 1},  # the disabled and the deleted device do not count
        "limits": {"inbound_trunks": 3, "twoway_trunks": 2},  # pvt_ beats the public 5; outbound 0 is no quantity
        "periodic_fees": {"static_ip": 2},  # a reseller's extra monthly service, by quantity
        "users": {"admin": 1, "user": 2},  # the soft-deleted user does not count
        "phone_numbers": {"did": 2, "tollfree": 1},  # in service only: the reserved ones are not billed
        "number_services": {"cnam": 2, "local": 2, "toll_free": 1},
    }


def test_holdings_keep_deleted_lifetimes_for_history_but_not_disabled_ones(seeded):
    """One view answers both the count and its dates: users, devices and fees with [created,
    deleted, modified, count] (a soft-deleted one too: it was held until its deletion), trunks
    by name, numbers by number."""
    store, dbs, _ = seeded
    rows = store.query_view(dbs["account"], "kazbill_quantities", "holdings").rows
    lives = [(row.key, row.value[1], row.value[3]) for row in rows if row.key[0] not in ("limits", "numbers")]
    at = GREGORIAN_2026_11_01
    assert sorted(lives) == [
        (["devices", "cellphone"], True, 1),  # the deleted device, dated; the disabled one is absent
        (["devices", "sip_device"], False, 1),
        (["devices", "sip_device"], False, 1),
        (["devices", "softphone"], False, 1),
        (["periodic_fees", "static_ip"], False, 2),
        (["users", "admin"], False, 1),
        (["users", "user"], False, 1),
        (["users", "user"], False, 1),
        (["users", "user"], True, 1),
    ]
    assert all(row.value[0] == at and row.value[2] == at for row in rows if row.key[0] in ("users", "devices"))
    assert [(row.key, row.value) for row in rows if row.key[0] == "limits"] == [
        (["limits", "inbound_trunks"], 3),
        (["limits", "twoway_trunks"], 2),
    ]


def test_phone_numbers_are_listed_with_their_state_and_features(seeded):
    store, dbs, _ = seeded
    rows = store.query_view(dbs["account"], "kazbill_quantities", "holdings").rows
    at = GREGORIAN_2026_11_01  # each row carries when its document last changed: billing dates a change by it
    assert [(row.key, row.value) for row in rows if row.key[0] == "numbers"] == [
        (["numbers", "+15551230000"], {"state": "reserved", "features": [], "modified": at}),
        (["numbers", "+74951234567"], {"state": "in_service", "features": ["cnam", "local"], "modified": at}),
        (["numbers", "+74951238888"], {"state": "reserved", "features": [], "modified": at}),  # Kazoo 4's documents
        (["numbers", "+74951239999"], {"state": "in_service", "features": ["cnam", "local"], "modified": at}),
        (["numbers", "+78001234567"], {"state": "in_service", "features": ["toll_free"], "modified": at}),
    ]


def test_the_month_balance_is_the_exact_signed_sum_of_live_ledgers(seeded):
    store, dbs, _ = seeded
    expected = 1_250_000 + 10_000_000 - 15_000_000 - 4_838_710 - 96_774 - 96_774 + 123_456_789_012_345
    total = store.query_view(dbs["modb"], "kazbill_ledgers", "balance_by_service")
    assert total.values() == [expected]  # the deleted wire transfer is out; no float rounding
    by_service = grouped(store.query_view(dbs["modb"], "kazbill_ledgers", "balance_by_service", ViewQuery(group=True)))
    assert by_service == {
        ("daily_fee",): -193_548,
        ("monthly_recurring",): -15_000_000,
        ("paypal",): 10_000_000,
        ("recurring_prorate",): -4_838_710,
        ("rollovers",): 1_250_000,
        ("wire_transfer",): 123_456_789_012_345,
    }


def test_the_month_is_also_summed_per_service_and_category_charged(seeded):
    store, dbs, _ = seeded
    by_category = grouped(
        store.query_view(dbs["modb"], "kazbill_ledgers", "balance_by_category", ViewQuery(group_level=2))
    )
    assert by_category == {
        ("daily_fee", "limits"): -193_548,
        ("monthly_recurring", "devices"): -15_000_000,
        ("paypal", "paypal"): 10_000_000,  # no category of Kazbill's: the service names it
        ("recurring_prorate", "devices"): -4_838_710,
        ("rollovers", "rollovers"): 1_250_000,
        ("wire_transfer", "wire_transfer"): 123_456_789_012_345,
    }


def test_the_balance_at_an_instant_sums_the_ledgers_created_until_then(seeded):
    store, dbs, _ = seeded
    until_day_3 = store.query_view(
        dbs["modb"], "kazbill_ledgers", "balance_by_created", ViewQuery(end_key=GREGORIAN_2026_11_01 + 3 * DAY)
    )
    assert until_day_3.values() == [1_250_000 + 10_000_000 - 15_000_000 - 96_774 - 96_774]


def test_ledger_statistics_per_type_and_service(seeded):
    store, dbs, _ = seeded
    stats = grouped(store.query_view(dbs["modb"], "kazbill_ledgers", "amount_stats", ViewQuery(group=True)))
    assert stats[("debit", "daily_fee")] == {
        "sum": 193_548,
        "count": 2,
        "min": 96_774,
        "max": 96_774,
        "sumsqr": 2 * 96_774**2,
    }
    counts = grouped(store.query_view(dbs["modb"], "kazbill_ledgers", "count_by_type", ViewQuery(group=True)))
    assert counts == {"cdr": 1, "ledger": 7}  # the deleted manual entry is not counted


def test_the_account_tree_answers_descendants_children_and_logins(seeded):
    store, _, tree = seeded
    reseller = tree["reseller"]["_id"]
    descendants = store.query_view(
        "accounts",
        "kazbill_accounts",
        "by_ancestor",
        ViewQuery(start_key=[reseller], end_key=[reseller, {}], reduce=False),
    )
    assert sorted(row.id for row in descendants.rows) == sorted(
        tree[name]["_id"] for name in ("sub_reseller", "customer_a", "customer_b", "customer_c")
    )
    count = store.query_view(
        "accounts", "kazbill_accounts", "by_ancestor", ViewQuery(start_key=[reseller], end_key=[reseller, {}])
    )
    assert count.values() == [4]
    sub = tree["sub_reseller"]["_id"]
    children = store.query_view(
        "accounts", "kazbill_accounts", "by_parent", ViewQuery(start_key=[sub], end_key=[sub, {}], include_docs=True)
    )
    assert [row.doc["name"] for row in children.rows] == ["Alpha Taxi", "Beta Clinic"]
    by_realm = store.query_view(
        "accounts", "kazbill_accounts", "by_realm", ViewQuery(key="beta-clinic.sip.example.net")
    )
    assert [row.id for row in by_realm.rows] == [tree["customer_b"]["_id"]]
    by_key = store.query_view(
        "accounts", "kazbill_accounts", "by_api_key", ViewQuery(key="key-" + tree["customer_c"]["_id"])
    )
    assert [row.id for row in by_key.rows] == [tree["customer_c"]["_id"]]


def test_service_plans_are_listed_and_their_assignments_found(seeded):
    store, dbs, tree = seeded
    assert [row.id for row in store.query_view(dbs["account"], "kazbill_plans", "catalogue").rows] == ["plan_office"]
    holders = store.query_view(
        "services",
        "kazbill_services",
        "by_plan",
        ViewQuery(key=["plan_office", tree["reseller"]["_id"]], key_is_set=True),
    ).rows
    assert sorted(row.id for row in holders) == sorted([tree["customer_a"]["_id"], tree["customer_b"]["_id"]])
    unnamed = store.query_view(
        "services", "kazbill_services", "by_plan", ViewQuery(key=["plan_promo", None], key_is_set=True)
    )
    assert [row.id for row in unnamed.rows] == [tree["customer_a"]["_id"]]


def test_failures_are_counted_per_source_and_reason(seeded):
    store, _, tree = seeded
    counts = grouped(store.query_view("kazbill_failures", "kazbill_failures", "by_source", ViewQuery(group_level=2)))
    assert counts == {("amqp", "malformed_json"): 2, ("amqp", "unknown_account"): 1, ("paypal", "forged_signature"): 1}
    mine = store.query_view(
        "kazbill_failures",
        "kazbill_failures",
        "by_account",
        ViewQuery(start_key=[tree["customer_a"]["_id"]], end_key=[tree["customer_a"]["_id"], {}]),
    )
    assert mine.values() == ["unknown_account", "forged_signature"]


def test_payment_notifications_are_counted_per_gateway_and_outcome_and_listed_per_account(seeded):
    store, _, tree = seeded
    counts = grouped(store.query_view("kazbill_hooks", "kazbill_hooks", "by_outcome", ViewQuery(group_level=2)))
    assert counts == {("paypal", "credited"): 2, ("paypal", "forged"): 1, ("yandex_money", "refused"): 1}
    customer = tree["customer_a"]["_id"]
    mine = store.query_view(
        "kazbill_hooks", "kazbill_hooks", "by_account", ViewQuery(start_key=[customer], end_key=[customer, {}])
    )
    assert [row.value["external_id"] for row in mine.rows] == ["T1", "T3"]


def test_notices_due_are_the_queued_ones_by_time_and_stale_claims(seeded):
    store, _, tree = seeded
    customer = tree["customer_a"]["_id"]
    due = store.query_view(
        "kazbill_notices", "kazbill_notices", "due", ViewQuery(end_key=GREGORIAN_2026_11_01 + 86_400)
    )
    assert [row.id for row in due.rows] == [
        f"notice-{tree['customer_b']['_id']}-2026-11-03-low_balance",
        f"notice-{customer}-2026-11-02-low_balance",
    ]
    later = store.query_view(
        "kazbill_notices", "kazbill_notices", "due", ViewQuery(end_key=GREGORIAN_2026_11_01 + 10**6)
    )
    assert f"notice-{customer}-2026-11-03-low_balance" in [row.id for row in later.rows]  # its claim went stale
    admins = store.query_view(account_db(customer), "kazbill_users", "admin_emails").rows
    assert [(row.key, row.value) for row in admins] == [("user1@alpha.example", ["User1", ""])]


def test_a_missing_view_is_not_found_and_a_bad_query_is_refused(seeded):
    store, dbs, _ = seeded
    with pytest.raises(NotFound):
        store.query_view(dbs["modb"], "kazbill_ledgers", "no_such_view")
    with pytest.raises(NotFound):
        store.query_view(dbs["modb"], "no_such_design", "balance_by_service")
    with pytest.raises(InvalidQuery):
        store.query_view(dbs["modb"], "kazbill_ledgers", "balance_by_service", ViewQuery(include_docs=True))


def test_key_paging_walks_a_view_without_skipping_or_repeating(seeded):
    store, dbs, _ = seeded
    everything = store.query_view(dbs["account"], "kazbill_quantities", "holdings").rows
    seen, query = [], ViewQuery(limit=3)
    while True:
        page = store.query_view(dbs["account"], "kazbill_quantities", "holdings", query).rows
        seen += page[:2] if len(page) == 3 else page
        if len(page) < 3:
            break
        nxt = page[2]
        query = ViewQuery(limit=3, start_key=nxt.key, start_key_doc_id=nxt.id)
    assert [(row.key, row.id) for row in seen] == [(row.key, row.id) for row in everything]


def test_an_index_follows_updates_and_deletions(seeded):
    store, dbs, tree = seeded
    db = dbs["account"]
    account_id = tree["customer_a"]["_id"]
    assert current_quantities(store, account_id)["devices"]["softphone"] == 1
    store.soft_delete(db, "device00000000000000000000000003")
    assert "softphone" not in current_quantities(store, account_id)["devices"]
    limits = store.get(db, "limits")
    store.put(db, {**limits, "pvt_twoway_trunks": 10})
    assert current_quantities(store, account_id)["limits"]["twoway_trunks"] == 10


# ------------------------------------------------------------------------------- parity


def normalise(result: ViewResult) -> dict[str, Any]:
    def doc(d):
        if d is None:
            return None
        return {k: v for k, v in d.items() if k != "_rev"} | {"_rev_generation": d["_rev"].split("-")[0]}

    def value(v):  # _all_docs rows carry the revision, whose hash differs between servers
        if isinstance(v, dict) and set(v) == {"rev"}:
            return {"rev_generation": v["rev"].split("-")[0]}
        if isinstance(v, dict):
            return {k: value(item) for k, item in v.items()}
        # pouchdb-server reduces in JavaScript doubles; past 2**53 (a _stats sumsqr of large
        # amounts) it rounds where the embedded store, like CouchDB's Erlang, stays exact.
        if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) > 2**53:
            return f"{float(v):.12e}"  # and its rounding may differ in the last bits
        return v

    return {
        "total_rows": result.total_rows,
        "rows": [(row.key, value(row.value), row.id, doc(row.doc)) for row in result.rows],
    }


def query_shapes(store, db: str, design: str, view: str, has_reduce: bool) -> list[ViewQuery]:
    base = ViewQuery(reduce=False) if has_reduce else ViewQuery()
    rows = store.query_view(db, design, view, base).rows
    keys = []
    for row in rows:
        if row.key not in keys:
            keys.append(row.key)
    shapes = [
        base,
        ViewQuery(reduce=base.reduce, descending=True),
        ViewQuery(reduce=base.reduce, limit=2, skip=1),
        ViewQuery(reduce=base.reduce, include_docs=True, limit=3),
        ViewQuery(reduce=base.reduce, descending=True, limit=2, skip=1),
    ]
    if keys:
        low, high = keys[0], keys[len(keys) // 2]
        shapes += [
            ViewQuery(reduce=base.reduce, key=keys[-1], key_is_set=True),
            ViewQuery(reduce=base.reduce, keys=[keys[-1], keys[0], "no such key"]),
            ViewQuery(reduce=base.reduce, start_key=low, end_key=high),
            ViewQuery(reduce=base.reduce, start_key=low, end_key=high, inclusive_end=False),
            ViewQuery(reduce=base.reduce, start_key=high, end_key=low, descending=True),
            ViewQuery(reduce=base.reduce, start_key=high, end_key=low, descending=True, inclusive_end=False),
            ViewQuery(
                reduce=base.reduce,
                start_key=rows[1].key if len(rows) > 1 else low,
                start_key_doc_id=rows[1].id if len(rows) > 1 else None,
            ),
        ]
    if has_reduce:
        shapes += [
            ViewQuery(),
            ViewQuery(group=True),
            ViewQuery(group_level=1),
            ViewQuery(group=True, descending=True),
            ViewQuery(group=True, limit=2, skip=1),
        ]
        if keys:
            shapes += [
                ViewQuery(group=True, keys=[keys[0], keys[-1]]),
                ViewQuery(start_key=keys[0], end_key=keys[len(keys) // 2]),
            ]
    return shapes


def test_every_view_answers_identically_on_both_stores(both_stores):
    tree = account_tree()
    customer_id = tree["customer_a"]["_id"]
    stores = list(both_stores.values())
    dbs = [seed(store, customer_id, tree) for store in stores][0]
    compared = 0
    for design in load_design_docs():
        db = {
            "accounts": "accounts",
            "services": "services",
            "account": dbs["account"],
            "account-month": dbs["modb"],
            "system": design.database,
            "any": dbs["modb"],
        }.get(design.db_class)
        for view, spec in design.body["views"].items():
            name = design.design_id.removeprefix("_design/")
            for shape in query_shapes(stores[0], db, name, view, "reduce" in spec):
                counted = dataclasses.replace(shape, count_rows=True)  # the embedded store counts when asked
                embedded, couch = (normalise(store.query_view(db, name, view, counted)) for store in stores)
                assert embedded == couch, f"{design.design_id}/{view} with {shape}"
                compared += 1
    assert compared > 100


def test_all_docs_answers_identically_on_both_stores(both_stores):
    results = []
    for store in both_stores.values():
        db = account_db("0" * 28 + "abcd")
        store.ensure_database(db)
        store.bulk_put(
            db,
            account_contents(new_account_id())
            if False
            else [
                {"_id": doc_id, "n": n}
                for n, doc_id in enumerate(["b", "a", "+7495", "_design/kazbill_x", "Z", "aa", "ä"])
            ],
        )
        queries = [
            ViewQuery(),
            ViewQuery(descending=True),
            ViewQuery(start_key="a", end_key="b"),
            ViewQuery(start_key="a", end_key="b", inclusive_end=False),
            ViewQuery(limit=2, skip=2),
            ViewQuery(keys=["aa", "missing", "b"], include_docs=True),
            ViewQuery(key="Z", key_is_set=True),
            ViewQuery(start_key="b", end_key="a", descending=True),
        ]
        results.append(
            [normalise(store.all_docs(db, dataclasses.replace(query, count_rows=True))) for query in queries]
        )
    assert results[0] == results[1]
