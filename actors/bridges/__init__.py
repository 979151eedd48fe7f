"""Bridges between the outside world and the actors: Kazoo's AMQP bus and CouchDB's changes feeds.

Wire payloads are parsed here, at the edge, into the frozen messages of `actors.messages`;
Kazoo's header names are translated once, in `kazoo_messages`, and nowhere else.
"""
