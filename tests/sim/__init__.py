"""Tests of the simulator: model, catalogue, wire format, auth, faults and runner."""
