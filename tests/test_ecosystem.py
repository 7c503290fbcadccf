"""The files that fit digsync into other tools: the GitHub Actions recipe, the pre-commit
hooks, the JSON Schema for editors, the container image and the systemd unit.

Each is checked with the tool that reads it where one runs here (GitHub's workflow
schema, hadolint, systemd-analyze, jsonschema) and by running its digsync commands.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from digsync import __version__
from digsync.cli.parser import build_parser
from digsync.config.schema import json_schema
from digsync.yamlio.load import load
from tests.conftest import EXAMPLE, ROOT

BIN = Path(sys.executable).parent
RECIPE = ROOT / "examples" / "ci" / "digsync.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
DOCKERFILE = ROOT / "Dockerfile"
UNIT = ROOT / "examples" / "systemd" / "digsync.service"
TEMPLATE = ROOT / "digsync" / "templates" / "config.yaml"


def tool(name: str) -> str:
    """A tool of the dev venv, or a failure that says how to get it."""
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: install the dev dependencies (make setup)")
    return str(path)


# --- digsync command lines in shell text --------------------------------------------

_COMMAND_START = {None, "|", "||", "&&", ";", "(", "!", "if", "then", "else", "do", "time"}


def expand_variables(text: str) -> str:
    """Shell and GitHub expressions replaced by placeholders, so the words can be parsed."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "PLACEHOLDER", text)
    text = re.sub(r"\$\{([A-Za-z_]\w*)[^}]*\}", r"/placeholder/\1", text)
    return re.sub(r"\$([A-Za-z_]\w*)", r"/placeholder/\1", text)


def digsync_commands(script: str) -> list[list[str]]:
    """The argument lists of every ``digsync ...`` command in a shell script."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#"):
            continue
        lexer = shlex.shlex(expand_variables(line), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
        for i, word in enumerate(words):
            if word != "digsync" or (words[i - 1] if i else None) not in _COMMAND_START:
                continue
            args: list[str] = []
            for arg in words[i + 1 :]:
                if set(arg) <= set("();<>|&"):
                    break
                args.append(arg)
            if args and args[-1].isdigit() and len(words) > i + 1 + len(args):
                args.pop()  # the 2 of 2>&1
            commands.append(args)
    return commands


def parse_digsync(args: list[str]) -> Any:
    """Parse with digsync's real parser; a failure names the command and argparse's error."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            parsed = build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"digsync {shlex.join(args)}: {err.getvalue().strip()}")
    assert getattr(parsed, "func", None), f"digsync {shlex.join(args)}: no command"
    return parsed


def test_digsync_commands_finds_commands_and_stops_at_operators() -> None:
    script = (
        'python -m pip install "digsync==${V}"\n'
        'digsync plan --config "$CONFIG" --json > "$RUNNER_TEMP/plan.json" || status=$?\n'
        "if ! digsync validate; then exit 1; fi  # digsync push\n"
        "digsync lint --profile td x.dig 2>&1 | tee out\n"
    )
    assert digsync_commands(script) == [
        ["plan", "--config", "/placeholder/CONFIG", "--json"],
        ["validate"],
        ["lint", "--profile", "td", "x.dig"],
    ]


# --- GitHub Actions recipe ----------------------------------------------------------


def recipe() -> dict[str, Any]:
    data = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def run_steps(job: str) -> list[dict[str, Any]]:
    return [s for s in recipe()["jobs"][job]["steps"] if "run" in s]


