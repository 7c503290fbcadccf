from __future__ import annotations

import json

import pytest

from digsync.config.model import config_from_data, load_config, parse_config
from digsync.errors import ConfigError, InputError
from tests.conftest import BASE, EXAMPLE, base_data


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config.yaml")
    return [str(p) for p in info.value.problems]


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.semantic_database == "semantic_layer_v1"
    assert config.schedule.directive == {"daily>": "03:00:00"}
    assert config.warnings == ()


@pytest.mark.parametrize("name", ["examples/config.yaml", "digsync/templates/config.yaml"])
def test_shipped_configs_read_the_same_in_yaml_1_1(name: str) -> None:
    """digsync init writes the template as it is: a YAML 1.1 reader (PyYAML, the
    original system's tools) must read it as digsync does."""
    import yaml

    from digsync.yamlio.load import load

    text = (EXAMPLE.parents[1] / name).read_text(encoding="utf-8")
    assert yaml.safe_load(text) == load(text, name).data


def test_unquoted_time_stays_a_string() -> None:
    config = parse_config(BASE.replace('time: "03:00:00"', "time: 10:00:00"))
    assert config.schedule.directive == {"daily>": "10:00:00"}


def test_every_error_is_reported_at_once_with_position_and_hint() -> None:
    text = (
        BASE.replace("frequency: daily", "frequency: dayly").replace(
            "sync_mode: delta", "sync_mode: deltaa"
        )
        + "  colour: blue\n"
    )
    assert errors_of(text) == [
        "config.yaml:6:14: sync.sync_mode: expected one of full, delta; got 'deltaa' "
        "(did you mean 'delta'?)",
        "config.yaml:8:16: sync.schedule.frequency: expected one of manual, hourly, daily, "
        "weekly, monthly, interval, custom; got 'dayly' (did you mean 'daily'?)",
        "config.yaml:14:3: workflow.colour: unknown key 'colour'; expected one of project, "
        "name, docker_image, td_api_server, source",
    ]


def test_unknown_top_level_section_is_a_warning() -> None:
    config = parse_config(BASE + "approval:\n  required: true\n")
    assert [str(w) for w in config.warnings] == [
        "config.yaml:14:1: warning: approval: unknown section, ignored by digsync"
    ]


def test_missing_required_sections() -> None:
    assert errors_of("workflow:\n  project: x_y\n") == [
        "config.yaml:1:1: semantic_database: missing required section",
        "config.yaml:1:1: scope: missing required section",
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert errors_of("- a\n- b\n") == [
        "config.yaml:1:1: expected a mapping of sections; got a list"
    ]


def test_yaml_syntax_error_names_line_and_column() -> None:
    assert errors_of("scope:\n  databases: [a\n  b: c: d\n") == [
        "config.yaml:3:4: invalid YAML: while parsing a flow sequence "
        "did not find expected ',' or ']'"
    ]


def test_duplicate_keys_are_errors() -> None:
    assert errors_of(BASE + "scope:\n  databases: [x]\n") == [
        "config.yaml:14:1: scope: duplicate key; the last one would win"
    ]


def test_original_system_keys_are_accepted() -> None:
    text = BASE.replace(
        "  name: semantic_layer_v1\n",
        "  name: semantic_layer_v1\n  create_if_missing: true\n"
        "  tables:\n    field_metadata: field_metadata\n    glossary: glossary\n",
    ).replace(
        "  sync_mode: delta\n",
        "  sync_mode: delta\n  merge_strategy: preserve_manual\n  create_backup: true\n"
        "  dry_run_by_default: false\n  audit_logging: true\n  batch_size: 500\n",
    )
    config = parse_config(text)
    assert config.tables == {"field_metadata": "field_metadata", "glossary": "glossary"}
    assert config.sync_options == {
        "merge_strategy": "preserve_manual",
        "create_backup": True,
        "dry_run_by_default": False,
        "audit_logging": True,
        "batch_size": 500,
    }


def schedule_of(**fields: object) -> dict[str, object] | None:
    data = base_data()
    data["sync"]["schedule"] = fields  # type: ignore[index]
    return config_from_data(data).schedule.directive


def schedule_errors(**fields: object) -> list[str]:
    data = base_data()
    data["sync"]["schedule"] = fields  # type: ignore[index]
    with pytest.raises(ConfigError) as info:
        config_from_data(data, "c.yaml")
    return [f"{p.key_path}: {p.message}" for p in info.value.problems]


def test_hourly_mm_ss_picks_the_minute() -> None:
    assert schedule_of(frequency="hourly", time="15:30") == {"hourly>": "15:30"}


def test_hourly_ignores_hh_mm_ss_with_a_warning() -> None:
    data = base_data()
    data["sync"]["schedule"] = {"frequency": "hourly", "time": "02:00:00"}  # type: ignore[index]
    config = config_from_data(data)
    assert config.schedule.directive == {"hourly>": "00:00"}
    (warning,) = config.warnings
    assert warning.key_path == "sync.schedule.time"
    assert "ignore an HH:MM:SS time ('02:00:00'); the run is at :00" in warning.message


def test_hourly_without_time_runs_on_the_hour() -> None:
    assert schedule_of(frequency="hourly") == {"hourly>": "00:00"}


def test_daily_hh_mm_is_completed_to_three_parts() -> None:
    assert schedule_of(frequency="daily", time="3:05") == {"daily>": "03:05:00"}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("Monday", "Mon"),
        ("monday", "Mon"),
        ("MON", "Mon"),
        ("tue", "Tue"),
        ("Sunday", "Sun"),
        (0, "Sun"),
        (7, "Sun"),
        (3, "Wed"),
        ("saturday", "Sat"),
    ],
)
def test_weekly_day_names_become_digdag_short_names(day: object, expected: str) -> None:
    directive = schedule_of(frequency="weekly", day_of_week=day, time="03:00:00")
    assert directive == {"weekly>": f"{expected},03:00:00"}


