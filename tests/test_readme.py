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


def test_readme_rule_table_matches_the_registry() -> None:
    from channels_lint.rules import REGISTRY

    rows = re.findall(r"^\| (CHN\d{3}) \| ([a-z0-9-]+) \| (safe|unsafe|-) \|", (ROOT / "README.md").read_text(), flags=re.M)
    documented = {code: (name, fix) for code, name, fix in rows}
    assert documented == {
        code: (rule.name, rule.fix_applicability.value if rule.fix_applicability else "-") for code, rule in REGISTRY.items()
    }
