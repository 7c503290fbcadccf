"""Rules of the ``td`` profile: what Treasure Data's hosted Digdag does not run or expand.

Sources: TD's "Treasure Workflow Prerequisites and Limitations" (no sh>, rb>, embulk>,
emr>, param_get>, param_set>, no td> download_file; py> is the only custom script and
runs in the Docker image named by ``docker.image``), and Digdag's operators, which
expand ``${secret:...}`` only where they call ``UserSecretTemplate`` (``_env``, http>
URI/content/headers/query, the td result URL, sh> commands and emr> steps).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from digsync.dig.lint.rules import DYNAMIC_BLOCKS, Task, Workflow, is_template
from digsync.dig.loader import LoadedDig, format_key
from digsync.yamlio.load import PathKey

if TYPE_CHECKING:
    from digsync.dig.lint.findings import Report

UNSUPPORTED = {
    "sh": "TD runs no shell commands: move the work into a py> script (a custom script)",
    "rb": "TD runs no Ruby: port the script to Python and call it with py>",
    "embulk": "TD runs no Embulk jobs: import data with td_load> (a YAML file or a saved "
    "data connector)",
    "emr": "TD does not run Amazon EMR jobs: start them from a py> script with boto3",
    "param_get": "TD has no ParamServer: pass values with _export: or store them from py> "
    "with digdag.env.store()",
    "param_set": "TD has no ParamServer: store values from py> with digdag.env.store() "
    "and read them as ${...} in later tasks",
    "slack": "there is no slack> operator: POST to the Slack incoming webhook with "
    "http>: ${secret:KEY}, method: POST, content_format: json, content: {text: ...}",
}
_SECRET = "${secret:"
_HTTP_SECRET_KEYS = frozenset({"content", "headers", "query"})
_RESULT_URL_OPERATORS = frozenset({"td", "td_run", "td_result_export"})
_CREDENTIAL_KEY = re.compile(
    r"(?:^|[_.\-])(?:api_?key|apikey|password|passwd|pwd|secret|secret_?key|client_?secret"
    r"|access_?key|access_?token|auth_?token|token|private_?key|credentials?|authorization)$",
    re.IGNORECASE,
)
_WEBHOOK = re.compile(
    r"https?://(?:hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|[\w.-]*webhook\.office\.com/|outlook\.office(?:365)?\.com/webhook"
    r"|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/"
    r"|chat\.googleapis\.com/v1/spaces/|[\w.-]+\.logic\.azure\.com(?::\d+)?/workflows/)"
    r"[^\s\"']*"
)


def check_td(doc: LoadedDig, report: Report, workflow: Workflow) -> None:
    """All td-profile rules for one loaded workflow."""
    for task in workflow.tasks:
        if task.kind == "disabled":
            continue
        if task.kind == "operator":
            _operator(doc, report, task)
        _secrets(doc, report, task)
    _literals(doc, report)
    _credential_routes(doc, report)


def _operator(doc: LoadedDig, report: Report, task: Task) -> None:
    """Unsupported operators, td> download_file and py> without a Docker image."""
    op, at = task.operator, task.op_at or task.at
    if op in UNSUPPORTED:
        report.error(
            doc.key_mark(at),
            "td-operator",
            f"Treasure Data Workflow does not support {op}>: {UNSUPPORTED[op]}",
        )
    if op == "td" and "download_file" in task.params:
        report.error(
            doc.key_mark(task.params["download_file"][1]),
            "td-download-file",
            "Treasure Data Workflow does not support td> download_file: export the "
            "result with result_connection:/result_url: or td_result_export> instead",
        )
    if op == "py" and not task.has_image:
        report.error(
            doc.key_mark(at),
            "td-docker-image",
            f"py> needs a Docker image on Treasure Data: {format_key(task.full_name)} "
            "has no docker.image; add _export: {docker: {image: "
            '"treasuredata/customscript-python:3.12.11-td0"}} to the workflow or to this task',
        )


def _secrets(doc: LoadedDig, report: Report, task: Task) -> None:
    """``${secret:...}`` where the task's operator will not expand it."""
    skip = {"_secrets", "_error", *DYNAMIC_BLOCKS}
    for key, (value, at) in task.params.items():
        if key in skip or (not task.at and key == "sla"):
            continue
        for rel, where, text in _strings(value, (key,), at):
            if _SECRET in text and not _secret_allowed(task.operator, rel):
                report.error(doc.mark(where), "td-secret", _secret_message(task, rel))


