"""The shape of config.yaml, as data. ``digsync schema`` prints it as JSON Schema."""

from __future__ import annotations

from typing import Any

from digsync.config.regions import WORKFLOW_HOSTS
from digsync.config.spec import Spec, to_json_schema
from digsync.config.targets import TARGETS

DEFAULT_IMAGE = "treasuredata/customscript-python:3.12.11-td0"
FREQUENCIES = ("manual", "hourly", "daily", "weekly", "monthly", "interval", "custom")

# Names that end up as Digdag project/workflow names and as file names: Digdag forbids
# a leading digit and a leading + ^ @ / \ : * ? " < > |; we also keep them path-safe.
NAME_PATTERN = r"(?!.*\.dig$)[A-Za-z_][A-Za-z0-9_.\-]{0,254}"
NAME_HINT = "a name of letters, digits, _ . - (not starting with a digit or ending in .dig)"
TD_NAME_PATTERN = r"[a-z0-9_]{3,255}"
TD_NAME_HINT = "a Treasure Data name: 3-255 lowercase letters, digits and _"
GLOB_PATTERN = r"[a-z0-9_*?\[\]!\-]{1,255}(?:\.[a-z0-9_*?\[\]!\-]{1,255})?"
GLOB_HINT = "a database glob, or database.table, of lowercase letters, digits, _ - and * ? [ ]"
# Digdag's SecretValidation: dot-separated segments, each starting with a letter and
# ending with a letter or digit; 255 characters at most.
_SECRET_SEGMENT = r"[A-Za-z](?:[A-Za-z0-9_\-]*[A-Za-z0-9])?"
SECRET_KEY_PATTERN = rf"(?=.{{1,255}}$){_SECRET_SEGMENT}(?:\.{_SECRET_SEGMENT})*"
SECRET_KEY_HINT = (
    "a secret key such as slack.success_webhook (dot-separated parts, each starting with a "
    "letter and ending with a letter or digit)"
)
# Written for both Python and ECMA-262 "u" mode (editors): no escapes inside the classes.
EMAIL_PATTERN = r'[^@\s"<>,;]+@[^@\s"<>,;]+\.[^@\s"<>,;]+'
API_SERVER_PATTERN = r"(?:https?://)?[a-z0-9][a-z0-9.\-]*[a-z0-9](?::\d{1,5})?/?"
IMAGE_PATTERN = r"[a-z0-9][a-z0-9._/\-]*(?::[A-Za-z0-9._\-]{1,128})?(?:@sha256:[0-9a-f]{64})?"

SCHEDULE = Spec(
    "object",
    "When the sync runs. Rendered into the workflow's schedule: block.",
    properties={
        "enabled": Spec("boolean", "false: manual runs only (no schedule block).", True),
        "frequency": Spec("string", "How often the sync runs.", "daily", enum=FREQUENCIES),
        "time": Spec(
            "string",
            "HH:MM:SS for daily/weekly/monthly; MM:SS (minute:second) for hourly.",
            "02:00:00",
            example="03:00:00",
        ),
        "day_of_week": Spec(
            "string",
            "weekly: a day name (Monday, mon, ...) in any case, or 0-7 (0 and 7 are Sunday).",
            "Monday",
            one_of_kinds=("string", "integer"),
        ),
        "day_of_month": Spec("integer", "monthly: day of the month.", 1, minimum=1, maximum=31),
        "interval_minutes": Spec(
            "integer", "interval: minutes between runs.", 60, minimum=1, maximum=1440
        ),
        "cron_expression": Spec(
            "string",
            "custom: five cron fields (minute hour day month weekday).",
            example="0 */6 * * *",
        ),
        "timezone": Spec(
            "string", "IANA time zone name (Asia/Tokyo) or fixed offset (+09:00).", "UTC"
        ),
        "skip_on_overtime": Spec(
            "boolean", "Skip a run while the previous one is still running.", example=False
        ),
        "skip_delayed_by": Spec(
            "string",
            "Skip a run that starts later than this after its time (e.g. 1h).",
            example="1h",
        ),
        "start": Spec(
            "string",
            "First date (YYYY-MM-DD) runs may happen. Needs Digdag 0.10.5 or later.",
            example="2026-01-01",
        ),
        "end": Spec(
            "string",
            "Last date (YYYY-MM-DD, inclusive) runs may happen. Needs Digdag 0.10.5 or later.",
        ),
    },
)

