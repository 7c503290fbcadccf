"""The e2e tier: tests that only mean something against a real Digdag server. They are
collected only with DIGSYNC_E2E=1 (``make e2e``), and then fail, never skip, when the
server cannot be had."""

from __future__ import annotations

from typing import Any

import pytest

from tests.digdag_servers import ServerView


@pytest.fixture(scope="session")
def real(real_digdag_session: str) -> Any:
    view = ServerView(real_digdag_session)
    yield view
    view.close()