def test_weekly_monday_becomes_mon_not_monday() -> None:
    assert schedule_of(frequency="weekly", day_of_week="Monday") == {"weekly>": "Mon,02:00:00"}


def test_weekly_bad_day_has_a_hint() -> None:
    data = base_data()
    data["sync"]["schedule"] = {"frequency": "weekly", "day_of_week": "Mondy"}  # type: ignore[index]
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    (problem,) = info.value.problems
    assert problem.message == "expected a day name such as Monday or Mon; got 'Mondy'"
    assert problem.hint == "did you mean 'Monday'?"


def test_monthly_has_no_space_after_the_comma() -> None:
    assert schedule_of(frequency="monthly", day_of_month=15, time="04:00:00") == {
        "monthly>": "15,04:00:00"
    }


def test_monthly_day_31_warns() -> None:
    data = base_data()
    data["sync"]["schedule"] = {"frequency": "monthly", "day_of_month": 31}  # type: ignore[index]
    (warning,) = config_from_data(data).warnings
    assert warning.key_path == "sync.schedule.day_of_month"


def test_custom_cron_is_normalised() -> None:
    directive = schedule_of(frequency="custom", cron_expression="0  */6 * * *")
    assert directive == {"cron>": "0 */6 * * *"}


def test_interval_and_options() -> None:
    directive = schedule_of(
        frequency="interval",
        interval_minutes=30,
        skip_on_overtime=True,
        start="2026-01-01",
        end="2026-12-31",
    )
    assert directive is not None
    assert directive["minutes_interval>"] == 30
    assert directive["skip_on_overtime"] is True
    assert directive["start"] == "2026-01-01"
    assert directive["end"] == "2026-12-31"


@pytest.mark.parametrize("fields", [{"enabled": False}, {"frequency": "manual"}])
def test_disabled_schedule_has_no_directive(fields: dict[str, object]) -> None:
    assert schedule_of(**fields) is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"time": "24:00:00"},
            "sync.schedule.time: expected HH:MM:SS with hours 0-23, minutes "
            "and seconds 0-59; got '24:00:00'",
        ),
        (
            {"time": "03:60:00"},
            "sync.schedule.time: expected HH:MM:SS with hours 0-23, minutes "
            "and seconds 0-59; got '03:60:00'",
        ),
        ({"time": "noon"}, "sync.schedule.time: expected HH:MM:SS; got 'noon'"),
        (
            {"frequency": "monthly", "day_of_month": 32},
            "sync.schedule.day_of_month: expected an integer from 1 to 31; got 32",
        ),
        (
            {"frequency": "monthly", "day_of_month": 0},
            "sync.schedule.day_of_month: expected an integer from 1 to 31; got 0",
        ),
        (
            {"frequency": "interval", "interval_minutes": 1441},
            "sync.schedule.interval_minutes: expected an integer from 1 to 1440; got 1441",
        ),
        (
            {"frequency": "hourly", "time": "60:00"},
            "sync.schedule.time: expected MM:SS with minutes and seconds 0-59; got '60:00'",
        ),
        ({"frequency": "custom"}, "sync.schedule: frequency 'custom' needs cron_expression"),
        ({"enabled": "yes"}, "sync.schedule.enabled: expected true or false; got 'yes'"),
        ({"time": 300}, "sync.schedule.time: expected a string; got the number 300"),
    ],
)
def test_schedule_ranges_are_checked(fields: dict[str, object], expected: str) -> None:
    assert schedule_errors(**fields) == [expected]


