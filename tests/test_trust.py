"""Hosts that receive a credential: TD's, or the ones the operator trusts; never a host
config.yaml alone names."""

from __future__ import annotations

import pytest

from digsync.config.model import parse_config
from digsync.config.trust import host_problem, image_is_known
from digsync.dig.lint.core import lint_text
from digsync.errors import ConfigError
from tests.conftest import BASE

OPERATOR = {"DIGSYNC_TRUSTED_HOSTS": "digdag.internal, *.corp.example"}


@pytest.mark.parametrize(
    "url",
    [
        "api.treasuredata.co.jp",
        "https://api.eu01.treasuredata.com",
        "https://api-workflow.ap03.treasuredata.com/",
        "https://digdag.internal:65432",
        "https://wf.eu.corp.example",
    ],
)
def test_td_hosts_and_trusted_hosts_may_receive_credentials(url: str) -> None:
    assert host_problem(url, OPERATOR) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://attacker.example",
            "must be https; got http://",
        ),
        (
            "https://api.treasuredata.com.attacker.example",
            "api.treasuredata.com.attacker.example is not a Treasure Data host, so it would "
            "receive the credential",
        ),
        ("https://corp.example", "corp.example is not a Treasure Data host"),
        ("http://127.0.0.1:8080", "plain http to 127.0.0.1 sends the credential unencrypted"),
        ("ftp://api.treasuredata.com", "must be https; got ftp://"),
        ("http://]x", "is not a URL (Invalid IPv6 URL)"),
        ("https://[x", "is not a URL (Invalid IPv6 URL)"),
        ("https://api.treasuredata.com:99999", "is not a URL (Port out of range"),
    ],
)
def test_other_hosts_are_refused(url: str, message: str) -> None:
    problem = host_problem(url, OPERATOR)
    assert problem is not None and problem[0].startswith(message), problem


def test_loopback_http_only_when_the_operator_allows_it() -> None:
    allowed = {"DIGSYNC_ALLOW_HTTP_LOOPBACK": "1"}
    assert host_problem("http://127.0.0.1:8080", allowed) is None
    assert host_problem("http://localhost:1", allowed) is None
    assert host_problem("http://[::1]:1", allowed) is None
    assert host_problem("http://10.0.0.1:1", allowed) is not None


def errors_of(text: str) -> list[str]:
    try:
        parse_config(text)
    except ConfigError as exc:
        return [str(p) for p in exc.problems if p.severity == "error"]
    return []


def test_validate_refuses_a_td_api_server_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGSYNC_TRUSTED_HOSTS", raising=False)
    text = BASE + "  td_api_server: http://attacker.example\n"
    assert errors_of(text) == [
        "config.yaml:14:18: workflow.td_api_server: the py> tasks send the TD key here: must "
        "be https; got http:// (write https://attacker.example)"
    ]
    monkeypatch.setenv("DIGSYNC_TRUSTED_HOSTS", "attacker.example")
    assert errors_of(BASE + "  td_api_server: attacker.example:8443\n") == []


def test_validate_refuses_a_target_endpoint_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGSYNC_TRUSTED_HOSTS", raising=False)
    text = BASE + "target:\n  type: td\n  endpoint: https://collector.example\n"
    (error,) = errors_of(text)
    assert error.startswith(
        "config.yaml:16:13: target.endpoint: push sends its credential here: "
        "collector.example is not a Treasure Data host"
    )
    assert "DIGSYNC_TRUSTED_HOSTS=collector.example in the environment" in error


@pytest.mark.parametrize("endpoint", ["'http://]x'", "'https://[x'"])
def test_an_endpoint_that_is_not_a_url_is_a_config_error(endpoint: str) -> None:
    text = BASE + f"target:\n  type: td\n  endpoint: {endpoint}\n"
    (error,) = errors_of(text)
    assert "target.endpoint" in error and "is not a URL" in error, error


def test_an_unknown_image_is_a_warning() -> None:
    config = parse_config(BASE + "  docker_image: someone/else:latest\n")
    assert [w.key_path for w in config.warnings] == ["workflow.docker_image"]
    assert image_is_known("treasuredata/customscript-python:3.12.11-td0")
    assert image_is_known("digdag/digdag-python:3.10@sha256:" + "0" * 64)
    assert not image_is_known("evil/treasuredata/customscript-python:3")


def test_lint_td_flags_where_the_key_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGSYNC_TRUSTED_HOSTS", raising=False)
    text = (
        "_export:\n  docker: {image: someone/else:1}\n"
        "+a:\n  py>: tasks.run\n  _env:\n    TD_API_KEY: ${secret:td.apikey}\n"
        "    TD_API_SERVER: https://collector.example\n"
    )
    found = [(f.line, f.code, f.severity) for f in lint_text(text, "wf.dig", "td")]
    assert found == [
        (2, "td-docker-image-source", "warning"),
        (7, "td-api-host", "error"),
    ]
    assert [f.code for f in lint_text(text, "wf.dig", "digdag")] == []
