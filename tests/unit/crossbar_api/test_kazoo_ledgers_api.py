"""The ledgers as a Kazoo 4.3 client reads and writes them (cb_ledgers, kz_ledger): Kazoo's own
credit and debit body, answers in kz_ledger's public shape, lists per source with crossbar's
paging, and the summaries Kazoo builds from the documents' source, period and account. What
Kazoo would show is worked out here from the documents, by Kazoo's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from testkit.fixtures.api_world import MSK
from tests.unit.crossbar_api.test_api import token

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=MSK)
NOW_G = to_gregorian_seconds(int(NOW.timestamp()))


def exact(result):
    return json.loads(result.text, parse_float=Decimal)


@pytest.fixture
def kazoo(api):
    client, world, clock = api
    headers = {"X-Auth-Token": token(client, world, "reseller")}
    return client, world, clock, headers, f"/v2/accounts/{world.ids['customer']}"


def put(client, url, headers, data, key=None, **top):
    extra = {"Idempotency-Key": key} if key else {}
    return client.simulate_put(url, headers={**headers, **extra}, json={"data": data, **top})


KAZOO_CREDIT = {
    "amount": 100.5,
    "description": "Support contract refund",
    "source": {"service": "support", "id": "ticket-42"},
    "usage": {"type": "credit", "quantity": 3, "unit": "hours"},
    "period": {"start": 63_960_710_400, "end": 63_963_302_399},
    "metadata": {"ticket": 42, "agent": "jo"},
}


def test_a_credit_in_kazoos_body_is_kept_as_sent_and_answered_as_kz_ledger_shows_it(kazoo):
    client, world, _, headers, url = kazoo
    result = put(client, f"{url}/ledgers/credit", headers, KAZOO_CREDIT, key="t-42")
    assert result.status_code == 201, result.json
    data = exact(result)["data"]
    assert data["amount"] == Decimal("100.5") and data["id"].startswith("202611-")
    assert (data["source"], data["usage"], data["period"], data["description"]) == (
        KAZOO_CREDIT["source"],
        KAZOO_CREDIT["usage"],
        KAZOO_CREDIT["period"],
        KAZOO_CREDIT["description"],
    )
    assert data["account"] == {"id": world.ids["customer"], "name": "Customer"}
    assert {k: v for k, v in data["metadata"].items() if k != "kazbill"} == {"ticket": 42, "agent": "jo"}
    assert not [key for key in data if key.startswith(("_", "pvt_"))]
    stored = world.store.get(account_modb(world.ids["customer"], 2026, 11), data["id"])
    assert (stored["pvt_ledger_type"], stored["amount"], stored["metadata"]["kazbill"]["reason"]) == (
        "credit",
        1_005_000,
        "wire_transfer",
    )
    again = put(client, f"{url}/ledgers/credit", headers, KAZOO_CREDIT, key="t-42")
    assert again.status_code == 200 and exact(again)["data"] == data  # the first entry, posted once
    assert exact(client.simulate_get(f"{url}/ledgers/total", headers=headers))["data"]["amount"] == Decimal("100.5")


def test_a_debit_is_answered_with_a_negative_amount_and_a_source_named_after_a_kind_is_that_kind(kazoo):
    client, world, _, headers, url = kazoo
    debit = put(
        client,
        f"{url}/ledgers/debit",
        headers,
        {
            "amount": 7,
            "source": {"service": "balance_correction", "id": "fix-1"},
            "usage": {"type": "debit", "quantity": 1, "unit": "fix"},
        },
    )
    assert debit.status_code == 201 and exact(debit)["data"]["amount"] == Decimal("-7")
    assert "period" in debit.json["data"]  # a period is always there, so the month's summary lists it
    credit = put(
        client, f"{url}/ledgers/credit", headers, {"amount": 1, "source": {"service": "manual_addition", "id": "gift"}}
    )
    stored = world.store.get(account_modb(world.ids["customer"], 2026, 11), credit.json["data"]["id"])
    assert stored["metadata"]["kazbill"]["reason"] == "manual_addition"


@pytest.mark.parametrize(
    "data, field",
    [
        ({**KAZOO_CREDIT, "source": {"service": "support"}}, "source.id"),
        ({**KAZOO_CREDIT, "source": {"id": "x"}}, "source.service"),
        ({**KAZOO_CREDIT, "source": "support"}, "source"),
        ({**KAZOO_CREDIT, "source": {"service": "rollovers", "id": "202611"}}, "source.service"),
        ({**KAZOO_CREDIT, "source": {"service": "per-minute-voip", "id": "call-1"}}, "source.service"),
        ({**KAZOO_CREDIT, "source": {"service": "support", "id": "x", "extra": 1}}, "source.extra"),
        ({**KAZOO_CREDIT, "usage": {"type": "credit", "unit": "hours"}}, "usage.quantity"),
        ({**KAZOO_CREDIT, "usage": {"type": "credit", "quantity": 1.5, "unit": "hours"}}, "usage.quantity"),
        ({**KAZOO_CREDIT, "usage": {"type": "credit", "quantity": -1, "unit": "hours"}}, "usage.quantity"),
        ({**KAZOO_CREDIT, "period": {"start": "yesterday"}}, "period.start"),
        ({**KAZOO_CREDIT, "period": {"start": 63_960_710_400, "end": 63_960_000_000}}, "period.end"),
        ({**KAZOO_CREDIT, "metadata": []}, "metadata"),
        ({**KAZOO_CREDIT, "metadata": {"kazbill": {"reason": "paypal"}}}, "metadata.kazbill"),
        ({**KAZOO_CREDIT, "account": "someone-else"}, "account"),
        ({**KAZOO_CREDIT, "amount": "100.5"}, "amount"),
        ({**KAZOO_CREDIT, "amount": 0}, "amount"),
        ({**KAZOO_CREDIT, "description": ["x"]}, "description"),
        ({**KAZOO_CREDIT, "executor": {}}, "executor"),
    ],
)
def test_a_bad_kazoo_ledger_body_is_400_naming_the_field_and_posts_nothing(kazoo, data, field):
    client, world, _, headers, url = kazoo
    result = put(client, f"{url}/ledgers/credit", headers, data)
    assert result.status_code == 400 and field in result.json["data"], result.json
    assert client.simulate_get(f"{url}/ledgers/total", headers=headers).json["data"]["amount"] == 0
    assert client.simulate_get(f"{url}/ledgers/support", headers=headers).json["data"] == []


def test_impact_reseller_is_refused_rather_than_silently_ignored(kazoo):
    client, _, _, headers, url = kazoo
    result = put(client, f"{url}/ledgers/credit", headers, KAZOO_CREDIT, impact_reseller=True)
    assert result.status_code == 400 and "impact_reseller" in result.json["data"]
    assert client.simulate_get(f"{url}/ledgers/total", headers=headers).json["data"]["amount"] == 0


def _post_supports(client, clock, headers, url, count):
    for n in range(count):
        clock.set(datetime(2026, 11, 10, 12, n, tzinfo=MSK))
        assert (
            put(
                client,
                f"{url}/ledgers/credit",
                headers,
                {
                    "amount": n + 1,
                    "source": {"service": "support", "id": f"t-{n}"},
                    "usage": {"type": "credit", "quantity": 2, "unit": "hours"},
                },
                key=f"s-{n}",
            ).status_code
            == 201
        )


def test_the_ledgers_of_a_source_are_listed_newest_first_and_paged_as_crossbar_pages_them(kazoo):
    client, _, clock, headers, url = kazoo
    _post_supports(client, clock, headers, url, 5)
    first = client.simulate_get(f"{url}/ledgers/support", headers=headers, params={"page_size": 2})
    assert [exact(first)["data"][i]["amount"] for i in (0, 1)] == [5, 4] and first.json["page_size"] == 2
    second = client.simulate_get(
        f"{url}/ledgers/support", headers=headers, params={"page_size": 2, "start_key": first.json["next_start_key"]}
    )
    assert [d["amount"] for d in exact(second)["data"]] == [3, 2] and second.json["start_key"]
    oldest = client.simulate_get(f"{url}/ledgers/support", headers=headers, params={"ascending": "true"})
    assert [d["amount"] for d in exact(oldest)["data"]] == [1, 2, 3, 4, 5] and "next_start_key" not in oldest.json
    everything = client.simulate_get(f"{url}/ledgers/support", headers=headers, params={"paginate": "false"})
    assert len(everything.json["data"]) == 5 and "page_size" not in everything.json
    assert all(d["source"]["service"] == "support" for d in everything.json["data"])
    one = everything.json["data"][0]
    got = client.simulate_get(f"{url}/ledgers/support/{one['id']}", headers=headers)
    assert got.status_code == 200 and got.json["data"] == one
    wrong = client.simulate_get(f"{url}/ledgers/payments/{one['id']}", headers=headers)
    assert wrong.status_code == 404 and "entry_id" in wrong.json["data"]
    assert client.simulate_get(f"{url}/ledgers/support/not-a-ledger", headers=headers).status_code == 404


def test_the_ledgers_summary_sums_amount_and_usage_per_source_over_a_created_range(kazoo):
    client, _, clock, headers, url = kazoo
    _post_supports(client, clock, headers, url, 3)  # 1 + 2 + 3, 2 hours each
    put(client, f"{url}/ledgers/debit", headers, {"amount": 0.25}, key="d-1")
    data = exact(client.simulate_get(f"{url}/ledgers", headers=headers))["data"]
    assert data["support"] == {"amount": 6, "usage": {"type": "credit", "quantity": 6, "unit": "hours"}}
    assert data["balance_correction"]["amount"] == Decimal("-0.25")
    before = to_gregorian_seconds(int(datetime(2026, 11, 10, 12, 1, 30, tzinfo=MSK).timestamp()))
    early = exact(client.simulate_get(f"{url}/ledgers", headers=headers, params={"created_to": str(before)}))["data"]
    assert early["support"]["amount"] == 3  # only the two credited before 12:01:30
    too_wide = client.simulate_get(
        f"{url}/ledgers", headers=headers, params={"created_from": str(NOW_G - 40 * 86_400), "created_to": str(NOW_G)}
    )
    assert too_wide.status_code == 400 and "created_from" in too_wide.json["data"]
    backwards = client.simulate_get(
        f"{url}/ledgers/support", headers=headers, params={"created_from": str(NOW_G), "created_to": str(NOW_G - 10)}
    )
    assert backwards.status_code == 400 and "created_from" in backwards.json["data"]


def _kazoo_ledger(doc_id, account, amount, service, *, ledger_type="debit", period=True, created=NOW_G):
    doc = {
        "_id": doc_id,
        "pvt_type": "ledger",
        "pvt_ledger_type": ledger_type,
        "amount": amount,
        "source": {"service": service, "id": doc_id},
        "usage": {"type": "voice", "quantity": 60, "unit": "sec"},
        "pvt_created": created,
        "pvt_modified": created,
    }
    if account:
        doc["account"] = account
    if period:
        doc["period"] = {"start": created}
    return doc


def test_the_month_summary_breaks_down_by_the_documents_account_and_leaves_out_what_kazoos_view_cannot_key(kazoo):
    client, world, clock, headers, url = kazoo
    customer, other = world.ids["customer"], world.ids["customer_two"]
    put(client, f"{url}/ledgers/credit", headers, {"amount": 50}, key="w-1")
    db = account_modb(customer, 2026, 11)
    world.store.bulk_put(
        db,
        [
            # jonny5's debits: one of this account, one of a sub-account written into this month, one
            # without a period (summary_by_account's map throws on it: Kazoo lists it in `summary` only).
            _kazoo_ledger("202611-call-a", {"id": customer, "name": "Customer"}, 2_500, "per-minute-voip"),
            _kazoo_ledger("202611-call-b", {"id": other, "name": "Customer Two"}, 1_500, "per-minute-voip"),
            _kazoo_ledger(
                "202611-call-c", {"id": customer, "name": "Customer"}, 1_000, "per-minute-voip", period=False
            ),
            {**_kazoo_ledger("202611-call-d", {"id": customer}, 9_999, "per-minute-voip"), "pvt_deleted": True},
        ],
    )
    data = exact(client.simulate_get(f"{url}/ledgers/summary/202611", headers=headers))["data"]
    assert data["summary"]["per-minute-voip"] == {
        "amount": Decimal("-0.5"),
        "usage": {"type": "voice", "quantity": 180, "unit": "sec"},
    }
    assert data["summary"]["payments"]["amount"] == 50  # a wire transfer is one of Kazoo's "payments"
    rows = {row["account"]["id"]: row for row in data["breakdown"]}
    assert rows[customer]["account"] == {"id": customer, "name": "Customer"}
    assert rows[customer]["ledgers"]["per-minute-voip"]["amount"] == Decimal("-0.25")  # call-c has no period
    assert rows[customer]["total"] == Decimal("49.75")  # the wire transfer, the rollover (0) and call-a
    assert rows[other] == {
        "account": {"id": other, "name": "Customer Two"},
        "total": Decimal("-0.15"),
        "ledgers": {
            "per-minute-voip": {"amount": Decimal("-0.15"), "usage": {"type": "voice", "quantity": 60, "unit": "sec"}}
        },
    }
    assert exact(client.simulate_get(f"{url}/ledgers/summary/20261", headers=headers))["data"]["summary"] == {}
    for bad in ("202613", "2026-11", "nov", "２０２６１１"):
        wrong = client.simulate_get(f"{url}/ledgers/summary/{bad}", headers=headers)
        assert wrong.status_code == 404 and "modb_suffix" in wrong.json["data"], bad


def test_available_ledgers_are_kazoos_defaults_unless_the_reseller_registered_its_own(kazoo):
    client, world, _, headers, url = kazoo
    names = [entry["name"] for entry in client.simulate_get(f"{url}/ledgers/available", headers=headers).json["data"]]
    assert names == ["per-minute-voip", "services", "payments", "rollovers"]
    world.store.put(
        account_db(world.ids["sub"]),
        {"_id": "configs_ledgers", "registered_ledgers": [{"name": "support", "friendly_name": "Support"}]},
    )
    registered = client.simulate_get(f"{url}/ledgers/available", headers=headers).json["data"]
    assert registered == [{"name": "support", "friendly_name": "Support"}]


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/v2/accounts/{customer}/ledgers/total", 401),
        ("GET", "/v2/accounts/{other}/ledgers", 403),
        ("GET", "/v2/accounts/{customer}/ledgers/summary/99", 404),
        ("PUT", "/v2/accounts/{customer}/ledgers/credit", 400),
        ("DELETE", "/v2/user_auth", 405),
        ("GET", "/v2/nowhere", 404),
    ],
)
def test_every_error_carries_the_timestamp_version_and_node_as_crossbar_does(kazoo, method, path, status):
    client, world, _, headers, _ = kazoo
    path = path.format(customer=world.ids["customer"], other=world.ids["other_customer"])
    result = client.simulate_request(
        method,
        path,
        headers={} if status == 401 else headers,
        json={"data": {"amount": -1}} if method == "PUT" else None,
    )
    body = result.json
    assert result.status_code == status and body["status"] == "error" and body["error"] == str(status)
    assert body["timestamp"] == "2026-11-10T09:00:00Z"  # kz_time:iso8601 of now: UTC
    assert body["version"] and body["node"] == "kazbill@localhost" and body["request_id"]
    assert datetime.strptime(body["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) == NOW
