"""The simulator: a real HTTP server speaking the Statistics API v3 over a simulated floor."""