_TEMPLATE_HINT = "Digdag ${...} variables such as ${session_time} may be used."

CHANNEL = Spec(
    "object",
    "One notification channel: Slack (webhook) or email (mail> with SMTP secrets).",
    required=("type",),
    properties={
        "type": Spec("string", "Channel type.", enum=("slack", "email")),
        "channel": Spec(
            "string",
            "slack: the incoming-webhook URL. digsync stores it as a project secret.",
            secret=True,
        ),
        "secret": Spec(
            "string",
            "slack: name of a project secret that already holds the webhook URL.",
            pattern=SECRET_KEY_PATTERN,
            pattern_hint=SECRET_KEY_HINT,
        ),
        "recipients": Spec(
            "array",
            "email: addresses to send to.",
            items=Spec("string", pattern=EMAIL_PATTERN, pattern_hint="an email address"),
            min_items=1,
        ),
        "from": Spec(
            "string",
            "email: sender address.",
            pattern=EMAIL_PATTERN,
            pattern_hint="an email address",
        ),
        "smtp_port": Spec(
            "integer",
            (
                "email: SMTP port, used when mail> sends through your own SMTP server (the "
                "mail.* secrets; on Treasure Data without them, TD's relay sends the mail). "
                "465 renders ssl: true (SMTPS); other ports use STARTTLS."
            ),
            587,
            minimum=1,
            maximum=65535,
        ),
        "subject": Spec("string", "email: subject line. " + _TEMPLATE_HINT),
        "message_template": Spec("string", "Message text. " + _TEMPLATE_HINT),
    },
)

NOTIFY_EVENT = Spec(
    "object",
    "Notify on this event.",
    properties={
        "enabled": Spec("boolean", "Send notifications for this event.", False),
        "channels": Spec("array", "Where to send them.", items=CHANNEL),
    },
)

_PATTERN_TEXT = Spec("string", "A Python regular expression searched in the column name.")
AUTO_PATTERN = Spec(
    "object",
    "One naming pattern: columns whose name matches get its tag, description and PII category.",
    properties={
        "name": Spec("string", "A label for the pattern (not used for matching)."),
        "pattern": _PATTERN_TEXT,
        "match": Spec(
            "array",
            "Several regular expressions; any of them matching is a match.",
            items=Spec("object", "One expression.", properties={"pattern": _PATTERN_TEXT}),
        ),
        "tag": Spec("string", "Tag added to matching columns.", example="ID"),
        "description_template": Spec(
            "string",
            "Description of matching columns: {column}, {table}, {database}, {type}, "
            "{entity} (column name without its last _word) and {action} (its first word).",
            example="Identifier for {entity}",
        ),
        "description": Spec("string", "Same as description_template."),
        "pii_category": Spec("string", "PII category of matching columns.", example="email"),
    },
)
AUTO_GENERATION = Spec(
    "object",
    "Descriptions, tags and PII flags generated for new columns from naming patterns. "
    "A description written by a person is never overwritten.",
    properties={
        "enabled": Spec("boolean", "Generate metadata at all.", True),
        "content_rules": Spec(
            "object",
            "How generated text is written.",
            properties={
                "prefix_auto_generated": Spec(
                    "string", "Text put before every generated description.", example="[AUTO]"
                ),
                "overwrite_existing": Spec(
                    "boolean",
                    "Kept for compatibility; digsync never overwrites a person's description.",
                    False,
                ),
                "overwrite_auto_generated": Spec(
                    "boolean", "Regenerate metadata that digsync generated earlier.", True
                ),
                "skip_fields_matching": Spec(
                    "array",
                    "Column-name globs that get no generated metadata.",
                    items=Spec("string"),
                    example=["time", "td_*"],
                ),
            },
        ),
        "generate": Spec(
            "object",
            "Which parts are generated.",
            properties={
                "field_descriptions": Spec("boolean", "Descriptions.", True),
                "tags": Spec("boolean", "Tags.", True),
                "pii_detection": Spec("boolean", "PII flags and categories.", True),
                "business_terms": Spec("boolean", "Not supported by digsync (ignored).", False),
                "data_classification": Spec(
                    "boolean", "Not supported by digsync (ignored).", False
                ),
            },
        ),
        "patterns": Spec("array", "Naming patterns, applied in order.", items=AUTO_PATTERN),
    },
)

