"""Tests of the Statistics API v3 client (statdash.api)."""
