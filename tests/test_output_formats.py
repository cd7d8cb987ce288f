"""``check --output-format``: JSON, SARIF 2.1.0 (validated against the official schema, with
fixes), GitHub annotations and JUnit XML; fixes as text edits that reproduce ``fix``'s output.

``tests/data/sarif-schema-2.1.0.json`` is the SARIF 2.1.0 schema (the OASIS standard's final
``2.1.0-rtm.5`` schema) as shipped in ``@microsoft/jest-sarif`` 1.0.0-beta.0
(``lib/schemas/sarif-2.1.0-rtm.5.json``, MIT licence), vendored because tests run offline.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_lint.cli import main
from channels_lint.fixes import fix_bytes
from channels_lint.output import TextEdit, apply_text_edits, text_edits

from .helpers import make_project

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
MODELS = "from django.db import models\n\nclass Note(models.Model):\n    body = models.TextField()\n"
CONSUMER = """\
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from .models import Note


class C(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        Note.objects.create(body=text_data)
        self.send(text_data="ok")
        data = json.loads(text_data)
        await self.channel_layer.group_send("g", {"type": "chat.message", "at": timezone.now()})

    async def chat_message(self, event):
        await self.send(text_data=event["at"])
"""


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    return make_project(tmp_path, {"app/models.py": MODELS, "app/consumers.py": CONSUMER}) / "app" / "consumers.py"


def output(capsys, *arguments: str) -> str:
    assert main(["check", *arguments]) == 1
    return capsys.readouterr().out


def fixed_by(path: Path, code: str, unsafe: bool = False) -> str:
    result = fix_bytes(path.read_bytes(), select=[code], unsafe_fixes=unsafe, filename=str(path))
    assert result.error is None and result.changed
    return result.fixed.decode()


def test_sarif_validates_against_the_schema_and_carries_fixes(consumer: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(consumer.parent.parent)
    log = json.loads(output(capsys, "--output-format", "sarif", "app"))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "channels-lint" and run["columnKind"] == "unicodeCodePoints"
    results = {result["ruleId"]: result for result in run["results"]}
    assert set(results) == {"CHN101", "CHN105", "CHN202", "CHN301"}
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "app/consumers.py", "uriBaseId": "%SRCROOT%"}
    assert results["CHN101"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 11, "startColumn": 9}
    for code in ("CHN101", "CHN105", "CHN202", "CHN301"):
        (fix,) = results[code]["fixes"]
        edits = [
            TextEdit(
                r["deletedRegion"]["startLine"],
                r["deletedRegion"]["startColumn"],
                r["deletedRegion"]["endLine"],
                r["deletedRegion"]["endColumn"],
                r["insertedContent"]["text"],
            )
            for r in fix["artifactChanges"][0]["replacements"]
        ]
        unsafe = fix["properties"]["applicability"] == "unsafe"
        assert apply_text_edits(CONSUMER, edits) == fixed_by(consumer, code, unsafe), code
    assert results["CHN101"]["fixes"][0]["properties"]["applicability"] == "safe"


def test_sarif_of_a_clean_run_is_valid(tmp_path: Path, capsys) -> None:
    (tmp_path / "clean.py").write_text("x = 1\n")
    assert main(["check", "--output-format", "sarif", str(tmp_path)]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_json_has_locations_and_fix_edits(consumer: Path, capsys) -> None:
    items = json.loads(output(capsys, "--output-format", "json", str(consumer)))
    assert [item["code"] for item in items] == ["CHN101", "CHN105", "CHN301", "CHN202"]
    first = items[0]
    assert first["filename"] == str(consumer) and first["location"] == {"row": 11, "column": 9}
    assert first["name"] == "sync-orm-query-in-async" and first["fix"]["applicability"] == "safe"
    edits = [
        TextEdit(
            e["location"]["row"], e["location"]["column"], e["end_location"]["row"], e["end_location"]["column"], e["content"]
        )
        for e in first["fix"]["edits"]
    ]
    assert apply_text_edits(CONSUMER, edits) == fixed_by(consumer, "CHN101")


def test_output_file(consumer: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "report.json"
    assert main(["check", "--output-format", "json", "-o", str(target), str(consumer)]) == 1
    assert capsys.readouterr().out == ""
    assert len(json.loads(target.read_text())) == 4


def test_github_annotations(consumer: Path, capsys) -> None:
    lines = output(capsys, "--output-format", "github", str(consumer)).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"::error title=channels-lint (CHN101),file={consumer},line=11,col=9::{consumer}:11:9: CHN101 ")


def test_github_escapes_property_values(tmp_path: Path, capsys) -> None:
    odd = make_project(tmp_path, {"app/models.py": MODELS}) / "app" / "a,b:c.py"
    odd.write_text(CONSUMER)
    line = output(capsys, "--output-format", "github", "--select", "CHN101", str(odd)).splitlines()[0]
    assert "file=" + str(odd).replace(",", "%2C").replace(":", "%3A") + ",line=11" in line


def test_junit_xml(consumer: Path, tmp_path: Path, capsys) -> None:
    suites = ET.fromstring(output(capsys, "--output-format", "junit", str(consumer)))
    assert suites.tag == "testsuites" and suites.get("failures") == "4"
    (suite,) = suites
    assert suite.get("name") == str(consumer) and suite.get("tests") == "4"
    case = suite[0]
    assert case.get("name") == "org.channels_lint.CHN101" and case.get("line") == "11"
    assert case[0].tag == "failure" and "SynchronousOnlyOperation" in case[0].get("message")
    (tmp_path / "clean.py").write_text("x = 1\n")
    assert main(["check", "--output-format", "junit", str(tmp_path / "clean.py")]) == 0
    clean = ET.fromstring(capsys.readouterr().out)
    assert clean.get("failures") == "0" and clean[0][0].get("name") == "No errors found"


LINES = st.lists(st.sampled_from(["a\n", "b\n", "x = 1\n", "await f()\n", "\r\n", "c"]), max_size=8)


@given(LINES, LINES)
def test_text_edits_reproduce_the_fixed_text(before: list[str], after: list[str]) -> None:
    # a text only ends without a line ending on its last line
    before = [line if line.endswith("\n") else line + "\n" for line in before[:-1]] + before[-1:]
    after = [line if line.endswith("\n") else line + "\n" for line in after[:-1]] + after[-1:]
    edits = [edit for edit, _, _ in text_edits(before, after)]
    assert apply_text_edits("".join(before), edits) == "".join(after)
