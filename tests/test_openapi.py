"""The OpenAPI document (/openapi.json) describes the API as it behaves: a Bearer scheme on
the writes that need the token, If-Match where it is honoured, short stable operationIds,
and config.yaml's schema once, as the ``Config`` component, referenced everywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from digsync.config.schema import json_schema
from digsync.server.app import create_app
from digsync.server.schemas import config_schema
from tests.server_fixtures import API, live_server, prepare_workdir, settings_for

TOKEN = "s3cret-token"
CONFIG_REF = {"$ref": "#/components/schemas/Config"}
OPERATIONS = {
    ("get", "/healthz"): "getHealth",
    ("get", f"{API}/config"): "getConfig",
    ("post", f"{API}/config"): "saveConfig",
    ("post", f"{API}/config/validate"): "validateConfig",
    ("post", f"{API}/preview"): "previewConfig",
    ("get", f"{API}/status"): "getStatus",
    ("get", f"{API}/history"): "getHistory",
    ("post", f"{API}/rollback"): "rollback",
    ("post", f"{API}/webhook"): "triggerWebhook",
}
NEEDS_TOKEN = {"saveConfig", "validateConfig", "previewConfig", "rollback"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return prepare_workdir(tmp_path, monkeypatch)


@pytest.fixture
def doc(config: Path) -> dict[str, Any]:
    return create_app(settings_for(config)).openapi()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method, path, op


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for _, _, op in operations(doc)}


def test_served_document_is_the_apps_and_does_not_depend_on_the_token(config: Path) -> None:
    plain = create_app(settings_for(config)).openapi()
    with live_server(config, token=TOKEN) as url:
        served = httpx.get(f"{url}/openapi.json", timeout=30).json()
    assert served == json.loads(json.dumps(plain))


# --- operationIds -----------------------------------------------------------------------


def test_every_operation_has_its_short_stable_operation_id(doc: dict[str, Any]) -> None:
    ids = {(method, path): op.get("operationId") for method, path, op in operations(doc)}
    assert ids == OPERATIONS


def test_operation_ids_are_camel_case_short_and_unique(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for name in ids:
        assert re.fullmatch(r"[a-z][a-zA-Z]*", name), name
        assert "__" not in name and "_" not in name and len(name) < 30, name


# --- security -------------------------------------------------------------------------


def test_bearer_security_scheme_is_declared(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert list(schemes) == ["bearerAuth"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert "DIGSYNC_API_TOKEN" in schemes["bearerAuth"]["description"]
    assert "security" not in doc  # no global requirement: reads need no token


def test_bearer_is_required_by_the_writes_only(doc: dict[str, Any]) -> None:
    marked = {name for name, op in by_id(doc).items() if op.get("security")}
    assert marked == NEEDS_TOKEN
    for name in NEEDS_TOKEN:
        op = by_id(doc)[name]
        assert op["security"] == [{"bearerAuth": []}]
        assert "401" in op["responses"]
    assert "security" not in by_id(doc)["triggerWebhook"]  # the signature is its credential


def test_marked_operations_are_the_ones_the_server_refuses_without_the_token(
    config: Path,
) -> None:
    with live_server(config, token=TOKEN) as url, httpx.Client(base_url=url, timeout=30) as http:
        doc = http.get("/openapi.json").json()
        for method, path, op in operations(doc):
            kwargs: dict[str, Any] = {"json": {}} if method == "post" else {}
            r = http.request(method.upper(), path, **kwargs)
            asks_token = r.status_code == 401 and "Bearer" in r.headers.get("WWW-Authenticate", "")
            assert asks_token == bool(op.get("security")), (op["operationId"], r.status_code)


# --- If-Match and ETag ------------------------------------------------------------------


def header_parameters(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}


def test_if_match_is_declared_where_it_is_honoured(doc: dict[str, Any]) -> None:
    param = header_parameters(by_id(doc)["saveConfig"])["If-Match"]
    assert param["required"] is False
    assert param["schema"] == {"type": "string"}
    assert param["description"]
    others = [name for name, op in by_id(doc).items() if "If-Match" in header_parameters(op)]
    assert others == ["saveConfig"]
    query = [p["name"] for p in by_id(doc)["saveConfig"]["parameters"] if p["in"] == "query"]
    assert query == ["adopt", "confirm_undo_rollback"]  # kept


def test_etag_response_header_is_declared(doc: dict[str, Any]) -> None:
    for name in ("getConfig", "saveConfig"):
        headers = by_id(doc)[name]["responses"]["200"]["headers"]
        assert headers["ETag"]["schema"] == {"type": "string"}, name


# --- the Config component -------------------------------------------------------------


def test_config_schema_is_one_component(doc: dict[str, Any]) -> None:
    assert doc["components"]["schemas"]["Config"] == config_schema()


def test_every_use_of_the_config_schema_is_a_ref(doc: dict[str, Any]) -> None:
    ops = by_id(doc)
    got = ops["getConfig"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert got == CONFIG_REF
    for name in ("saveConfig", "previewConfig"):
        body = ops[name]["requestBody"]["content"]["application/json"]["schema"]
        assert body == CONFIG_REF, name


def test_the_config_schema_is_not_inlined_anywhere(doc: dict[str, Any]) -> None:
    once = json.dumps(config_schema()).count('"semantic_database"')
    assert once > 0
    assert json.dumps(doc).count('"semantic_database"') == once
    assert json.dumps(doc).count('"digsync config.yaml"') == 1


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert CONFIG_REF["$ref"] in refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(target, dict), ref


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    assert doc["openapi"].startswith("3.1.")
    validator = jsonschema.Draft202012Validator(definitions.OPENAPI_31)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    for schema in doc["components"]["schemas"].values():  # each a 2020-12 schema
        jsonschema.Draft202012Validator.check_schema(schema)


def test_digsync_schema_is_unaffected(doc: dict[str, Any]) -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://digsync.dev/schema/config.json"
    assert {k: v for k, v in schema.items() if k not in ("$schema", "$id")} == config_schema()
    assert doc["components"]["schemas"]["Config"] == config_schema()  # built, not moved