@pytest.mark.parametrize(
    "expr", ["61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 13 *", "0 0 * *", "every day"]
)
def test_cron_that_digdag_rejects_fails_here(expr: str) -> None:
    (message,) = schedule_errors(frequency="custom", cron_expression=expr)
    assert message.startswith("sync.schedule.cron_expression: ")


def test_unknown_timezone_is_an_error() -> None:
    (message,) = schedule_errors(timezone="Mars/Olympus")
    assert message.startswith("sync.schedule.timezone: ")


def test_slack_webhook_url_becomes_a_secret_and_is_never_echoed() -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    data = base_data()
    data["notifications"] = {
        "on_error": {"enabled": True, "channels": [{"type": "slack", "channel": url}]},
        "on_sync_complete": {
            "enabled": True,
            "channels": [{"type": "slack", "secret": "slack.success_webhook"}],
        },
    }
    config = config_from_data(data)
    assert config.secrets() == {"digsync.on_error.slack_0": url}
    assert url not in repr(config)
    data["notifications"]["on_error"]["channels"][0]["channel"] = "http://x/SECRETVALUE"  # type: ignore[index]
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert "SECRETVALUE" not in str(info.value)
    assert str(info.value) == (
        "notifications.on_error.channels[0].channel: expected an https:// incoming-webhook URL; "
        "got a value that is not an https:// URL (a Slack channel name cannot be posted to: "
        "create an incoming webhook for the channel and give its URL here, or set it as a "
        "project secret and use secret:)"
    )


def test_slack_channel_needs_exactly_one_of_channel_or_secret() -> None:
    data = base_data()
    data["notifications"] = {"on_error": {"enabled": True, "channels": [{"type": "slack"}]}}
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert [p.message for p in info.value.problems] == [
        "a slack channel needs exactly one of 'channel' (webhook URL) or 'secret'"
    ]


def test_email_channel() -> None:
    data = base_data()
    data["notifications"] = {
        "on_sync_complete": {
            "enabled": True,
            "channels": [
                {
                    "type": "email",
                    "recipients": ["a@example.com"],
                    "subject": "Done",
                    "message_template": "Synced ${session_date}",
                }
            ],
        }
    }
    (channel,) = config_from_data(data).on_sync_complete.channels
    assert channel.recipients == ("a@example.com",)
    data["notifications"]["on_sync_complete"]["channels"][0]["recipients"] = ["not an email"]  # type: ignore[index]
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert str(info.value) == (
        "notifications.on_sync_complete.channels[0].recipients[0]: expected an email address; "
        "got 'not an email'"
    )


def test_unclosed_template_variable_is_rejected() -> None:
    data = base_data()
    data["notifications"] = {
        "on_error": {
            "enabled": True,
            "channels": [{"type": "slack", "secret": "s.k", "message_template": "${oops"}],
        }
    }
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert info.value.problems[0].key_path == "notifications.on_error.channels[0].message_template"


@pytest.mark.parametrize("name", ["1abc", "a/b", "x.dig", "", "a b", "+task"])
def test_project_names_follow_digdag_rules(name: str) -> None:
    data = base_data()
    data["workflow"] = {"project": name}
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert info.value.problems[0].key_path == "workflow.project"


def test_missing_file_is_a_usage_error(tmp_path: object) -> None:
    with pytest.raises(InputError, match="no such config file"):
        load_config("/nonexistent/config.yaml")


def test_content_hash_ignores_comments_and_order() -> None:
    a = parse_config(BASE)
    b = parse_config("# a comment\n" + BASE)
    assert a.content_hash == b.content_hash
    c = parse_config(BASE.replace("03:00:00", "04:00:00"))
    assert c.content_hash != a.content_hash


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, {"minutes_interval>": 1}),
        (15, {"minutes_interval>": 15}),
        (60, {"minutes_interval>": 60}),
        (120, {"cron>": "0 */2 * * *"}),
        (360, {"cron>": "0 */6 * * *"}),
        (1440, {"cron>": "0 0 * * *"}),
    ],
)
def test_interval_renders_a_true_interval(minutes: int, expected: dict[str, object]) -> None:
    assert schedule_of(frequency="interval", interval_minutes=minutes) == expected


