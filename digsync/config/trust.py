"""Which hosts config.yaml may send credentials to.

``workflow.td_api_server`` receives the TD API key from every task, and a target
``endpoint`` receives the push credential, so a config file (or whoever can write one)
must not name any host it likes. Allowed: https on Treasure Data's own domains, and
hosts the operator lists in ``DIGSYNC_TRUSTED_HOSTS`` (comma-separated names, ``*.``
for a whole domain). Plain http only to a loopback address, and only when the operator
sets ``DIGSYNC_ALLOW_HTTP_LOOPBACK=1`` (the tests' servers). Both settings come from the
environment of the process, never from config.yaml.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

TD_DOMAINS = ("treasuredata.com", "treasuredata.co.jp")
TRUSTED_ENV = "DIGSYNC_TRUSTED_HOSTS"
LOOPBACK_ENV = "DIGSYNC_ALLOW_HTTP_LOOPBACK"
TRUSTED_IMAGES = ("treasuredata/customscript-python", "digdag/digdag-python")
"""The images TD documents for py> custom scripts."""


def host_problem(url: str, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """None when credentials may go to ``url`` (a scheme-less value is https), else the
    (message, hint) that says why not and what the operator can do."""
    env = os.environ if env is None else env
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        parts.port  # noqa: B018 - a port out of range or not a number raises here
    except ValueError as exc:  # an unbalanced [ or ] in the host, a bad port
        return (f"is not a URL ({exc})", "write https://host, e.g. https://api.treasuredata.com")
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme == "http" and _loopback(host):
        if env.get(LOOPBACK_ENV) == "1":
            return None
        return (
            f"plain http to {host} sends the credential unencrypted",
            f"use https, or set {LOOPBACK_ENV}=1 in the environment for a local test server",
        )
    if scheme != "https":
        return (f"must be https; got {scheme}://", "write https://" + (host or "host"))
    if _on_td(host) or _listed(host, env.get(TRUSTED_ENV, "")):
        return None
    return (
        f"{host or 'that host'} is not a Treasure Data host, so it would receive the credential",
        f"name a *.{TD_DOMAINS[0]} or *.{TD_DOMAINS[1]} host, or let the operator trust it: "
        f"{TRUSTED_ENV}={host or 'host'} in the environment (not in config.yaml)",
    )


def image_is_known(image: str) -> bool:
    """An image TD documents for custom scripts (any tag or digest)."""
    name = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image
    return name in TRUSTED_IMAGES


def _on_td(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in TD_DOMAINS)


def _listed(host: str, listed: str) -> bool:
    for item in (part.strip().lower() for part in listed.split(",")):
        if not item:
            continue
        if item.startswith("*.") and host.endswith(item[1:]):
            return True
        if host == item:
            return True
    return False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
