"""A map function that threw, kept as a failure record for the operator.

CouchDB logs such an error in its own log and leaves the document out of the view, which is how
an account's numbers went unbilled on real CouchDB without anyone seeing it. The embedded store
does what CouchDB does with the rows and, besides, records the error in `kazbill_failures` in
the shape the rest of Kazbill keeps failures (source, reason code, field, account, payload), so
`kazbill store check`, the failures views and /metrics show it.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from bookkeeper.domain.kazoo_names import parse_db_name, to_gregorian_seconds

FAILURES_DB = "kazbill_failures"


def map_error_failure(db: str, design_id: str, view: str, doc_id: str, rev: str, message: str) -> dict[str, Any]:
    where = f"{design_id}/_view/{view}"
    payload = {"db": db, "doc_id": doc_id, "rev": rev, "view": where, "message": message}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return {
        "_id": f"failure-view-{digest[:32]}",
        "pvt_type": "failure",
        "source": "view",
        "reason_code": "view_map_error",
        "reason": f"{where} threw on document {doc_id!r} in {db!r}, which the view leaves out: {message}",
        "field": where,
        "account_id": parse_db_name(db).account_id,
        "payload": payload,
        "pvt_created": to_gregorian_seconds(int(time.time())),
    }
