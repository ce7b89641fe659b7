"""Benchmarks: run with scripts/bench NAME; they print figures and never fail CI."""
