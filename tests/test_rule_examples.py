"""Tests generated from every rule's own examples and docs (Fixit / flake8-async style).

* ``valid`` examples: no finding of the rule;
* ``invalid`` examples: findings exactly on the lines marked ``# error``; when
  ``Invalid.fixed`` is given, ``fix`` produces exactly it, a second fix changes nothing and
  re-linting shows none of the rule's findings that had a fix;
* the docs' ``## Example`` is reported and ``Use instead`` is not;
* every rule documents the ruff sections; with ``# noqa`` on every line nothing is reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from channels_lint.diagnostics import Applicability
from channels_lint.engine import Source, lint, selected_rules
from channels_lint.fixes import fix_bytes
from channels_lint.rules import REGISTRY, Rule

RULES = [REGISTRY[code] for code in sorted(REGISTRY)]


def example_path(rule: type[Rule], tmp_path: Path) -> str | None:
    """Where an example is linted: beside the rule's example models, if it has some."""
    if not rule.example_models:
        return None
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "models.py").write_text(rule.example_models)
    return str(tmp_path / "consumers.py")


def own_findings(rule: type[Rule], source: str, path: str | None = None):
    return [v for v in lint(Source.from_text(source), path=path) if v.code == rule.code]


ERROR_MARK = re.compile(r"# error(?::\s*(\d+))?\s*$")


def marks(source: str) -> dict[int, int | None]:
    """``line -> column`` (1-based, or ``None`` for any) of every ``# error`` mark."""
    found = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = ERROR_MARK.search(line)
        if match:
            found[number] = int(match.group(1)) if match.group(1) else None
    return found


def marked_lines(source: str) -> set[int]:
    return set(marks(source))


VALID = [pytest.param(rule, source, id=f"{rule.code}-valid-{i}") for rule in RULES for i, source in enumerate(rule.valid)]
INVALID = [pytest.param(rule, case, id=f"{rule.code}-invalid-{i}") for rule in RULES for i, case in enumerate(rule.invalid)]
FIXED = [p for p in INVALID if p.values[1].fixed is not None]


@pytest.mark.parametrize(("rule", "source"), VALID)
def test_valid_example_is_silent(rule: type[Rule], source: str, tmp_path: Path) -> None:
    assert own_findings(rule, source, example_path(rule, tmp_path)) == []


@pytest.mark.parametrize(("rule", "case"), INVALID)
def test_invalid_example_reports_marked_lines(rule, case, tmp_path: Path) -> None:
    assert marked_lines(case.source), "an invalid example needs lines marked # error"
    findings = own_findings(rule, case.source, example_path(rule, tmp_path))
    assert {v.line for v in findings} == marked_lines(case.source)
    for line, column in marks(case.source).items():
        if column is not None:
            assert column in {v.col + 1 for v in findings if v.line == line}, f"no finding at {line}:{column}"
    if case.messages:
        assert [v.message for v in findings] == list(case.messages)


