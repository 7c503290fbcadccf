"""Treasure Data regions: the workflow endpoint a push goes to and the REST API host the
py> tasks call must be the same region, since a TD API key belongs to one region."""

from __future__ import annotations

from urllib.parse import urlsplit

WORKFLOW_HOSTS = {
    "us": "api-workflow.treasuredata.com",
    "jp": "api-workflow.treasuredata.co.jp",
    "eu01": "api-workflow.eu01.treasuredata.com",
    "ap02": "api-workflow.ap02.treasuredata.com",
    "ap03": "api-workflow.ap03.treasuredata.com",
}
"""TD Workflow's (hosted Digdag's) API host per region: where a td push goes."""

API_HOSTS = {
    "us": "api.treasuredata.com",
    "jp": "api.treasuredata.co.jp",
    "eu01": "api.eu01.treasuredata.com",
    "ap02": "api.ap02.treasuredata.com",
    "ap03": "api.ap03.treasuredata.com",
}
"""TD's REST API (v3) host per region: what the py> tasks call."""


def _host(url: str) -> str | None:
    try:
        return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()
    except ValueError:
        return None


def region_of_endpoint(url: str) -> str | None:
    """The region whose TD Workflow API ``url`` is; None for any other server."""
    host = _host(url)
    return next((r for r, h in WORKFLOW_HOSTS.items() if h == host), None)


def region_of_api(server: str | None) -> str | None:
    """The region whose REST API ``server`` (host or URL; None is the US default) is;
    None for a host that is not TD's."""
    if server is None:
        return "us"
    host = _host(server)
    return next((r for r, h in API_HOSTS.items() if h == host), None)


def api_host(region: str) -> str:
    return API_HOSTS[region]


def mismatch(endpoint: str | None, td_api_server: str | None) -> str | None:
    """Why a push to ``endpoint`` must not carry tasks that call ``td_api_server``: the
    endpoint is one TD region and the tasks call another. None when they agree, or when
    either is not a TD host (a self-hosted server, an operator's trusted host)."""
    pushed = region_of_endpoint(endpoint) if endpoint else None
    called = region_of_api(td_api_server)
    if pushed is None or called is None or pushed == called:
        return None
    return (
        f"the push goes to {WORKFLOW_HOSTS[pushed]} ({pushed}) but the py> tasks would call "
        f"{API_HOSTS[called]} ({called}), where a {pushed} API key is not valid"
    )
