"""Outbound webhooks: what resellers subscribe to (subscriptions.py), the deliveries queued from
billing events (outbox.py), and their delivery with retry (delivery.py)."""
