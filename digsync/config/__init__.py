"""config.yaml: the model, its checks, the JSON Schema, and the file on disk."""