@pytest.mark.parametrize("minutes", [7, 45, 90, 300])
def test_interval_digdag_cannot_keep_is_rejected(minutes: int) -> None:
    assert schedule_errors(frequency="interval", interval_minutes=minutes) == [
        f"sync.schedule.interval_minutes: Digdag cannot run every {minutes} minutes: "
        f"minutes_interval>: N matches minutes */N of each hour, so runs would not be "
        f"{minutes} minutes apart"
    ]


def test_shape_and_meaning_errors_come_together_in_file_order() -> None:
    text = (
        BASE.replace("frequency: daily", "frequency: weekly")
        .replace('time: "03:00:00"', 'time: "25:00:00"\n    day_of_week: Mondai')
        .replace("sync_mode: delta", "sync_mode: deltaa")
    )
    assert errors_of(text) == [
        "config.yaml:6:14: sync.sync_mode: expected one of full, delta; got 'deltaa' "
        "(did you mean 'delta'?)",
        "config.yaml:9:11: sync.schedule.time: expected HH:MM:SS with hours 0-23, minutes and "
        "seconds 0-59; got '25:00:00'",
        "config.yaml:10:18: sync.schedule.day_of_week: expected a day name such as Monday or "
        "Mon; got 'Mondai' (did you mean 'Monday'?)",
    ]


def test_missing_required_key_names_the_key() -> None:
    assert errors_of(BASE.replace('  databases: ["gld_*"]\n', "  exclude_patterns: []\n")) == [
        "config.yaml:4:3: scope.databases: missing required key"
    ]


ORIGINAL_STYLE = """\
version: "1.0"
description: "Semantic layer configuration"
scope:
  databases: ["analytics.*", "dwh.fact_*", "gld_cstore_prod.loyalty_profile"]
  exclude_patterns: ["*.temp_*", "*._*"]
semantic_database:
  name: "semantic_layer_v1"
  create_if_missing: true
  tables: {field_metadata: "field_metadata", glossary: "glossary"}
validation:
  require_table_description: true
auto_generation:
  enabled: true
  content_rules:
    prefix_auto_generated: "[AUTO]"
    overwrite_existing: false
    overwrite_auto_generated: false
    skip_fields_matching: ["time", "td_*"]
  generate: {field_descriptions: true, tags: true, pii_detection: true, business_terms: false}
  patterns:
    - name: "identifiers"
      match: [{pattern: "^.*_id$"}, {pattern: "^id$"}]
      tag: "ID"
      description_template: "Identifier for {entity}"
      pii_category: null
notifications:
  on_sync_complete:
    enabled: false
    channels:
      - type: "slack"
        channel: "#data-engineering"
        message_template: "Synced: {{tables_updated}} tables"
  on_error:
    enabled: false
    channels:
      - type: "email"
        recipients: ["data-team@company.com"]
        subject: "Semantic Layer Sync Error"
approval:
  require_dry_run: true
sync:
  merge_strategy: "manual_wins"
  create_backup: true
  dry_run_by_default: true
  audit_logging: true
  batch_size: 100
"""


def test_a_config_of_the_original_system_loads_with_warnings_only() -> None:
    config = parse_config(ORIGINAL_STYLE)
    assert config.databases == ("analytics.*", "dwh.fact_*", "gld_cstore_prod.loyalty_profile")
    assert config.auto_generation["patterns"][0] == {
        "name": "identifiers",
        "match": [{"pattern": "^.*_id$"}, {"pattern": "^id$"}],
        "tag": "ID",
        "description_template": "Identifier for {entity}",
    }
    assert [str(w) for w in config.warnings] == [
        "config.yaml:1:1: warning: version: unknown section, ignored by digsync",
        "config.yaml:2:1: warning: description: unknown section, ignored by digsync",
        "config.yaml:10:1: warning: validation: unknown section, ignored by digsync",
        "config.yaml:31:18: warning: notifications.on_sync_complete.channels[0].channel: "
        "expected an https:// incoming-webhook URL; got '#data-engineering' (ignored while "
        "this notification is disabled) (a Slack channel name cannot be posted to: create an "
        "incoming webhook for the channel and give its URL here, or set it as a project "
        "secret and use secret:)",
        "config.yaml:32:27: warning: notifications.on_sync_complete.channels[0]."
        "message_template: '{{tables_updated}}' is sent as written: Digdag fills only ${...} "
        "variables (use e.g. ${sync_metadata.new_tables}, ${sync_metadata.new_columns}, "
        "${detect_changes.changed_columns} or ${session_time})",
        "config.yaml:39:1: warning: approval: unknown section, ignored by digsync",
    ]


