"""Layout files: the YAML language supervisors write, its loader, validation and compiler."""
