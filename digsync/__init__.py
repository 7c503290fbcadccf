"""digsync: keep a Treasure Data Workflow (Digdag) project in step with one config.yaml."""

__version__ = "0.1.0"
