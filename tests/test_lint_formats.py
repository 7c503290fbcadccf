"""digsync lint for CI: --format github and sarif, --ignore, and the table of codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from digsync.cli import main
from digsync.dig.lint.core import lint_paths
from digsync.dig.lint.findings import RULES, Finding
from digsync.dig.lint.formats import (
    escape_data,
    escape_property,
    github_command,
    github_commands,
    sarif_log,
)
from tests.conftest import ROOT

BAD = "+a:\n  sh>: echo hi\n+b:\n  http>: https://hooks.slack.com/services/T0/B0/XX\n"
"""One error (td-operator, line 2 column 3) and one warning (td-webhook, line 4)."""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["lint", *args])
    except SystemExit as exc:
        assert isinstance(exc.code, int)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("wf.dig").write_text(BAD, encoding="utf-8")
    return "wf.dig"


# --- the codes -------------------------------------------------------------------------


def test_rules_are_the_codes_of_docs_lint_rules() -> None:
    text = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    documented = re.findall(r"^### ([a-z0-9-]+) \((error|warning)", text, re.M)
    assert [(code, rule.severity) for code, rule in RULES.items()] == documented


def test_lint_help_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    listed = out[out.index("codes (for --ignore") :]
    assert set(RULES) <= set(re.split(r"[\s,.:]+", listed))


# --- --ignore --------------------------------------------------------------------------


def test_ignore_drops_findings_with_that_code(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", bad)
    assert (code, [f["code"] for f in json.loads(out)["findings"]]) == (
        1,
        ["td-operator", "td-webhook"],
    )
    code, out, _ = run(capsys, "--json", "--ignore", "td-operator", bad)
    assert (code, [f["code"] for f in json.loads(out)["findings"]]) == (0, ["td-webhook"])
    for ignore in (
        ["--ignore", "td-operator", "--ignore", "td-webhook"],
        ["--ignore=td-webhook,td-operator"],
    ):
        code, out, err = run(capsys, *ignore, bad)
        assert (code, out, err) == (0, "", "0 finding(s), 0 error(s)\n")


def test_lint_paths_ignores_codes(bad: str) -> None:
    assert [f.code for f in lint_paths([bad], ignore={"td-webhook"})] == ["td-operator"]


def test_an_unknown_code_is_a_usage_error_that_says_where_the_codes_are(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--ignore", "td-webhok", bad)
    assert (code, out) == (2, "")
    assert err == (
        "error: --ignore: unknown lint code 'td-webhok' (did you mean td-webhook?); "
        "`digsync lint --help` lists the codes (docs/lint-rules.md explains each)\n"
    )
    code, out, _ = run(capsys, "--json", "--ignore", "yaml,nope", bad)
    assert code == 2
    doc = json.loads(out)
    assert (doc["code"], doc["problems"]) == ("usage_error", [])
    assert doc["error"].startswith("--ignore: unknown lint code 'nope';")


# --- --format ------------------------------------------------------------------------


def test_text_stays_the_default_and_format_json_is_json(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, bad)
    assert code == 1
    assert out.splitlines()[0].startswith("wf.dig:2:3: error td-operator Treasure Data")
    assert err == "2 finding(s), 1 error(s)\n"
    assert run(capsys, "--format", "json", bad) == run(capsys, "--json", bad)
    code, out, err = run(capsys, "--json", "--format", "sarif", bad)
    assert code == 2
    assert json.loads(out)["error"] == "--json and --format sarif do not go together"


def test_github_format_is_workflow_commands(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--format", "github", bad)
    assert code == 1
    error, warning = out.splitlines()
    assert error.startswith(
        "::error file=wf.dig,line=2,col=3,title=td-operator::Treasure Data Workflow does not "
        "support sh>: TD runs"
    )
    assert warning.startswith("::warning file=wf.dig,line=4,col=10,title=td-webhook::webhook URL")
    assert err == "2 finding(s), 1 error(s)\n"
    code, out, _ = run(capsys, "--format", "github", "--ignore", "td-operator,td-webhook", bad)
    assert (code, out) == (0, "")


def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("100% a:b,c\r\nd") == "100%25 a:b,c%0D%0Ad"
    assert escape_property("100% a:b,c\r\nd") == "100%25 a%3Ab%2Cc%0D%0Ad"
    finding = Finding("dir,1/a:b%.dig", 3, 5, "yaml", "warning", "line one\nline 2: 50%, ok")
    assert github_command(finding) == (
        "::warning file=dir%2C1/a%3Ab%25.dig,line=3,col=5,title=yaml::line one%0Aline 2: 50%25, ok"
    )
    assert github_commands([finding, finding]).count("\n") == 2
    assert github_commands([]) == ""


# SARIF 2.1.0: the official schema (oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json)
# cut down to the objects digsync writes, each with its full list of allowed properties
# (additionalProperties: false, as there), its required ones and the constraints of the
# properties digsync sets. The schema itself is not vendored in any offline package.
def _object(names: str, required: tuple[str, ...] = (), **typed: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {} for name in names.split()}
    properties.update(typed)
    out: dict[str, Any] = {"type": "object", "additionalProperties": False}
    out["properties"] = properties
    if required:
        out["required"] = list(required)
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _array(item: dict[str, Any], unique: bool = False) -> dict[str, Any]:
    return {"type": "array", "items": item, "uniqueItems": unique}


LEVEL = {"enum": ["none", "note", "warning", "error"]}
SARIF_SUBSET: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    **_object(
        "inlineExternalProperties properties",
        ("version", "runs"),
        **{"$schema": {"type": "string"}},
        version={"enum": ["2.1.0"]},
        runs=_array(_ref("run")),
    ),
    "definitions": {
        "run": _object(
            "invocations conversion language versionControlProvenance originalUriBaseIds "
            "artifacts logicalLocations graphs automationDetails runAggregates baselineGuid "
            "redactionTokens defaultEncoding defaultSourceLanguage newlineSequences "
            "externalPropertyFileReferences threadFlowLocations taxonomies addresses "
            "translations policies webRequests webResponses specialLocations properties",
            ("tool",),
            tool=_ref("tool"),
            results=_array(_ref("result")),
            columnKind={"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
        ),
        "tool": _object("extensions properties", ("driver",), driver=_ref("toolComponent")),
        "toolComponent": _object(
            "guid organization product productSuite shortDescription fullDescription "
            "fullName semanticVersion dottedQuadFileVersion releaseDateUtc downloadUri "
            "informationUri globalMessageStrings notifications taxa locations language "
            "contents isComprehensive localizedDataSemanticVersion "
            "minimumRequiredLocalizedDataSemanticVersion associatedComponent "
            "translationMetadata supportedTaxonomies properties",
            ("name",),
            name={"type": "string"},
            version={"type": "string"},
            rules=_array(_ref("reportingDescriptor"), unique=True),
        ),
        "reportingDescriptor": _object(
            "deprecatedIds guid deprecatedGuids name deprecatedNames fullDescription "
            "messageStrings helpUri help relationships properties",
            ("id",),
            id={"type": "string"},
            shortDescription=_ref("multiformatMessageString"),
            defaultConfiguration=_ref("reportingConfiguration"),
        ),
        "reportingConfiguration": _object("enabled rank parameters properties", level=LEVEL),
        "multiformatMessageString": _object(
            "markdown properties", ("text",), text={"type": "string"}
        ),
        "result": _object(
            "rule kind analysisTarget guid correlationGuid occurrenceCount "
            "partialFingerprints fingerprints stacks codeFlows graphs graphTraversals "
            "relatedLocations suppressions baselineState rank attachments hostedViewerUri "
            "workItemUris provenance fixes taxa webRequest webResponse properties",
            ("message",),
            ruleId={"type": "string"},
            ruleIndex={"type": "integer", "minimum": -1},
            level=LEVEL,
            message=_ref("message"),
            locations=_array(_ref("location")),
        ),
        "message": {
            **_object("markdown id arguments properties", text={"type": "string"}),
            "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
        },
        "location": _object(
            "id logicalLocations message annotations relationships properties",
            physicalLocation=_ref("physicalLocation"),
        ),
        "physicalLocation": {
            **_object(
                "address contextRegion properties",
                artifactLocation=_ref("artifactLocation"),
                region=_ref("region"),
            ),
            "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
        },
        "artifactLocation": _object(
            "index description properties",
            uri={"type": "string", "format": "uri-reference"},
            uriBaseId={"type": "string"},
        ),
        "region": _object(
            "endLine endColumn charOffset charLength byteOffset byteLength snippet message "
            "sourceLanguage properties",
            startLine={"type": "integer", "minimum": 1},
            startColumn={"type": "integer", "minimum": 1},
        ),
    },
}


def check_sarif(log: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(SARIF_SUBSET).validate(log)


def test_the_sarif_subset_rejects_what_the_schema_rejects() -> None:
    good = sarif_log([Finding("a.dig", 1, 1, "yaml", "error", "m")])
    check_sarif(good)
    result = good["runs"][0]["results"][0]
    for broken in (
        {**result, "message": {}},
        {**result, "level": "fatal"},
        {**result, "extra": 1},
        {
            **result,
            "locations": [{"physicalLocation": {"region": {"startLine": 0, "startColumn": 1}}}],
        },
    ):
        log = json.loads(json.dumps(good))
        log["runs"][0]["results"][0] = broken
        with pytest.raises(jsonschema.ValidationError):
            check_sarif(log)
    with pytest.raises(jsonschema.ValidationError):
        check_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})


def test_sarif_format_is_a_valid_sarif_log(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--format", "sarif", bad)
    assert (code, err) == (1, "")
    log = json.loads(out)
    check_sarif(log)
    assert (log["version"], log["$schema"]) == (
        "2.1.0",
        "https://json.schemastore.org/sarif-2.1.0.json",
    )
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "digsync" and driver["version"] == "0.1.0"
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert (levels["td-operator"], levels["td-webhook"]) == ("error", "warning")
    error, warning = run_["results"]
    assert {k: error[k] for k in ("ruleId", "level")} == {"ruleId": "td-operator", "level": "error"}
    assert error["message"]["text"].startswith("Treasure Data Workflow does not support sh>")
    assert error["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "wf.dig", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 2, "startColumn": 3},
            }
        }
    ]
    assert (warning["ruleId"], warning["level"]) == ("td-webhook", "warning")
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    code, out, _ = run(capsys, "--format", "sarif", "--ignore", "td-operator", bad)
    assert (code, [r["ruleId"] for r in json.loads(out)["runs"][0]["results"]]) == (
        0,
        ["td-webhook"],
    )


def test_sarif_locations_are_uri_references(tmp_path: Path) -> None:
    findings = [
        Finding("./flows/my wf.dig", 1, 1, "yaml", "error", "m"),
        Finding(str(tmp_path / "a#b.dig"), 7, 2, "timezone", "error", "m"),
        Finding("x.dig", 1, 1, "not-a-known-code", "warning", "m"),
    ]
    log = sarif_log(findings)
    check_sarif(log)
    locations = [
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]
    ]
    assert locations[0] == {"uri": "flows/my%20wf.dig", "uriBaseId": "%SRCROOT%"}
    assert locations[1] == {"uri": (tmp_path / "a#b.dig").as_uri()}
    assert locations[1]["uri"].endswith("/a%23b.dig")
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[log["runs"][0]["results"][2]["ruleIndex"]]["id"] == "not-a-known-code"


def test_sarif_of_a_clean_project_has_no_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.dig"
    good.write_text("timezone: UTC\n+a:\n  echo>: hi\n", encoding="utf-8")
    code, out, _ = run(capsys, "--format", "sarif", str(good))
    assert code == 0
    log = json.loads(out)
    check_sarif(log)
    assert log["runs"][0]["results"] == []
