"""One route of the API: its path, what serves it (built from the dependencies by `create_app`),
a summary and, for the OpenAPI document, its body and query parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossbar_api.deps import ApiDeps


@dataclass(frozen=True)
class Route:
    path: str
    make: Callable[[ApiDeps], Any]
    summary: str
    body: dict[str, Any] | None = None  # JSON schema of `data` for PUT/POST
    query: tuple[str, ...] = ()
