"""Bad input: schemathesis against our own /openapi.json finds no 5xx other than the
documented push failure, and arbitrary JSON posted as a config only ever gets
200/400/412/413/415 while config.yaml stays valid. Deterministic (derandomized)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from digsync.config.model import parse_config
from tests.server_fixtures import API, CONFIG, WEBHOOK, config_data, live_server, prepare_workdir

pytestmark = pytest.mark.slow  # fuzzing a live server: left out of the default run

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


SLACK = f'      - type: slack\n        channel: "{WEBHOOK}"\n'
EMAIL = "      - type: email\n        recipients: [team@example.com]\n"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server tests' config with an email channel: Slack webhooks cannot change through
    the API, so generated configs could never be saved with the Slack one."""
    assert SLACK in CONFIG
    return prepare_workdir(tmp_path, monkeypatch, CONFIG.replace(SLACK, EMAIL))


@pytest.fixture
def url(config: Path) -> Iterator[str]:
    with live_server(config) as base:  # the local target, chosen on the command line
        yield base


def no_server_error_but_push_failed(ctx: Any, response: Any, case: Any) -> bool | None:
    """5xx only as the documented 500 push_failed, never a crash."""
    if response.status_code >= 500:
        body = json.loads(response.content)
        assert response.status_code == 500 and body.get("code") == "push_failed", body
    return None


CHECKS = [
    no_server_error_but_push_failed,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(operation: Any, url: str) -> set[int]:
    """Run schemathesis cases of one operation (positive, and negative for POST bodies)."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE)
    examples = 5
    if operation.method.upper() == "POST":
        strategy |= operation.as_strategy(GenerationMode.NEGATIVE)
        examples = 40
    statuses: set[int] = set()

    @settings(FUZZ, max_examples=examples)
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=url, timeout=60)
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    check()
    return statuses


def test_schemathesis_finds_no_server_error(url: str, config: Path) -> None:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /healthz",
        f"GET {API}/config",
        f"POST {API}/config",
        f"POST {API}/config/validate",
        f"POST {API}/preview",
        f"GET {API}/status",
        f"GET {API}/history",
        f"POST {API}/rollback",
        f"POST {API}/webhook",
    }
    answers = {f"{op.method.upper()} {op.path}": fuzz(op, url) for op in operations}
    parse_config(config.read_text(encoding="utf-8"), str(config))
    assert 200 in answers[f"POST {API}/config"] and 400 in answers[f"POST {API}/config"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


def mutations(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid config with one section or value replaced by arbitrary JSON."""

    def mutate(args: tuple[str, str | None, Any]) -> Any:
        section, key, value = args
        data = copy.deepcopy(base)
        if key is None or not isinstance(data.get(section), dict):
            data[section] = value
        else:
            data[section][key] = value
        return data

    sections = st.sampled_from([*sorted(base), "extra"])
    keys = st.none() | st.sampled_from(["name", "databases", "sync_mode", "schedule", "project"])
    return st.tuples(sections, keys, JSON).map(mutate)


def test_arbitrary_json_posted_as_a_config_gets_only_documented_answers(
    url: str, config: Path
) -> None:
    base = config_data(config)
    base["notifications"]["on_error"]["channels"][0]["channel"] = "********"
    allowed = {200, 400, 412, 413, 415}
    seen: set[int] = set()

    with httpx.Client(base_url=url, timeout=60) as http:

        @settings(FUZZ, max_examples=120)
        @given(
            body=JSON
            | mutations(base)
            | st.builds(lambda c: {"config": c}, mutations(base))
            | st.binary(max_size=64),  # raw bytes: mostly not JSON at all
            if_match=st.sampled_from([None, "current", '"0123456789abcdef"', "*"]),
        )
        def post(body: Any, if_match: str | None) -> None:
            headers = {"Content-Type": "application/json"}
            if if_match == "current":
                headers["If-Match"] = http.get(f"{API}/config").headers["ETag"]
            elif if_match is not None:
                headers["If-Match"] = if_match
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            r = http.post(f"{API}/config", content=raw, headers=headers)
            assert r.status_code in allowed, r.text
            assert set(r.json()) >= ({"success"} if r.status_code == 200 else {"error", "code"})
            seen.add(r.status_code)
            parse_config(config.read_text(encoding="utf-8"), str(config))  # still valid

        post()
    assert {200, 400, 412} <= seen  # the generator reached every kind of answer
