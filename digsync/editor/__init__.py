"""Editing config.yaml: the save pipeline shared by serve and watch."""
