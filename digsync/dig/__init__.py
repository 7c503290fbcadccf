"""Digdag workflow files: the .dig loader, the schedules they declare, and the linter."""
