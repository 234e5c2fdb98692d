"""Benchmarks: commands that print figures (`citybrain bench ...`); results are kept in BENCHMARKS.md.

Speed and memory targets are measured here, never by timed unit tests.
"""
