"""Benchmarks against the sandbox Didit server: ``python -m benchmarks <name> [options]``."""
