"""Benchmarks: ``python -m bench [name ...]`` runs them and prints figures (not pass/fail)."""
