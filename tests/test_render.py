from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digsync.runtime
from digsync.config.model import config_from_data, load_config, parse_config
from digsync.dig.loader import load_dig
from digsync.errors import ConfigError
from digsync.render.project import render_dig, render_project
from tests.conftest import BASE, EXAMPLE, base_data

URL = "https://hooks.slack.com/services/T0/B0/SECRETSECRET"


RUNTIME_DIR = Path(digsync.runtime.__file__).parent


def full_data() -> dict[str, Any]:
    data: dict[str, Any] = base_data()
    data["notifications"] = {
        "on_error": {
            "enabled": True,
            "channels": [
                {"type": "slack", "channel": URL, "message_template": "failed"},
            ],
        },
        "on_sync_complete": {
            "enabled": True,
            "channels": [
                {"type": "slack", "secret": "slack.success_webhook"},
                {
                    "type": "email",
                    "recipients": ["team@example.com"],
                    "from": "bot@example.com",
                    "subject": "Done",
                    "message_template": "All good",
                },
            ],
        },
    }
    data["auto_generation"] = {
        "content_rules": {"prefix_auto_generated": "[AUTO]", "skip_fields_matching": ["td_*"]},
        "patterns": [
            {
                "name": "ids",
                "match": [{"pattern": "_id$"}],
                "tag": "ID",
                "description_template": "Identifier for {entity}",
                "pii_category": "none",
            }
        ],
    }
    return data


def parsed(config_data: dict[str, Any]) -> dict[str, Any]:
    text = render_dig(config_from_data(config_data))
    doc = load_dig(text, "w.dig").data
    assert isinstance(doc, dict)
    return doc


def test_workflow_shape() -> None:
    doc = parsed(full_data())
    assert list(doc) == [
        "timezone",
        "schedule",
        "_export",
        "+detect_changes",
        "+sync_if_changed",
        "_error",
    ]
    assert doc["schedule"] == {"daily>": "03:00:00"}
    assert doc["_export"]["docker"] == {"image": "treasuredata/customscript-python:3.12.11-td0"}
    detect = doc["+detect_changes"]
    assert detect["py>"] == "digsync_tasks.detect_schema_changes"
    assert detect["_env"] == {"TD_API_KEY": "${secret:td.apikey}"}
    branch = doc["+sync_if_changed"]
    assert branch["if>"] == "${detect_changes.has_changes}"
    assert list(branch["_do"]) == ["+sync_metadata", "+delta_report", "+notify_success"]
    assert branch["_do"]["+delta_report"] == {
        "td>": "queries/delta_report.sql",
        "database": "semantic_layer_v1",
    }
    assert list(branch["_else_do"]) == ["+nothing_to_do"]
    success = branch["_do"]["+notify_success"]
    # Two channels run side by side: a failed Slack POST must not stop the email.
    assert list(success) == ["_parallel", "+slack_0", "+email_1"]
    assert success["_parallel"] is True
    assert success["+slack_0"] == {
        "http>": "${secret:slack.success_webhook}",
        "method": "POST",
        "content": {"text": success["+slack_0"]["content"]["text"]},
        "content_format": "json",
    }
    assert "${sync_metadata.new_columns}" in success["+slack_0"]["content"]["text"]
    assert success["+email_1"] == {
        "mail>": {"data": "All good"},
        "subject": "Done",
        "to": ["team@example.com"],
        "from": "bot@example.com",
        "port": 587,
    }
    assert doc["_error"] == {
        "+notify_error": {
            "+slack_0": {
                "http>": "${secret:digsync.on_error.slack_0}",
                "method": "POST",
                "content": {"text": "failed"},
                "content_format": "json",
            }
        }
    }


@pytest.mark.parametrize(
    ("port", "extra"), [(465, {"ssl": True, "tls": False}), (587, {}), (25, {})]
)
def test_smtps_port_renders_ssl(port: int, extra: dict[str, bool]) -> None:
    """Digdag's mail> defaults to STARTTLS; 465 is SMTPS and needs ssl: true."""
    data = full_data()
    email = data["notifications"]["on_sync_complete"]["channels"][1]
    email["smtp_port"] = port
    task = parsed(data)["+sync_if_changed"]["_do"]["+notify_success"]["+email_1"]
    assert task["port"] == port
    assert {k: task[k] for k in ("ssl", "tls") if k in task} == extra


def test_webhook_url_never_reaches_the_workflow() -> None:
    text = render_dig(config_from_data(full_data()))
    assert "SECRETSECRET" not in text
    assert "hooks.slack.com" not in text


def test_times_are_quoted_in_the_output() -> None:
    text = render_dig(parse_config(BASE))
    assert 'daily>: "03:00:00"' in text


def test_disabled_schedule_renders_no_schedule_block() -> None:
    data = base_data()
    data["sync"]["schedule"]["enabled"] = False  # type: ignore[index]
    doc = parsed(data)
    assert "schedule" not in doc
    assert doc["timezone"] == "UTC"


