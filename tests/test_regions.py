"""A TD API key belongs to one region: the push endpoint and the API host the py> tasks
call must agree, or the push is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digsync.cli import main
from digsync.config.regions import mismatch, region_of_api, region_of_endpoint
from tests.conftest import BASE


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://api-workflow.treasuredata.com", "us"),
        ("https://api-workflow.treasuredata.co.jp/", "jp"),
        ("api-workflow.eu01.treasuredata.com", "eu01"),
        ("https://API-WORKFLOW.AP02.treasuredata.com:443", "ap02"),
        ("https://api-workflow.ap03.treasuredata.com", "ap03"),
        ("http://127.0.0.1:65432", None),
        ("https://api-workflow.treasuredata.com.attacker.example", None),
        ("https://[x", None),
    ],
)
def test_region_of_a_workflow_endpoint(url: str, region: str | None) -> None:
    assert region_of_endpoint(url) == region


def test_region_of_the_tasks_api_host() -> None:
    assert region_of_api(None) == "us"  # the tasks' default
    assert region_of_api("api.treasuredata.co.jp") == "jp"
    assert region_of_api("https://api.eu01.treasuredata.com/") == "eu01"
    assert region_of_api("td.internal.example") is None


def test_mismatch_names_both_sides() -> None:
    assert mismatch("https://api-workflow.treasuredata.co.jp", None) == (
        "the push goes to api-workflow.treasuredata.co.jp (jp) but the py> tasks would call "
        "api.treasuredata.com (us), where a jp API key is not valid"
    )
    assert mismatch("https://api-workflow.treasuredata.co.jp", "api.treasuredata.co.jp") is None
    assert mismatch("https://api-workflow.treasuredata.com", None) is None
    assert mismatch("http://127.0.0.1:65432", None) is None  # self-hosted: not TD's business
    assert mismatch("https://api-workflow.ap02.treasuredata.com", "td.internal") is None


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TD_API_KEY", "1/abcdef0123456789")
    for name in ("DIGSYNC_REGION", "DIGSYNC_ENDPOINT", "DIGSYNC_TARGET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("how", "region"),
    [
        ({"env": {"DIGSYNC_REGION": "jp"}}, "jp"),
        ({"args": ["--endpoint", "https://api-workflow.eu01.treasuredata.com"]}, "eu01"),
    ],
)
def test_a_non_us_push_of_tasks_that_call_the_us_api_is_refused(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: dict[str, object],
    region: str,
) -> None:
    (project / "config.yaml").write_text(BASE)
    for key, value in dict(how.get("env", {})).items():  # type: ignore[call-overload]
        monkeypatch.setenv(key, value)
    args = list(how.get("args", []))  # type: ignore[call-overload]
    assert main(["push", "--target", "td", *args, "--json"]) == 2
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "failed"
    assert f"refused: the push goes to api-workflow.{region}" in result["message"].replace(
        "api-workflow.treasuredata.co.jp", "api-workflow.jp"
    )
    assert "api.treasuredata.com (us)" in result["message"]
    assert "set target.region" in result["message"]


def test_the_config_region_makes_the_tasks_call_that_region(project: Path) -> None:
    """target.region: jp renders TD_API_SERVER for jp (so a jp push is not refused)."""
    (project / "config.yaml").write_text(BASE + "target:\n  type: td\n  region: jp\n")
    assert main(["generate", "--project-dir", "out"]) == 0
    dig = (project / "out" / "semantic_layer_sync" / "semantic_layer_sync.dig").read_text()
    assert "TD_API_SERVER: api.treasuredata.co.jp" in dig