def test_a_slack_channel_name_is_an_error_once_the_notification_is_enabled() -> None:
    text = ORIGINAL_STYLE.replace(
        "  on_sync_complete:\n    enabled: false", "  on_sync_complete:\n    enabled: true"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert (problem.key_path, problem.mark[1:] if problem.mark else None) == (
        "notifications.on_sync_complete.channels[0].channel",
        (31, 18),
    )
    assert problem.message.startswith("expected an https:// incoming-webhook URL; got '#data-")


def test_auto_generation_regexes_and_digdag_variables_are_checked() -> None:
    text = ORIGINAL_STYLE.replace('{pattern: "^id$"}', '{pattern: "(unclosed"}').replace(
        '"Identifier for {entity}"', '"Id ${x}"'
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert [str(p) for p in info.value.problems if p.severity == "error"] == [
        "config.yaml:22:47: auto_generation.patterns[0].match[1].pattern: not a valid regular "
        "expression: missing ), unterminated subpattern at position 0 (Python re syntax, "
        "e.g. '_id$')",
        "config.yaml:24:29: auto_generation.patterns[0].description_template: contains '${': "
        "Digdag would evaluate it as a variable before the task runs (write the $ and { apart, "
        "e.g. [$]{)",
    ]


@pytest.mark.parametrize("key", ["message_template", "subject"])
def test_a_message_cannot_name_a_secret(key: str) -> None:
    data = base_data()
    channel = {"type": "email", "recipients": ["a@example.com"], key: "x ${secret:td.apikey}"}
    data["notifications"] = {"on_error": {"enabled": True, "channels": [channel]}}
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert [str(p) for p in info.value.problems] == [
        f"notifications.on_error.channels[0].{key}: cannot name a secret: Digdag would expand "
        "${secret:...} and send its value in the message (use variables such as "
        "${session_time}; secrets stay in the server's secret store)"
    ]


def test_a_double_dollar_in_auto_generation_is_an_error() -> None:
    text = ORIGINAL_STYLE.replace('{pattern: "^id$"}', '{pattern: "^id$$"}')
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert [str(p) for p in info.value.problems if p.severity == "error"] == [
        "config.yaml:22:47: auto_generation.patterns[0].match[1].pattern: contains '$$': "
        "Digdag turns it into '$' before the task runs (write a regex's $$ as $ (one end "
        "anchor is enough), or [$][$] for two dollars)"
    ]


def test_scope_takes_database_and_database_dot_table_globs_only() -> None:
    data = base_data()
    data["scope"] = {"databases": ["gld_*", "dwh.fact_*", "a.b.c", "Bad"]}
    with pytest.raises(ConfigError) as info:
        config_from_data(data)
    assert [p.key_path for p in info.value.problems] == ["scope.databases[2]", "scope.databases[3]"]


def test_auto_generation_options_digsync_does_not_honour_are_warnings() -> None:
    data = base_data()
    data["auto_generation"] = {
        "content_rules": {"overwrite_existing": True},
        "generate": {"business_terms": True},
        "patterns": [{"pattern": "_id$", "tag": "ID"}],
    }
    assert [str(w) for w in config_from_data(data).warnings] == [
        "warning: auto_generation.content_rules.overwrite_existing: is ignored: digsync never "
        "overwrites a description a person wrote",
        "warning: auto_generation.generate.business_terms: is not supported by digsync and is "
        "ignored",
    ]


def test_an_invalid_cron_is_reported_beside_errors_elsewhere() -> None:
    text = BASE.replace("sync_mode: delta", "sync_mode: fulll").replace(
        "frequency: daily", "frequency: custom\n    cron_expression: '61 * * * *'"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert [p.key_path for p in info.value.problems] == [
        "sync.sync_mode",
        "sync.schedule.cron_expression",
    ]


@pytest.mark.parametrize("key", ["_x", "slack_", "slack._hook", "a..b", "1abc", "a-", "x" * 256])
def test_secret_names_follow_digdag_secret_validation(key: str) -> None:
    """Digdag's SecretValidation: each dot-part starts with a letter, ends with a letter or
    digit, 255 characters at most; the server refuses anything else."""
    problems = errors_of(_with_slack_secret(key))
    assert len(problems) == 1 and "secret key" in problems[0], problems
    assert "channels[0].secret" in problems[0] or "channels.0.secret" in problems[0], problems


@pytest.mark.parametrize("key", ["a", "slack.error_webhook", "my-team.hook2", "A.b_c-d9"])
def test_secret_names_digdag_accepts_pass(key: str) -> None:
    parse_config(_with_slack_secret(key), "config.yaml")


def _with_slack_secret(key: str) -> str:
    return BASE + (
        "notifications:\n  on_error:\n    enabled: true\n"
        f"    channels: [{{type: slack, secret: {json.dumps(key)}}}]\n"
    )