@pytest.mark.parametrize(("rule", "case"), FIXED)
def test_invalid_example_fix(rule, case, tmp_path: Path) -> None:
    path = example_path(rule, tmp_path)
    result = fix_bytes(case.source.encode(), select=[rule.code], unsafe_fixes=True, filename=path)
    assert result.error is None
    assert result.fixed.decode() == case.fixed
    assert not fix_bytes(result.fixed, select=[rule.code], unsafe_fixes=True, filename=path).changed
    remaining = own_findings(rule, result.fixed.decode(), path)
    assert all(v.fix is None for v in remaining)
    fixed_count = sum(1 for v in own_findings(rule, case.source, path) if v.fix is not None)
    assert len(remaining) == len(own_findings(rule, case.source, path)) - fixed_count


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docs_have_ruff_sections(rule: type[Rule]) -> None:
    docs = rule.docs()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "Use instead:", "## Fix safety"):
        assert heading in docs, f"{rule.code} docs lack {heading!r}"
    assert re.fullmatch(r"CHN[1-9]\d\d", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert (rule.fix_applicability is None) == docs.split("## Fix safety")[1].strip().startswith("No fix"), rule.code


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docs_example_is_reported_and_use_instead_is_not(rule: type[Rule], tmp_path: Path) -> None:
    example, use_instead = rule.doc_examples()
    path = example_path(rule, tmp_path)
    assert own_findings(rule, example, path), f"{rule.code}: the docs' Example is not reported"
    assert own_findings(rule, use_instead, path) == [], f"{rule.code}: the docs' Use instead is reported"


@pytest.mark.parametrize(("rule", "case"), INVALID)
def test_noqa_silences_every_finding(rule, case, tmp_path: Path) -> None:
    silenced = "\n".join(
        line + "  # noqa" if line.strip() and not line.rstrip().endswith(("\\", ",", "(", "[", "{")) else line
        for line in case.source.splitlines()
    )
    silenced = silenced.replace("# error  # noqa", "# noqa: " + rule.code)
    assert own_findings(rule, silenced, example_path(rule, tmp_path)) == []


def test_selection_by_prefix() -> None:
    assert "CHN105" not in [r.code for r in selected_rules(["CHN1"], ["CHN105"])]
    assert [
        r.code
        for r in selected_rules(["CHN10"], ["CHN102", "CHN103", "CHN104", "CHN105", "CHN106", "CHN107", "CHN108", "CHN109"])
    ] == ["CHN101"]
    assert all(r.code.startswith("CHN") for r in selected_rules(None))


@pytest.mark.parametrize("rule", [r for r in RULES if r.fix_applicability], ids=lambda r: r.code)
def test_fixable_rules_have_a_fix_example(rule: type[Rule], tmp_path: Path) -> None:
    assert any(case.fixed for case in rule.invalid), f"{rule.code} offers a fix but has no fixed example"
    # The safety the fixes of the rule's own examples carry is the one the rule declares
    # (and documents): not just "some enum value".
    # A rule declaring UNSAFE may mark single fixes it proved SAFE (and its examples then
    # show both); a rule declaring SAFE carries nothing else.
    path = example_path(rule, tmp_path)
    carried = {v.fix.applicability for case in rule.invalid for v in own_findings(rule, case.source, path) if v.fix}
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if rule.fix_applicability is Applicability.UNSAFE else {Applicability.SAFE}
    assert rule.fix_applicability in carried and carried <= allowed, (
        f"{rule.code} declares {rule.fix_applicability}, its fixes carry {carried}"
    )
    if rule.fix_applicability is Applicability.UNSAFE:
        for case in rule.invalid:
            before = own_findings(rule, case.source, path)
            safe_only = fix_bytes(case.source.encode(), select=[rule.code], unsafe_fixes=False, filename=path)
            if not any(v.fix and v.fix.applicability is Applicability.SAFE for v in before):
                assert not safe_only.changed, f"{rule.code}: an unsafe fix was applied without unsafe_fixes"
                continue
            # only the safe fixes were applied: every finding with an unsafe fix is still there
            after = own_findings(rule, safe_only.fixed.decode(), path)
            unsafe = lambda found: sum(1 for v in found if v.fix and v.fix.applicability is Applicability.UNSAFE)
            assert unsafe(after) == unsafe(before), f"{rule.code}: an unsafe fix was applied without unsafe_fixes"
            assert not any(v.fix and v.fix.applicability is Applicability.SAFE for v in after)


def test_example_sources_are_dedented_python() -> None:
    # Compiled as written: an indented example is a SyntaxError ("unexpected indent").
    for rule in RULES:
        for source in (*rule.valid, *(case.source for case in rule.invalid), *(c.fixed for c in rule.invalid if c.fixed)):
            compile(source, rule.code, "exec")


@pytest.mark.parametrize(("rule", "case"), INVALID)
def test_prefilter_admits_every_invalid_example(rule, case) -> None:
    from channels_lint.engine import may_contain_findings

    assert may_contain_findings(case.source, [rule]), f"{rule.code} markers would skip its own invalid example"
    assert may_contain_findings(rule.doc_examples()[0], [rule])
