"""A reseller's template that passes its trial on sample data and then loops, or swells, on real
data (issue 20.5): the document worker renders it within a time and memory bound, fails that one
document with the reason, and goes on to produce the next document."""

from __future__ import annotations

import pytest

from bookkeeper.domain.kazoo_names import account_db, account_modb, to_gregorian_seconds
from bookkeeper.services.documents.document_queue import QUEUE_DB, job_id, process_due_documents
from documents.bounded import RenderBounds
from documents.render import WeasyRenderer
from tests.unit.crossbar_api.test_onbills_api import issued_world

ON_REAL_DATA = "{% if d.customer.name != 'Sample customer' %}HEAVY{% endif %}"
# Pure computation, no output: written out, even empty strings pile up in the renderer's list and
# a fast machine reaches the memory bound before the time bound (seen in a clean-clone run).
ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% set k = j %}{% endfor %}{% endfor %}"
SWELLING = "{{ ('x' * 4000000000) | length }}"


@pytest.mark.parametrize(
    "heavy, reason", [(ENDLESS, "took longer than 2 s"), (SWELLING, "more than 256 MiB")], ids=["endless", "swelling"]
)
def test_a_template_that_never_ends_on_real_data_fails_its_document_and_the_next_is_produced(api, heavy, reason):
    client, world, clock, customer, reseller = issued_world(api)
    reseller_id = world.ids["reseller"]
    onbill = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {**onbill, "carriers": [{"id": "volna", "name": "Volna", "main": True}]})
    template = "<html><body><h1>{{ d.number }}</h1>" + ON_REAL_DATA.replace("HEAVY", heavy) + "</body></html>"
    saved = client.simulate_put(
        f"/v2/accounts/{reseller_id}/onbill_templates/volna/invoice",
        body=template,
        headers={**reseller, "Content-Type": "text/html"},
    )
    assert saved.status_code == 201, saved.json  # the sample data never reaches the heavy part
    issued = client.simulate_put(
        f"/v2/accounts/{customer}/onbills/generate", headers=reseller, json={"data": {"period_start": "2026-11-01"}}
    ).json["data"]["issued"]
    assert [doc["document_type"] for doc in issued] == ["invoice", "act"]  # the act keeps the default template
    now = to_gregorian_seconds(int(clock.now().timestamp()))
    renderer = WeasyRenderer(bounds=RenderBounds(seconds=2.0, memory_mib=256))
    done = process_due_documents(world.store, renderer, None, sender="b@x", now_gregorian=now)
    assert (done.failed, done.rendered) == (1, 1)
    url = f"/v2/accounts/{customer}/onbills"
    invoice = client.simulate_get(f"{url}/{issued[0]['id']}", headers=reseller).json["data"]
    assert invoice["state"] == "failed" and reason in invoice["failure"] and "template" in invoice["failure"]
    job = world.store.get(QUEUE_DB, job_id(account_modb(customer, 2026, 11), issued[0]["id"]))
    assert job["state"] == "failed" and reason in job["reason"]  # done with: no worker claims it again
    act = client.simulate_get(f"{url}/{issued[1]['id']}/pdf", headers=reseller)
    assert act.status_code == 200 and act.content[:5] == b"%PDF-"
