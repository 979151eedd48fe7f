"""What runs across the capabilities below it: a shard's batches of accounts (each billed, with
the day's documents, an outage handed back and any other failure stored) and of calls (rated,
then their accounts billed), and the status the operator reads of every queue and feed.
The capabilities form layers, each importing only those under it (setup.cfg, service-layers):
operations, audit, rating, documents, payments, mail, billing, setup, cluster."""