def test_output_is_deterministic_and_has_a_header() -> None:
    config = load_config(EXAMPLE)
    first = render_project(config, "examples/config.yaml").files
    second = render_project(load_config(EXAMPLE), "examples/config.yaml").files
    assert first == second
    dig = first["semantic_layer_sync.dig"].decode()
    assert dig.splitlines()[:3] == [
        "# Generated by digsync 0.1.0. Do not edit: change the config and regenerate.",
        "# Command: digsync generate --config examples/config.yaml",
        f"# Config sha256: {config.content_hash}",
    ]
    shipped = sorted(
        f"digsync_tasks/{p.name}"
        for p in RUNTIME_DIR.glob("*.py")
        if not p.name.startswith("_local")
    )
    expected = ["queries/delta_report.sql", "semantic_layer_sync.dig", *shipped]
    assert sorted(first) == sorted(expected)
    assert "digsync_tasks/__init__.py" in shipped and "digsync_tasks/_local_demo.py" not in first


def test_header_label_cannot_inject_lines() -> None:
    text = render_dig(parse_config(BASE), "evil\n+task:\n  sh>: x")
    assert load_dig(text, "w.dig").data["+detect_changes"]  # still parses
    assert "\n+task:" not in text


# --- property: no string value can change the workflow's shape ------------------------

Path_ = tuple[Any, ...]
Extract = Callable[[dict[str, Any]], Any]

VERBATIM: list[tuple[Path_, Extract]] = [
    (("semantic_database", "name"), lambda d: d["_export"]["td"]["database"]),
    (("scope", "databases", 0), lambda d: d["+detect_changes"]["databases"][0]),
    (("scope", "exclude_patterns", 0), lambda d: d["+detect_changes"]["exclude_patterns"][0]),
    (("sync", "merge_strategy"), lambda d: d["+detect_changes"]["sync_options"]["merge_strategy"]),
    (
        ("semantic_database", "tables", "glossary"),
        lambda d: d["_export"]["digsync_tables"]["glossary"],
    ),
    (("sync", "schedule", "timezone"), lambda d: d["timezone"]),
    (("sync", "schedule", "skip_delayed_by"), lambda d: d["schedule"]["skip_delayed_by"]),
    (("sync", "schedule", "start"), lambda d: d["schedule"]["start"]),
    (
        ("notifications", "on_error", "channels", 0, "message_template"),
        lambda d: d["_error"]["+notify_error"]["+slack_0"]["content"]["text"],
    ),
    (
        ("notifications", "on_sync_complete", "channels", 0, "secret"),
        lambda d: d["+sync_if_changed"]["_do"]["+notify_success"]["+slack_0"]["http>"][9:-1],
    ),
    (
        ("notifications", "on_sync_complete", "channels", 1, "subject"),
        lambda d: d["+sync_if_changed"]["_do"]["+notify_success"]["+email_1"]["subject"],
    ),
    (
        ("notifications", "on_sync_complete", "channels", 1, "message_template"),
        lambda d: d["+sync_if_changed"]["_do"]["+notify_success"]["+email_1"]["mail>"]["data"],
    ),
    (
        ("notifications", "on_sync_complete", "channels", 1, "recipients", 0),
        lambda d: d["+sync_if_changed"]["_do"]["+notify_success"]["+email_1"]["to"][0],
    ),
    (
        ("notifications", "on_sync_complete", "channels", 1, "from"),
        lambda d: d["+sync_if_changed"]["_do"]["+notify_success"]["+email_1"]["from"],
    ),
    (("workflow", "docker_image"), lambda d: d["_export"]["docker"]["image"]),
    *(
        (
            ("auto_generation", "patterns", 0, *where),
            lambda d, where=where: _dig(
                d["+detect_changes"]["auto_generation"]["patterns"][0], where
            ),
        )
        for where in (
            ("name",),
            ("match", 0, "pattern"),
            ("tag",),
            ("description_template",),
            ("pii_category",),
        )
    ),
    (
        ("auto_generation", "content_rules", "prefix_auto_generated"),
        lambda d: d["+detect_changes"]["auto_generation"]["content_rules"]["prefix_auto_generated"],
    ),
]


def _dig(node: Any, where: tuple[str | int, ...]) -> Any:
    for part in where:
        node = node[part]
    return node


# Values digsync normalises (times, day names, cron spacing) or uses as names.
SHAPED: list[Path_] = [
    ("sync", "schedule", "time"),
    ("sync", "schedule", "day_of_week"),
    ("sync", "schedule", "cron_expression"),
    ("sync", "schedule", "frequency"),
    ("sync", "sync_mode"),
    ("notifications", "on_error", "channels", 0, "channel"),
    ("workflow", "project"),
    ("workflow", "name"),
]
TOP = {"timezone", "schedule", "_export", "+detect_changes", "+sync_if_changed", "_error"}


