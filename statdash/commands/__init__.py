"""Every entry point of `statdash`: one module per command, its arguments and its output."""
