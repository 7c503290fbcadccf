"""Webhook URLs leave the server only as a mask, and a mask sent back keeps the stored URL.

A webhook URL is the ``channel`` of a notification channel
(``notifications.<event>.channels[i].channel``); any other string equal to one is
masked as well, wherever it was copied.
"""

from __future__ import annotations

from typing import Any

from digsync.config.spec import format_path
from digsync.errors import Problem
from digsync.yamlio.load import PathKey

MASK = "********"


def webhook_urls(data: Any) -> dict[PathKey, str]:
    """Path -> URL of every webhook channel in config data."""
    found: dict[PathKey, str] = {}
    notifications = data.get("notifications") if isinstance(data, dict) else None
    if not isinstance(notifications, dict):
        return found
    for event, node in notifications.items():
        channels = node.get("channels") if isinstance(node, dict) else None
        if not isinstance(channels, list):
            continue
        for i, channel in enumerate(channels):
            url = channel.get("channel") if isinstance(channel, dict) else None
            if isinstance(url, str) and url and url != MASK:
                found[("notifications", event, "channels", i, "channel")] = url
    return found


def secret_values(data: Any) -> set[str]:
    """Every string that must never be shown (the webhook URLs)."""
    return set(webhook_urls(data).values())


def mask(data: Any, secrets: set[str] | None = None) -> Any:
    """A copy of data with every secret string replaced by the mask."""
    hidden = secret_values(data) if secrets is None else secrets
    return _replace(data, hidden)


def _replace(value: Any, hidden: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, hidden) for v in value]
    if isinstance(value, str) and value in hidden:
        return MASK
    return value


def unmask(new: Any, stored: Any) -> tuple[Any, list[Problem]]:
    """New data with each masked channel put back to its stored URL.

    Slack webhooks cannot be added, removed or reordered through the API, so the k-th
    masked channel of an event is the k-th webhook URL the stored file has for it, even
    when an email channel before it was removed. A mask with no stored URL left is a
    problem: the URL cannot be guessed.
    """
    urls = webhook_urls(stored)
    problems: list[Problem] = []
    notifications = new.get("notifications") if isinstance(new, dict) else None
    if not isinstance(notifications, dict):
        return new, problems
    for event, node in notifications.items():
        channels = node.get("channels") if isinstance(node, dict) else None
        if not isinstance(channels, list):
            continue
        stored_urls = [url for path, url in sorted(urls.items(), key=_index) if path[1] == event]
        for i, channel in enumerate(channels):
            if not isinstance(channel, dict) or channel.get("channel") != MASK:
                continue
            if stored_urls:
                channel["channel"] = stored_urls.pop(0)
                continue
            path: PathKey = ("notifications", event, "channels", i, "channel")
            problems.append(
                Problem(
                    None,
                    format_path(path),
                    "is the mask of a webhook URL, but the saved config has no URL here",
                    "send the webhook URL itself",
                )
            )
    return new, problems


def _index(item: tuple[PathKey, str]) -> int:
    index = item[0][3]
    return index if isinstance(index, int) else 0
