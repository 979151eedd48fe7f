"""CouchDB design documents, one JSON file per design document: the single source of truth for
every query Kazbill makes, installed as they are into CouchDB and evaluated in-process by the
embedded store. Each file's `kazbill.db_class` says which databases it belongs in."""
