"""What ``channels-lint check`` prints: text (flake8's format), JSON, SARIF 2.1.0, GitHub
workflow commands and JUnit XML; fixes as text edits; writing to a stream whose encoding
cannot hold a file name.

Nothing here lints: the CLI hands over one :class:`FileReport` per file.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from channels_lint import __version__
from channels_lint.diagnostics import Applicability, Violation

FORMATS = ("text", "json", "sarif", "github", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from ``(line, column)`` up to ``(end_line, end_column)`` (1-based,
    columns in characters, end exclusive) with ``content``."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass
class FileReport:
    """One file's findings, as the CLI hands them to a format."""

    path: str
    violations: list[Violation] = field(default_factory=list)
    #: Source text of each reported line (without its line ending).
    lines: dict[int, str] = field(default_factory=dict)
    #: Index in ``violations`` -> the text edits of its fix (computed only when asked).
    edits: dict[int, list[TextEdit]] = field(default_factory=dict)
    #: The decoded file (kept only when fixes are shown as diffs).
    source: str | None = None


# ---------------------------------------------------------------------------- streams


def emit(text: str, stream: IO[str] | None = None) -> None:
    """Write ``text``; characters the stream's encoding cannot hold (a non-UTF-8 file name
    decoded with ``surrogateescape``, ``é`` on an ASCII terminal) are written as backslash
    escapes instead of raising ``UnicodeEncodeError``."""
    stream = stream if stream is not None else sys.stdout
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))


