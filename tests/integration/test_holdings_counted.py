"""What an account is billed for is counted from one view, kazbill_quantities/holdings, run by the
embedded store's JavaScript engine as CouchDB runs it: for any documents Kazoo may hold, the
count and the dated history read from it agree with a plain count of the documents themselves."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.domain.quantities import classify_number
from bookkeeper.services.billing.context import current_quantities
from bookkeeper.services.billing.holdings import read_holdings
from bookkeeper.services.setup.store_setup import install_design_docs
from testkit.fixtures.kazoo_docs import GREGORIAN_2026_11_01, new_account_id, stamp

ACCOUNT = new_account_id()
TRUNKS = ("twoway_trunks", "inbound_trunks", "outbound_trunks", "burst_trunks")
_ids = itertools.count()

flags = st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "pvt_deleted": st.booleans()})
users = st.tuples(st.just("user"), flags, st.sampled_from([None, "admin", "user"]))
devices = st.tuples(st.just("device"), flags, st.sampled_from([None, "sip_device", "softphone", "cellphone"]))
fees = st.tuples(st.just("periodic_fee"), flags, st.one_of(st.none(), st.integers(-1, 4)))
numbers = st.tuples(
    st.sampled_from(["+74951230001", "+74951230002", "+78001230003", "+15551230004"]),
    st.sampled_from(["in_service", "reserved", "port_in", "available", None]),
    st.lists(st.sampled_from(["cnam", "e911", "local"]), unique=True, max_size=2),
    st.booleans(),  # Kazoo 4's number document, else an entry of the older phone_numbers document
)
limits = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.integers(-1, 5) for name in TRUNKS},
        **{f"pvt_{name}": st.integers(-1, 5) for name in TRUNKS},
        "pvt_deleted": st.booleans(),
    },
)


def documents(items: list[tuple[Any, ...]], trunks: dict[str, Any], phones: list[tuple[Any, ...]]) -> list[dict]:
    docs = [stamp({"_id": "limits", **trunks}, ACCOUNT, "limits")]
    for kind, flag, detail in items:
        doc: dict[str, Any] = {"_id": f"{kind}{next(_ids):020d}", **flag}
        if kind == "user" and detail is not None:
            doc["priv_level"] = detail
        if kind == "device" and detail is not None:
            doc["device_type"] = detail
        if kind == "periodic_fee":
            doc["service_id"] = "static_ip"
            if detail is not None:
                doc["quantity"] = detail
        docs.append(stamp(doc, ACCOUNT, kind))
    older = {}
    for number, state, features, kazoo4 in {phone[0]: phone for phone in phones}.values():
        if kazoo4:
            docs.append(stamp({"_id": number, "pvt_state": state, "pvt_features": features}, ACCOUNT, "number"))
        else:
            older[number] = {"state": state, "features": features}
    if older:
        docs.append(stamp({"_id": "phone_numbers", **older}, ACCOUNT, "phone_numbers"))
    return docs


class Counted(dict):
    """Kazoo's services count, written out plainly: live and enabled users by level, devices by
    type, fees by quantity; trunks from limits, the private value first; numbers in service."""

    def add(self, category: str, item: str, count: int) -> None:
        if count > 0:
            self.setdefault(category, {})[item] = self.get(category, {}).get(item, 0) + count

    def number(self, number: str, state: str | None, features: list[str] | None) -> None:
        if state in ("in_service", "port_in"):
            self.add("phone_numbers", classify_number(number), 1)
            for feature in features or []:
                self.add("number_services", feature, 1)

    def document(self, doc: dict[str, Any]) -> None:
        kind = doc["pvt_type"]
        if doc.get("pvt_deleted") or (kind in ("user", "device", "periodic_fee") and doc.get("enabled") is False):
            return
        if kind == "user":
            self.add("users", doc.get("priv_level") or "user", 1)
        elif kind == "device":
            self.add("devices", doc.get("device_type") or "sip_device", 1)
        elif kind == "periodic_fee":
            self.add("periodic_fees", "static_ip", doc.get("quantity", 1))
        elif kind == "limits":
            for name in TRUNKS:
                self.add("limits", name, doc.get(f"pvt_{name}", doc.get(name, 0)))
        elif kind == "number":
            self.number(doc["_id"], doc.get("pvt_state"), doc.get("pvt_features"))
        else:  # the older phone_numbers document: one entry per number, in service unless it says
            for number, entry in doc.items():
                if number.startswith("+"):
                    self.number(number, entry.get("state") or "in_service", entry.get("features"))


def counted_by_hand(docs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counted = Counted()
    for doc in docs:
        counted.document(doc)
    return dict(counted)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    items=st.lists(st.one_of(users, devices, fees), max_size=12),
    trunks=limits,
    phones=st.lists(numbers, max_size=4),
)
def test_the_count_from_the_holdings_view_is_the_count_of_the_documents(tmp_path_factory, items, trunks, phones):
    store = EmbeddedStore(tmp_path_factory.mktemp("holdings") / "store.sqlite3")
    db = account_db(ACCOUNT)
    store.create_database(db)
    install_design_docs(store, db, load_design_docs())
    docs = documents(items, trunks, phones)
    store.bulk_put(db, docs)
    assert current_quantities(store, ACCOUNT) == counted_by_hand(docs)
    # The history's rows are the same documents: every user, device and fee that is not
    # disabled, a soft-deleted one marked so; each dated by its own stamp.
    held = read_holdings(store, ACCOUNT)
    lives = sorted(str(doc_id) for _, _, doc_id in held.lifetimes)
    expected = sorted(
        doc["_id"]
        for doc in docs
        if doc["pvt_type"] in ("user", "device", "periodic_fee")
        and doc.get("enabled") is not False
        and (doc["pvt_type"] != "periodic_fee" or doc.get("quantity", 1) > 0)
    )
    assert lives == expected
    assert all(value[0] == GREGORIAN_2026_11_01 for _, value, _ in held.lifetimes)
    store.close()
