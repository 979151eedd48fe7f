"""A page's form as posted (application/x-www-form-urlencoded), bounded in size and fields."""

from __future__ import annotations

from urllib.parse import parse_qsl

import falcon

from crossbar_api.errors import ApiError

MAX_FORM = 16 * 1024
MAX_FORM_FIELDS = 50  # the busiest form has a handful


def read_form(req: falcon.Request, *, max_bytes: int = MAX_FORM, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """`max_bytes`, `max_fields`: a form with rows (a plan's prices) says how many it may send."""
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise falcon.HTTPContentTooLarge(description=f"form: larger than {max_bytes} bytes")
    try:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields))
    except ValueError:  # parse_qsl's answer to too many fields
        raise ApiError(
            400,
            f"form: more than {max_fields} fields",
            {"form": {"fields": {"message": f"at most {max_fields} fields"}}},
        ) from None
