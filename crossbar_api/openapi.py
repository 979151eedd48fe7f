"""The OpenAPI 3 document, generated from the route table and the resources' responders, so
it cannot list an endpoint the app does not serve (a test checks the converse)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crossbar_api.envelope import API_VERSION

_METHODS = ("get", "put", "post", "patch", "delete")


def _error() -> dict[str, Any]:
    return {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document(routes: Sequence[Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        resource_class = route.make if isinstance(route.make, type) else None
        methods = [m for m in _METHODS if resource_class is None or hasattr(resource_class, f"on_{m}")]
        if resource_class is None:  # a lambda-made resource: ask a probe instance
            methods = [m for m in _METHODS if hasattr(route.make(None), f"on_{m}")]
        item: dict[str, Any] = {}
        for method in methods:
            operation: dict[str, Any] = {
                "summary": route.summary,
                "responses": {
                    "200": {
                        "description": "success",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
                    },
                    "201": {"description": "created"},
                    "400": _error(),
                    "401": _error(),
                    "403": _error(),
                    "404": _error(),
                },
            }
            parameters = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": (
                        {"type": "string", "pattern": "^[0-9a-z]{32}$"} if name == "account_id" else {"type": "string"}
                    ),
                }
                for name in re.findall(r"{(\w+)}", route.path)
            ]
            parameters += [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in route.query
            ]
            if "auth" not in route.path:
                parameters.append(
                    {"name": "X-Auth-Token", "in": "header", "required": True, "schema": {"type": "string"}}
                )
            if parameters:
                operation["parameters"] = parameters
            if route.body and method in ("put", "post", "patch"):
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "data": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            name: kind if isinstance(kind, dict) else {"type": kind}
                                            for name, kind in route.body.items()
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            item[method] = operation
        paths[route.path] = item
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kazbill crossbar API", "version": API_VERSION},
        "paths": paths,
        "components": {
            "schemas": {
                "Envelope": {
                    "type": "object",
                    "required": ["data", "status", "request_id"],
                    "properties": {
                        "data": {},
                        "status": {"type": "string"},
                        "request_id": {"type": "string"},
                        "auth_token": {"type": "string"},
                        "revision": {"type": "string"},
                        "timestamp": {"type": "string"},
                        "version": {"type": "string"},
                        "node": {"type": "string"},
                        "page_size": {"type": "integer"},
                        "next_start_key": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["status", "error", "message", "timestamp", "version", "node"],
                    "properties": {
                        "status": {"type": "string"},
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "data": {"type": "object"},
                        "request_id": {"type": "string"},
                        "auth_token": {"type": "string"},
                        "timestamp": {"type": "string"},
                        "version": {"type": "string"},
                        "node": {"type": "string"},
                    },
                },
            }
        },
    }
