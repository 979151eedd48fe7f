"""Kazbill's test suite."""
