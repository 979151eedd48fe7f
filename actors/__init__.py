"""Thespian topology: supervisor, account shards, scheduler, document troupe, mailer, and the
bridges (AMQP consumer, CouchDB changes follower) that feed them. Filled in by the actors issue."""
