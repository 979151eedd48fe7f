"""What the tests and the benchmarks share: Kazoo-shaped worlds to bill (fixtures/) and the real
services they run against (support/: CouchDB, pouchdb-server, RabbitMQ, SMTP, `kazbill serve`).
Never imported by the product; bench/ imports it, never tests/."""
