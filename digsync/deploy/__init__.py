"""Targets, the Digdag REST client, plan, push, batch push, status and rollback."""
