"""Calls: rated against the resellers' rate decks and charged up the chain; the decks imported."""
