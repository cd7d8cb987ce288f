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