def _secret_allowed(op: str | None, rel: tuple[str, ...]) -> bool:
    """Whether Digdag expands ``${secret:...}`` at this key path of a task."""
    if "_env" in rel or op in ("sh", "emr"):
        return True
    head = rel[0]
    if op in ("http", "http_call") and (
        head in _HTTP_SECRET_KEYS or head in (f"{op}>", "_command")
    ):
        return True
    if op in _RESULT_URL_OPERATORS and head == "result_url":
        return True
    if head == "_export" and len(rel) >= 3:
        return (rel[1] == "http" and rel[2] in _HTTP_SECRET_KEYS) or (
            rel[1] == "td" and rel[2] == "result_url"
        )
    return False


def _secret_message(task: Task, rel: tuple[str, ...]) -> str:
    where = f"{task.operator}> parameter {rel[0]}" if task.operator else f"{rel[0]}"
    return (
        f"${{secret:...}} is not expanded in {format_key(where)}: Digdag expands secrets "
        "only in _env, http> URI/content/headers/query and td result_url; pass it "
        "through _env: {MY_VAR: ${secret:name}} and read os.environ['MY_VAR'] in the script"
    )


def _credential_routes(doc: LoadedDig, report: Report) -> None:
    """Where the TD key goes: TD_API_SERVER in an _env (the tasks send the key there) and
    the docker image (it runs with the key in its environment)."""
    from digsync.config.trust import TRUSTED_IMAGES, host_problem, image_is_known

    stack: list[tuple[Any, PathKey]] = [(doc.data, ())]
    while stack:
        value, here = stack.pop()
        if isinstance(value, list):
            stack.extend((item, (*here, i)) for i, item in enumerate(value))
            continue
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            where = (*here, key)
            parent = here[-1] if here else None
            if parent == "_env" and key == "TD_API_SERVER" and _literal(item):
                problem = host_problem(str(item))
                if problem is not None:
                    report.error(
                        doc.mark(where),
                        "td-api-host",
                        f"TD_API_SERVER {format_key(item)}: the py> task sends the TD API key "
                        f"there; {problem[0]} ({problem[1]})",
                    )
            if (
                parent == "docker"
                and key == "image"
                and isinstance(item, str)
                and not is_template(item)
                and not image_is_known(item)
            ):
                report.warning(
                    doc.mark(where),
                    "td-docker-image-source",
                    f"docker image {format_key(item)} is not one TD documents for custom "
                    "scripts; py> runs in it with the task's secrets in its environment "
                    f"(use {' or '.join(TRUSTED_IMAGES)} unless you trust it)",
                )
            stack.append((item, where))


def _literals(doc: LoadedDig, report: Report) -> None:
    """Credentials and webhook URLs written into the workflow as plain text."""
    for rel, where, text in _strings(doc.data, (), ()):
        if (rel and rel[0] == "_secrets") or "_secrets" in rel:
            continue
        hook = _WEBHOOK.search(text)
        if hook and "${" not in hook.group():
            report.warning(
                doc.mark(where),
                "td-webhook",
                "webhook URL written into the workflow: anyone who can read the "
                "project can post to it; store it with tdx wf secrets set PROJECT NAME=URL "
                "and write ${secret:NAME} (http> expands it in the URI)",
            )
    _credentials(doc, report, doc.data, ())


def _credentials(doc: LoadedDig, report: Report, data: Any, at: PathKey) -> None:
    """Keys such as password or apikey holding a literal value."""
    stack: list[tuple[Any, PathKey]] = [(data, at)]
    while stack:
        value, here = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "_secrets":
                    continue
                if _CREDENTIAL_KEY.search(key) and _literal(item):
                    report.warning(
                        doc.mark((*here, key)),
                        "td-credential",
                        f"literal credential in {format_key(key)}: store it with "
                        f"tdx wf secrets set PROJECT {format_key(key)}=VALUE and let the operator "
                        "read the secret (or use ${secret:...} in _env) instead of "
                        "writing it here",
                    )
                stack.append((item, (*here, key)))
        elif isinstance(value, list):
            stack.extend((item, (*here, i)) for i, item in enumerate(value))


def _literal(value: Any) -> bool:
    """A written-out value: a non-empty string without ${...}, or a number."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(value.strip()) and not is_template(value)


def _strings(
    value: Any, rel: tuple[str, ...], at: PathKey
) -> list[tuple[tuple[str, ...], PathKey, str]]:
    """Every string (values and keys) under ``value`` with its key path and position."""
    out: list[tuple[tuple[str, ...], PathKey, str]] = []
    stack: list[tuple[Any, tuple[str, ...], PathKey]] = [(value, rel, at)]
    while stack:
        item, keys, here = stack.pop()
        if isinstance(item, str):
            out.append((keys, here, item))
        elif isinstance(item, dict):
            for key, child in item.items():
                if "${" in key:
                    out.append(((*keys, key), (*here, key), key))
                stack.append((child, (*keys, key), (*here, key)))
        elif isinstance(item, list):
            stack.extend((child, keys, (*here, i)) for i, child in enumerate(item))
    return out
