"""YAML in and out: the hostile-input-safe loader (with marks) and the emitter."""
