"""The bug-report cases (copied verbatim from ``shared/cases`` into ``tests/cases``).

``tests/cases/models.py`` (not a case) gives the models the cases import, as their projects
would.  Each ``# expect: LINE:kind`` is one test: a finding of a code that implements that kind must
be reported on that line or another line of the same statement.  Expectations whose rule
belongs to a later issue are strict xfails, so the test fails as soon as they start
passing and the entry must move out of ``PENDING``.  Every file is also checked for findings
on lines nobody expected (``# expect: none`` files must be silent).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from channels_lint.engine import Source, lint

CASES = Path(__file__).parent / "cases"

#: The README's kind words and the codes that report them.
KIND_CODES = {
    "sync-orm": {"CHN101"},
    "lazy-fk": {"CHN103"},
    "not-awaited": {"CHN105"},
    "async-to-sync-in-async": {"CHN106"},
    "missing-async-to-sync": {"CHN107"},
    "sync-def-in-async": {"CHN108"},
    "datetime-payload": {"CHN201", "CHN202"},
    "uuid-payload": {"CHN201", "CHN202"},
    "model-payload": {"CHN201", "CHN202"},
    "dict-to-text-data": {"CHN203"},
    "no-handler": {"CHN205"},
    "unvalidated-json": {"CHN301", "CHN302", "CHN304", "CHN305", "CHN306"},
    "bad-group-name": {"CHN303"},
    "regex-in-path": {"CHN402"},
    "missing-as-asgi": {"CHN403"},
}

#: Expectations owned by rules that later issues build (file stem, line, kind) -> reason.
PENDING = {
}


def expectations(path: Path) -> list[tuple[int, str]]:
    header = re.search(r"^# expect: (.*)$", path.read_text(), flags=re.M)
    assert header, f"{path.name} has no # expect: header"
    if header.group(1).strip() == "none":
        return []
    return [(int(line), kind) for line, kind in (item.strip().split(":") for item in header.group(1).split(";"))]


def statement_lines(tree: ast.Module, line: int) -> set[int]:
    """Lines of the innermost statement at ``line`` (a compound statement's header only)."""
    best: tuple[int, int] = (line, line)
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or not node.lineno <= line <= node.end_lineno:
            continue
        end = node.end_lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = body[0].lineno - 1
            if line > end:
                continue
        if end - node.lineno <= best[1] - best[0] or best == (line, line):
            best = (node.lineno, end)
    return set(range(best[0], best[1] + 1))


def findings(path: Path):
    return lint(Source.from_bytes(path.read_bytes()), path=str(path))


#: ``models.py`` beside the cases is their project's models, not a case.
CASE_FILES = sorted(p for p in CASES.glob("*.py") if p.name != "models.py")
EXPECTATIONS = [
    pytest.param(
        path,
        line,
        kind,
        id=f"{path.stem}:{line}:{kind}",
        marks=[pytest.mark.xfail(strict=True, reason=PENDING[(path.stem, line, kind)])]
        if (path.stem, line, kind) in PENDING
        else [],
    )
    for path in CASE_FILES
    for line, kind in expectations(path)
]


def test_every_case_file_is_copied() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "cases"
    if not shared.is_dir():
        pytest.skip(f"{shared} is absent: nothing to compare tests/cases with")
    assert {p.name for p in shared.glob("*.py")} == {p.name for p in CASE_FILES}


@pytest.mark.parametrize(("path", "line", "kind"), EXPECTATIONS)
def test_expected_finding_is_reported(path: Path, line: int, kind: str) -> None:
    tree = ast.parse(path.read_bytes())
    lines = statement_lines(tree, line)
    reported = {(v.line, v.code) for v in findings(path)}
    assert any(found_line in lines and code in KIND_CODES[kind] for found_line, code in reported), (
        f"{path.name}:{line} expected {kind} ({'/'.join(sorted(KIND_CODES[kind]))}); reported {sorted(reported)}"
    )


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_no_unexpected_findings(path: Path) -> None:
    tree = ast.parse(path.read_bytes())
    expected = expectations(path)
    for violation in findings(path):
        allowed = any(
            violation.line in statement_lines(tree, line) and violation.code in KIND_CODES[kind] for line, kind in expected
        )
        assert allowed, f"unexpected {violation.format(path.name)}"


def test_pending_entries_name_real_expectations() -> None:
    known = {(path.stem, line, kind) for path in CASE_FILES for line, kind in expectations(path)}
    assert set(PENDING) <= known
