"""The ports: what Kazbill needs of the world, as Protocols.

The bookkeeper, the actors and the API talk to CouchDB only through `DocumentStore`
(ports/store.py). Two adapters implement it (`bookkeeper.adapters.couchdb_store` over HTTP and
`bookkeeper.adapters.embedded` on SQLite); one contract suite runs against both. Mail, payment
gateways, the renderer and the clock are in ports/outside.py. Everything is importable from
`bookkeeper.ports`.
"""

from __future__ import annotations

from bookkeeper.ports.outside import (
    CardGateway,
    CardNotice,
    CardRefused,
    Clock,
    DocumentRenderer,
    GatewayUnavailable,
    InvalidNotification,
    IpnVerifier,
    Mailer,
    MailRejected,
    MailUnavailable,
    SaleOutcome,
    SavedCard,
    gregorian_now,
)
from bookkeeper.ports.store import (
    Attachment,
    BulkResult,
    Change,
    ChangesPage,
    Conflict,
    DatabaseExists,
    DatabaseInfo,
    DatabaseNotFound,
    DbUpdate,
    DbUpdatesPage,
    DocumentStore,
    InvalidDatabaseName,
    InvalidDocument,
    InvalidQuery,
    NotFound,
    PutResult,
    ServerInfo,
    StoreError,
    StoreUnavailable,
    ViewQuery,
    ViewResult,
    ViewRow,
    put_once,
)

__all__ = [
    "StoreError",
    "StoreUnavailable",
    "DatabaseNotFound",
    "DatabaseExists",
    "InvalidDatabaseName",
    "NotFound",
    "Conflict",
    "InvalidDocument",
    "InvalidQuery",
    "ServerInfo",
    "BulkResult",
    "Attachment",
    "ViewQuery",
    "ViewRow",
    "ViewResult",
    "Change",
    "ChangesPage",
    "DbUpdate",
    "DbUpdatesPage",
    "DatabaseInfo",
    "PutResult",
    "DocumentStore",
    "put_once",
    "MailUnavailable",
    "MailRejected",
    "Mailer",
    "GatewayUnavailable",
    "IpnVerifier",
    "SavedCard",
    "SaleOutcome",
    "CardNotice",
    "CardRefused",
    "InvalidNotification",
    "CardGateway",
    "DocumentRenderer",
    "Clock",
    "gregorian_now",
]
