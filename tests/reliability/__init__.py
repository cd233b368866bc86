"""Reliability tests: faults, exit paths, untrusted input and secrets, end to end."""
