from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

    from tests.fake_digdag import FakeDigdag

pytest_plugins = ["tests.digdag_servers"]

# tests/e2e needs a real Digdag server: it is collected only in the e2e tier (make e2e),
# where it fails rather than skips when the server cannot be had.
collect_ignore = [] if os.environ.get("DIGSYNC_E2E") == "1" else ["e2e"]

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


# --- browser tests (tests/test_ui_*.py) -----------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's chromium, one per test module; a missing browser fails, never skips."""
    from tests.ui_helpers import chromium, chromium_missing

    missing = chromium_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def fake() -> Iterator[FakeDigdag]:
    """A fake Digdag server for the browser tests' serve process."""
    from tests.fake_digdag import fake_digdag

    with fake_digdag() as server:
        yield server