SECTIONS: dict[str, Spec] = {
    "semantic_database": Spec(
        "object",
        "The Treasure Data database that holds the semantic layer.",
        required=("name",),
        properties={
            "name": Spec(
                "string",
                "Database name.",
                pattern=TD_NAME_PATTERN,
                pattern_hint=TD_NAME_HINT,
                example="semantic_layer_v1",
            ),
            "create_if_missing": Spec("boolean", "Create the database on first sync.", True),
            "tables": Spec(
                "map",
                "Table names used in the semantic database (role -> table name).",
                values=Spec("string", pattern=TD_NAME_PATTERN, pattern_hint=TD_NAME_HINT),
            ),
        },
    ),
    "scope": Spec(
        "object",
        "Which source databases are synced.",
        required=("databases",),
        properties={
            "databases": Spec(
                "array",
                "Glob patterns of source databases.",
                items=Spec("string", pattern=GLOB_PATTERN, pattern_hint=GLOB_HINT),
                min_items=1,
                example=["gld_*"],
            ),
            "exclude_patterns": Spec(
                "array",
                "Glob patterns of databases to leave out.",
                items=Spec("string", pattern=GLOB_PATTERN, pattern_hint=GLOB_HINT),
            ),
        },
    ),
    "sync": Spec(
        "object",
        "How and when the sync runs.",
        properties={
            "sync_mode": Spec(
                "string", "full: every column; delta: changes only.", "full", enum=("full", "delta")
            ),
            "schedule": SCHEDULE,
            "merge_strategy": Spec(
                "string",
                "How synced metadata merges with existing rows.",
                pattern=r"[a-z_]{1,64}",
                pattern_hint="a strategy name such as preserve_manual",
            ),
            "create_backup": Spec("boolean", "Back up metadata tables before writing."),
            "dry_run_by_default": Spec("boolean", "Plan without writing unless told to apply."),
            "audit_logging": Spec("boolean", "Record each sync in the sync log."),
            "batch_size": Spec("integer", "Rows per write batch.", minimum=1, maximum=1_000_000),
        },
    ),
    "notifications": Spec(
        "object",
        "Who hears about sync errors and completions.",
        properties={"on_error": NOTIFY_EVENT, "on_sync_complete": NOTIFY_EVENT},
    ),
    "workflow": Spec(
        "object",
        "The Digdag / Treasure Data Workflow project that digsync writes.",
        properties={
            "project": Spec(
                "string",
                "Workflow project name.",
                "semantic_layer_sync",
                pattern=NAME_PATTERN,
                pattern_hint=NAME_HINT,
            ),
            "name": Spec(
                "string",
                "Workflow name: the .dig file name without .dig.",
                "semantic_layer_sync",
                pattern=NAME_PATTERN,
                pattern_hint=NAME_HINT,
            ),
            "docker_image": Spec(
                "string",
                "Container image for the py> tasks.",
                DEFAULT_IMAGE,
                pattern=IMAGE_PATTERN,
                pattern_hint="a container image reference",
            ),
            "td_api_server": Spec(
                "string",
                "TD API host the py> tasks call (their TD_API_SERVER); default "
                "api.treasuredata.com (us). jp: api.treasuredata.co.jp, eu01: "
                "api.eu01.treasuredata.com, ap02: api.ap02.treasuredata.com, ap03: "
                "api.ap03.treasuredata.com. It receives the TD API key: https on a TD host, "
                "or a host in the operator's DIGSYNC_TRUSTED_HOSTS.",
                pattern=API_SERVER_PATTERN,
                pattern_hint="a host name such as api.treasuredata.co.jp",
                example="api.treasuredata.co.jp",
            ),
            "source": Spec(
                "string",
                "Schedule-only mode: path of a hand-written .dig, relative to config.yaml. "
                "digsync then rewrites only its timezone and schedule; plan and push send "
                "that .dig's folder (dot files, config.yaml and workflows/ left out).",
            ),
        },
    ),
}

