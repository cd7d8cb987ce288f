"""Never crash on real code (issue 12): every ``.py`` file of the installed Django, Channels,
Django REST framework, Celery and the standard library.

Each package is linted as a project of its own (its folder is the project root, so the
project index reads its models, consumers and routes), every file through the same
pre-filter as ``check`` (a file with no rule's marker is never parsed: that is the product's
real cost too), on two processes.  No file may give a ``CHN900`` "internal error" (a rule
crash) or raise; Django, Channels, DRF and Celery hold no Channels bug, so they give no
finding at all; the standard library may only give ``CHN900`` for the files CPython itself
rejects (its test data of Python 2 grammar).  The counts are printed (``pytest -s``).

DRF and Celery are in the ``test`` extra (never skipped: a missing one fails).
"""

from __future__ import annotations

import importlib
import os
import sysconfig
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from channels_lint.engine import UNANALYSABLE, Source, lint, may_contain_findings, selected_rules
from channels_lint.project import ProjectIndex, read_regular_file

PACKAGES = ("django", "channels", "rest_framework", "celery")
#: Folders of the standard library that are not the standard library.
STDLIB_SKIP = {"site-packages", "dist-packages", "__pycache__", "idlelib", "turtledemo"}


def package_root(name: str) -> Path:
    if name == "stdlib":
        return Path(sysconfig.get_paths()["stdlib"])
    return Path(importlib.import_module(name).__file__).parent  # DRF and Celery: in the test extra


def python_files(root: Path) -> list[Path]:
    found = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in STDLIB_SKIP)
        found.extend(Path(directory, n) for n in sorted(names) if n.endswith(".py"))
    return found


_INDEXES: dict[Path, ProjectIndex] = {}


def lint_files(root: Path, paths: list[Path]) -> tuple[int, list[tuple[str, int, str, str]]]:
    """(files past the pre-filter, every finding as (path, line, code, message)); runs in a
    worker process, one project index per root and process."""
    index = _INDEXES.setdefault(root, ProjectIndex(root))
    rules = selected_rules()
    admitted, findings = 0, []
    for path in paths:
        data = read_regular_file(path, limit=10_000_000)
        if data is None:
            continue
        source = Source.from_bytes(data)
        if not may_contain_findings(source.text, rules):
            continue
        admitted += 1
        try:
            violations = lint(source, rules, path=str(path), project=index)
        except BaseException as error:  # noqa: BLE001 - the engine must never raise: report it as a crash
            findings.append((str(path), 0, "RAISED", f"internal error {type(error).__name__}: {error}"))
            continue
        findings.extend((str(path), v.line, v.code, v.message) for v in violations)
    return admitted, findings


@pytest.fixture(scope="module")
def crawl() -> dict[str, dict]:
    roots = {name: package_root(name) for name in (*PACKAGES, "stdlib")}
    results: dict[str, dict] = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {}
        for name, root in roots.items():
            files = python_files(root)
            results[name] = {"files": len(files), "admitted": 0, "findings": []}
            # interleaved halves: the two workers get similar shares of each package
            futures[name] = [pool.submit(lint_files, root, files[part::2]) for part in range(2)]
        for name, parts in futures.items():
            for future in parts:
                admitted, findings = future.result()
                results[name]["admitted"] += admitted
                results[name]["findings"].extend(findings)
    elapsed = time.perf_counter() - start
    for name, result in results.items():
        counts = Counter(code for _, _, code, _ in result["findings"])
        print(f"\ncrawl {name}: {result['files']} files, {result['admitted']} past the pre-filter, findings {dict(counts)}")
    print(f"crawl: {elapsed:.1f} s on 2 processes")
    return results


@pytest.mark.parametrize("name", [*PACKAGES, "stdlib"])
def test_no_file_crashes_the_engine(crawl, name: str) -> None:
    crashes = [f for f in crawl[name]["findings"] if "internal error" in f[3] or f[2] == "RAISED"]
    assert not crashes, crashes[:5]
    assert crawl[name]["files"] > 0


@pytest.mark.parametrize("name", PACKAGES)
def test_libraries_without_channels_bugs_give_no_finding(crawl, name: str) -> None:
    assert crawl[name]["findings"] == []


def test_the_standard_library_gives_only_chn900_for_what_cpython_rejects(crawl) -> None:
    for path, line, code, message in crawl["stdlib"]["findings"]:
        assert code == UNANALYSABLE and "internal error" not in message, (path, line, code, message)
        with pytest.raises(SyntaxError):
            compile(Source.from_bytes(Path(path).read_bytes()).text, path, "exec", dont_inherit=True)
