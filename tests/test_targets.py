"""Target selection (flag, environment, config) and the tdx seam."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from digsync.cli import main
from digsync.config.targets import REGIONS, settings
from digsync.deploy.targets import open_target
from digsync.deploy.targets.rest import RestTarget
from digsync.errors import InputError
from tests import fake_tdx
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


def test_open_target_passes_a_transport_to_the_http_client(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    project = {"id": "7", "name": "p", "revision": "digsync-abc", "archiveMd5": "bWQ1"}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"projects": [project]})

    transport = httpx.MockTransport(answer)
    target = open_target(settings("digdag", "http://d:65432", {}, tmp_path), tmp_path, transport)
    try:
        assert target.current("p") == ("7", "p", "digsync-abc", "bWQ1")
    finally:
        target.close()
    (request,) = seen
    assert (request.method, request.url.path, request.url.params["name"]) == (
        "GET",
        "/api/projects",
        "p",
    )


def _listing_target(pages: list[list[dict[str, Any]]], seen: list[httpx.Request]) -> RestTarget:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"projects": pages[min(len(seen), len(pages)) - 1]})

    return RestTarget("digdag", "http://d:65432", {}, httpx.MockTransport(answer))


def _project(n: int) -> dict[str, Any]:
    return {"id": str(n), "name": f"p{n}", "revision": f"r{n}", "archiveMd5": None}


def test_a_listing_pages_by_last_id_until_a_short_page() -> None:
    seen: list[httpx.Request] = []
    pages = [[_project(n) for n in range(1, 101)], [_project(n) for n in range(101, 131)]]
    target = _listing_target(pages, seen)
    found = target.projects()
    assert sorted(found) == sorted(f"p{n}" for n in range(1, 131))
    assert found["p120"] == ("120", "p120", "r120", None)
    assert [r.url.params.get("last_id") for r in seen] == [None, "100"]
    assert {r.url.params["count"] for r in seen} == {"100"}


def test_a_listing_ends_when_the_server_ignores_the_paging() -> None:
    seen: list[httpx.Request] = []
    page = [_project(n) for n in range(1, 101)] + [{"id": "101", "name": "no revision"}]
    target = _listing_target([page], seen)  # the same page, whatever is asked
    found = target.projects()
    assert len(seen) == 2 and len(found) == 100 and "no revision" not in found


def test_digdag_without_url_and_unknown_names_are_usage_errors() -> None:
    with pytest.raises(InputError, match="needs a server URL"):
        settings("digdag", None, {}, Path("."))
    with pytest.raises(InputError, match="unknown target 'ftp'"):
        settings("ftp", None, {}, Path("."))
    with pytest.raises(InputError, match="unknown region 'mars'"):
        settings("td", None, {"region": "mars"}, Path("."))


@pytest.fixture
def tdx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake tdx on PATH, its log and project store in tmp_path; cwd has config.yaml.
    Returns the log (one JSON line per call)."""
    fake_tdx.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TDX_LOG", str(tmp_path / "tdx.log"))
    monkeypatch.setenv("FAKE_TDX_STATE", str(tmp_path / "tdx-server"))
    for name in ("TDX_API_KEY", "TD_API_KEY", "DIGSYNC_TDX_PROFILE", "DIGSYNC_TDX_ARGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(BASE)
    return tmp_path / "tdx.log"


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def push_tdx(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["push", "--target", "tdx", *args, "--json"])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    return code, result


@pytest.mark.slow
def test_the_fake_tdx_refuses_what_tdx_refuses(tdx: Path, tmp_path: Path) -> None:
    """So the tests below mean something: a bare `tdx wf push` as digsync ran it before
    fails, and a push without -y waits on the prompt."""
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "w.dig").write_text("+a:\n  echo>: hi\n")
    bare = subprocess.run(["tdx", "wf", "push"], cwd=folder, capture_output=True, text=True)
    assert bare.returncode == 1 and "No tdx.json found" in bare.stderr
    (folder / "tdx.json").write_text('{"workflow_project": "bare"}')
    (tmp_path / "tdx-server" / "bare").mkdir(parents=True)
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(
            ["tdx", "wf", "push", str(folder)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=3,
        )


def test_tdx_push_writes_tdx_json_and_passes_folder_yes_and_revision(
    tdx: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tdx.parent / "tdx-server" / "semantic_layer_sync").mkdir(parents=True)  # exists
    code, result = push_tdx(capsys)
    assert code == 0 and result["status"] == "pushed", result
    (call,) = calls(tdx)
    folder = call["args"][2]
    assert call["args"] == ["wf", "push", folder, "-y", "--revision", result["revision"]]
    assert folder.endswith("/semantic_layer_sync")
    assert call["outcome"] == "pushed" and call["project"] == "semantic_layer_sync"
    assert "semantic_layer_sync.dig" in call["files"]
    assert "queries/delta_report.sql" in call["files"]
    # the server's history carries digsync's revision name
    stored = sorted(p.name for p in (tdx.parent / "tdx-server" / "semantic_layer_sync").iterdir())
    assert stored == [result["revision"]]


def test_a_new_project_is_created_with_tdx_wf_upload(
    tdx: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = push_tdx(capsys)
    assert code == 0 and result["status"] == "pushed", result
    push, upload = calls(tdx)
    assert push["outcome"] == "no project"
    assert upload["args"][:2] == ["wf", "upload"]
    assert upload["args"][3:] == ["--name", "semantic_layer_sync", "--revision", result["revision"]]
    assert upload["outcome"] == "uploaded"
    tdx.unlink()
    (tdx.parent / "config.yaml").write_text(BASE.replace("03:00:00", "04:00:00"))
    code, again = push_tdx(capsys)
    assert code == 0 and again["status"] == "pushed"
    (second,) = calls(tdx)  # the project exists now: push, no upload
    assert second["outcome"] == "pushed" and second["revision"] == again["revision"]


def test_tdx_credentials_follow_tdx_conventions(
    tdx: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tdx.parent / "tdx-server" / "semantic_layer_sync").mkdir(parents=True)
    monkeypatch.setenv("TD_API_KEY", "1/td-key-0123456789")
    assert push_tdx(capsys)[0] == 0
    assert calls(tdx)[-1]["api_key"] is True  # TD_API_KEY passed on as TDX_API_KEY
    (tdx.parent / "config.yaml").write_text(
        BASE.replace("03:00:00", "05:00:00") + "target:\n  type: tdx\n  profile: production\n"
    )
    assert push_tdx(capsys)[0] == 0
    call = calls(tdx)[-1]
    assert call["args"][:2] == ["--profile", "production"]
    assert call["profile"] == "production"
    assert call["api_key"] is False  # the profile's login, not digsync's key


def test_tdx_failure_is_reported(
    tdx: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tdx.parent / "tdx-server" / "semantic_layer_sync").mkdir(parents=True)
    monkeypatch.setenv("FAKE_TDX_FAIL", "3")
    code, result = push_tdx(capsys)
    assert code == 2
    assert result["message"] == (
        "push failed: tdx wf push exited 3 in semantic_layer_sync: Error: server refused the push"
    )


@pytest.mark.slow
def test_a_tdx_that_waits_on_a_prompt_ends_with_a_clear_error(
    tdx: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tdx.parent / "tdx-server" / "semantic_layer_sync").mkdir(parents=True)
    monkeypatch.setenv("DIGSYNC_PUSH_TIMEOUT", "2")
    script = tdx.parent / "bin" / "tdx"  # a tdx that asks even with -y (a login prompt, say)
    text = script.read_text().replace(
        "args = sys.argv[1:]", "args = sys.argv[1:]\nargs.remove('-y')"
    )
    script.write_text(text)
    code, result = push_tdx(capsys)
    assert code == 2
    assert result["message"].startswith(
        "push failed: tdx wf push did not finish in 2 s (DIGSYNC_PUSH_TIMEOUT); is it "
        "waiting on a prompt or a login?"
    )


def test_schedule_from_is_refused_on_tdx(tdx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--target", "tdx", "--schedule-from", "2030-01-01T00:00:00Z"]) == 2
    assert "cannot pass --schedule-from" in capsys.readouterr().err


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
    with pytest.raises(InputError, match="unknown region 'mars'"):
        settings("td", None, {}, Path("."))
