"""The engine: one parse, one analysis, every enabled rule, a sorted list of violations.

The flake8 plugin, ``channels-lint check``, ``channels-lint fix`` and the LibCST codemod all
call :func:`lint`; no rule runs anywhere else.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import tokenize
from collections.abc import Collection, Iterable
from dataclasses import dataclass

# flake8's own inline ``# noqa`` pattern, so both front ends silence the same findings.
from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP
from flake8.processor import FileProcessor

from channels_lint.analysis import ModuleAnalysis
from channels_lint.config import Settings
from channels_lint.diagnostics import Violation
from channels_lint.project import ProjectIndex
from channels_lint.rules import REGISTRY, Rule

UNANALYSABLE = "CHN900"
#: The largest module analysed, in characters: past it ``check`` (and flake8's plugin) report
#: one ``CHN900`` instead of spending seconds and gigabytes on one file (a 50 MB generated
#: module took 37 s and 2.8 GB).  Hand-written modules stay far below it (Django's largest
#: is 0.1 MB, CPython's 0.3 MB).
MAX_SOURCE_CHARS = 4_000_000


@dataclass(frozen=True)
class Source:
    """A module's decoded text and lines; ``encoding`` is what the bytes were decoded with."""

    text: str
    lines: list[str]
    encoding: str = "utf-8"
    #: Decoded as latin-1 because the declared (or default UTF-8) encoding failed, as flake8
    #: does; Python itself would refuse to import such a file.
    fallback: bool = False

    @classmethod
    def from_bytes(cls, data: bytes) -> Source:
        """Decode the way flake8 reads a file (``FileProcessor.read_lines_from_filename``):
        the PEP 263 cookie or BOM, else UTF-8; when that codec is unknown or the bytes do not
        decode with it, latin-1 (every byte is a character), so flake8 and the CLI analyse
        the same text.  Never raises."""
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
            fallback = False
        except (SyntaxError, UnicodeError, LookupError):
            encoding, text, fallback = "latin-1", data.decode("latin-1"), True
        text = text.removeprefix("\ufeff")
        return cls(text, split_lines(text), encoding, fallback)

    def encode(self, text: str) -> bytes:
        """``text`` in this source's encoding (a BOM kept: ``utf-8-sig`` writes it).

        Raises:
            UnicodeEncodeError: ``text`` has a character the encoding cannot write.
        """
        return text.encode(self.encoding)

    @classmethod
    def from_text(cls, text: str) -> Source:
        return cls(text, split_lines(text))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Split like Python's tokenizer: only ``\\r\\n``, ``\\r`` and ``\\n`` end a line
    (``str.splitlines`` also splits on form feeds and U+2028, which Python does not)."""
    return _LINE.findall(text)


def selected_rules(select: Collection[str] | None = None, ignore: Collection[str] = ()) -> list[type[Rule]]:
    """Rules whose code starts with one of ``select`` (all when ``None``) and none of ``ignore``."""
    return [
        rule
        for code, rule in sorted(REGISTRY.items())
        if (select is None or any(code.startswith(prefix) for prefix in select))
        and not any(code.startswith(prefix) for prefix in ignore)
    ]


def may_contain_findings(text: str, rules: Iterable[type[Rule]]) -> bool:
    """Cheap pre-filter: can any of ``rules`` find something in this text?"""
    return any(
        (marker in text) if isinstance(marker, str) else all(part in text for part in marker)
        for rule in rules
        for marker in rule.markers
    )


def admitted_rules(text: str, rules: Iterable[type[Rule]]) -> list[type[Rule]]:
    """The rules that run on ``text``: those of every family (``CHN1``: async context,
    ``CHN2``: payloads, ``CHN3``: client data, ``CHN4``: routing) one of whose rules' markers
    occurs in it, in order.  A ``urls.py`` admitted by a routing rule's ``path(`` builds no
    ORM or flow analysis; within a family rules run together, as a rule may find through a
    project fact what its own markers cannot show (an imported helper that calls
    ``async_to_sync`` in another module)."""
    seen: dict[str | tuple[str, ...], bool] = {}

    def present(marker: str | tuple[str, ...]) -> bool:
        if marker not in seen:
            seen[marker] = (marker in text) if isinstance(marker, str) else all(part in text for part in marker)
        return seen[marker]

    rules = list(rules)
    families = {_family(rule) for rule in rules if any(present(marker) for marker in rule.markers)}
    return [rule for rule in rules if _family(rule) in families] if families else []


def _family(rule: type[Rule]) -> str:
    return rule.code[:4]


def lint(
    source: Source,
    rules: list[type[Rule]] | None = None,
    tree: ast.Module | None = None,
    noqa: bool = True,
    path: str | None = None,
    settings: Settings | None = None,
    project: ProjectIndex | None = None,
) -> list[Violation]:
    """Run ``rules`` (default: all) over one module.

    Args:
        source: the module text.
        rules: rule classes to run.
        tree: the module's ``ast`` if the caller already parsed it (flake8 does).
        noqa: drop violations silenced by ``# noqa`` / ``# noqa: CODE`` on their line
            (flake8 applies ``# noqa`` itself, so the plugin passes ``False``).
        path: the file's path; lets rules read the project's models (``None``: the
            module's own models only).
        settings: target versions and fix style; default: newest versions.
        project: the project index (default: the one of ``path``'s project, built once per
            root and process).

    Returns:
        Violations sorted by position.  A file that does not parse, or on which a rule
        fails, yields exactly one ``CHN900`` violation.  Never raises.
    """
    if rules is None:
        rules = selected_rules()
    rules = admitted_rules(source.text, rules)
    if not rules:
        return []
    if len(source.text) > MAX_SOURCE_CHARS:
        size = f"{len(source.text) / 1e6:.1f} million characters"
        return [Violation(UNANALYSABLE, 1, 0, f"file not analysed: {size} is over the limit of {MAX_SOURCE_CHARS:,}")]
    if noqa and _file_noqa(source):
        return []
    try:
        if tree is None:
            tree = ast.parse(source.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return [unanalysable(error)]
    try:
        project = project if project is not None else ProjectIndex.for_path(path)
        analysis = ModuleAnalysis(tree, source.lines, path, settings, project)
        violations = {violation for rule in rules for violation in rule(analysis).check()}
    except RecursionError as error:  # pathologically deep expressions
        return [unanalysable(error)]
    except Exception as error:  # noqa: BLE001 - a rule bug must not stop the run; report it instead
        return [unanalysable(error, internal=True)]
    result = sorted(violations, key=lambda v: (v.line, v.col, v.code))
    if noqa and result:
        noqa_lines = _noqa_lines(source.lines)
        result = [v for v in result if not is_suppressed(v, noqa_lines)]
    return result


def _file_noqa(source: Source) -> bool:
    """A line that is only a ``# flake8: noqa`` comment: flake8 skips the whole file
    (``FileProcessor.should_ignore_file``); after code on a line flake8 ignores it, and so here."""
    if "noqa" not in source.text:
        return False
    return any(NOQA_FILE.match(line) for line in source.lines)


def _noqa_lines(lines: list[str]):
    """``line -> text searched for # noqa``, as flake8 maps it: a multi-line statement or
    string shares the comments of all its lines (flake8's ``FileProcessor.noqa_line_for``)."""
    options = argparse.Namespace(
        hang_closing=False, indent_size=4, max_line_length=79, max_doc_length=None, indent_char=" ", verbose=0
    )
    try:
        processor = FileProcessor("-", options, lines=list(lines))
        return lambda line: processor.noqa_line_for(line) or ""
    except (SyntaxError, tokenize.TokenError, ValueError):  # fall back to physical lines
        return lambda line: lines[line - 1] if 0 < line <= len(lines) else ""


def unanalysable(error: BaseException, internal: bool = False) -> Violation:
    """The single ``CHN900`` violation for a file that could not be analysed."""
    line = getattr(error, "lineno", None) or 1
    col = max((getattr(error, "offset", None) or 1) - 1, 0) if isinstance(error, SyntaxError) else 0
    if internal:
        reason = f"internal error {type(error).__name__}: {error} (please report it)"
    else:
        reason = f"{type(error).__name__}: {getattr(error, 'msg', None) or error}"
    return Violation(UNANALYSABLE, line, col, f"file could not be analysed ({reason})")


def is_suppressed(violation: Violation, noqa_line) -> bool:
    """flake8 semantics: a bare ``# noqa`` silences all codes, ``# noqa: X,Y`` those prefixes.

    ``noqa_line`` maps a line number to the text searched for the comment.
    """
    match = NOQA_INLINE_REGEXP.search(noqa_line(violation.line))
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(violation.code.startswith(code) for code in re.split(r"[,\s]+", codes.strip().upper()) if code)


def lint_bytes(
    data: bytes,
    rules: list[type[Rule]] | None = None,
    noqa: bool = True,
    path: str | None = None,
    settings: Settings | None = None,
    project: ProjectIndex | None = None,
) -> tuple[Source | None, list[Violation]]:
    """Decode and lint a file's bytes; an undecodable file gives ``(None, [CHN900])``."""
    try:
        source = Source.from_bytes(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        return None, [unanalysable(error)]
    return source, lint(source, rules, noqa=noqa, path=path, settings=settings, project=project)
