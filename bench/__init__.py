"""Benchmarks: each prints its figures; ``make bench`` runs them. Tests never time anything."""
