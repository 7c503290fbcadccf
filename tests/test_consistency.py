"""One answer wherever it is asked (issue #14 items 15-18): the time zone suggestion is a
hint, plan and push show validate's warnings, each list of values has one source, and a
person has one name in history whether they used the CLI or the UI."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path

import httpx
import pytest

from digsync.cli import main
from digsync.cli.parser import build_parser
from digsync.config.model import INTERVAL_MINUTES, interval_hint, parse_config
from digsync.config.schema import FREQUENCIES, json_schema
from digsync.config.targets import REGIONS, TARGETS
from digsync.errors import ConfigError
from digsync.history.ledger import Ledger, who
from tests.conftest import BASE
from tests.push_helpers import push_workdir
from tests.server_fixtures import API, PROJECT, live_server, prepare_workdir

# --- item 15: time zone suggestion --------------------------------------------------------


def timezone_problem(tz: str) -> tuple[str, str | None]:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE.replace("timezone: UTC", f"timezone: {tz}"))
    (problem,) = [p for p in caught.value.problems if p.key_path == "sync.schedule.timezone"]
    return problem.message, problem.hint


def test_a_mistyped_time_zone_gets_a_did_you_mean_hint() -> None:
    message, hint = timezone_problem("Europe/Londn")
    assert hint == "did you mean 'Europe/London'?"
    assert "did you mean" not in message
    assert message == "Unknown time zone name: Europe/Londn"
    assert timezone_problem("JST")[1] == "did you mean 'Asia/Tokyo'?"
    assert timezone_problem("Nowhere") == (
        "Unknown time zone name: Nowhere",
        "use an IANA name such as 'Asia/Tokyo'",
    )


# --- item 16: plan and push show the config's warnings ----------------------------------

WARNED = BASE + "extra_section: 1\n"


@pytest.fixture
def warned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return push_workdir(tmp_path, monkeypatch, WARNED)


@pytest.mark.parametrize("command", ["plan", "push"])
def test_plan_and_push_show_the_warnings_validate_shows(
    warned: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", "--json"])
    shown = json.loads(capsys.readouterr().out)["configs"][0]["problems"]
    assert [p["key_path"] for p in shown] == ["extra_section"]
    main([command])
    _, err = capsys.readouterr()
    assert shown[0]["text"] in err.splitlines()
    main([command, "--json"])
    out, _ = capsys.readouterr()
    assert json.loads(out)["warnings"] == shown


# --- item 17: one source for each list ----------------------------------------------------


def cli_choices(option: str) -> set[tuple[str, ...]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        tuple(action.choices)
        for command in sub.choices.values()
        for action in command._actions
        if option in action.option_strings and action.choices is not None
    }


def test_targets_regions_and_frequencies_come_from_one_list() -> None:
    schema = json_schema()["properties"]
    target = schema["target"]["properties"]
    assert cli_choices("--target") == {TARGETS}
    assert tuple(target["type"]["enum"]) == TARGETS
    assert tuple(target["region"]["enum"]) == tuple(REGIONS)
    frequency = schema["sync"]["properties"]["schedule"]["properties"]["frequency"]
    assert tuple(frequency["enum"]) == FREQUENCIES


def test_the_interval_hint_and_check_list_the_same_values() -> None:
    accepted = []
    for minutes in range(1, 1441):
        text = BASE.replace(
            "frequency: daily", f"frequency: interval\n    interval_minutes: {minutes}"
        )
        try:
            parse_config(text)
        except ConfigError as exc:
            (problem,) = exc.problems
            assert problem.hint == interval_hint()
        else:
            accepted.append(minutes)
    assert tuple(accepted) == INTERVAL_MINUTES
    hint = interval_hint()
    assert "(1-6, 10, 12, 15, 20, 30, 60)" in hint
    assert "(120, 180, 240, 360, 480, 720, 1440)" in hint


# --- item 18: one identity per person ----------------------------------------------------


def ledger_authors(folder: Path) -> list[str]:
    return [e["who"] for e in Ledger(folder / ".digsync", PROJECT).entries()]


@pytest.mark.parametrize("user", [None, "alice"])
def test_the_cli_and_the_api_record_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: str | None
) -> None:
    config = prepare_workdir(tmp_path, monkeypatch)
    if user is None:
        monkeypatch.delenv("DIGSYNC_USER")
    else:
        monkeypatch.setenv("DIGSYNC_USER", user)
    expected = user or getpass.getuser()
    assert who() == expected
    assert main(["push"]) == 0
    with live_server(config) as url, httpx.Client(base_url=url, timeout=30) as http:
        data = http.get(f"{API}/config").json()
        data["sync"]["sync_mode"] = "full"
        assert http.post(f"{API}/config", json=data).json()["workflowUpdated"] is True
        assert http.post(f"{API}/rollback", json={}).status_code == 200
        audit = http.get(f"{API}/history").json()["audit"]
    assert ledger_authors(tmp_path) == [expected] * 3
    assert [a["who"] for a in audit] == [expected, expected]


def test_with_a_token_the_api_records_the_tokens_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = prepare_workdir(tmp_path, monkeypatch)
    auth = {"Authorization": "Bearer t0ken"}
    with (
        live_server(config, token="carol:t0ken") as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        data = http.get(f"{API}/config").json()
        assert http.post(f"{API}/config", json=data, headers=auth).status_code == 200
        audit = http.get(f"{API}/history").json()["audit"]
    assert [a["who"] for a in audit] == ["carol"]
    assert ledger_authors(tmp_path) == ["carol"]
