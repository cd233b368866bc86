"""Tests of the simulator: model, catalogue, wire format, auth, faults, runner and CLI."""
