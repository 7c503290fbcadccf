"""A Config rendered as a Digdag project, and written to disk."""
