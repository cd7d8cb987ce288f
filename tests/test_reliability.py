"""Reliability regressions (issue 12): what a tester set on breaking the tool found.

Each test is one finding of that session: dead branches of constant tests, awaited
``async_to_sync`` calls whose fix was refused, one refused edit costing a file's other fixes,
``# noqa`` in the CLI, flake8 and ``fix``, non-regular and unparseable project files, and the
size bounds of ``check`` and ``fix``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from channels_lint import engine, fixes
from channels_lint.analysis import ModuleAnalysis
from channels_lint.cli import main
from channels_lint.engine import Source, lint, lint_bytes
from channels_lint.fixes import fix_bytes
from channels_lint.project import ProjectIndex

from .helpers import fix_snippet, found, make_project

CONSUMER = "from channels.generic.websocket import AsyncWebsocketConsumer\n\n\n"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ---------------------------------------------------------------------- dead branches
DEAD_BRANCHES = CONSUMER + dedent(
    """
    class C(AsyncWebsocketConsumer):
        async def set_autocommit(self, v):
            pass

        async def connect(self):
            if True:
                await self.set_autocommit(True)
            else:
                self.set_autocommit(False)
            if 0:
                self.set_autocommit(False)
                self.scope["user"].save()
            x = self.set_autocommit(1) if False else None
            while False:
                self.set_autocommit(False)
            while None:
                pass
            else:
                self.set_autocommit(2)  # error
    """
)


def test_dead_branches_of_constant_tests_are_not_analysed() -> None:
    """Generated code writes ``if True: ... else: <call>``: the ``else`` never runs (CHN105
    reported it).  Only the ``else`` of a ``while`` whose test is falsy runs, and is reported."""
    expected = [i + 1 for i, line in enumerate(DEAD_BRANCHES.splitlines()) if line.endswith("# error")]
    assert [line for line, _ in found(DEAD_BRANCHES)] == expected


def test_syntax_leaves_dead_branches_out_of_every_analyzer() -> None:
    tree = ast.parse(DEAD_BRANCHES)
    analysis = ModuleAnalysis(tree, Source.from_text(DEAD_BRANCHES).lines)
    calls = {analysis.syntax.source(call) for call in analysis.syntax.nodes(ast.Call)}
    assert "self.set_autocommit(False)" not in calls
    assert "self.set_autocommit(True)" in calls and "self.set_autocommit(2)" in calls
    dead = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n) == "self.set_autocommit(False)")
    assert not analysis.syntax.is_live(dead)
    assert dead not in set(analysis.syntax.walk(tree))


# ---------------------------------------------------------------------- awaited async_to_sync
AWAITED_BRIDGE = CONSUMER + dedent(
    """
    from asgiref.sync import async_to_sync


    async def f(x):
        return x


    class C(AsyncWebsocketConsumer):
        async def connect(self):
            await async_to_sync(f)(1)
            await async_to_sync(f(2))
            await (async_to_sync(f)(3))
            self.scope["user"].save()
    """
)


def test_fix_of_an_awaited_async_to_sync_call_awaits_once() -> None:
    fixed = fix_snippet(AWAITED_BRIDGE, unsafe_fixes=True)
    assert "await f(1)\n" in fixed and "await f(2)\n" in fixed and "await (f(3))\n" in fixed
    assert "await await" not in fixed and "async_to_sync" not in fixed
    assert 'await database_sync_to_async(self.scope["user"].save)()' in fixed


def test_one_refused_edit_does_not_cost_the_files_other_fixes(monkeypatch) -> None:
    """A rewrite that fails (here: forced to) refuses that fix alone; the file's other fixes
    are applied, proven, and the refusal is reported with its reason."""
    from channels_lint.diagnostics import AwaitInsteadOfAsyncToSync

    def refuse(edit, node):
        raise fixes.FixError("refused on purpose")

    kinds, _ = fixes.EDIT_APPLIERS[AwaitInsteadOfAsyncToSync]
    monkeypatch.setitem(fixes.EDIT_APPLIERS, AwaitInsteadOfAsyncToSync, (kinds, refuse))
    result = fix_bytes(AWAITED_BRIDGE.encode(), unsafe_fixes=True)
    assert result.error is None and result.changed
    assert [v.code for v in result.applied] == ["CHN102"]
    assert sorted(v.code for v, _ in result.refused) == ["CHN106"] * 3
    assert all("refused on purpose" in why for _, why in result.refused)
    text = result.fixed.decode()
    assert "await async_to_sync(f)(1)" in text and "await database_sync_to_async(" in text
    compile(text, "<fixed>", "exec")
    again = fix_bytes(result.fixed, unsafe_fixes=True)
    assert not again.changed and again.error is None


# ---------------------------------------------------------------------- noqa
NOQA = CONSUMER + dedent(
    """
    class C(AsyncWebsocketConsumer):
        async def connect(self):
            self.scope["user"].save()  # noqa: CHN102
            self.scope["user"].delete()  # noqa
            self.scope["user"].refresh_from_db()  # noqa: CHN101
            self.scope["user"].save()
    """
)


def _noqa_project(tmp_path: Path) -> Path:
    root = make_project(tmp_path, {"app/consumers.py": NOQA})
    return root / "app" / "consumers.py"


def test_noqa_is_honoured_by_the_cli_and_flake8_alike(tmp_path: Path, capsys) -> None:
    path = _noqa_project(tmp_path)
    assert main(["check", str(path)]) == 1
    cli = sorted(line.split(":")[1] for line in capsys.readouterr().out.splitlines() if "CHN" in line)
    flake8 = subprocess.run(  # noqa: PLW1510 - the exit code is asserted below
        [sys.executable, "-m", "flake8", "--select", "CHN", "--no-show-source", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    reported = sorted(line.split(":")[1] for line in flake8.stdout.splitlines() if "CHN" in line)
    assert cli == reported == ["8", "9"], (cli, flake8.stdout, flake8.stderr)


def test_fix_never_rewrites_a_suppressed_line(tmp_path: Path) -> None:
    path = _noqa_project(tmp_path)
    result = fix_bytes(path.read_bytes(), filename=str(path))
    assert result.error is None and result.changed
    fixed = result.fixed.decode().splitlines()
    original = NOQA.splitlines()
    for line in original:
        if "# noqa" in line and "CHN101" not in line:
            assert line in fixed  # byte for byte
    assert fixed[-1].strip() == 'await database_sync_to_async(self.scope["user"].save)()'


def test_a_fix_whose_edit_reaches_a_noqa_line_is_refused() -> None:
    """A finding on an unsuppressed line whose edit spans a line with ``# noqa`` for its code."""
    from libcst.codemod import CodemodContext

    from channels_lint.diagnostics import AddAwait, Fix, Violation
    from channels_lint.fixes import ApplyChannelsLintFixes

    text = "x = (\n    f()  # noqa: CHN105\n)\n"
    command = ApplyChannelsLintFixes(CodemodContext())
    violation = Violation("CHN105", 1, 4, "m", Fix("await it", (AddAwait((1, 4, 3, 1)),)))
    assert "line 2 has a # noqa for CHN105" in command._noqa_reason(text, violation)
    other = Violation("CHN102", 1, 4, "m", Fix("await it", (AddAwait((1, 4, 3, 1)),)))
    assert command._noqa_reason(text, other) is None


