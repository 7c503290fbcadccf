"""Each lint rule, with its exact message, plus hostile inputs and the public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digsync.dig.lint.core import lint_paths, lint_text
from digsync.dig.lint.findings import Finding, findings_to_json
from digsync.errors import InputError

Row = tuple[int, int, str, str, str]


def lint(text: str, profile: str = "digdag", path: str = "wf.dig") -> list[Row]:
    return [
        (f.line, f.column, f.code, f.severity, f.message) for f in lint_text(text, path, profile)
    ]


def codes(text: str, profile: str = "digdag") -> list[str]:
    return [row[2] for row in lint(text, profile)]


GROUP_HINT = (
    "a group task (one with +subtasks) takes only timezone, schedule, sla, _parallel, "
    "_background, _after, _error, _check, _retry, _export, _secrets; pass parameters to its "
    "tasks under _export:"
)
NAME_HINT = "use letters, digits and - = [ ] { } % & @ , . _"


def test_a_valid_workflow_has_no_findings() -> None:
    text = (
        "timezone: Asia/Tokyo\nschedule:\n  daily>: 07:00:00\n_export:\n  td:\n    database: d\n"
        "+prepare:\n  echo>: start\n+parallel:\n  _parallel: true\n  +a:\n    echo>: a\n"
        "  +b:\n    _after: [+a]\n    echo>: b\n+check:\n  if>: ${flag}\n  _do:\n    echo>: y\n"
    )
    assert lint(text) == []
    assert lint(text, "td") == []


# --- top level ---------------------------------------------------------------------------


def test_unknown_top_level_keys() -> None:
    assert lint("_parralel: true\nfoo: 1\n_secrets: {a: true}\necho>: x\ntask:\n  sh>: y\n") == [
        (
            1,
            1,
            "top-level-key",
            "error",
            "Workflow 'wf' includes unknown keys: [_parralel]: did you mean _parallel?",
        ),
        (
            2,
            1,
            "top-level-key",
            "error",
            "Workflow 'wf' includes unknown keys: [foo]: allowed are timezone, schedule, sla, "
            "_export, _error, _check, _retry, _parallel and +tasks; put parameters under _export:",
        ),
        (
            3,
            1,
            "top-level-key",
            "error",
            "Workflow 'wf' includes unknown keys: [_secrets]: _secrets is not allowed at the top "
            "level: move it into a task (parameters go under _export:)",
        ),
        (
            4,
            1,
            "top-level-key",
            "error",
            "Workflow 'wf' includes unknown keys: [echo>]: an operator belongs inside a task: "
            "write +task: then the operator under it",
        ),
        (
            5,
            1,
            "top-level-key",
            "error",
            "Workflow 'wf' includes unknown keys: [task]: a task name starts with '+': "
            "write +task:",
        ),
    ]


@pytest.mark.parametrize(
    "key", ["timezone", "_export", "schedule", "sla", "_error", "_check", "_retry", "_parallel"]
)
def test_every_documented_top_level_key_is_accepted(key: str) -> None:
    values = {
        "timezone": "UTC",
        "schedule": "{daily>: 01:00:00}",
        "_retry": "3",
        "_parallel": "true",
        "sla": "{time: '02:00'}",
    }
    text = f"{key}: {values.get(key, '{}')}\n+a:\n  echo>: x\n"
    assert "top-level-key" not in codes(text)


def test_workflow_name_comes_from_the_file_name() -> None:
    assert lint("+a:\n  echo>: x\n", path="dir/2024_report.dig") == [
        (
            1,
            1,
            "workflow-name",
            "error",
            'workflow name can\'t start with a numeric digit (0-9): "2024_report" (the name comes '
            "from the file name: rename the file, e.g. to start with a letter)",
        )
    ]
    assert lint("+a:\n  echo>: x\n", path="-") == []


def test_timezone() -> None:
    assert lint("timezone: 9\n+a:\n  echo>: x\n") == [
        (
            1,
            11,
            "timezone",
            "error",
            "Expected a time zone name for key 'timezone' but got 9 (number): write a name such as "
            "UTC or Asia/Tokyo",
        )
    ]
    [(line, column, code, severity, message)] = lint("timezone: Mars/Base\n+a:\n  echo>: x\n")
    assert (line, column, code, severity) == (1, 11, "timezone", "error")
    assert "Mars/Base" in message


def test_schedule() -> None:
    assert lint("schedule: daily\n") == [
        (
            1,
            11,
            "schedule",
            "error",
            "Parameter 'schedule' must be an object: write schedule: then a line such as "
            "daily>: 07:00:00",
        )
    ]
    rows = lint("schedule:\n  minutes_interval>: 1\n  skip_on_over_time: true\n")
    assert [(r[0], r[1], r[2]) for r in rows] == [(3, 3, "schedule")]
    assert "Parameter 'skip_on_over_time' is not used at schedule." in rows[0][4]
    rows = lint("schedule:\n  hourly>: 10:11:12\n")
    assert [(r[0], r[1], r[2]) for r in rows] == [(2, 12, "schedule")]


def test_schedule_start_and_end_get_a_note_on_the_digdag_version() -> None:
    text = 'schedule:\n  daily>: 07:00:00\n  end: "2027-01-01"\n  start: "2026-01-01"\n'
    assert lint(text) == [
        (
            3,
            3,
            "schedule-version",
            "warning",
            "schedule end: needs Digdag 0.10.5 or later; 0.10.4 and older refuse the push "
            "(Parameter 'end' is not used at schedule)",
        )
    ]
    assert lint("schedule:\n  daily>: 07:00:00\n") == []


@pytest.mark.parametrize("profile", ["digdag", "td"])
def test_a_secret_in_http_content_is_flagged_on_both_profiles(profile: str) -> None:
    text = (
        "+notify:\n  http>: https://hooks.example/x\n  method: POST\n"
        "  content:\n    text: 'key ${secret:td.apikey}'\n"
        "  headers:\n    - Authorization: 'Bearer ${secret:hook.token}'\n"
    )
    rows = [r for r in lint(text, profile) if r[2] == "secret-in-content"]
    assert rows == [
        (
            5,
            11,
            "secret-in-content",
            "warning",
            "http> content holds ${secret:...}: Digdag expands it, so the secret is sent in "
            "the request body to the URL; send credentials in headers: to a host you trust, "
            "never in a message",
        )
    ]  # a secret in headers: is how credentials are meant to go


def test_top_level_export_must_be_a_mapping() -> None:
    assert lint("_export: [a]\n") == [
        (
            1,
            10,
            "param-type",
            "error",
            "Parameter '_export' must be an object: write _export: then indented key: value lines",
        )
    ]


# --- tasks -------------------------------------------------------------------------------


def test_task_names() -> None:
    text = (
        "+a b:\n  echo>: x\n+c^d:\n  +e!f:\n    echo>: y\n  +g^h:\n    echo>: z\n"
        '"+i\\nj": {echo>: 1}\n'
    )
    assert lint(text) == [
        (
            1,
            1,
            "task-name",
            "error",
            f'task name can\'t contain \' \' character: "+a b": {NAME_HINT} (e.g. "+a_b")',
        ),
        (
            3,
            1,
            "task-name",
            "error",
            f'task name can\'t contain ^ character: "+c^d": {NAME_HINT} (e.g. "+c_d")',
        ),
        (
            4,
            3,
            "task-name",
            "error",
            f'task name can\'t contain ! character: "+e!f": {NAME_HINT} (e.g. "+e_f")',
        ),
        (
            8,
            1,
            "task-name",
            "error",
            f'task name can\'t contain \'\\n\' character: "+i\\nj": {NAME_HINT} (e.g. "+i_j")',
        ),
    ]


def test_task_name_length() -> None:
    [row] = lint("+" + "a" * 255 + ":\n  echo>: x\n")
    assert row[2] == "task-name"
    assert row[4].startswith("task name can't be longer than 255 characters")


def test_task_body_must_be_a_mapping() -> None:
    assert lint("+a:\n+b: [{echo>: x}, 2]\n+c: [{echo>: x}, {_retry: 2}]\n") == [
        (
            1,
            4,
            "task-body",
            "error",
            "Parameter '+a' must be an object or array of objects, not null (null): put an "
            "operator (such as echo>: hello) or +subtasks under the task",
        ),
        (
            2,
            5,
            "task-body",
            "error",
            'Parameter \'+b\' must be an object or array of objects, not [{"echo>":"x"},2] '
            "(array): put an operator (such as echo>: hello) or +subtasks under the task",
        ),
    ]


def test_operator_with_subtasks() -> None:
    assert lint("+a:\n  echo>: x\n  +b:\n    echo>: y\n") == [
        (
            3,
            3,
            "operator-and-subtasks",
            "error",
            "A task can't have subtasks: +wf+a runs echo> and also has +b; move the operator into "
            "a subtask of its own, or the subtasks into another task",
        )
    ]


def test_more_than_one_operator() -> None:
    assert lint("+step1:\n  sh>: echo this should fail\n  py>: bar\n") == [
        (
            3,
            3,
            "multiple-operators",
            "error",
            "A task can't have more than one operator: +wf+step1 has sh>, py>; give each operator "
            "its own +task",
        )
    ]


def test_more_than_one_operator_in_error_blocks_at_every_level() -> None:
    text = "_error:\n  echo>: a\n  sh>: b\n+t:\n  echo>: ok\n  _error:\n    echo>: a\n    sh>: b\n"
    assert [(r[0], r[2]) for r in lint(text)] == [
        (3, "multiple-operators"),
        (8, "multiple-operators"),
    ]
    assert "+wf^error has echo>, sh>" in lint(text)[0][4]
    assert "+wf+t^error has echo>, sh>" in lint(text)[1][4]


def test_invalid_group_keys() -> None:
    assert lint("+group:\n  parallel: true\n  database: x\n  +a:\n    echo>: ok\n") == [
        (
            2,
            3,
            "group-key",
            "error",
            "+wf+group contains invalid keys: 'parallel' (did you mean [_parallel]?): "
            + GROUP_HINT,
        ),
        (3, 3, "group-key", "error", f"+wf+group contains invalid keys: 'database': {GROUP_HINT}"),
    ]


def test_parallel_values() -> None:
    group = "+g:\n  _parallel: {}\n  +a:\n    echo>: a\n"
    assert lint(group.format("${parallel}")) == [
        (
            2,
            14,
            "parallel",
            "error",
            "Expected 'true' or 'false' for key '_parallel' but got \"${parallel}\" (string): "
            "write true or false; _parallel of a group is read before ${...} is expanded (only "
            "operators such as loop> and for_each> take a variable here)",
        )
    ]
    assert lint(group.format("yes")) == [
        (
            2,
            14,
            "parallel",
            "error",
            "Expected 'true' or 'false' for key '_parallel' but got \"yes\" (string): write true "
            "or false",
        )
    ]
    assert lint(group.format("1")) == [
        (
            2,
            14,
            "parallel",
            "error",
            "Invalid _parallel format: 1: write _parallel: true, _parallel: false or "
            "_parallel: {limit: N}",
        )
    ]
    assert lint(group.format("{limit: x}")) == [
        (
            2,
            22,
            "parallel",
            "error",
            "Expected integer (int) type for key 'limit' but got \"x\" (string): write a whole "
            "number such as limit: 2",
        )
    ]
    assert lint(group.format("{x: 1}"))[0][4].startswith(
        "Parameter 'limit' is required but not set"
    )
    for fine in ("true", "'false'", "True", "{limit: 2}", "{limit: '3'}"):
        assert lint(group.format(fine)) == []


def test_parallel_of_loop_operators_may_be_a_variable() -> None:
    text = "+l:\n  loop>: 2\n  _parallel: {}\n  _do:\n    echo>: x\n"
    assert lint(text.format("${p}")) == []
    assert codes(text.format("maybe")) == ["parallel"]


def test_background_under_a_parallel_parent() -> None:
    text = (
        "+g:\n  _parallel: true\n  +a:\n    echo>: a\n  +b:\n    _background: true\n    echo>: b\n"
    )
    assert lint(text) == [
        (
            6,
            5,
            "background",
            "error",
            'Setting "_background: true" option is invalid (unnecessary) if its parent task has '
            '"_parallel: true" option: remove _background from +wf+g+b; its siblings already run '
            "in parallel",
        )
    ]


def test_background_must_be_a_boolean() -> None:
    assert lint("+g:\n  +a:\n    _background: maybe\n    echo>: a\n") == [
        (
            3,
            18,
            "param-type",
            "error",
            "Expected 'true' or 'false' for key '_background' but got \"maybe\" (string): write "
            "true or false",
        )
    ]


def test_after_needs_a_parallel_parent() -> None:
    text = "+group:\n  +before:\n    echo>: b\n  +after:\n    _after: [+before]\n    echo>: a\n"
    assert lint(text) == [
        (
            5,
            5,
            "after",
            "error",
            'Setting "_after" option is invalid if its parent task doesn\'t have "_parallel: true" '
            "option: add _parallel: true to +wf+group, or remove _after (siblings already run in "
            "order)",
        )
    ]


def test_after_names_earlier_siblings() -> None:
    text = (
        "+g:\n  _parallel: true\n  +a:\n    echo>: a\n  +c:\n    _after: [+a, +d, a]\n"
        "    echo>: c\n  +d:\n    echo>: d\n  +e:\n    _after: {x: 1}\n    echo>: e\n"
    )
    assert lint(text) == [
        (
            6,
            18,
            "after",
            "error",
            "Dependency task '+d' does not exist: _after may name only sibling tasks defined "
            "above this one",
        ),
        (6, 22, "after", "error", "Dependency task 'a' does not exist: write '+a'"),
        (
            11,
            13,
            "after",
            "error",
            "Expected array type for key '_after' but got {\"x\":1} (object): write "
            "_after: [+task_name]",
        ),
    ]


def test_if_needs_a_branch() -> None:
    assert lint("+a:\n  if>: true\n") == [
        (
            2,
            3,
            "if-branch",
            "error",
            "if> needs a _do or an _else_do block: +wf+a has neither, so it would fail when it "
            "runs; add _do: with the tasks to run when the condition is true",
        )
    ]
    assert lint("+a:\n  if>: true\n  _else_do:\n    echo>: no\n") == []


def test_blocks_and_exports_must_be_mappings() -> None:
    text = "+a:\n  if>: true\n  _do: 1\n+b:\n  _export: 2\n  echo>: x\n  _env: [1]\n"
    assert lint(text) == [
        (
            3,
            8,
            "param-type",
            "error",
            "Parameter '_do' must be an object: write _do: then an indented task (an operator or "
            "+subtasks)",
        ),
        (
            5,
            12,
            "param-type",
            "error",
            "Parameter '_export' must be an object: write _export: then indented key: value lines",
        ),
        (
            7,
            9,
            "param-type",
            "error",
            "Parameter '_env' must be an object: write _env: then indented key: value lines",
        ),
    ]


def test_generated_blocks_are_checked_but_their_variables_are_not() -> None:
    text = (
        "+l:\n  for_each>: {x: [1, 2]}\n  _do:\n    +a:\n      echo>: 1\n      sh>: 2\n"
        "    +g:\n      _parallel: ${p}\n      +z:\n        _background: ${b}\n        echo>: 1\n"
    )
    assert [(r[0], r[2]) for r in lint(text)] == [(6, "multiple-operators")]
    sla = "sla:\n  time: '02:00'\n  +notice:\n    echo>: a\n    sh>: b\n"
    assert codes(sla) == ["multiple-operators"]


def test_disabled_tasks_are_skipped_like_digdag_skips_them() -> None:
    assert lint("+a:\n  _disable: true\n  sh>: 1\n  py>: 2\n") == []
    assert codes("+a:\n  _disable: false\n  +b:\n    echo>: 1\n") == ["group-key"]
    assert codes("+a:\n  _disable: sometimes\n  echo>: 1\n") == ["param-type"]


# --- project files ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "ok.sql").write_text("select 1")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mod.py").write_text("def run(): pass\n")
    (tmp_path / "pkg" / "inner").mkdir(parents=True)
    (tmp_path / "pkg" / "inner" / "__init__.py").write_text("")
    (tmp_path / "child.dig").write_text("+x:\n  echo>: x\n")
    return tmp_path


def test_referenced_files_must_exist(project: Path) -> None:
    text = (
        "_export:\n  docker: {image: digdag/digdag-python:3.10}\n"
        "+a:\n  td>: queries/ok.sql\n+b:\n  td>: queries/missing.sql\n+c:\n  call>: child\n"
        "+d:\n  call>: nochild\n+e:\n  pg>: ../outside.sql\n+f:\n  td>: ${q}.sql\n"
        "+g:\n  py>: tasks.mod.run\n+h:\n  py>: pkg.inner.Cls.run\n+i:\n  py>: nomod.run\n"
        "+j:\n  mail>: {data: hi}\n  subject: s\n  to: [a@b.c]\n+k:\n  td>:\n  query: select 1\n"
    )
    (project / "wf.dig").write_text(text)
    found = [(f.line, f.code, f.severity, f.message) for f in lint_paths([project])]
    root = str(project)
    assert found == [
        (
            6,
            "missing-file",
            "error",
            f"td> file queries/missing.sql not found in the project (looked for "
            f"{root}/queries/missing.sql); create it or fix the path, which is relative to the "
            "project folder",
        ),
        (
            10,
            "missing-file",
            "error",
            f"call> file nochild.dig not found in the project (looked for {root}/nochild.dig); "
            "create it or fix the path, which is relative to the project folder",
        ),
        (
            12,
            "missing-file",
            "error",
            "pg> names ../outside.sql, outside the project folder: only files inside the project "
            "are uploaded; move the file into it",
        ),
        (
            20,
            "py-module",
            "warning",
            "py> nomod.run: no nomod.py in the project (nor a package folder with __init__.py); "
            "write py>: module.function with the module's file under the project folder, unless "
            "the Docker image provides the module",
        ),
    ]


def test_project_rules_need_a_project(project: Path) -> None:
    assert lint("+b:\n  td>: queries/missing.sql\n") == []


def test_a_folder_lints_its_top_level_workflows_only(project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "bad.dig").write_text("+a b:\n  echo>: x\n")
    (project / ".hidden.dig").write_text("+a b:\n  echo>: x\n")
    (project / "bad.dig").write_text("+a b:\n  echo>: x\n")
    found = lint_paths([project, project / "bad.dig"], profile="digdag")
    assert [(Path(f.path).name, f.code) for f in found] == [("bad.dig", "task-name")]


def test_lint_paths_refuses_missing_paths_and_profiles(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        lint_paths([tmp_path / "nope"])
    with pytest.raises(InputError, match="unknown lint profile 'tdx'"):
        lint_text("", "wf.dig", "tdx")


def test_unreadable_bytes_are_one_finding(tmp_path: Path) -> None:
    (tmp_path / "bin.dig").write_bytes(b"+a:\n  echo>: \xff\n")
    [finding] = lint_paths([tmp_path / "bin.dig"])
    assert (finding.code, finding.line) == ("yaml", 1)
    assert finding.message.startswith("not UTF-8 text")


def test_findings_in_included_files_point_there(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "tasks.dig").write_text("+x:\n  echo>: a\n  sh>: b\n")
    (tmp_path / "wf.dig").write_text("+group:\n  !include : parts/tasks.dig\n")
    [finding] = lint_paths([tmp_path], profile="digdag")
    assert (finding.path, finding.line, finding.column, finding.code) == (
        str(tmp_path / "parts" / "tasks.dig"),
        3,
        3,
        "multiple-operators",
    )


# --- td profile ---------------------------------------------------------------------------


def test_unsupported_operators() -> None:
    text = "+a:\n  sh>: ls\n+b:\n  _type: rb\n+c:\n  embulk>: x.yml\n+d:\n  param_set>: {k: v}\n"
    assert [(r[0], r[1], r[2], r[4]) for r in lint(text, "td")] == [
        (
            2,
            3,
            "td-operator",
            "Treasure Data Workflow does not support sh>: TD runs no shell "
            "commands: move the work into a py> script (a custom script)",
        ),
        (
            4,
            3,
            "td-operator",
            "Treasure Data Workflow does not support rb>: TD runs no Ruby: "
            "port the script to Python and call it with py>",
        ),
        (
            6,
            3,
            "td-operator",
            "Treasure Data Workflow does not support embulk>: TD runs no "
            "Embulk jobs: import data with td_load> (a YAML file or a saved data connector)",
        ),
        (
            8,
            3,
            "td-operator",
            "Treasure Data Workflow does not support param_set>: TD has no "
            "ParamServer: store values from py> with digdag.env.store() and read them as ${...} "
            "in later tasks",
        ),
    ]
    assert lint(text) == []


def test_download_file_is_not_supported_on_td() -> None:
    assert lint("+q:\n  td>: q.sql\n  download_file: out.csv\n", "td") == [
        (
            3,
            3,
            "td-download-file",
            "error",
            "Treasure Data Workflow does not support td> download_file: export the result with "
            "result_connection:/result_url: or td_result_export> instead",
        )
    ]


def test_py_needs_a_docker_image() -> None:
    assert lint("+a:\n  py>: tasks.run\n", "td") == [
        (
            2,
            3,
            "td-docker-image",
            "error",
            "py> needs a Docker image on Treasure Data: +wf+a has no docker.image; add _export: "
            '{docker: {image: "treasuredata/customscript-python:3.12.11-td0"}} '
            "to the workflow or to this task",
        )
    ]
    inherited = (
        "+g:\n  _export:\n    docker: {image: '${img}'}\n  +l:\n    loop>: 2\n"
        "    _do:\n      py>: tasks.run\n+own:\n  py>: tasks.run\n  docker:\n"
        "    image: digdag/digdag-python:3.10\n"
    )
    assert lint(inherited, "td") == []
    top = (
        "_export:\n  docker:\n    image: digdag/digdag-python:3.9\n_error:\n  py>: tasks.fail\n"
        "+a:\n  py>: tasks.run\n"
    )
    assert lint(top, "td") == []
    assert codes("+a:\n  _export: {docker: {}}\n  py>: tasks.run\n", "td") == ["td-docker-image"]


def test_secrets_only_where_digdag_expands_them() -> None:
    text = (
        "_export:\n  docker: {image: digdag/digdag-python:3.9}\n  key: ${secret:k}\n"
        "+a:\n  py>: tasks.run\n  token: ${secret:t}\n  _env:\n    T: ${secret:t}\n"
        "+h:\n  http>: https://x/${secret:path}\n  headers:\n    - Auth: ${secret:h}\n"
        "  content: {a: '${secret:c}'}\n  query: {q: '${secret:q}'}\n"
        "+r:\n  td>: q.sql\n  result_url: td://${secret:td.apikey}@/db/t\n"
        "+e:\n  echo>: ${secret:e}\n"
    )
    rows = lint(text, "td")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (3, 8, "td-secret"),
        (6, 10, "td-secret"),
        (13, 16, "secret-in-content"),  # expanded, and sent in the body
        (19, 10, "td-secret"),
    ]
    assert rows[1][4] == (
        "${secret:...} is not expanded in py> parameter token: Digdag expands secrets only in "
        "_env, http> URI/content/headers/query and td result_url; pass it through _env: "
        "{MY_VAR: ${secret:name}} and read os.environ['MY_VAR'] in the script"
    )
    assert [r[2] for r in lint(text)] == ["secret-in-content"]


def test_literal_credentials_and_webhooks_are_warnings() -> None:
    text = (
        "_export:\n  pg:\n    password: hunter2\n    user: bob\n  _env: {apikey: '${secret:k}'}\n"
        "  _secrets: {token: true}\n  api_token: ''\n"
        "+n:\n  http>: https://hooks.slack.com/services/T0/B0/abc\n  method: POST\n"
        "+m:\n  http>: https://hooks.slack.com/services/${secret:hook}\n"
        "+t:\n  http>: https://acme.webhook.office.com/webhookb2/xyz\n"
    )
    assert lint(text, "td") == [
        (
            3,
            15,
            "td-credential",
            "warning",
            "literal credential in password: store it with tdx wf secrets set PROJECT "
            "password=VALUE and let the operator read the secret (or use ${secret:...} in _env) "
            "instead of writing it here",
        ),
        (
            9,
            10,
            "td-webhook",
            "warning",
            "webhook URL written into the workflow: anyone who can read the project can post to "
            "it; store it with tdx wf secrets set PROJECT NAME=URL and write ${secret:NAME} "
            "(http> expands it in the URI)",
        ),
        (
            14,
            10,
            "td-webhook",
            "warning",
            "webhook URL written into the workflow: anyone who can read the project can post to "
            "it; store it with tdx wf secrets set PROJECT NAME=URL and write ${secret:NAME} "
            "(http> expands it in the URI)",
        ),
    ]


# --- hostile input and API ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["top-level"]),
        ("\n\n# only a comment\n", ["top-level"]),
        ("just a string", ["top-level"]),
        ("[1, 2]", ["top-level"]),
        ("+a:\n\techo>: x\n", ["yaml"]),
        ("+a: [", ["yaml"]),
        ("\x00", ["yaml"]),
        ("? [a]\n: 1\n", ["yaml"]),
        ("+a: " + "[" * 500 + "]" * 500, ["yaml"]),
        ("+" + "x" * 2000 + ": 1\n", ["yaml"]),
        ('"+a\\u0000b": {echo>: x}\n', ["task-name"]),
        ("&a [*a]", ["yaml"]),
    ],
)
def test_hostile_input_gives_findings_not_crashes(text: str, expected: list[str]) -> None:
    assert codes(text, "td") == expected


def test_many_tasks() -> None:
    text = "".join(f"+t{i}:\n  echo>: {i}\n" for i in range(3000)) + "+bad:\n  echo>: a\n  sh>: b\n"
    assert codes(text) == ["multiple-operators"]


def test_findings_are_sorted_unique_and_serialisable(tmp_path: Path) -> None:
    (tmp_path / "b.dig").write_text("+z:\n  echo>: a\n  sh>: b\n+a b:\n  echo>: x\n")
    (tmp_path / "a.dig").write_text("foo: 1\n")
    found = lint_paths([tmp_path, tmp_path / "a.dig"], profile="digdag")
    assert found == sorted(found)
    assert [(Path(f.path).name, f.line) for f in found] == [
        ("a.dig", 1),
        ("b.dig", 3),
        ("b.dig", 4),
    ]
    document = findings_to_json(found)
    assert json.loads(json.dumps(document)) == document
    assert list(document["findings"][0]) == [  # type: ignore[index]
        "path",
        "line",
        "column",
        "code",
        "severity",
        "message",
    ]


def test_finding_is_a_frozen_value() -> None:
    finding = Finding("a.dig", 1, 2, "yaml", "error", "m")
    with pytest.raises(AttributeError):
        finding.line = 3  # type: ignore[misc]


def test_slack_is_not_an_operator_on_td() -> None:
    text = "+notify:\n  slack>: hooks/error.yml\n"
    assert [(r[0], r[2], r[4]) for r in lint(text, "td")] == [
        (
            2,
            "td-operator",
            "Treasure Data Workflow does not support slack>: there is no slack> operator: POST "
            "to the Slack incoming webhook with http>: ${secret:KEY}, method: POST, "
            "content_format: json, content: {text: ...}",
        )
    ]


def test_a_project_in_the_current_folder_finds_its_files(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "wf.dig").write_text("+a:\n  td>: queries/ok.sql\n+b:\n  td>: ../x.sql\n")
    monkeypatch.chdir(project)
    (finding,) = lint_paths(["wf.dig"])
    assert (finding.line, finding.code) == (4, "missing-file")
    assert finding.message.startswith("td> names ../x.sql, outside the project folder")


def test_a_folder_without_workflows_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "queries").mkdir()
    with pytest.raises(InputError, match=r"queries: no workflow here \(a project folder"):
        lint_paths([tmp_path / "queries"])
