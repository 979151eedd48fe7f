"""The operator's side: a store prepared and checked, the service's status, and the failures
kept for a person."""
