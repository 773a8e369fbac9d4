"""Benchmarks that print figures against targets (`make bench`); see README.md."""
