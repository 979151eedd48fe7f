"""A simulated customer (what it holds, which document ids it has used) and the Kazoo documents
the simulator writes for it, stamped as Kazoo's crossbar stamps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bookkeeper.domain.kazoo_names import account_db
from entrypoints.simulation.flavours import gregorian


@dataclass
class Customer:
    account_id: str
    reseller_id: str
    index: int
    users: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    numbers: int = 0
    next_doc: int = 0
    closed: bool = False


def account_doc(account_id: str, name: str, tree: list[str], *, reseller: bool, created: datetime) -> dict[str, Any]:
    return stamp(
        {
            "_id": account_id,
            "name": name,
            "realm": f"{account_id[:8]}.sip.sim.example",
            "pvt_tree": tree,
            "pvt_reseller": reseller,
            "pvt_enabled": True,
            "enabled": True,
        },
        account_id,
        "account",
        created,
    )


def opening_docs(
    customer: Customer, created: datetime, *, devices: int, users: int, numbers: int, trunks: int
) -> list[dict[str, Any]]:
    """A new customer's documents: its onbill, limits and numbers, its users (the first an
    admin) and its devices."""
    account_id, index = customer.account_id, customer.index
    docs = [
        stamp({"_id": "onbill", "billing_day": 1}, account_id, "onbill", created),
        stamp(
            {"_id": "limits", "twoway_trunks": trunks, "allow_prepay": True, "pvt_allow_postpay": False},
            account_id,
            "limits",
            created,
        ),
        stamp(
            {
                "_id": "phone_numbers",
                **{number(index, k): {"state": "in_service", "features": []} for k in range(numbers)},
            },
            account_id,
            "phone_numbers",
            created,
        ),
    ]
    customer.numbers = numbers
    docs += [new_user(customer, "admin" if n == 0 else "user", created) for n in range(users)]
    docs += [new_device(customer, created) for _ in range(devices)]
    return docs


def new_user(customer: Customer, level: str, created: datetime) -> dict[str, Any]:
    customer.next_doc += 1
    doc_id = f"{customer.account_id[:8]}user{customer.next_doc:020d}"
    customer.users.append(doc_id)
    return stamp(
        {
            "_id": doc_id,
            "first_name": f"User {customer.next_doc}",
            "last_name": "Sim",
            "priv_level": level,
            "enabled": True,
            "email": f"user{customer.next_doc}@{customer.account_id[:8]}.sim.example",
        },
        customer.account_id,
        "user",
        created,
    )


def new_device(customer: Customer, created: datetime) -> dict[str, Any]:
    customer.next_doc += 1
    doc_id = f"{customer.account_id[:8]}device{customer.next_doc:018d}"
    customer.devices.append(doc_id)
    kind = "softphone" if customer.next_doc % 4 == 0 else "sip_device"
    return stamp(
        {"_id": doc_id, "name": f"Phone {customer.next_doc}", "device_type": kind, "enabled": True},
        customer.account_id,
        "device",
        created,
    )


def number(index: int, k: int) -> str:
    return f"+7495{index:04d}{k:03d}" if k % 5 else f"+7800{index:04d}{k:03d}"  # every fifth toll-free


def stamp(doc: dict[str, Any], account_id: str, pvt_type: str, created: datetime) -> dict[str, Any]:
    at = gregorian(created)
    return {
        **doc,
        "pvt_type": pvt_type,
        "pvt_account_id": account_id,
        "pvt_account_db": account_db(account_id),
        "pvt_created": at,
        "pvt_modified": at,
        "pvt_vsn": "1",
    }
