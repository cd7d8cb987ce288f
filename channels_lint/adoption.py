"""Adopting channels-lint on a large codebase in one commit: ``--add-noqa`` and baselines.

``add_noqa`` puts ``# noqa: CODE`` where flake8 looks for it: on the finding's own line, or,
when the line is part of a multi-line string or a backslash continuation (which flake8 maps
to all their lines), at the end of their last line, where a comment is valid Python (never
inside a string, never before a backslash).  An existing ``# noqa: X`` gets the new codes
added; another comment keeps its text and the ``# noqa`` follows it.

A baseline records today's findings by rule code, file and a hash of the finding's source
line with its whitespace normalised, so findings that only moved (lines added above them, a
re-indent) stay known; a later run reports only findings beyond the recorded count per key.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flake8.defaults import NOQA_INLINE_REGEXP

from channels_lint.diagnostics import Violation
from channels_lint.engine import UNANALYSABLE
from channels_lint.output import FileReport

BASELINE_VERSION = 1


# ---------------------------------------------------------------------------- --add-noqa


def _noqa_positions(text: str) -> dict[int, tuple[int, int]]:
    """``line -> (line, column)`` where a ``# noqa`` for a finding on ``line`` goes.

    flake8 (``FileProcessor._noqa_line_mapping``) searches for ``# noqa`` in the lines between
    two line-ending tokens (``NL`` or ``NEWLINE``): one physical line, or the lines a
    multi-line string or a backslash continuation joins.  The comment goes where that range's
    ending token starts: after the code and any comment of its last line.

    Raises:
        tokenize.TokenError, SyntaxError: the text does not tokenize.
    """
    positions: dict[int, tuple[int, int]] = {}
    first, last = None, -1
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first = token.start[0] if first is None else min(first, token.start[0])
        last = max(last, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            for line in range(first, last + 1):
                positions[line] = token.start
            first, last = None, -1
    return positions


def add_noqa(text: str, violations: Iterable[Violation]) -> tuple[str, int]:
    """``text`` with a ``# noqa: CODES`` for each violation (CHN900 excluded) and how many
    comments were added or extended.

    Raises:
        tokenize.TokenError, SyntaxError: the text does not tokenize (nothing is added).
    """
    ends = _noqa_positions(text)
    wanted: dict[int, tuple[int, set[str]]] = {}
    for violation in violations:
        if violation.code == UNANALYSABLE or violation.line not in ends:
            continue
        line, column = ends[violation.line]
        wanted.setdefault(line, (column, set()))[1].add(violation.code)
    # str.splitlines also splits on form feeds and U+2028: use Python's own line ends
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text)
    for number, (column, codes) in wanted.items():
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        code_part, rest = body[:column], body[column:]
        match = NOQA_INLINE_REGEXP.search(code_part)
        if match is not None and match.group("codes"):
            existing = [c for c in re.split(r"[,\s]+", match.group("codes").strip()) if c]
            merged = ", ".join(dict.fromkeys([*existing, *sorted(codes)]))
            code_part = code_part[: match.start()] + f"# noqa: {merged}" + code_part[match.end() :]
        elif match is None:
            code_part = code_part.rstrip() + "  # noqa: " + ", ".join(sorted(codes))
        lines[number - 1] = code_part + rest + ending
    return "".join(lines), len(wanted)


# ---------------------------------------------------------------------------- baseline


def line_hash(text: str) -> str:
    """A finding's source line, whitespace normalised, hashed (16 hex digits)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Baseline:
    """Known findings: ``(code, file relative to the baseline's directory, line hash) -> count``."""

    path: Path
    known: Counter[tuple[str, str, str]]

    def _file(self, path: str) -> str:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.path.parent))
        return relative.replace(os.sep, "/")

    def key(self, report: FileReport, violation: Violation) -> tuple[str, str, str]:
        return violation.code, self._file(report.path), line_hash(report.lines.get(violation.line, ""))

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Raises: ValueError: the file is missing, not JSON or not a channels-lint baseline."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["findings"]
            known: Counter[tuple[str, str, str]] = Counter()
            for entry in entries:
                known[(entry["code"], entry["file"], entry["line_hash"])] += int(entry.get("count", 1))
        except FileNotFoundError:
            raise ValueError(f"baseline {path} does not exist; record one with --update-baseline") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"baseline {path} cannot be read ({type(error).__name__}: {error})") from None
        return cls(path, known)

    def new_findings(self, reports: Sequence[FileReport]) -> list[FileReport]:
        """The reports with only the findings the baseline does not account for."""
        left = Counter(self.known)
        result = []
        for report in reports:
            kept = []
            for violation in report.violations:
                key = self.key(report, violation)
                if left[key] > 0:
                    left[key] -= 1
                else:
                    kept.append(violation)
            result.append(FileReport(report.path, kept, report.lines, {}, report.source))
        return result

    @classmethod
    def record(cls, path: Path, reports: Sequence[FileReport]) -> int:
        """Write every finding of ``reports`` to ``path``; returns how many."""
        baseline = cls(path, Counter())
        counts: Counter[tuple[str, str, str]] = Counter()
        for report in reports:
            for violation in report.violations:
                counts[baseline.key(report, violation)] += 1
        findings = [
            {"code": code, "file": file, "line_hash": digest, "count": count}
            for (code, file, digest), count in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0], item[0][2]))
        ]
        document = {"tool": "channels-lint", "version": BASELINE_VERSION, "findings": findings}
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        return sum(counts.values())
