"""The bottom of the services: a store prepared and checked, and the failures kept for a person
(every capability records them)."""
