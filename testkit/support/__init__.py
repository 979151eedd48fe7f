"""Helpers the test suite and the benchmarks share (test servers, fixtures)."""
