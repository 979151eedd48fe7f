"""A page's form as posted (application/x-www-form-urlencoded), bounded in size and fields."""

from __future__ import annotations

from urllib.parse import parse_qsl

import falcon

from crossbar_api.errors import ApiError

MAX_FORM = 16 * 1024
MAX_FORM_FIELDS = 50  # the busiest form has a handful


def read_form(req: falcon.Request) -> dict[str, str]:
    raw = req.bounded_stream.read(MAX_FORM + 1)
    if len(raw) > MAX_FORM:
        raise falcon.HTTPContentTooLarge(description=f"form: larger than {MAX_FORM} bytes")
    try:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:  # parse_qsl's answer to too many fields
        raise ApiError(
            400,
            f"form: more than {MAX_FORM_FIELDS} fields",
            {"form": {"fields": {"message": f"at most {MAX_FORM_FIELDS} fields"}}},
        ) from None
