"""The reseller-facing REST API on Falcon, shaped like Kazoo's crossbar. Filled in by the API issue."""
