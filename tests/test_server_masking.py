"""Secrets never leave: webhook URLs are masked in every answer and in the files the server
writes, a mask sent back keeps the stored URL, and the TD API key appears nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from digsync.editor.masking import MASK, mask, unmask, webhook_urls
from digsync.editor.roundtrip import to_yaml
from digsync.yamlio.load import load
from tests.fake_digdag import fake_digdag
from tests.server_fixtures import API, PROJECT, WEBHOOK, live_server, prepare_workdir

OTHER = "https://hooks.slack.com/services/T0/B1/SecondWebhookOfTheTests"
TD_KEY = "1/td-api-key-that-must-not-leak"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


def written_files(root: Path) -> Iterator[Path]:
    """Every file the server wrote under root except config.yaml and its pushed copies."""
    for path in root.rglob("*"):
        if path.is_file() and path.name != "config.yaml" and "configs" not in path.parts:
            yield path


def test_mask_and_unmask_by_order_of_the_event_s_webhooks() -> None:
    data = {
        "notifications": {
            "on_error": {"channels": [{"type": "slack", "channel": WEBHOOK}, {"type": "email"}]}
        },
        "notes": {"copy": WEBHOOK},
    }
    masked = mask(data)
    assert masked["notifications"]["on_error"]["channels"][0]["channel"] == MASK
    assert masked["notes"]["copy"] == MASK  # a copy elsewhere is hidden too
    assert webhook_urls(data) == {("notifications", "on_error", "channels", 0, "channel"): WEBHOOK}
    restored, problems = unmask(mask(data), data)
    assert problems == []
    assert restored["notifications"]["on_error"]["channels"][0]["channel"] == WEBHOOK
    # an email channel put before it: the mask is still the event's first webhook
    moved = {"notifications": {"on_error": {"channels": [{"type": "email"}, {"channel": MASK}]}}}
    restored, problems = unmask(moved, data)
    assert problems == []
    assert restored["notifications"]["on_error"]["channels"][1]["channel"] == WEBHOOK
    extra = {"notifications": {"on_error": {"channels": [{"channel": MASK}, {"channel": MASK}]}}}
    _, problems = unmask(extra, data)
    assert [(p.key_path, p.message) for p in problems] == [
        (
            "notifications.on_error.channels[1].channel",
            "is the mask of a webhook URL, but the saved config has no URL here",
        )
    ]
    other_event = {"notifications": {"on_sync_complete": {"channels": [{"channel": MASK}]}}}
    assert len(unmask(other_event, data)[1]) == 1


def test_get_masks_and_a_mask_sent_back_keeps_the_stored_url(config: Path) -> None:
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        got = http.get(f"{API}/config")
        assert WEBHOOK.encode() not in got.content
        data = got.json()
        assert data["notifications"]["on_error"]["channels"][0] == {
            "type": "slack",
            "channel": MASK,
        }
        data["sync"]["sync_mode"] = "full"
        saved = http.post(f"{API}/config", json=data)
        assert saved.status_code == 200
        assert WEBHOOK.encode() not in saved.content
        assert config.read_text().count(WEBHOOK) == 1
        assert f'channel: "{WEBHOOK}"' in config.read_text()
        data["notifications"]["on_error"]["channels"].append({"type": "slack", "channel": MASK})
        refused = http.post(f"{API}/config", json=data)
        assert refused.status_code == 400
        assert refused.json()["error"] == [
            "notifications.on_error.channels: Slack webhooks (channel and secret) cannot be "
            "added, changed or removed through the API (edit the Slack channels in "
            "config.yaml on the server)"
        ]


def test_no_answer_and_no_written_file_contains_a_webhook_url(config: Path) -> None:
    on_disk = load(config.read_text(), "config.yaml").data  # webhooks are set by file edits
    on_disk["notifications"]["on_sync_complete"] = {
        "enabled": True,
        "channels": [{"type": "slack", "channel": OTHER}],
    }
    config.write_text(to_yaml(on_disk, config.read_text()), encoding="utf-8")
    with live_server(config) as url, httpx.Client(base_url=url) as http:
        data = http.get(f"{API}/config").json()
        answers = [
            http.post(f"{API}/config/validate", json=data),
            http.post(f"{API}/preview", json=data),
            http.post(f"{API}/config", json=data),
            http.get(f"{API}/config"),
            http.post(f"{API}/config", json={**data, "sync": {"sync_mode": "full"}}),
            http.get(f"{API}/status"),
            http.get(f"{API}/history"),
            http.post(f"{API}/rollback", json={}),
        ]
    assert [r.status_code for r in answers] == [200] * len(answers)
    assert OTHER in config.read_text() and WEBHOOK in config.read_text()
    for r in answers:
        assert WEBHOOK.encode() not in r.content and OTHER.encode() not in r.content, r.url
    files = list(written_files(config.parent))
    assert any(p.name == "audit.jsonl" for p in files)
    for path in files:
        raw = path.read_bytes()
        assert WEBHOOK.encode() not in raw and OTHER.encode() not in raw, path


def test_the_td_key_and_webhook_urls_never_appear_with_the_td_target(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_API_KEY", TD_KEY)
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    with (
        fake_digdag(auth=f"TD1 {TD_KEY}") as td,
        live_server(config, target="td", endpoint=td.url) as url,
        httpx.Client(base_url=url) as http,
    ):
        data = http.get(f"{API}/config").json()
        answers = [http.post(f"{API}/config", json=data), http.get(f"{API}/status")]
        assert td.secrets(PROJECT) == {"digsync.on_error.slack_0": WEBHOOK}
        # a server that echoes the secret value back in its error message
        td.fail("PUT", "/api/projects/1/secrets", status=400, message=f"bad value {WEBHOOK}")
        data["sync"]["sync_mode"] = "full"
        failed = http.post(f"{API}/config", json=data)
        answers += [failed, http.get(f"{API}/status"), http.get(f"{API}/history")]
    assert failed.status_code == 500
    assert failed.json()["details"].endswith(f": bad value {MASK}")
    for r in answers:
        assert TD_KEY.encode() not in r.content and WEBHOOK.encode() not in r.content
    for path in written_files(config.parent):
        raw = path.read_bytes()
        assert TD_KEY.encode() not in raw and WEBHOOK.encode() not in raw, path
    assert TD_KEY not in config.read_text()
