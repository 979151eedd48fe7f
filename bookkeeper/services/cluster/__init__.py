"""Several Kazbill nodes and a CouchDB cluster: the nodes' leases, and conflicted documents
found and resolved by one rule."""
