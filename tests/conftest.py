from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "config.yaml"

BASE = """\
semantic_database:
  name: semantic_layer_v1
scope:
  databases: ["gld_*"]
sync:
  sync_mode: delta
  schedule:
    frequency: daily
    time: "03:00:00"
    timezone: UTC
workflow:
  project: semantic_layer_sync
  name: semantic_layer_sync
"""


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def base_data() -> dict[str, object]:
    """The BASE config as data (a fresh copy each call)."""
    return {
        "semantic_database": {"name": "semantic_layer_v1"},
        "scope": {"databases": ["gld_*"], "exclude_patterns": []},
        "sync": {
            "sync_mode": "delta",
            "schedule": {"frequency": "daily", "time": "03:00:00", "timezone": "UTC"},
        },
        "workflow": {"project": "semantic_layer_sync", "name": "semantic_layer_sync"},
    }
