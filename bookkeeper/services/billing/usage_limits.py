"""Taking one of an account's on-demand allowances (bookkeeper.domain.usage_limits) before
anything is numbered, rendered or sent. The uses are kept per account and kind in one document,
moved by revision-checked writes, so every API worker and node counts against the same limit."""

from __future__ import annotations

from bookkeeper.domain.usage_limits import OverLimit, UsageLimit, take
from bookkeeper.ports import Conflict, DatabaseNotFound, DocumentStore, NotFound

LIMITS_DB = "kazbill_usage_limits"
ATTEMPTS = 50  # writes lost to concurrent requests of the same account before it is refused


class LimitReached(Exception):
    def __init__(self, over: OverLimit):
        super().__init__(f"at most {over.most} {over.kind} per {over.window} for an account")
        self.over = over


def take_allowance(store: DocumentStore, account_id: str, limit: UsageLimit, now: int) -> None:
    """Count one use now; LimitReached (nothing counted) when a window is full."""
    if not limit.limited:
        return
    doc_id = f"usage-{account_id}-{limit.kind}"
    for _ in range(ATTEMPTS):
        try:
            doc = store.get(LIMITS_DB, doc_id)
        except DatabaseNotFound:
            store.ensure_database(LIMITS_DB)
            continue
        except NotFound:
            doc = {"_id": doc_id, "pvt_type": "usage_allowance", "account_id": account_id, "kind": limit.kind}
        used_at, over = take(doc.get("used_at") or [], now, limit)
        if over is not None:
            raise LimitReached(over)
        try:
            store.put(LIMITS_DB, {**doc, "used_at": used_at})
            return
        except Conflict:
            continue  # another request of this account counted meanwhile: count again
    raise LimitReached(OverLimit(limit.kind, "hour", limit.per_hour or limit.per_day, 1))
