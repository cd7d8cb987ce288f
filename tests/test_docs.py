"""The generated documentation (``python -m channels_lint.docs``) is up to date: one page per
rule under ``docs/rules/``, the index, README's rule table and the option table of
``docs/configuration.md``, all from the rules' and options' own metadata."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from channels_lint import docs
from channels_lint.config import KEYS
from channels_lint.rules import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run `python -m channels_lint.docs` and commit the result"


def test_generated_docs_are_fresh() -> None:
    stale = [str(path.relative_to(ROOT)) for path in docs.stale(ROOT)]
    assert stale == [], f"stale generated docs: {stale}; {REGENERATE}"


def test_every_rule_has_a_page_and_a_row() -> None:
    pages = sorted(path.stem for path in (ROOT / "docs" / "rules").glob("CHN*.md"))
    assert pages == sorted(REGISTRY)
    index = (ROOT / "docs" / "rules" / "index.md").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for code, rule in REGISTRY.items():
        page = (ROOT / "docs" / "rules" / f"{code}.md").read_text()
        assert page.splitlines()[1] == f"# {rule.name} ({code})"
        assert "## What it does" in page and "## Fix safety" in page
        assert f"| [{code}]({code}.md) | {rule.name} |" in index
    for key in KEYS:
        assert f"| `{key}` |" in configuration


def test_check_mode_reports_a_stale_copy_and_regenerates_it(tmp_path: Path) -> None:
    """``--check`` fails on a stale checkout (a hand-edited page, a page of a removed rule, a
    README row missing) and the generator repairs every one of them."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    page = tmp_path / "docs" / "rules" / "CHN101.md"
    page.write_text(page.read_text().replace("## Why is this bad?", "## Why is it bad?"))
    (tmp_path / "docs" / "rules" / "CHN999.md").write_text("# a removed rule\n")
    readme = tmp_path / "README.md"
    readme.write_text("\n".join(line for line in readme.read_text().splitlines() if "[CHN403]" not in line) + "\n")

    def generator(*arguments: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "channels_lint.docs", "--root", str(tmp_path), *arguments]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    checked = generator("--check")
    assert checked.returncode == 1
    assert set(checked.stdout.split()) >= {"stale:", "docs/rules/CHN101.md", "docs/rules/CHN999.md", "README.md"}
    assert generator().returncode == 0
    assert not (tmp_path / "docs" / "rules" / "CHN999.md").exists()
    assert generator("--check").returncode == 0
    assert page.read_text() == (ROOT / "docs" / "rules" / "CHN101.md").read_text()


def test_missing_markers_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# no table markers\n")
    assert docs.main(["--check", "--root", str(tmp_path)]) == 2