def test_recipe_is_a_valid_github_workflow() -> None:
    out = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(RECIPE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok -- validation done" in out.stdout


def test_recipe_commands_parse_with_digsync_parser() -> None:
    seen: dict[str, list[list[str]]] = {}
    for job in recipe()["jobs"].values():
        for step in job["steps"]:
            for args in digsync_commands(step.get("run", "")):
                parse_digsync(args)
                seen.setdefault(args[0], []).append(args)
    assert set(seen) == {"validate", "generate", "lint", "plan", "push"}
    assert any("--check" in a for a in seen["generate"])
    assert all(a[1:3] == ["--profile", "td"] for a in seen["lint"])
    assert ["plan", "--config", "/placeholder/CONFIG", "--json"] in seen["plan"]
    assert ["plan", "--config", "/placeholder/CONFIG"] in seen["plan"]


def test_recipe_runs_checks_on_pull_requests_and_pushes_main() -> None:
    data = recipe()
    assert set(data["on"]) == {"pull_request", "push"}
    assert data["on"]["push"] == {"branches": ["main"]}
    assert data["permissions"] == {"contents": "read"}
    assert data["env"]["DIGSYNC_VERSION"] == __version__
    check, push = data["jobs"]["check"], data["jobs"]["push"]
    assert check["if"] == "github.event_name == 'pull_request'"
    assert push["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert push["concurrency"]["cancel-in-progress"] is False
    (push_step,) = [s for s in push["steps"] if "digsync push" in s.get("run", "")]
    assert push_step["env"] == {"TD_API_KEY": "${{ secrets.TD_API_KEY }}"}
    assert "TD_API_KEY" not in data["env"], "the key goes only to the steps that need it"


def test_recipe_pins_actions_to_commits() -> None:
    text = RECIPE.read_text(encoding="utf-8")
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{ref}: tag comment {comment!r}"


def test_recipe_runs_no_github_expressions_in_scripts() -> None:
    """${{ }} in run: is pasted into the script before the shell runs (injection)."""
    for job in recipe()["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


@pytest.fixture
def ci_repo(tmp_path: Path) -> Path:
    """A repository as the recipe expects: config.yaml and the committed project. Its
    local target keeps "the server" in server/, apart from the committed files."""
    repo = tmp_path / "repo"
    repo.mkdir()
    config = EXAMPLE.read_text(encoding="utf-8") + "\ntarget:\n  workflows_dir: server\n"
    (repo / "config.yaml").write_text(config, encoding="utf-8")
    subprocess.run(
        [tool("digsync"), "generate", "--config", "config.yaml", "--project-dir", "workflows"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    return repo


class Runner:
    """Runs recipe steps as GitHub's `shell: bash` does, with the local target."""

    def __init__(self, repo: Path, td_api_key: str) -> None:
        self.repo = repo
        self.temp = repo.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.summary = repo.parent / "summary.md"
        self.output = repo.parent / "output.txt"
        self.key = td_api_key

    def env(self, step: dict[str, Any]) -> dict[str, str]:
        env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(self.repo.parent)}
        env.update({k: str(v) for k, v in recipe()["env"].items()})
        for k, v in step.get("env", {}).items():
            env[k] = self.key if v == "${{ secrets.TD_API_KEY }}" else str(v)
        env.update(
            DIGSYNC_TARGET="local",  # instead of td: no account here
            RUNNER_TEMP=str(self.temp),
            GITHUB_STEP_SUMMARY=str(self.summary),
            GITHUB_OUTPUT=str(self.output),
        )
        return env

    def run(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        script = self.repo.parent / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.repo,
            env=self.env(step),
            capture_output=True,
            text=True,
        )

    def job(self, name: str) -> list[subprocess.CompletedProcess[str]]:
        """Every run step but the pip install, in order; stops at the first failure."""
        results = []
        for step in run_steps(name):
            if "pip install" in step["run"]:
                continue
            results.append(self.run(step))
            if results[-1].returncode:
                break
        return results


def _plan_step() -> dict[str, Any]:
    (step,) = [s for s in run_steps("check") if "digsync plan" in s["run"]]
    return step


def test_pull_request_job_passes_and_posts_the_plan(ci_repo: Path) -> None:
    runner = Runner(ci_repo, td_api_key="unused-by-the-local-target")
    results = runner.job("check")
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    summary = runner.summary.read_text(encoding="utf-8")
    assert "Merging this pull request changes what Treasure Data runs:" in summary
    assert "semantic_layer_sync on local server: new project" in summary
    assert '"changed": true' in summary
    assert runner.output.read_text(encoding="utf-8") == "changed=true\n"


def test_plan_step_without_changes_reports_none(ci_repo: Path) -> None:
    push = subprocess.run(
        [tool("digsync"), "push", "--target", "local"], cwd=ci_repo, capture_output=True
    )
    assert push.returncode == 0
    runner = Runner(ci_repo, td_api_key="unused")
    result = runner.run(_plan_step())
    assert result.returncode == 0, result.stderr
    summary = runner.summary.read_text(encoding="utf-8")
    assert "No change: Treasure Data already runs what this pull request renders." in summary
    assert "up to date" in summary
    assert runner.output.read_text(encoding="utf-8") == "changed=false\n"


def test_plan_step_fails_when_plan_fails(ci_repo: Path) -> None:
    (ci_repo / "config.yaml").write_text("scope: {}\n", encoding="utf-8")
    runner = Runner(ci_repo, td_api_key="unused")
    result = runner.run(_plan_step())
    assert result.returncode == 2
    assert "::error::digsync plan failed with exit code 2" in result.stdout
    assert "semantic_database: missing required section" in result.stderr
    assert not runner.output.exists()


def test_plan_step_without_the_secret_is_skipped(ci_repo: Path) -> None:
    runner = Runner(ci_repo, td_api_key="")
    result = runner.run(_plan_step())
    assert result.returncode == 0
    assert "Skipped: this pull request gets no TD_API_KEY secret" in runner.summary.read_text()
    assert runner.output.read_text(encoding="utf-8") == "changed=unknown\n"


def test_pull_request_job_fails_on_stale_generated_files(ci_repo: Path) -> None:
    config = ci_repo / "config.yaml"
    config.write_text(config.read_text().replace('"03:00:00"', '"04:00:00"'), encoding="utf-8")
    results = Runner(ci_repo, td_api_key="unused").job("check")
    assert [r.returncode for r in results] == [0, 1]
    assert "generated files are out of date: run digsync generate" in results[1].stderr


def test_push_job_pushes_then_changes_nothing(ci_repo: Path) -> None:
    runner = Runner(ci_repo, td_api_key="unused")
    first = runner.job("push")
    assert [r.returncode for r in first] == [0, 0, 0], [r.stderr for r in first]
    assert "semantic_layer_sync  pushed" in first[-1].stdout
    assert (ci_repo / "server" / "semantic_layer_sync" / "semantic_layer_sync.dig").exists()
    again = runner.job("push")
    assert "the server already runs this content; nothing pushed" in again[-1].stdout
    assert runner.summary.read_text(encoding="utf-8").count("### digsync push") == 2


# --- pre-commit hooks ---------------------------------------------------------------

HOOK_IDS = ("digsync-validate", "digsync-lint", "digsync-generate-check")
# The console scripts a hook entry may start with (pyproject.toml [project.scripts]).
HOOK_PROGRAMS = ("digsync", "digsync-hook")


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return {h["id"]: h for h in data}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_hooks_define_what_pre_commit_requires() -> None:
    import tomllib
    from importlib import metadata

    defined = hooks()
    assert tuple(defined) == HOOK_IDS
    optional = {
        "description", "files", "exclude", "types", "types_or", "exclude_types",
        "pass_filenames", "require_serial", "args", "always_run", "stages",
        "minimum_pre_commit_version", "verbose", "log_file", "language_version",
    }  # fmt: skip
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    installed = _version(metadata.version("pre-commit"))
    for hook_id, hook in defined.items():
        assert {"id", "name", "entry", "language"} <= set(hook), hook_id
        assert set(hook) - {"id", "name", "entry", "language"} <= optional, hook_id
        assert hook["language"] == "python"
        program = shlex.split(hook["entry"])[0]
        assert program in HOOK_PROGRAMS and program in scripts, hook_id
        re.compile(hook["files"])
        re.compile(hook.get("exclude", "^$"))
        assert hook["pass_filenames"] is True, hook_id
        minimum = hook["minimum_pre_commit_version"]
        assert isinstance(minimum, str) and _version(minimum) <= installed, hook_id
    assert defined["digsync-generate-check"]["require_serial"] is True


def _selects(hook_id: str, path: str) -> bool:
    hook = hooks()[hook_id]
    return re.search(hook["files"], path) is not None and not (
        "exclude" in hook and re.search(hook["exclude"], path)
    )


def test_hook_files_select_configs_and_workflows() -> None:
    assert _selects("digsync-validate", "config.yaml")
    assert _selects("digsync-validate", "teams/a/config.yml")
    assert not _selects("digsync-validate", "myconfig.yaml")
    assert not _selects("digsync-validate", ".circleci/config.yml")
    assert not _selects("digsync-validate", "sub/.github/config.yaml")
    assert _selects("digsync-lint", "workflows/p/p.dig")
    assert not _selects("digsync-lint", "workflows/p/p.dig.bak")
    assert _selects("digsync-generate-check", "config.yaml")
    assert _selects("digsync-generate-check", "workflows/p/queries/delta_report.sql")
    assert not _selects("digsync-generate-check", ".circleci/config.yml")
    assert not _selects("digsync-generate-check", "README.md")


def run_hook(hook_id: str, repo: Path) -> subprocess.CompletedProcess[str]:
    """Run a hook as pre-commit does: entry, args, then the matching files if it takes them."""
    hook = hooks()[hook_id]
    files = sorted(
        p.relative_to(repo).as_posix()
        for p in repo.rglob("*")
        if p.is_file() and ".digsync" not in p.parts
    )
    matched = [f for f in files if _selects(hook_id, f)]
    assert matched, f"{hook_id} would not run: no file matches {hook['files']}"
    argv = shlex.split(hook["entry"])
    if hook["pass_filenames"]:
        argv += matched
    if argv[0] == "digsync":
        parse_digsync(argv[1:])
    return subprocess.run([tool(argv[0]), *argv[1:]], cwd=repo, capture_output=True, text=True)


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_passes_on_a_good_repository(hook_id: str, ci_repo: Path) -> None:
    result = run_hook(hook_id, ci_repo)
    assert result.returncode == 0, result.stdout + result.stderr


def _break_config(repo: Path) -> None:
    config = repo / "config.yaml"
    config.write_text(config.read_text().replace("frequency: daily", "frequency: dayly"))


def _break_workflow(repo: Path) -> None:
    dig = repo / "workflows" / "semantic_layer_sync" / "semantic_layer_sync.dig"
    dig.write_text(dig.read_text() + "\n+shell:\n  sh>: ./run.sh\n", encoding="utf-8")


def _change_schedule(repo: Path) -> None:
    config = repo / "config.yaml"
    config.write_text(config.read_text().replace('"03:00:00"', '"04:00:00"'))


@pytest.mark.parametrize(
    ("hook_id", "breaks", "code", "message"),
    [
        ("digsync-validate", _break_config, 2, "expected one of manual, hourly, daily"),
        ("digsync-lint", _break_workflow, 1, "Treasure Data Workflow does not support sh>"),
        ("digsync-generate-check", _change_schedule, 1, "generated files are out of date"),
    ],
)
def test_hook_fails_on_a_broken_repository(
    hook_id: str, breaks: Any, code: int, message: str, ci_repo: Path
) -> None:
    breaks(ci_repo)
    result = run_hook(hook_id, ci_repo)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stdout + result.stderr


# pre-commit itself: `pre-commit try-repo` installs the hooks from a git repository of
# this source, as users get them, into its own virtualenv (pip reaches PyPI for the
# dependencies once per test module; PRE_COMMIT_HOME keeps the environment).

HOOK_SOURCES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "digsync")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=digsync tests", "-c", "user.email=tests@invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This source tree as a one-commit git repository (try-repo clones its HEAD)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "hooks under test")
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(
    hook_id: str, repo: Path, hook_repo: Path, home: Path
) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo HOOK_REPO HOOK --all-files` in repo (made a git repository)."""
    if not (repo / ".git").exists():
        _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("PRE_COMMIT")
    }
    env["PRE_COMMIT_HOME"] = str(home)
    command = [tool("pre-commit"), "try-repo", str(hook_repo), hook_id, "--all-files"]
    return subprocess.run(
        [*command, "--color", "never"], cwd=repo, env=env, capture_output=True, text=True
    )


@pytest.fixture
def pre_commit(hook_repo: Path, pre_commit_home: Path) -> Any:
    def run(hook_id: str, repo: Path) -> subprocess.CompletedProcess[str]:
        return try_repo(hook_id, repo, hook_repo, pre_commit_home)

    return run


def _output(result: subprocess.CompletedProcess[str]) -> str:
    """What pre-commit printed for the hook: the lines after try-repo's config banner."""
    return result.stdout.split("=" * 79)[-1] + result.stderr


@pytest.mark.slow
def test_pre_commit_validate_fails_on_a_broken_config_in_a_subfolder(
    ci_repo: Path, pre_commit: Any
) -> None:
    broken = (ci_repo / "config.yaml").read_text().replace("frequency: daily", "frequency: dayly")
    (ci_repo / "sub").mkdir()
    (ci_repo / "sub" / "config.yaml").write_text(broken)
    result = pre_commit("digsync-validate", ci_repo)
    out = _output(result)
    assert result.returncode == 1, out
    assert "config.yaml: ok" in out
    assert "sub/config.yaml: 1 error(s)" in out
    assert re.search(r"sub/config\.yaml:\d+:\d+: sync\.schedule\.frequency: expected one of", out)


@pytest.mark.slow
def test_pre_commit_validate_passes_other_tools_configs(tmp_path: Path, pre_commit: Any) -> None:
    """A repository with its digsync config in teams/a/ and no config.yaml at the top."""
    repo = tmp_path / "monorepo"
    (repo / "teams" / "a").mkdir(parents=True)
    shutil.copy(EXAMPLE, repo / "teams" / "a" / "config.yaml")
    (repo / ".circleci").mkdir()
    (repo / ".circleci" / "config.yml").write_text("version: 2.1\njobs: {}\nworkflows: {}\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "config.yaml").write_text("site_name: handbook\ntheme: material\n")
    result = pre_commit("digsync-validate", repo)
    out = _output(result)
    assert result.returncode == 0, out
    assert "digsync validate" in out and "Passed" in out
    (repo / "teams" / "a" / "config.yaml").write_text("scope: {}\nsemantic_database: {}\n")
    failed = pre_commit("digsync-validate", repo)
    assert failed.returncode == 1, _output(failed)
    assert "teams/a/config.yaml" in _output(failed)


@pytest.mark.slow
def test_pre_commit_generate_check_passes_on_the_workflows_layout(
    ci_repo: Path, pre_commit: Any
) -> None:
    result = pre_commit("digsync-generate-check", ci_repo)
    out = _output(result)
    assert result.returncode == 0, out
    assert "Passed" in out


@pytest.mark.slow
def test_pre_commit_generate_check_prints_a_summary_when_stale(
    ci_repo: Path, pre_commit: Any
) -> None:
    _change_schedule(ci_repo)
    result = pre_commit("digsync-generate-check", ci_repo)
    out = _output(result)
    assert result.returncode == 1, out
    assert "config.yaml: 1 generated file(s) differ from a fresh render:" in out
    assert "update  workflows/semantic_layer_sync/semantic_layer_sync.dig  (+2 -2)" in out
    assert (
        "generated files are out of date: run "
        "digsync generate --config config.yaml --project-dir workflows"
    ) in out
    assert "@@" not in out, "a summary, not a diff"
    assert len(out.strip().splitlines()) < 15, out


# --- editor support: the JSON Schema ------------------------------------------------


def test_init_writes_the_schema_its_first_line_names(tmp_path: Path) -> None:
    out = subprocess.run(
        [tool("digsync"), "init"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout == "wrote config.yaml\nwrote digsync.schema.json\n"
    first = (tmp_path / "config.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./digsync.schema.json"
    written = json.loads((tmp_path / "digsync.schema.json").read_text(encoding="utf-8"))
    assert written == json_schema()
    jsonschema.Draft202012Validator.check_schema(written)
    printed = subprocess.run(
        [tool("digsync"), "schema"], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(printed) == written


def test_schema_passes_check_jsonschema_metaschema_with_format_checks(tmp_path: Path) -> None:
    """check-jsonschema checks the schema's regexes as ECMA-262 (what editors run)."""
    schema = tmp_path / "digsync.schema.json"
    printed = subprocess.run([tool("digsync"), "schema"], capture_output=True, text=True)
    schema.write_text(printed.stdout)
    out = subprocess.run(
        [tool("check-jsonschema"), "--check-metaschema", "--regex-variant", "default", str(schema)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok -- validation done" in out.stdout


def test_check_jsonschema_validates_a_config_with_the_schema(tmp_path: Path) -> None:
    schema = tmp_path / "digsync.schema.json"
    schema.write_text(json.dumps(json_schema()))
    data = load(EXAMPLE.read_text(encoding="utf-8"), "config.yaml").data
    channel = data["notifications"]["on_sync_complete"]["channels"][0]
    channel["recipients"] = ["ops@example.com"]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    channel["recipients"] = ['"quoted"@example.com']
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    check = [tool("check-jsonschema"), "--schemafile", str(schema)]
    ok = subprocess.run([*check, str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = subprocess.run([*check, str(bad)], capture_output=True, text=True)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "does not match" in refused.stdout + refused.stderr


@pytest.mark.parametrize("path", [EXAMPLE, TEMPLATE], ids=["example", "template"])
def test_bundled_configs_match_the_schema(path: Path) -> None:
    data = load(path.read_text(encoding="utf-8"), str(path)).data
    errors = list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data))
    assert errors == []


def test_schema_rejects_what_validate_rejects() -> None:
    data = load(EXAMPLE.read_text(encoding="utf-8"), "config.yaml").data
    data["sync"]["schedule"]["frequency"] = "dayly"
    data["sync"]["colour"] = "blue"
    errors = sorted(
        e.message for e in jsonschema.Draft202012Validator(json_schema()).iter_errors(data)
    )
    assert errors == [
        "'dayly' is not one of ['manual', 'hourly', 'daily', 'weekly', 'monthly', 'interval', "
        "'custom']",
        "Additional properties are not allowed ('colour' was unexpected)",
    ]


# --- container image ----------------------------------------------------------------


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    """The harness works: a Dockerfile with known faults gets warnings."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11\nRUN apt-get install -y curl\nUSER root\n")
    codes = {f["code"] for f in hadolint(bad, tmp_path) if f["level"] in ("warning", "error")}
    assert codes == {"DL3008", "DL3002"}


def hadolint(dockerfile: Path, tmp_path: Path) -> list[dict[str, Any]]:
    config = tmp_path / "hadolint.yaml"
    config.write_text("{}\n")  # no ignored rules from a user or project config
    out = subprocess.run(
        [tool("hadolint"), "--config", str(config), "--disable-ignore-pragma", "--no-fail",
         "-f", "json", str(dockerfile)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    findings: list[dict[str, Any]] = json.loads(out.stdout)
    return findings


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    findings = hadolint(DOCKERFILE, tmp_path)
    assert [f for f in findings if f["level"] in ("warning", "error")] == []


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    out = []
    for line in text.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_serves_as_non_root_with_a_health_check() -> None:
    steps = instructions(DOCKERFILE)
    images = [args.split()[0] for word, args in steps if word == "FROM"]
    assert images and all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", i) for i in images)
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    by_word: dict[str, list[str]] = {}
    for word, args in final:
        by_word.setdefault(word, []).append(args)
    assert by_word["USER"][-1].split(":")[0] not in ("root", "0")
    assert json.loads(by_word["VOLUME"][0]) == ["/config"]
    assert by_word["EXPOSE"] == ["8000"]
    assert json.loads(by_word["CMD"][-1]) == [
        *("digsync", "serve", "--config", "/config/config.yaml"),
        *("--host", "0.0.0.0", "--port", "8000"),
    ]
    parse_digsync(json.loads(by_word["CMD"][-1])[1:])
    (health,) = by_word["HEALTHCHECK"]
    probe = json.loads(health[health.index("CMD") + 3 :])
    assert probe[:2] == ["python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:8000/healthz'" in probe[2]
    compile(probe[2], "<healthcheck>", "exec")
    assert not re.search(r"\b(curl|wget)\b", health)
    runs = by_word["RUN"]
    assert any("pip install --require-hashes -r /tmp/requirements.lock" in run for run in runs)
    assert any("pip install --no-deps /wheels/digsync-" in run for run in runs)
    assert "pip check" in runs[-1]


def test_dockerfile_installs_only_hashed_locks() -> None:
    """Each pip install is a hashed lock or the wheel just built, without its deps."""
    steps = instructions(DOCKERFILE)
    installs = [
        part.strip()
        for word, args in steps
        if word == "RUN"
        for part in args.split("&&")
        if "pip install" in part
    ]
    assert installs == [
        "pip install --require-hashes -r requirements-build.lock",
        "pip install --require-hashes -r /tmp/requirements.lock",
        "pip install --no-deps /wheels/digsync-*.whl",
    ]
    (wheel,) = [args for word, args in steps if word == "RUN" and "pip wheel" in args]
    assert "--no-deps --no-build-isolation" in wheel


def test_dockerfile_bakes_in_no_secret() -> None:
    secret_names = ("TD_API_KEY", "DIGSYNC_API_TOKEN", "DIGSYNC_WEBHOOK_SECRET", "DIGDAG_AUTH")
    for word, args in instructions(DOCKERFILE):
        if word in ("ENV", "ARG", "LABEL", "RUN"):
            assert not any(name in args for name in secret_names), f"{word} {args}"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"(?i)(apikey|password|token)\s*=\s*\S", text)


def _docker_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ``**`` any folders, ``*`` and ``?`` within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            close = pattern.index("]", i)
            out, i = out + pattern[i : close + 1], close + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics: the last pattern matching the path or a parent decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for raw in patterns:
        regex = _docker_regex(raw.removeprefix("!").strip("/"))
        if any(regex.match(p) for p in prefixes):
            result = not raw.startswith("!")
    return result


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    patterns = [
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    sources = [
        source
        for word, args in instructions(DOCKERFILE)
        if word == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    ]
    found = re.search(r'readme = "([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert found, "pyproject.toml names no readme"
    readme = found.group(1)
    kept = [
        "pyproject.toml", readme, "digsync/cli/parser.py", "digsync/templates/config.yaml",
        "digsync/runtime/sync.py", "digsync/server/static/index.html", "LICENSE",
        "requirements.lock", "requirements-build.lock",
    ]  # fmt: skip
    dropped = [
        ".venv/bin/python", ".git/HEAD", "tests/test_cli.py", ".digsync/p/ledger.jsonl",
        "workflows/p/p.dig", "digsync/__pycache__/cli.cpython-311.pyc", "build/lib/x.py",
    ]  # fmt: skip
    assert [p for p in kept if _ignored(p, patterns)] == []
    assert [p for p in dropped if not _ignored(p, patterns)] == []
    assert {"pyproject.toml", readme, "LICENSE", "digsync", "requirements.lock"} <= set(sources)
    assert [p for p in sources if _ignored(p, patterns)] == []


# --- systemd unit -------------------------------------------------------------------


def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_systemd_unit_is_hardened(tmp_path: Path) -> None:
    service = unit()["Service"]
    assert service.get("DynamicUser") == "yes" or service.get("User") not in (None, "root")
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectHome"] == "yes"
    assert service["PrivateTmp"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    assert service["EnvironmentFile"] == "/etc/digsync/digsync.env"
    assert "Environment" not in service, "secrets belong in the EnvironmentFile"
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/digsync")
    args = parse_digsync(argv[1:])
    assert args.command == "serve" and args.host == "127.0.0.1"
    config_dir = str(Path(args.config).parent)
    assert config_dir in service["ReadWritePaths"].split()
    assert service["WorkingDirectory"] == config_dir
    assert unit()["Install"]["WantedBy"] == "multi-user.target"
    # systemd-analyze verify where systemd is installed (not every machine has it).
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        copy = tmp_path / "digsync.service"
        text = UNIT.read_text(encoding="utf-8").replace("/opt/digsync/bin/digsync", tool("digsync"))
        copy.write_text(text, encoding="utf-8")
        out = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "digsync.service" not in out.stderr, out.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_container_command_serves_and_passes_its_health_check(tmp_path: Path) -> None:
    """The image's CMD (on a free port) with a token, probed by its HEALTHCHECK command."""
    by_word = {word: args for word, args in instructions(DOCKERFILE)}
    port = _free_port()
    command = [str(port) if arg == "8000" else arg for arg in json.loads(by_word["CMD"])]
    command[command.index("/config/config.yaml")] = str(tmp_path / "config.yaml")
    health = by_word["HEALTHCHECK"]
    probe = json.loads(health[health.index("CMD") + 3 :])
    probe[2] = probe[2].replace(":8000/", f":{port}/")
    shutil.copy(EXAMPLE, tmp_path / "config.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGSYNC_", "TD_"))}
    env["DIGSYNC_API_TOKEN"] = "test-token"  # serve refuses 0.0.0.0 without one
    server = subprocess.Popen(
        [tool("digsync"), *command[1:]],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        # uvicorn's log lines (stderr, merged here) come first; digsync's once it accepts.
        lines: list[str] = []
        while len(lines) < 10 and lines[-1:] != [""]:
            lines.append(server.stdout.readline())
            if lines[-1].startswith("digsync serve: open "):
                break
        assert lines[-1].startswith("digsync serve: open http://0.0.0.0:"), lines
        healthy = subprocess.run([sys.executable, *probe[1:]], capture_output=True, text=True)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        server.terminate()
        server.wait()
    down = subprocess.run([sys.executable, *probe[1:]], capture_output=True, text=True)
    assert down.returncode == 1
    assert "Connection refused" in down.stderr
