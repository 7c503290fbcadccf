"""digsync-hook, the entry points of the pre-commit hooks: which files are digsync
configs, validate of each one, and generate-check's summary on the workflows/ layout.

The hooks as pre-commit runs them (pre-commit try-repo) are in tests/test_ecosystem.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from digsync.cli.hooks import SUMMARY_LINES, is_digsync_config, main
from digsync.render.generate import generate
from tests.conftest import BASE, EXAMPLE

CIRCLECI = "version: 2.1\njobs:\n  build:\n    docker: [{image: cimg/base:current}]\n"
# The example, its local target's folder (where push writes) apart from workflows/.
CONFIG = EXAMPLE.read_text(encoding="utf-8") + "\ntarget:\n  workflows_dir: server\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """config.yaml with its project committed under workflows/, as the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG)
    generate(["config.yaml"], project_dir="workflows")
    return tmp_path


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE, True),
        ('"semantic_database": {name: x}\n', True),
        ("# yaml-language-server: $schema=./digsync.schema.json\nsemantic_databse: {}\n", True),
        (CIRCLECI, False),
        ("settings:\n  semantic_database: x\n", False),  # not top-level
        ("", False),
    ],
    ids=["base", "quoted-key", "modeline-with-typo", "circleci", "nested", "empty"],
)
def test_what_is_a_digsync_config(text: str, expected: bool, tmp_path: Path) -> None:
    assert is_digsync_config(Path(write(tmp_path / "config.yaml", text))) is expected


def test_a_missing_file_is_no_digsync_config(tmp_path: Path) -> None:
    assert not is_digsync_config(tmp_path / "config.yaml")


def test_validate_checks_each_file_given(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = BASE.replace("frequency: daily", "frequency: dayly")
    write(repo / "teams" / "a" / "config.yaml", broken)
    code = main(["validate", "config.yaml", "teams/a/config.yaml"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out.splitlines() == ["config.yaml: ok", "teams/a/config.yaml: 1 error(s)"]
    assert "teams/a/config.yaml:" in err and "got 'dayly'" in err


def test_validate_skips_other_tools_configs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "ci" / "config.yml", CIRCLECI)
    assert main(["validate", "ci/config.yml"]) == 0
    out, _ = capsys.readouterr()
    assert out == "ci/config.yml: skipped, not a digsync config (no top-level semantic_database)\n"


def test_validate_checks_an_explicit_config_whatever_the_files(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "pipeline.yaml", "scope: {}\n")
    assert main(["validate", "--config", "pipeline.yaml"]) == 2
    assert "semantic_database: missing required section" in capsys.readouterr().err


def test_generate_check_passes_on_the_workflows_layout(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dig = "workflows/semantic_layer_sync/semantic_layer_sync.dig"
    assert main(["generate-check", "config.yaml", dig]) == 0
    assert capsys.readouterr().out == "config.yaml: workflows is up to date\n"


def test_generate_check_prints_a_summary_not_a_diff(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / "config.yaml"
    config.write_text(config.read_text().replace('"03:00:00"', '"04:00:00"'))
    assert main(["generate-check", "config.yaml"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "config.yaml: 1 generated file(s) differ from a fresh render:",
        "   update  workflows/semantic_layer_sync/semantic_layer_sync.dig  (+2 -2)",
    ]
    assert err == (
        "generated files are out of date: run "
        "digsync generate --config config.yaml --project-dir workflows\n"
    )


def test_generate_check_of_a_missing_project_counts_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "config.yaml", CONFIG)
    assert main(["generate-check", "config.yaml"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("generated file(s) differ from a fresh render:")
    assert 2 <= len(lines) <= SUMMARY_LINES + 2
    assert all(" create  workflows/semantic_layer_sync/" in line for line in lines[1:])
    assert all(line.endswith(" -0)") for line in lines[1:])


def test_a_changed_workflow_file_concerns_the_config_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "teams" / "a" / "config.yaml", CONFIG)
    generate(["teams/a/config.yaml"], project_dir="teams/a/workflows")
    sql = "teams/a/workflows/semantic_layer_sync/queries/delta_report.sql"
    write(tmp_path / sql, "select 1\n")
    assert main(["generate-check", sql]) == 1
    out = capsys.readouterr().out
    assert out.startswith("teams/a/config.yaml: 1 generated file(s) differ")
    assert f"   update  {sql}  (+" in out


def test_generate_check_ignores_other_tools_configs(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / "ci" / "config.yml", CIRCLECI)
    assert main(["generate-check", "ci/config.yml"]) == 0
    assert capsys.readouterr().out == ""


def test_generate_check_takes_another_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "config.yaml", CONFIG)
    generate(["config.yaml"], project_dir="td")
    assert main(["generate-check", "--project-dir", "td", "config.yaml"]) == 0
    assert capsys.readouterr().out == "config.yaml: td is up to date\n"


def test_generate_check_reports_config_errors(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    modeline = "# yaml-language-server: $schema=./digsync.schema.json\n"
    (repo / "config.yaml").write_text(modeline + "scope: {}\n")
    assert main(["generate-check", "config.yaml"]) == 2
    assert "semantic_database: missing required section" in capsys.readouterr().err


def test_generate_check_run_by_hand_reads_config_yaml(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate-check"]) == 0
    assert capsys.readouterr().out == "config.yaml: workflows is up to date\n"
