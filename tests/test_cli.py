from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from digsync.cli import build_parser, main
from tests.conftest import BASE, EXAMPLE


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "digsync"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "digsync 0.1.0"


def test_init_writes_example_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "config.yaml"
    assert main(["init", "--config", str(target)]) == 0
    text = target.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./digsync.schema.json"
    assert text == EXAMPLE.read_text()
    assert json.loads((tmp_path / "digsync.schema.json").read_text())["title"]
    assert main(["init", "--config", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["init", "--config", str(target), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "files": [str(target), str(tmp_path / "digsync.schema.json")]
    }


def test_validate_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.yaml", BASE)
    assert main(["validate", "--config", str(good)]) == 0
    bad = write(tmp_path / "bad.yaml", BASE.replace("daily", "dayly"))
    assert main(["validate", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:8:16: sync.schedule.frequency: expected one of" in err
    assert main(["validate", "--config", str(bad), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    (problem,) = report["configs"][0]["problems"]
    assert problem["line"] == 8
    assert problem["key_path"] == "sync.schedule.frequency"
    assert problem["hint"] == "did you mean 'daily'?"


def test_generate_writes_project_and_check_detects_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    out = tmp_path / "out"
    args = ["generate", "--config", str(config), "--project-dir", str(out)]
    assert main(args) == 0
    dig = out / "semantic_layer_sync" / "semantic_layer_sync.dig"
    sql = out / "semantic_layer_sync" / "queries" / "delta_report.sql"
    assert dig.is_file() and sql.is_file()
    assert main([*args, "--check"]) == 0
    capsys.readouterr()
    write(config, BASE.replace("03:00:00", "04:00:00"))
    assert main([*args, "--check"]) == 1
    captured = capsys.readouterr()
    assert "update" in captured.out and '+  daily>: "04:00:00"' in captured.out
    assert 'daily>: "03:00:00"' in dig.read_text()  # --check wrote nothing
    assert main(args) == 0
    assert 'daily>: "04:00:00"' in dig.read_text()


def test_generate_output_flag_is_compatible(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    target = tmp_path / "flows" / "custom.dig"
    assert main(["generate", "--config", str(config), "--output", str(target)]) == 0
    assert target.is_file()
    assert (tmp_path / "flows" / "queries" / "delta_report.sql").is_file()


def test_generate_many_configs_into_project_folders(tmp_path: Path) -> None:
    args = ["generate", "--project-dir", str(tmp_path / "out")]
    for name in ("alpha", "beta"):
        path = write(
            tmp_path / f"{name}.yaml",
            BASE.replace("project: semantic_layer_sync", f"project: {name}"),
        )
        args += ["--config", str(path)]
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["alpha", "beta"]


def test_generate_refuses_duplicate_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write(tmp_path / "a.yaml", BASE)
    b = write(tmp_path / "b.yaml", BASE)
    code = main(["generate", "--config", str(a), "--config", str(b), "--project-dir", "o"])
    assert code == 2
    assert "both render project 'semantic_layer_sync'" in capsys.readouterr().err


def test_generate_project_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--config",
                str(config),
                "--project-dir",
                str(out),
                "--project",
                "other_project",
            ]
        )
        == 0
    )
    assert (out / "other_project" / "semantic_layer_sync.dig").is_file()
    assert main(["generate", "--config", str(config), "--project", "9bad"]) == 2
    assert "--project: expected" in capsys.readouterr().err


def test_generate_config_error_writes_nothing(tmp_path: Path) -> None:
    config = write(tmp_path / "config.yaml", BASE.replace("gld_*", "GLD*/"))
    assert main(["generate", "--config", str(config), "--project-dir", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_schedule_only_mode_rewrites_the_named_dig(tmp_path: Path) -> None:
    hand = write(tmp_path / "mine.dig", "# mine\ntimezone: UTC\n\n+a:\n  echo>: hi # keep\n")
    config = write(tmp_path / "config.yaml", BASE + "  source: mine.dig\n")
    assert main(["generate", "--config", str(config), "--check"]) == 1
    assert main(["generate", "--config", str(config)]) == 0
    assert hand.read_text() == (
        '# mine\ntimezone: UTC\nschedule:\n  daily>: "03:00:00"\n\n+a:\n  echo>: hi # keep\n'
    )
    assert main(["generate", "--config", str(config), "--check"]) == 0


def test_schedule_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    assert (
        main(
            [
                "schedule",
                "--config",
                str(config),
                "--from",
                "2026-03-01T00:00:00Z",
                "--next",
                "2",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["timezone"] == "UTC"
    assert data["next_runs"] == [
        {
            "session_time": "2026-03-01T00:00:00+00:00",
            "run_time": "2026-03-01T03:00:00+00:00",
            "run_time_utc": "2026-03-01T03:00:00Z",
        },
        {
            "session_time": "2026-03-02T00:00:00+00:00",
            "run_time": "2026-03-02T03:00:00+00:00",
            "run_time_utc": "2026-03-02T03:00:00Z",
        },
    ]


def test_schedule_json_writes_runs_as_digdag_does_and_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run_time_utc is Digdag's nextRunTime; a schedule past its end answers, as Digdag
    does, 9999-01-01T00:00:00Z for every further run."""
    dig = write(
        tmp_path / "w.dig",
        "timezone: America/Los_Angeles\nschedule:\n  daily>: 02:30:00\n  end: 2024-03-11\n"
        "+a:\n  echo>: x\n",
    )
    args = ["schedule", "--dig", str(dig), "--from", "2024-03-10T00:00:00Z", "--next", "3"]
    assert main([*args, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["next_runs"]
    assert [r["run_time_utc"] for r in runs] == [
        "2024-03-10T10:30:00Z",  # 02:30 does not exist that day: 03:30 PDT
        "2024-03-11T09:30:00Z",
        "9999-01-01T00:00:00Z",
    ]
    assert runs[2]["session_time"] == "9998-12-31T16:00:00-08:00" and runs[2]["end_of_schedule"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no more runs: the schedule has ended (Digdag shows 9999-01-01T00:00:00Z)" in out


def test_schedule_from_a_dig_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dig = write(
        tmp_path / "w.dig",
        'timezone: America/Los_Angeles\nschedule:\n  daily>: "10:00:00"\n+a:\n  echo>: hi\n',
    )
    assert (
        main(
            [
                "schedule",
                "--dig",
                str(dig),
                "--from",
                "2016-03-13T00:00:00-08:00",
                "--next",
                "1",
                "--json",
            ]
        )
        == 0
    )
    (run,) = json.loads(capsys.readouterr().out)["next_runs"]
    assert run["run_time"] == "2016-03-13T11:00:00-07:00"


def test_schedule_manual(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE.replace("frequency: daily", "enabled: false"))
    assert main(["schedule", "--config", str(config)]) == 0
    assert "manual runs only" in capsys.readouterr().out


def test_schedule_bad_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "config.yaml", BASE)
    assert main(["schedule", "--config", str(config), "--from", "tomorrow"]) == 2
    assert "--from: expected an ISO-8601 time" in capsys.readouterr().err


def test_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    frequency = schema["properties"]["sync"]["properties"]["schedule"]["properties"]["frequency"]
    assert frequency["enum"] == [
        "manual",
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "interval",
        "custom",
    ]
    assert schema["properties"]["workflow"]["additionalProperties"] is False


def test_lint_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.dig", "timezone: UTC\n+a:\n  echo>: hi\n")
    bad = write(tmp_path / "bad.dig", "+a:\n  sh>: echo hi\n")
    assert main(["lint", str(good)]) == 0
    assert main(["lint", "--profile", "td", str(bad)]) == 1
    assert main(["lint", "--profile", "digdag", str(bad)]) == 0
    capsys.readouterr()
    assert main(["lint", "--json", str(bad)]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert set(finding) == {"path", "line", "column", "code", "severity", "message"}
    assert (finding["line"], finding["column"]) == (2, 3)
    assert main(["lint", str(tmp_path / "missing.dig")]) == 2


def test_make_run_example_lints_clean(tmp_path: Path) -> None:
    out = tmp_path / "workflows"
    assert main(["generate", "--config", str(EXAMPLE), "--project-dir", str(out)]) == 0
    dig = out / "semantic_layer_sync" / "semantic_layer_sync.dig"
    assert main(["lint", "--profile", "td", str(dig)]) == 0


def test_usage_without_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: digsync" in capsys.readouterr().out


# --- --json failures: the Config API's error shape ----------------------------------


def api_problem_keys() -> set[str]:
    from digsync.server.schemas import ProblemOut

    return set(ProblemOut.model_fields)


def test_cli_and_api_give_a_problem_one_shape() -> None:
    from digsync.editor import service
    from digsync.errors import Mark, Problem, problem_json
    from digsync.server import app, errors

    # One builder, not two copies that could drift apart.
    assert app.problem_json is errors.problem_json is service.problem_json is problem_json
    for problem in (
        Problem(Mark("config.yaml", 8, 16), "sync.schedule.frequency", "bad", "did you mean?"),
        Problem(None, "", "config.yaml is not UTF-8 text", severity="warning"),
    ):
        assert set(problem_json(problem)) == api_problem_keys()


def failure(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    """Run a command that fails: its exit code and the JSON document on stdout."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors leave as SystemExit(2)
        assert isinstance(exc.code, int)
        code = exc.code
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict)
    return code, doc


def assert_error_shape(doc: dict[str, object], code: str) -> list[dict[str, object]]:
    assert doc["code"] == code
    assert isinstance(doc["error"], str | list) and doc["error"]
    problems = doc["problems"]
    assert isinstance(problems, list)
    for problem in problems:
        assert set(problem) == api_problem_keys()
    return problems


def subcommands() -> dict[str, argparse.ArgumentParser]:
    return {
        name: sub
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name, sub in action.choices.items()
    }


JSON_COMMANDS = sorted(
    name
    for name, sub in subcommands().items()
    if any("--json" in action.option_strings for action in sub._actions)
)


def test_json_commands_are_found() -> None:
    assert {"init", "validate", "generate", "lint", "plan", "push", "watch"} < set(JSON_COMMANDS)
    assert "schema" not in JSON_COMMANDS


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_every_json_command_prints_usage_errors_as_json(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ["x.dig"] if command == "lint" else []
    code, doc = failure(capsys, command, *path, "--json", "--no-such-option")
    assert code == 2
    assert_error_shape(doc, "usage_error")
    assert doc["error"] == "unrecognized arguments: --no-such-option"


def test_a_missing_argument_with_json_is_a_json_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc = failure(capsys, "lint", "--json")
    assert code == 2
    assert_error_shape(doc, "usage_error")
    assert doc["error"] == "the following arguments are required: PATH"
    code, doc = failure(capsys, "lint", "--format", "json", "--profile", "nope", "x.dig")
    assert (code, doc["code"]) == (2, "usage_error")


@pytest.mark.parametrize(
    "command",
    ["validate", "generate", "schedule", "plan", "status", "history", "rollback", "sync"],
)
def test_every_json_command_prints_config_errors_as_json(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path / "config.yaml", BASE.replace("daily", "dayly"))
    code, doc = failure(capsys, command, "--config", str(bad), "--json")
    assert code == 2
    (problem,) = assert_error_shape(doc, "invalid_config")
    assert (problem["key_path"], problem["line"], problem["column"]) == (
        "sync.schedule.frequency",
        8,
        16,
    )
    assert problem["hint"] == "did you mean 'daily'?"
    assert doc["error"] == [problem["text"]]
    assert str(problem["text"]).startswith(f"{bad}:8:16: sync.schedule.frequency: expected")


def test_validate_json_keeps_its_report_and_adds_the_error_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good.yaml", BASE)
    bad = write(tmp_path / "bad.yaml", BASE.replace("daily", "dayly"))
    code, doc = failure(capsys, "validate", "--config", str(good), "--config", str(bad), "--json")
    assert code == 2
    assert [c["valid"] for c in doc["configs"]] == [True, False]  # type: ignore[attr-defined]
    assert doc["valid"] is False
    (problem,) = assert_error_shape(doc, "invalid_config")
    assert problem == doc["configs"][1]["problems"][0]  # type: ignore[index]
    assert main(["validate", "--config", str(good), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"valid", "configs"}


def test_usage_errors_raised_by_commands_print_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "config.yaml"
    assert main(["init", "--config", str(target)]) == 0
    capsys.readouterr()
    code, doc = failure(capsys, "init", "--config", str(target), "--json")
    assert code == 2
    assert_error_shape(doc, "usage_error")
    assert doc["error"] == f"{target} already exists; use --force to overwrite it"
    code, doc = failure(capsys, "generate", "--config", str(target), "--push", "--check", "--json")
    assert (code, doc["error"]) == (2, "--push and --check do not go together")


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A folder with config.yaml and the arguments of a Digdag server that refuses."""
    from tests.push_helpers import push_workdir

    push_workdir(tmp_path, monkeypatch, BASE, retry_total="2")
    monkeypatch.setenv("DIGSYNC_RETRY_ATTEMPTS", "1")
    return ["--target", "digdag", "--endpoint", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("command", "exit_code"),
    [("plan", 2), ("status", 1), ("history", 1), ("rollback", 1)],  # as before: plan says 2
)
def test_server_errors_print_json_with_their_exit_codes(
    command: str, exit_code: int, unreachable: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = failure(capsys, command, *unreachable, "--json")
    assert code == exit_code
    assert assert_error_shape(doc, "target_error") == []
    assert str(doc["error"]).startswith("find project failed: GET http://127.0.0.1:9/api/")


def test_a_failed_push_json_has_its_results_and_the_error_shape(
    unreachable: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = failure(capsys, "push", *unreachable, "--json")
    assert code == 1
    (result,) = doc["results"]  # type: ignore[misc]
    assert result["status"] == "failed"
    assert_error_shape(doc, "push_failed")
    assert doc["error"] == [f"semantic_layer_sync: {result['message']}"]


def test_a_bug_with_json_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import digsync.config.schema

    def broken() -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(digsync.config.schema, "json_schema", broken)
    code, doc = failure(capsys, "init", "--config", str(tmp_path / "config.yaml"), "--json")
    assert code == 3
    assert_error_shape(doc, "internal_error")
    assert "secret internals" not in json.dumps(doc)


def test_every_digsync_error_has_its_own_code() -> None:
    import importlib
    import pkgutil

    import digsync
    from digsync.errors import DigsyncError, error_code

    for info in pkgutil.walk_packages(digsync.__path__, "digsync."):
        # not the workflow's own tasks (no DigsyncError there), not python -m digsync
        if ".runtime" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    classes, todo = [], [DigsyncError]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    assert len(classes) > 15
    generic = [c.__name__ for c in classes[1:] if error_code(c.__new__(c)) in ("error", "")]
    assert generic == []
    assert error_code(ValueError()) == "internal_error"


# --- --help: a description and examples for every command ----------------------------


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_command_help_has_a_description_and_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_ecosystem import digsync_commands, parse_digsync

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    paragraphs = capsys.readouterr().out.split("\n\n")
    assert paragraphs[0].startswith(f"usage: digsync {command}")
    description = paragraphs[1]
    assert not description.startswith(("options:", "positional arguments:", " "))
    assert len(description.split()) >= 8
    (examples,) = [p for p in paragraphs if p.startswith("examples:\n")]
    lines = examples.splitlines()[1:]
    assert len(lines) >= 2
    assert all(line.startswith(f"  digsync {command}") for line in lines)
    for line in lines:  # each example is a command digsync accepts
        (args,) = digsync_commands(line.strip())
        assert parse_digsync(args).command == command