def test_flake8_file_noqa_skips_the_file_in_the_cli_too() -> None:
    assert found(NOQA.replace("\n\n\nclass", "\n# flake8: noqa\n\n\nclass", 1)) == []
    assert found(NOQA.replace("    async def", "    async def  # flake8: noqa  (after code: ignored)\n", 0))


# ---------------------------------------------------------------------- project files
def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("fifo", ["app/models.py", "app/models/x.py", "requirements.txt", "requirements/base.txt"])
def test_a_fifo_in_the_project_never_hangs_check_or_flake8(tmp_path: Path, fifo: str) -> None:
    """A FIFO is opened by nobody: project reading takes regular files only, size-bounded
    (``project.read_regular_file``).  Were it opened, these runs would block forever."""
    root = make_project(tmp_path, {"app/consumers.py": NOQA, "app/__init__.py": ""})
    (root / fifo).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / fifo)
    check = [sys.executable, "-c", "import sys; from channels_lint.cli import main; sys.exit(main(sys.argv[1:]))", "check"]
    for args in (
        [*check, "app/consumers.py"],
        [*check, "app"],
        [sys.executable, "-m", "flake8", "--select", "CHN", "app/consumers.py"],
    ):
        done = _run(args, root, timeout=60)
        assert done.returncode == 1 and ":9:" in done.stdout, (args, done.stdout, done.stderr)


