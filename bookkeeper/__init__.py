"""Kazbill's billing core: the pure domain, the ports, the service handlers and the adapters."""

__version__ = "0.1.0"
