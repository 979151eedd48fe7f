"""Calls: rated against the resellers' rate decks and charged up the chain; the decks imported.
A shard's batch of calls is operations/call_batches.py."""