def property_data(path: Path_, value: str) -> dict[str, Any]:
    data = copy.deepcopy(full_data())
    data["semantic_database"]["tables"] = {"glossary": "glossary"}
    data["sync"]["merge_strategy"] = "preserve_manual"
    data["scope"]["exclude_patterns"] = ["gld_tmp*"]
    sched = data["sync"]["schedule"]
    sched.update({"skip_delayed_by": "1h", "start": "2026-01-01"})
    if path[-1] == "day_of_week":
        sched["frequency"] = "weekly"
    if path[-1] == "cron_expression":
        sched["frequency"] = "custom"
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def check_shape(path: Path_, value: str) -> dict[str, Any] | None:
    data = property_data(path, value)
    try:
        config = config_from_data(data)
    except ConfigError as exc:
        assert exc.problems, "a rejection must say why"
        for problem in exc.problems:
            assert problem.message
            assert problem.key_path.startswith(".".join(str(p) for p in path[:2]))
        return None
    doc = load_dig(render_dig(config), "w.dig").data
    assert set(doc) == TOP
    assert list(doc["+sync_if_changed"]) == ["if>", "_do", "_else_do"]
    assert list(doc["+sync_if_changed"]["_do"]) == [
        "+sync_metadata",
        "+delta_report",
        "+notify_success",
    ]
    assert doc == load_dig(render_dig(config), "w.dig").data
    return doc  # type: ignore[no-any-return]


any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
hostile = st.sampled_from(
    [
        "x\n+pwned:\n  sh>: rm -rf /",
        'x"\n_error: {}',
        "${secret:td.apikey}",
        "a: b",
        "- x",
        "}",
        "&anchor",
        "*alias",
        "!include : x.dig",
        "# comment",
        "'",
        "\\",
        "\u2028+t:",
        "",
        "03:00:00",
        "yes",
        "~",
        "0x10",
        "@x",
        "`x`",
        "%TAG",
        "\uff41",
        "\t",
        " lead",
        "trail ",
    ]
)


@pytest.mark.parametrize(
    ("path", "extract"),
    VERBATIM,
    ids=lambda p: ".".join(map(str, p)) if isinstance(p, tuple) else "",
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=any_text | hostile)
def test_verbatim_string_fields_round_trip_or_are_rejected(
    path: Path_, extract: Extract, value: str
) -> None:
    doc = check_shape(path, value)
    if doc is not None:
        assert extract(doc) == value


@pytest.mark.parametrize("path", SHAPED, ids=lambda p: ".".join(map(str, p)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=any_text | hostile)
def test_shaped_string_fields_keep_the_workflow_shape_or_are_rejected(
    path: Path_, value: str
) -> None:
    check_shape(path, value)


def test_the_tasks_call_the_configured_td_api_host() -> None:
    data = base_data()
    assert "TD_API_SERVER" not in parsed(data)["+detect_changes"]["_env"]
    data["workflow"]["td_api_server"] = "api.treasuredata.co.jp"  # type: ignore[index]
    doc = parsed(data)
    for task in (doc["+detect_changes"], doc["+sync_if_changed"]["_do"]["+sync_metadata"]):
        assert task["_env"] == {
            "TD_API_KEY": "${secret:td.apikey}",
            "TD_API_SERVER": "api.treasuredata.co.jp",
        }


@pytest.mark.parametrize(
    ("target", "host"),
    [
        ({"type": "td", "region": "jp"}, "api.treasuredata.co.jp"),
        ({"type": "td", "region": "eu01"}, "api.eu01.treasuredata.com"),
        ({"type": "td", "endpoint": "https://api-workflow.ap02.treasuredata.com"}, None),
        (
            {
                "type": "td",
                "region": "us",
                "endpoint": "https://api-workflow.ap03.treasuredata.com",
            },
            "api.ap03.treasuredata.com",
        ),
    ],
)
def test_the_tasks_call_the_api_of_the_region_the_config_pushes_to(
    target: dict[str, str], host: str | None
) -> None:
    """A TD API key belongs to one region: the tasks call the region's REST API host."""
    data = base_data()
    data["target"] = target
    expected = host or "api.ap02.treasuredata.com"
    config = config_from_data(data)
    assert config.warnings == ()
    assert parsed(data)["+detect_changes"]["_env"]["TD_API_SERVER"] == expected
    data["workflow"]["td_api_server"] = "https://api.treasuredata.co.jp"  # type: ignore[index]
    assert parsed(data)["+detect_changes"]["_env"]["TD_API_SERVER"] == (
        "https://api.treasuredata.co.jp"
    )
    data["workflow"]["td_api_server"] = "api.x.com/../etc"  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"workflow\.td_api_server: expected a host name"):
        config_from_data(data)
