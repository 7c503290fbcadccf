"""Push targets behind one small protocol (targets.base): td, digdag, tdx and local.

Which one a config names, and its URL or folder, is decided in digsync.config.targets;
:func:`open_target` builds it, with credentials from the environment only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from digsync.config.targets import TargetSettings
from digsync.deploy.targets.base import Target
from digsync.errors import InputError

if TYPE_CHECKING:
    import httpx


def open_target(
    s: TargetSettings, state: Path, transport: httpx.BaseTransport | None = None
) -> Target:
    """Build the target; credentials come from the environment only. ``transport``
    (the td and digdag targets) replaces the HTTP client's, e.g. httpx.MockTransport."""
    if s.kind == "local":
        from digsync.deploy.targets.local import LocalTarget

        return LocalTarget(s.workflows_dir, state)
    if s.kind == "tdx":
        from digsync.deploy.targets.tdx import TdxTarget

        return TdxTarget(state, s.profile)
    from digsync.deploy.targets.rest import RestTarget

    assert s.endpoint is not None
    headers: dict[str, str] = {}
    if s.kind == "td":
        key = os.environ.get("TD_API_KEY")
        if not key:
            raise InputError(
                "the td target needs TD_API_KEY in the environment (or use --target local)"
            )
        headers["Authorization"] = f"TD1 {key}"
    elif os.environ.get("DIGDAG_AUTHORIZATION"):
        headers["Authorization"] = os.environ["DIGDAG_AUTHORIZATION"]
    return RestTarget(s.kind, s.endpoint, headers, transport)