def test_a_models_file_cpython_rejects_drops_out_of_the_index_with_a_note(tmp_path: Path) -> None:
    """CPython raises ``MemoryError`` on 10,000 nested unary minus signs; the index notes the
    file and goes on, and the findings elsewhere stay findings (no CHN900 internal error)."""
    rejected = "from django.db import models\n\n\nclass Room(models.Model):\n    name = models.CharField(max_length=9)\n"
    rejected += "x = " + "-" * 10_000 + "1\n"
    with pytest.raises(MemoryError):
        ast.parse(rejected)
    consumer = CONSUMER + "from .models import Room\n\n\nclass C(AsyncWebsocketConsumer):\n"
    consumer += "    async def connect(self):\n        Room.objects.get(pk=1)\n        self.scope['user'].save()\n"
    root = make_project(tmp_path, {"app/models.py": rejected, "app/consumers.py": consumer})
    path = root / "app" / "consumers.py"
    index = ProjectIndex(root)
    _, violations = lint_bytes(path.read_bytes(), path=str(path), project=index)
    assert [v.code for v in violations] == ["CHN101", "CHN102"], violations
    assert index.models is not None and not index.complete
    assert any("models.py: not indexed (MemoryError" in note for note in index.notes), index.notes


# ---------------------------------------------------------------------- size bounds
def test_check_and_fix_skip_files_past_their_size_bounds_with_a_note(monkeypatch) -> None:
    source = CONSUMER + "class C(AsyncWebsocketConsumer):\n    async def connect(self):\n        self.scope['user'].save()\n"
    monkeypatch.setattr(fixes, "MAX_FIX_CHARS", len(source) - 1)
    result = fix_bytes(source.encode())
    assert not result.changed and "over fix's limit" in result.error
    monkeypatch.setattr(engine, "MAX_SOURCE_CHARS", len(source) - 1)
    [violation] = lint(Source.from_text(source))
    assert violation.code == "CHN900" and "not analysed" in violation.message and "internal" not in violation.message
    assert lint(Source.from_text("x = 1\n" * 100)) == []  # no marker: nothing to say, whatever the size


def _timed(function, *args, seconds: float):
    """``function(*args)`` in a thread that must finish within ``seconds`` (no hang)."""
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", function(*args)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} did not finish in {seconds} s"
    return box["result"]


def test_a_20000_line_file_is_checked_and_fixed_in_bounded_time() -> None:
    body = "".join(f"        value_{i} = {i}\n" for i in range(20_000))
    source = CONSUMER + "class C(AsyncWebsocketConsumer):\n    async def connect(self):\n" + body
    source += "        self.scope['user'].save()\n"
    assert source.count("\n") >= 20_000
    _, violations = _timed(lint_bytes, source.encode(), seconds=60)
    assert [v.code for v in violations] == ["CHN102"]
    result = _timed(fix_bytes, source.encode(), seconds=120)
    assert result.error is None and result.fixed.decode().endswith("await database_sync_to_async(self.scope['user'].save)()\n")


@pytest.mark.parametrize("depth", [150, 500])
def test_deeply_nested_parentheses_neither_crash_nor_hang(depth: int) -> None:
    source = CONSUMER + "class C(AsyncWebsocketConsumer):\n    async def connect(self):\n"
    source += "        x = " + "(" * depth + "self.scope['user'].save()" + ")" * depth + "\n"
    _, violations = _timed(lint_bytes, source.encode(), seconds=60)
    result = _timed(fix_bytes, source.encode(), seconds=120)
    if depth > 200:  # CPython: "too many nested parentheses"
        assert [v.code for v in violations] == ["CHN900"] and "internal" not in violations[0].message
        assert not result.changed and result.error
    else:
        assert [v.code for v in violations] == ["CHN102"]
        assert result.error is None or not result.changed
        if result.changed:
            compile(result.fixed, "<fixed>", "exec")


def test_fix_result_carries_the_findings_left_without_another_lint() -> None:
    result = fix_bytes(AWAITED_BRIDGE.encode())  # safe fixes only: the CHN106 ones are unsafe
    assert result.changed and result.remaining is not None
    _, again = lint_bytes(result.fixed)
    assert [(v.line, v.code) for v in result.remaining] == [(v.line, v.code) for v in again]
