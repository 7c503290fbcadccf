"""Which push target a config names: td, digdag, tdx or local, and where it is.

Choose with --target, $DIGSYNC_TARGET, or the non-secret ``target:`` section of
config.yaml (in that order); the default is local. --endpoint (or
$DIGSYNC_ENDPOINT, or target.endpoint) overrides the URL of td and digdag.

The local target's folder, ``target.workflows_dir`` (default ``workflows``), is read
against config.yaml's folder when relative, like the state folder (.digsync/) beside
it: pushed files and their history sit together whatever the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from digsync.config.regions import WORKFLOW_HOSTS
from digsync.errors import InputError

TARGETS = ("local", "td", "digdag", "tdx")
REGIONS = {region: f"https://{host}" for region, host in WORKFLOW_HOSTS.items()}


class TargetSettings(NamedTuple):
    kind: str
    endpoint: str | None
    workflows_dir: Path
    profile: str | None = None  # tdx: the tdx profile whose login pushes


def settings(
    target: str | None, endpoint: str | None, section: dict[str, Any], config_dir: Path
) -> TargetSettings:
    """Resolve the target kind and endpoint: flag, then environment, then config.yaml.

    ``config_dir`` is config.yaml's folder: a relative ``workflows_dir`` is read in it."""
    kind = target_kind(target, section)
    if kind not in TARGETS:
        raise InputError(f"unknown target {kind!r}; expected one of {', '.join(TARGETS)}")
    # Each level (flag, environment, config) names an endpoint or a region; the first
    # level that names either wins, so DIGSYNC_REGION beats a config endpoint.
    env_region = os.environ.get("DIGSYNC_REGION") if kind == "td" else None
    url = (
        endpoint
        or os.environ.get("DIGSYNC_ENDPOINT")
        or (_region_url(env_region) if env_region else None)
        or section.get("endpoint")
    )
    if kind == "td" and not url:
        url = _region_url(section.get("region") or "us")
    if kind == "digdag" and not url:
        raise InputError("the digdag target needs a server URL: --endpoint http://host:65432")
    workflows = local_folder(section, config_dir)
    profile = os.environ.get("DIGSYNC_TDX_PROFILE") or section.get("profile")
    return TargetSettings(kind, url, workflows, profile if kind == "tdx" else None)


def target_kind(target: str | None, section: dict[str, Any]) -> str:
    """The kind chosen by the flag, $DIGSYNC_TARGET or target.type (default local);
    not checked against TARGETS."""
    return str(target or os.environ.get("DIGSYNC_TARGET") or section.get("type") or "local")


def local_folder(section: dict[str, Any], config_dir: Path) -> Path:
    """The local target's folder (it holds <project>/): target.workflows_dir, default
    ``workflows``, in config.yaml's folder when relative; an absolute path as given."""
    return config_dir / str(section.get("workflows_dir") or "workflows")


def _region_url(region: str) -> str:
    if region not in REGIONS:
        raise InputError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")
    return REGIONS[region]