def printable(text: str) -> str:
    """``text`` with lone surrogates (undecodable file-name bytes) as backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# ---------------------------------------------------------------------------- fixes as text edits


def text_edits(original: list[str], fixed: list[str]) -> list[tuple[TextEdit, int, int]]:
    """The edits that turn ``original`` lines into ``fixed`` lines (both with line endings),
    each with the range of original lines it touches ``(first, last)`` (1-based; an insertion
    touches the lines either side of it).  Lines replaced one for one become edits of the
    changed columns only."""
    edits: list[tuple[TextEdit, int, int]] = []
    matcher = difflib.SequenceMatcher(None, original, fixed, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                old, new = original[i1 + offset], fixed[j1 + offset]
                prefix = _common_prefix(old, new)
                suffix = _common_prefix(old[prefix:][::-1], new[prefix:][::-1])
                line = i1 + offset + 1
                edits.append(
                    (TextEdit(line, prefix + 1, line, len(old) - suffix + 1, new[prefix : len(new) - suffix]), line, line)
                )
            continue
        start = _position(original, i1)
        end = _position(original, i2)
        touched = (i1 + 1, i2) if i2 > i1 else (max(i1, 1), i1 + 1)
        edits.append((TextEdit(*start, *end, "".join(fixed[j1:j2])), *touched))
    return edits


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _position(lines: list[str], index: int) -> tuple[int, int]:
    """The position of the start of line ``index`` (0-based); past the end: the end of the text."""
    if index < len(lines):
        return index + 1, 1
    if not lines:
        return 1, 1
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return len(lines) + 1, 1
    return len(lines), len(last) + 1


def attribute_edits(violations: Sequence[Violation], edits: list[tuple[TextEdit, int, int]]) -> dict[int, list[TextEdit]]:
    """Which of ``edits`` (one code's fix of the whole file) belong to which violation: those
    touching the lines of the violation's own fix edits; edits touching no violation's lines
    (the imports a fix adds) go to every violation whose fix declares imports, or else to all."""
    spans: dict[int, set[int]] = {}
    importing: list[int] = []
    for index, violation in enumerate(violations):
        if violation.fix is None:
            continue
        lines: set[int] = {violation.line}
        for change in violation.fix.edits:
            lines.update(range(change.span[0], change.span[2] + 1))
        spans[index] = lines
        if violation.fix.imports or violation.fix.unused_imports:
            importing.append(index)
    result: dict[int, list[TextEdit]] = {index: [] for index in spans}
    for edit, first, last in edits:
        owners = [index for index, lines in spans.items() if any(first <= line <= last for line in lines)]
        for index in owners or importing or list(spans):
            result[index].append(edit)
    return {index: found for index, found in result.items() if found}


def apply_text_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """``text`` with ``edits`` applied (they must not overlap)."""
    starts = [0]
    for match in re.finditer(r"\r\n|\r|\n", text):
        starts.append(match.end())

    def offset(line: int, column: int) -> int:
        return (starts[line - 1] if line - 1 < len(starts) else len(text)) + column - 1

    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        text = text[: offset(edit.line, edit.column)] + edit.content + text[offset(edit.end_line, edit.end_column) :]
    return text


# ---------------------------------------------------------------------------- text


def format_text(
    reports: Sequence[FileReport],
    show_source: bool = False,
    show_fixes: bool = False,
    statistics: bool = False,
) -> str:
    """flake8's ``path:line:col: CODE message``; ``show_source`` adds the line and a caret
    (flake8's ``--show-source``); ``show_fixes`` the fix title and its diff; ``statistics``
    a count per code."""
    out = []
    for report in reports:
        for index, violation in enumerate(report.violations):
            out.append(violation.format(report.path) + "\n")
            if show_source and violation.line in report.lines:
                line = report.lines[violation.line]
                caret = "".join(c if c.isspace() else " " for c in line[: violation.col]) + "^"
                out.append(f"{line}\n{caret}\n")
            if show_fixes and violation.fix is not None:
                out.append(f"    fix ({violation.fix.applicability.value}): {violation.fix.title or 'available'}\n")
                edits = report.edits.get(index)
                source = report.source
                if edits and source is not None:
                    fixed = apply_text_edits(source, edits)
                    diff = difflib.unified_diff(
                        source.splitlines(keepends=True), fixed.splitlines(keepends=True), n=0, lineterm=""
                    )
                    for line in list(diff)[2:]:
                        out.append("    " + line.rstrip("\r\n") + "\n")
    if statistics:
        out.extend(format_statistics(reports))
    return "".join(out)


def format_statistics(reports: Sequence[FileReport]) -> list[str]:
    """``count  CODE  name`` per code, most frequent first; ``[*]`` marks codes with a fix."""
    from channels_lint.rules import REGISTRY

    counts = Counter(v.code for report in reports for v in report.violations)
    fixable = {v.code for report in reports for v in report.violations if v.fix is not None}
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = REGISTRY.get(code)
        marker = "[*] " if code in fixable else ""
        lines.append(f"{count:<5} {code} {marker}{rule.name if rule else ''}".rstrip() + "\n")
    return lines


# ---------------------------------------------------------------------------- json


def _edit_json(edit: TextEdit) -> dict[str, Any]:
    return {
        "content": edit.content,
        "location": {"row": edit.line, "column": edit.column},
        "end_location": {"row": edit.end_line, "column": edit.end_column},
    }


def format_json(reports: Sequence[FileReport]) -> str:
    """A JSON array, one object per finding (ruff's ``json`` shape: ``code``, ``message``,
    ``filename``, ``location`` with 1-based ``row``/``column``, ``fix`` with ``applicability``,
    ``message`` and text ``edits``, or ``null``)."""
    from channels_lint.rules import REGISTRY

    items = []
    for report in reports:
        for index, violation in enumerate(report.violations):
            fix = None
            if violation.fix is not None:
                fix = {
                    "applicability": violation.fix.applicability.value,
                    "message": violation.fix.title or None,
                    "edits": [_edit_json(edit) for edit in report.edits.get(index, [])],
                }
            rule = REGISTRY.get(violation.code)
            items.append(
                {
                    "code": violation.code,
                    "name": rule.name if rule else None,
                    "message": violation.message,
                    "filename": report.path,
                    "location": {"row": violation.line, "column": violation.col + 1},
                    "noqa_row": violation.line,
                    "fix": fix,
                }
            )
    return json.dumps(items, indent=2) + "\n"


# ---------------------------------------------------------------------------- sarif


def artifact_location(path: str) -> dict[str, Any]:
    """A SARIF ``artifactLocation``: a relative path under ``%SRCROOT%`` (the current
    directory), else a ``file:`` URI; bytes outside UTF-8 are percent-encoded."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # pragma: no cover - another drive on Windows
        relative = None
    if relative is not None and not relative.startswith(".."):
        return {"uri": urllib.parse.quote(os.fsencode(relative).replace(os.sep.encode(), b"/")), "uriBaseId": "%SRCROOT%"}
    return {"uri": Path(absolute).as_uri()}


def _region(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> dict[str, int]:
    region = {"startLine": line, "startColumn": column}
    if end_line is not None and end_column is not None:
        region.update(endLine=end_line, endColumn=end_column)
    return region


def sarif_log(reports: Sequence[FileReport]) -> dict[str, Any]:
    """The SARIF 2.1.0 log: one run, the rule metadata, one result per finding with its fix
    as ``fixes`` (text replacements) when the rule offers one."""
    from channels_lint.rules import REGISTRY

    codes = sorted(REGISTRY)
    rules = []
    for code in codes:
        rule = REGISTRY[code]
        properties: dict[str, Any] = {"fix": rule.fix_applicability.value if rule.fix_applicability else "none"}
        rules.append(
            {
                "id": code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary()},
                "fullDescription": {"text": rule.docs()},
                "help": {"text": rule.docs(), "markdown": rule.docs()},
                "defaultConfiguration": {"level": "warning" if code == "CHN900" else "error"},
                "properties": properties,
            }
        )
    results = []
    for report in reports:
        location = artifact_location(report.path)
        for index, violation in enumerate(report.violations):
            result: dict[str, Any] = {
                "ruleId": violation.code,
                "ruleIndex": codes.index(violation.code) if violation.code in codes else -1,
                "level": "warning" if violation.code == "CHN900" else "error",
                "message": {"text": printable(violation.message)},
                "locations": [
                    {"physicalLocation": {"artifactLocation": location, "region": _region(violation.line, violation.col + 1)}}
                ],
            }
            if result["ruleIndex"] < 0:
                del result["ruleIndex"]
            edits = report.edits.get(index)
            if violation.fix is not None and edits:
                result["fixes"] = [
                    {
                        "description": {"text": f"{violation.fix.title or 'Fix'} ({violation.fix.applicability.value} fix)"},
                        "artifactChanges": [
                            {
                                "artifactLocation": location,
                                "replacements": [
                                    {
                                        "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                                        "insertedContent": {"text": e.content},
                                    }
                                    for e in edits
                                ],
                            }
                        ],
                        "properties": {"applicability": violation.fix.applicability.value},
                    }
                ]
            results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "channels-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(os.getcwd()).as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def format_sarif(reports: Sequence[FileReport]) -> str:
    return json.dumps(sarif_log(reports), indent=2) + "\n"


# ---------------------------------------------------------------------------- github


def _github_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(reports: Sequence[FileReport]) -> str:
    """GitHub Actions workflow commands (``::error file=...,line=...,col=...::message``):
    annotations on the pull request."""
    out = []
    for report in reports:
        path = _github_escape(report.path, property_value=True)
        for violation in report.violations:
            title = _github_escape(f"channels-lint ({violation.code})", property_value=True)
            message = _github_escape(violation.format(report.path))
            out.append(f"::error title={title},file={path},line={violation.line},col={violation.col + 1}::{message}\n")
    return "".join(out)


# ---------------------------------------------------------------------------- junit

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def format_junit(reports: Sequence[FileReport]) -> str:
    """JUnit XML (ruff's layout): a test suite per file with findings, a failing test case
    per finding; a clean run is one passing test case."""
    total = sum(len(report.violations) for report in reports)
    suites = ET.Element("testsuites", name="channels-lint", tests=str(max(total, 1)), failures=str(total), errors="0")
    if not total:
        suite = ET.SubElement(suites, "testsuite", name="channels-lint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="No errors found", classname="channels-lint")
    for report in reports:
        if not report.violations:
            continue
        path = _xml(report.path)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=path,
            tests=str(len(report.violations)),
            disabled="0",
            errors="0",
            failures=str(len(report.violations)),
            package="org.channels_lint",
        )
        for violation in report.violations:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"org.channels_lint.{violation.code}",
                classname=path,
                line=str(violation.line),
                column=str(violation.col + 1),
            )
            failure = ET.SubElement(case, "failure", message=_xml(violation.message))
            failure.text = _xml(f"line {violation.line}, col {violation.col + 1}, {violation.message}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render(
    output_format: str,
    reports: Sequence[FileReport],
    show_source: bool = False,
    show_fixes: bool = False,
    statistics: bool = False,
) -> str:
    """The whole output of ``check`` in ``output_format`` (one of :data:`FORMATS`)."""
    if output_format == "json":
        return format_json(reports)
    if output_format == "sarif":
        return format_sarif(reports)
    if output_format == "github":
        return format_github(reports)
    if output_format == "junit":
        return format_junit(reports)
    return format_text(reports, show_source, show_fixes, statistics)


def applicability_rank(violation: Violation) -> int:
    """0 for a safe fix, 1 for an unsafe one, 2 for none (for summaries)."""
    if violation.fix is None:
        return 2
    return 0 if violation.fix.applicability is Applicability.SAFE else 1
