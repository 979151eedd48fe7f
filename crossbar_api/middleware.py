"""Per-request context: a request id (the caller's X-Request-ID or a new one) that flows into
the answer, the error and the log line, and the moment the request started."""

from __future__ import annotations

import logging
import re
import uuid

import falcon

from crossbar_api.deps import ApiDeps

log = logging.getLogger("kazbill.api")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, deps: ApiDeps):
        self.deps = deps

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header("X-Request-ID") or ""
        req.context.request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        req.context.started = self.deps.clock.now()
        req.context.node = self.deps.node
        req.context.token = None
        resp.set_header("X-Request-ID", req.context.request_id)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource, req_succeeded: bool) -> None:
        request_id = getattr(req.context, "request_id", "-")
        log.info(
            "request_id=%s %s %s -> %s",
            request_id,
            req.method,
            req.path,
            resp.status,
            extra={
                "request_id": request_id,
                "method": req.method,
                "path": req.path,
                "status": str(resp.status).split()[0],
            },
        )
