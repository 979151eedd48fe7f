"""The shape of every refusal the domain makes: the field that is wrong, and why, in words an
operator or a reseller can act on. The API and the stored failure records show both."""

from __future__ import annotations


class FieldError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
