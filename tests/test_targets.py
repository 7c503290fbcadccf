"""Target selection (flag, environment, config) and the tdx seam."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from digsync.cli import main
from digsync.errors import UsageError
from digsync.targets import REGIONS, open_target, settings
from digsync.targets.rest import RestTarget
from tests.conftest import BASE


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DIGSYNC_TARGET",
        "DIGSYNC_ENDPOINT",
        "DIGSYNC_REGION",
        "TD_API_KEY",
        "DIGDAG_AUTHORIZATION",
    ):
        monkeypatch.delenv(name, raising=False)


def test_default_is_local() -> None:
    s = settings(None, None, {}, Path("."))
    assert (s.kind, s.endpoint, s.workflows_dir) == ("local", None, Path("workflows"))


@pytest.mark.parametrize(("region", "url"), sorted(REGIONS.items()))
def test_td_endpoint_by_region(region: str, url: str) -> None:
    assert settings("td", None, {"region": region}, Path(".")).endpoint == url


def test_td_region_endpoints_are_the_documented_ones() -> None:
    assert REGIONS == {
        "us": "https://api-workflow.treasuredata.com",
        "jp": "https://api-workflow.treasuredata.co.jp",
        "eu01": "https://api-workflow.eu01.treasuredata.com",
        "ap02": "https://api-workflow.ap02.treasuredata.com",
        "ap03": "https://api-workflow.ap03.treasuredata.com",
    }


def test_precedence_flag_then_env_then_config(monkeypatch: pytest.MonkeyPatch) -> None:
    section = {"type": "digdag", "endpoint": "http://from-config"}
    assert settings(None, None, section, Path(".")).kind == "digdag"
    monkeypatch.setenv("DIGSYNC_TARGET", "td")
    monkeypatch.setenv("DIGSYNC_ENDPOINT", "http://from-env")
    s = settings(None, None, section, Path("."))
    assert (s.kind, s.endpoint) == ("td", "http://from-env")
    s = settings("digdag", "http://from-flag", section, Path("."))
    assert (s.kind, s.endpoint) == ("digdag", "http://from-flag")


def test_td_header_uses_td1_and_the_env_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TD_API_KEY", "1/abc")
    target = open_target(settings("td", None, {}, tmp_path), tmp_path)
    assert isinstance(target, RestTarget)
    assert target.client._http.headers["Authorization"] == "TD1 1/abc"
    assert target.location == "https://api-workflow.treasuredata.com"
    target.close()


def test_digdag_header_is_optional(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plain = open_target(settings("digdag", "http://d:65432", {}, tmp_path), tmp_path)
    assert isinstance(plain, RestTarget)
    assert "Authorization" not in plain.client._http.headers
    monkeypatch.setenv("DIGDAG_AUTHORIZATION", "Bearer t")
    authed = open_target(settings("digdag", "http://d:65432", {}, tmp_path), tmp_path)
    assert isinstance(authed, RestTarget)
    assert authed.client._http.headers["Authorization"] == "Bearer t"


def test_digdag_without_url_and_unknown_names_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="needs a server URL"):
        settings("digdag", None, {}, Path("."))
    with pytest.raises(UsageError, match="unknown target 'ftp'"):
        settings("ftp", None, {}, Path("."))
    with pytest.raises(UsageError, match="unknown region 'mars'"):
        settings("td", None, {"region": "mars"}, Path("."))


def fake_tdx(folder: Path, exit_code: int = 0) -> Path:
    """A tdx stand-in that records its arguments, working folder and files."""
    script = folder / "tdx"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$TDX_LOG"\n'
        'pwd >> "$TDX_LOG"\n'
        'ls -R >> "$TDX_LOG"\n'
        'echo "tdx: pushed ok"\n'
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_tdx_target_runs_tdx_wf_push_in_the_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tdx(bin_dir)
    log = tmp_path / "tdx.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TDX_LOG", str(log))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(BASE)
    assert main(["push", "--target", "tdx", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pushed"
    args, cwd, *listing = log.read_text().splitlines()
    assert args == "wf push"
    assert cwd.endswith("/semantic_layer_sync")
    assert "semantic_layer_sync.dig" in listing and "delta_report.sql" in listing


def test_tdx_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tdx(bin_dir, exit_code=3)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TDX_LOG", str(tmp_path / "log"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(BASE)
    assert main(["push", "--target", "tdx", "--json"]) == 1
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["message"] == (
        "push failed: tdx wf push exited 3 in semantic_layer_sync: tdx: pushed ok"
    )


def test_missing_tdx_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(BASE)
    assert main(["push", "--target", "tdx"]) == 2
    assert "npm install -g @treasuredata/tdx" in capsys.readouterr().err


def test_the_environment_beats_config_for_region_and_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    section = {"type": "td", "region": "jp", "endpoint": "https://wf.example.com"}
    assert settings(None, None, section, Path(".")).endpoint == "https://wf.example.com"
    monkeypatch.setenv("DIGSYNC_REGION", "eu01")
    assert settings(None, None, section, Path(".")).endpoint == REGIONS["eu01"]
    assert settings(None, None, {"region": "jp"}, Path(".")).kind == "local"
    monkeypatch.setenv("DIGSYNC_ENDPOINT", "http://127.0.0.1:1")
    assert settings(None, None, section, Path(".")).endpoint == "http://127.0.0.1:1"
    assert settings(None, "http://flag:2", section, Path(".")).endpoint == "http://flag:2"
    monkeypatch.setenv("DIGSYNC_REGION", "mars")
    monkeypatch.delenv("DIGSYNC_ENDPOINT")
    with pytest.raises(UsageError, match="unknown region 'mars'"):
        settings("td", None, {}, Path("."))
