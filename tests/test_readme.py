"""README.md's two commands stay true: the first runs on the example project, CI runs the second."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())[:2]


def test_ci_runs_the_readme_test_command() -> None:
    _, test_command = readme_commands()
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_main_command_checks_the_example_project() -> None:
    main_command, _ = readme_commands()
    check = main_command.rsplit("&& ", 1)[1].replace(".venv/bin/channels-lint", f"{sys.executable} -m channels_lint.cli")
    result = subprocess.run(check.split(), cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    assert "fixtures/chat_project/chat/consumers.py" in result.stdout and "CHN101" in result.stdout


def test_readme_rule_table_is_the_generated_one() -> None:
    """README's rule table is written by ``python -m channels_lint.docs`` between its markers,
    one row per registered rule with the rule's name and fix safety."""
    from channels_lint.docs import RULES_END, RULES_START, rules_table
    from channels_lint.rules import REGISTRY

    text = (ROOT / "README.md").read_text()
    table = text[text.index(RULES_START) + len(RULES_START) + 1 : text.index(RULES_END)]
    assert table == rules_table("docs/rules/"), "run `python -m channels_lint.docs`"
    rows = re.findall(
        r"^\| \[(CHN\d{3})\]\(docs/rules/CHN\d{3}\.md\) \| ([a-z0-9-]+) \| (safe|unsafe|-) \|", table, flags=re.MULTILINE
    )
    assert {code: (name, fix) for code, name, fix in rows} == {
        code: (rule.name, rule.fix_applicability.value if rule.fix_applicability else "-") for code, rule in REGISTRY.items()
    }