SECTIONS["auto_generation"] = AUTO_GENERATION
WAREHOUSE_TYPES = ("td", "sqlite")
PYTHON_PATTERN = r"[A-Za-z0-9_./+\-]{1,255}"
SECTIONS["warehouse"] = Spec(
    "object",
    "Where the workflow's tasks read the catalog and write the semantic layer. td (the "
    "default) is Treasure Data. sqlite is the self-hosted mode: a folder of "
    "<database>.sqlite files on the Digdag server's host; the render then needs no docker "
    "image and no td.apikey secret, and runs on a self-hosted Digdag server.",
    properties={
        "type": Spec("string", "td or sqlite.", "td", enum=WAREHOUSE_TYPES),
        "path": Spec(
            "string",
            "sqlite: the folder of <database>.sqlite files, relative to config.yaml's "
            "folder or absolute. The workflow is rendered with its absolute path.",
            example="warehouse",
        ),
        "python": Spec(
            "string",
            "sqlite: the Python command py> runs on the Digdag host (Python 3.9 or later). "
            "Digdag runs python when this is not set; a host that has only python3 needs "
            "python: python3.",
            pattern=PYTHON_PATTERN,
            pattern_hint="a command name or absolute path such as python3 or /usr/bin/python3",
            example="python3",
        ),
    },
)
SECTIONS["target"] = Spec(
    "object",
    "Where push sends the project (no secrets here: the API key comes from TD_API_KEY).",
    properties={
        "type": Spec("string", "Push target.", "local", enum=TARGETS),
        "region": Spec("string", "td: Treasure Data region.", "us", enum=tuple(WORKFLOW_HOSTS)),
        "endpoint": Spec(
            "string",
            "td or digdag: server URL, instead of the region's. It receives the push "
            "credential: https on a TD host, or a host in the operator's "
            "DIGSYNC_TRUSTED_HOSTS.",
            pattern=r"https?://[^\s]+",
            pattern_hint="an http(s):// URL",
        ),
        "workflows_dir": Spec(
            "string",
            "local: folder that holds <project>/, relative to config.yaml's folder.",
            "workflows",
        ),
        "profile": Spec(
            "string",
            "tdx: the tdx profile to push with (tdx --profile NAME; its site and login). "
            "Without it tdx uses TDX_API_KEY, or TD_API_KEY passed on as TDX_API_KEY.",
            pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}",
            pattern_hint="a tdx profile name",
            example="production",
        ),
    },
)
ROOT = Spec(
    "object",
    "digsync config.yaml: the semantic layer sync workflow.",
    required=("semantic_database", "scope"),
    properties=SECTIONS,
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of config.yaml; other top-level sections are allowed (and ignored)."""
    schema = to_json_schema(ROOT)
    schema["additionalProperties"] = True
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://digsync.dev/schema/config.json",
        "title": "digsync config.yaml",
        **schema,
    }
