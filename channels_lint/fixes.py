"""Applying fixes with LibCST: the one rewrite path behind ``channels-lint fix`` and the codemod.

Rules describe fixes as edits on ``ast`` spans (:mod:`channels_lint.diagnostics`).  Here the
file is parsed with LibCST only if it has something to fix; each edit is applied to the
LibCST node found at exactly that span (``PositionProvider`` and ``ast`` agree on spans:
both exclude parentheses, and :meth:`ModuleAnalysis.span` converts ``ast``'s UTF-8 byte
columns to characters).  Comments, formatting, encoding and line endings are kept.

Every result is proven before it is returned: the output parses, re-linting it shows fewer
findings of every code a fix claimed to fix, and passes repeat until nothing fixable is left
(so a second run changes nothing).  When a pass cannot be proven, its fixes are tried one by
one: the ones that prove are applied and each one that does not is *refused* (reported in
:attr:`FixResult.refused`), so one bad edit never costs a file its other fixes.  A fix that
would rewrite a line whose ``# noqa`` silences the finding's code is refused too.

Untouched bytes stay untouched: where LibCST's printer changes whitespace outside the edited
spans (a form feed starting a line, the last ``\r`` of a CR-only file), the original
whitespace is spliced back before the pass is proven; the text is decoded and encoded with
the file's own encoding (BOM kept; latin-1 when flake8 would fall back to it).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import PositionProvider

from channels_lint.config import Options, Settings, add_settings_arguments, codes
from channels_lint.diagnostics import (
    AddAwait,
    AddCall,
    AddDecorator,
    Applicability,
    AwaitAsyncMethod,
    AwaitInsteadOfAsyncToSync,
    CallMethod,
    CallThrough,
    Edit,
    GetAttribute,
    HoistCall,
    InsertAfter,
    MakeAsync,
    RemoveStatement,
    ReplaceWith,
    Span,
    Violation,
    WrapIn,
)
from channels_lint.engine import Source, _noqa_lines, is_suppressed, lint, lint_bytes, selected_rules, split_lines
from channels_lint.project import ProjectIndex, find_root, project_settings
from channels_lint.rules import Rule

#: Fix passes before giving up; each pass re-lints the previous pass's output.
MAX_PASSES = 5
#: The largest module ``fix`` rewrites, in characters.  LibCST costs about 0.6 ms and 30 KB
#: per line, so a larger file is left unchanged with a note instead of taking minutes and
#: gigabytes (``check`` still reports its findings up to ``engine.MAX_SOURCE_CHARS``).
MAX_FIX_CHARS = 1_000_000
#: Leading whitespace up to a line's last form feed (Python resets the column there).
_FORM_FEED_INDENT = re.compile(r"[ \t\f]*\f")
#: How a pass's proof names the code whose fixes it refuses.
_PROOF_FAILURE = re.compile(r"fixes for (\w+) did not remove")
#: Edits whose rewrite only prefixes their node's first line (a ``# noqa`` further down the
#: node does not stop them).
_FIRST_LINE_EDITS: tuple[type[Edit], ...] = (MakeAsync, AddDecorator)


class FixError(Exception):
    """A fix could not be applied or proven; the file must be left unchanged."""


def fixable(violations: Sequence[Violation], unsafe_fixes: bool = False) -> list[Violation]:
    """Violations whose fix may be applied (safe ones, and unsafe ones when asked)."""
    return [v for v in violations if v.fix is not None and (unsafe_fixes or v.fix.applicability is Applicability.SAFE)]


class ApplyChannelsLintFixes(VisitorBasedCodemodCommand):
    """LibCST codemod: apply channels-lint's fixes to a module.

    Usable as ``python -m libcst.tool codemod channels_lint_fix.ApplyChannelsLintFixes PATH``
    with ``codemods`` listed in ``.libcst.codemod.yaml`` (see README).  It lints the module
    with the same engine as flake8 and applies the fixes of the selected rules.

    Raises:
        FixError: (from :meth:`transform_module`) when the output would not parse or does
            not remove what the fixes claimed; LibCST's runner then leaves the file alone.
    """

    DESCRIPTION = "Apply channels-lint fixes (database_sync_to_async, await, safe_serialize, as_asgi())."
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(
        self,
        context: CodemodContext,
        select: Collection[str] | None = None,
        ignore: Collection[str] = (),
        unsafe_fixes: bool = False,
        django_version: str | None = None,
        channels_version: str | None = None,
        orm_style: str | None = None,
        options: Options | None = None,
    ) -> None:
        super().__init__(context)
        # libcst.tool passes the parsed command-line options as keywords; the CLI passes one Options
        options = options or Options.of(select, ignore, unsafe_fixes, django_version, channels_version, orm_style)
        self.options = options
        self.rules: list[type[Rule]] = selected_rules(options.select, options.ignore)
        self.unsafe_fixes = options.unsafe_fixes
        self.path = context.filename
        root = find_root(Path(self.path)) if self.path else Path.cwd()
        self.settings: Settings = project_settings(root, options.django_version, options.channels_version, options.orm_style)
        self.project = ProjectIndex.for_path(self.path)
        self.applied: list[Violation] = []
        #: Fixes not applied, with why: their pass could not be proven with them, or they
        #: would rewrite a line whose ``# noqa`` silences their code.
        self.refused: list[tuple[Violation, str]] = []
        self._edits: dict[Span, list[Edit]] = {}
        #: Columns LibCST does not see at the start of lines (a form feed in the indentation).
        self._shift: dict[int, int] = {}
        #: Visit only the nodes that hold an edit (a statement rewritten alone).
        self._prune = False
        #: ``(text, line -> text searched for # noqa)`` of the last text asked about.
        self._noqa_for: tuple[str | None, Callable] = (None, lambda line: "")
        #: Lint results by source text: a pass never lints text already linted.
        self._linted: dict[str, list[Violation]] = {}
        #: How many times this command ran the engine (one per pass plus the final proof).
        self.lint_calls = 0

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--select", type=codes, default=None, help="Comma-separated code prefixes to fix (default: all).")
        arg_parser.add_argument("--ignore", type=codes, default=(), help="Comma-separated code prefixes not to fix.")
        arg_parser.add_argument("--unsafe-fixes", action="store_true", help="Also apply unsafe fixes.")
        add_settings_arguments(arg_parser)

    # ------------------------------------------------------------------ passes
    def transform_module(self, tree: cst.Module) -> cst.Module:
        """Fix until nothing fixable is left, proving every pass (see module docs)."""
        text = self.transform_text(tree.code, tree)
        return tree if text == tree.code else cst.parse_module(text)

    def transform_text(self, text: str, tree: cst.Module | None = None) -> str:
        """The fixed text of ``text`` (the file's own text).  ``tree`` (LibCST's parse of it)
        is accepted for the codemod's sake; each pass parses only what it rewrites.

        Raises:
            FixError: fixes did not settle.
        """
        refused_keys: set[tuple[str, str]] = set()
        for _ in range(MAX_PASSES):
            before = self._lint(text)
            todo = []
            for violation in fixable(before, self.unsafe_fixes):
                if _key(violation) in refused_keys:
                    continue
                reason = self._noqa_reason(text, violation)
                if reason is not None:
                    refused_keys.add(_key(violation))
                    self.refused.append((violation, reason))
                    continue
                todo.append(violation)
            if not todo:
                return text
            try:
                new_text, applied = self._pass(text, before, todo), todo
            except FixError as error:
                new_text, applied = self._pass_each(text, before, todo, error)
                refused_keys.update(_key(v) for v, _ in self.refused)
                if not applied:
                    return text
            self.applied.extend(applied)
            if new_text == text:
                return text
            text = new_text
        raise FixError(f"fixes did not settle after {MAX_PASSES} passes")

    def _pass(self, text: str, before: list[Violation], todo: list[Violation]) -> str:
        """Apply ``todo``'s edits to ``text`` in one pass and prove the result.

        Raises:
            FixError: an edit matched no node or could not be applied, or the result does
                not compile or does not remove what the fixes claimed.
        """
        edits: dict[Span, list[Edit]] = defaultdict(list)
        imports: list[tuple[str, str]] = []
        unused: list[tuple[str, str]] = []
        for violation in todo:
            for edit in violation.fix.edits:
                if edit not in edits[edit.span]:
                    edits[edit.span].append(edit)
            imports.extend(i for i in violation.fix.imports if i not in imports)
            unused.extend(i for i in violation.fix.unused_imports if i not in unused)
        try:
            new = self._rewrite(text, dict(edits), imports, unused)
        except FixError:
            raise
        except (
            cst.CSTValidationError,
            cst.ParserSyntaxError,
            SyntaxError,
            TypeError,
            ValueError,
            RecursionError,
            MemoryError,
        ) as error:
            raise FixError(f"the rewrite failed: {type(error).__name__}: {error}") from error
        except Exception as error:  # a bug in a rewrite refuses its fix, never crashes fix
            raise FixError(f"internal error {type(error).__name__}: {error} (please report it)") from error
        self._prove(text, new, before, todo)
        return new

    def _rewrite(
        self, text: str, edits: dict[Span, list[Edit]], imports: list[tuple[str, str]], unused: list[tuple[str, str]]
    ) -> str:
        """``text`` with ``edits`` applied and ``imports`` added (``unused`` removed when
        nothing uses them any more), LibCST parsing only what changes: each top-level
        statement holding an edit, alone, and the leading block of imports (LibCST's
        ``AddImportsVisitor`` reads nothing else).  An edit in that leading block falls back
        to rewriting the whole module."""
        lines = split_lines(text)
        groups = _statement_groups(ast.parse(text), len(lines))
        after = _after_leading_block(groups)
        chunks: dict[tuple[int, int], dict[Span, list[Edit]]] = {}
        for span, found in edits.items():
            group = next((g[:2] for g in groups if g[0] <= span[0] and span[2] <= g[1]), None)
            if group is None or (imports or unused) and (after is None or group[0] < after[0]):
                return self._rewrite_module(text, edits, imports, unused)
            chunks.setdefault(group, {})[span] = found
        out, line = [], 1
        for (start, end), chunk_edits in sorted(chunks.items()):
            between = lines[line - 1 : start - 1]
            rewritten = self._rewrite_chunk("".join(lines[start - 1 : end]), chunk_edits, start - 1)
            if not rewritten and (imports or unused) and after is not None and start == after[0]:
                return self._rewrite_module(text, edits, imports, unused)  # the import block's neighbour goes
            if not rewritten:
                # a removed statement takes its leading blank lines and comments with it, as
                # LibCST removes a statement's ``leading_lines``
                while between and (not between[-1].strip() or between[-1].startswith("#")):
                    between.pop()
            out.append("".join(between))
            out.append(rewritten)
            line = end + 1
        out.append("".join(lines[line - 1 :]))
        new = "".join(out)
        if imports or unused:
            new = self._rewrite_imports(new, after[0] - 1, imports, unused)
        return new

    def _rewrite_chunk(self, chunk: str, edits: dict[Span, list[Edit]], offset: int) -> str:
        """One top-level statement's text (its lines ``offset + 1``...) with ``edits``."""
        self._edits = defaultdict(list)
        for (line, col, end_line, end_col), found in edits.items():
            self._edits[(line - offset, col, end_line - offset, end_col)] = list(found)
        spans = list(self._edits)
        self._prune = True
        try:
            module = Codemod.transform_module(self, self._parse(chunk))
        finally:
            self._prune = False
        # a chunk whose statement was removed is no line at all (an empty module prints "\n")
        printed = module.code if module.body or module.header or module.footer else ""
        if self._edits:
            unmatched = ", ".join(f"{type(e).__name__} at {span}" for span, edits in self._edits.items() for e in edits)
            raise FixError(f"internal error: no node at the span of {unmatched} (please report it)")
        return keep_untouched_whitespace(chunk, printed, spans)

    def _rewrite_imports(self, text: str, header_end: int, imports: list[tuple[str, str]], unused: list[tuple[str, str]]) -> str:
        """``text`` with ``imports`` added and ``unused`` removed by LibCST's import visitors,
        run on the leading block (lines up to ``header_end``) and a stand-in for the next
        statement (whose leading blank lines the visitor may change)."""
        lines = split_lines(text)
        newline = _newline(lines)
        head, rest = "".join(lines[:header_end]), "".join(lines[header_end:])
        stub = "pass" + newline if rest else ""
        self.context.scratch.pop(AddImportsVisitor.CONTEXT_KEY, None)
        self.context.scratch.pop(RemoveImportsVisitor.CONTEXT_KEY, None)
        for module, name in imports:
            AddImportsVisitor.add_needed_import(self.context, module, name)
        still_used = _loaded_names(text)
        for module, name in unused:
            if name not in still_used:
                RemoveImportsVisitor.remove_unused_import(self.context, module, name)
        tree = self._parse(head + stub)
        for key, visitor in (
            (AddImportsVisitor.CONTEXT_KEY, AddImportsVisitor),
            (RemoveImportsVisitor.CONTEXT_KEY, RemoveImportsVisitor),
        ):
            if key in self.context.scratch:
                tree = visitor(self.context).transform_module(tree)
        self.context.scratch.pop(AddImportsVisitor.CONTEXT_KEY, None)
        self.context.scratch.pop(RemoveImportsVisitor.CONTEXT_KEY, None)
        printed = keep_untouched_whitespace(head + stub, tree.code)
        if not printed.endswith(stub):
            raise FixError("internal error: the import block could not be rewritten (please report it)")
        return printed[: len(printed) - len(stub)] + rest

    def _rewrite_module(
        self, text: str, edits: dict[Span, list[Edit]], imports: list[tuple[str, str]], unused: list[tuple[str, str]]
    ) -> str:
        """The whole module through the codemod at once (edits in the leading import block)."""
        self.context.scratch.pop(AddImportsVisitor.CONTEXT_KEY, None)
        self.context.scratch.pop(RemoveImportsVisitor.CONTEXT_KEY, None)
        for module, name in imports:
            AddImportsVisitor.add_needed_import(self.context, module, name)
        for module, name in unused:
            RemoveImportsVisitor.remove_unused_import(self.context, module, name)
        self._edits = defaultdict(list, {span: list(found) for span, found in edits.items()})
        new = super().transform_module(self._parse(text))
        self.context.scratch.pop(AddImportsVisitor.CONTEXT_KEY, None)
        self.context.scratch.pop(RemoveImportsVisitor.CONTEXT_KEY, None)
        if self._edits:
            unmatched = ", ".join(f"{type(e).__name__} at {span}" for span, edits in self._edits.items() for e in edits)
            raise FixError(f"internal error: no node at the span of {unmatched} (please report it)")
        return keep_untouched_whitespace(text, new.code, list(edits))

    def _parse(self, text: str) -> cst.Module:
        """LibCST's parse of ``text``.  LibCST's tokenizer rejects a form feed in a line's
        indentation, where Python resets the column to 0 (language reference, "Indentation"):
        that prefix is left out of what LibCST sees, and positions on those lines are shifted
        back by its length (:meth:`_span`); the prefix itself is put back as untouched
        whitespace.

        Raises:
            libcst.ParserSyntaxError: LibCST cannot parse it.
        """
        self._shift = {}
        if "\f" in text:
            lines = split_lines(text)
            for number, line in enumerate(lines, 1):
                match = _FORM_FEED_INDENT.match(line)
                if match:
                    self._shift[number] = match.end()
                    lines[number - 1] = line[match.end() :]
            text = "".join(lines)
        return cst.parse_module(text)

    def _pass_each(
        self, text: str, before: list[Violation], todo: list[Violation], error: FixError
    ) -> tuple[str, list[Violation]]:
        """The pass failed with ``error``: find the fixes that prove together by halving the
        failing set (a pass per half; about ``2 log n`` passes per refused fix), refuse each
        fix that fails alone, and return the text of the last pass, which holds every kept
        fix."""
        result = [text]

        def accept(kept: list[Violation], candidates: list[Violation], failure: FixError | None) -> list[Violation]:
            if failure is None:
                try:
                    result[0] = self._pass(text, before, [*kept, *candidates])
                    return candidates
                except FixError as refusal:
                    failure = refusal
            if len(candidates) == 1:
                self.refused.append((candidates[0], str(failure)))
                return []
            named = _PROOF_FAILURE.search(str(failure))
            suspects = [c for c in candidates if named and c.code == named.group(1)]
            if 0 < len(suspects) < len(candidates):  # the proof names the code: the others first
                others = accept(kept, [c for c in candidates if c not in suspects], None)
                return others + accept([*kept, *others], suspects, None)
            middle = len(candidates) // 2
            left = accept(kept, candidates[:middle], None)
            return left + accept([*kept, *left], candidates[middle:], None)

        kept = accept([], todo, error)
        return result[0], kept

    def _noqa_reason(self, code: str, violation: Violation) -> str | None:
        """Why ``violation``'s fix may not be applied: it rewrites a line whose ``# noqa``
        silences the finding's code (``None`` when it rewrites none)."""
        if "noqa" not in code:
            return None
        if self._noqa_for[0] != code:  # one tokenization per text, not per finding
            self._noqa_for = (code, _noqa_lines(split_lines(code)))
        noqa_line = self._noqa_for[1]
        for edit in violation.fix.edits:
            last = edit.span[0] if isinstance(edit, _FIRST_LINE_EDITS) else edit.span[2]
            for line in range(edit.span[0], last + 1):
                if is_suppressed(Violation(violation.code, line, 0, ""), noqa_line):
                    return f"line {line} has a # noqa for {violation.code}: it is never rewritten"
        return None

    def seed(self, code: str, violations: list[Violation]) -> None:
        """Record that ``code`` lints to ``violations`` (the caller already linted it)."""
        self._linted[code] = violations

    def _lint(self, code: str) -> list[Violation]:
        if code not in self._linted:
            self.lint_calls += 1
            self._linted[code] = lint(
                Source.from_text(code), self.rules, path=self.path, settings=self.settings, project=self.project
            )
        return self._linted[code]

    def _prove(self, old: str, new: str, before: list[Violation], applied: list[Violation]) -> None:
        # compile(), not just ast.parse(): `await` outside an async function parses but
        # does not compile.  Code that did not compile before is only required to parse.
        try:
            compile(old, "<before>", "exec", dont_inherit=True)
            check = lambda code: compile(code, "<fixed>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            check = ast.parse
        try:
            check(new)
        except (SyntaxError, ValueError) as error:
            raise FixError(f"fixed code does not compile: {error}") from error
        after = Counter(v.code for v in self._lint(new))
        counts_before = Counter(v.code for v in before)
        for code, count in Counter(v.code for v in applied).items():
            if after[code] > counts_before[code] - count:
                raise FixError(f"fixes for {code} did not remove the findings they claimed to fix")

    # ------------------------------------------------------------------ rewriting
    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._prune and not isinstance(node, cst.Module):
            span = self._span(node)
            if span is not None and not any(
                (span[0], span[1]) <= (edit[0], edit[1]) and (edit[2], edit[3]) <= (span[2], span[3]) for edit in self._edits
            ):
                return False  # nothing to rewrite below this node
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        updated_node = _parenthesize_await(super().on_leave(original_node, updated_node))
        if isinstance(original_node, cst.Await):
            updated_node = _merge_awaits(original_node, updated_node)
        if not self._edits:
            return updated_node
        if isinstance(original_node, cst.SimpleStatementLine):
            # statements inserted after one of the line's small statements (InsertAfter), or
            # the line removed (RemoveStatement)
            taken = [edit for small in original_node.body for edit in self._take(self._span(small), (cst.SimpleStatementLine,))]
            inserted = [_apply(edit, updated_node) for edit in taken if not isinstance(edit, RemoveStatement)]
            kept = [] if any(isinstance(edit, RemoveStatement) for edit in taken) else [updated_node]
            if kept and not inserted:
                return updated_node
            return cst.FlattenSentinel([*kept, *inserted]) if kept or inserted else cst.RemovalSentinel.REMOVE
        if not isinstance(original_node, (cst.BaseExpression, cst.FunctionDef, cst.For)):
            return updated_node
        for edit in self._take(self._span(original_node), (type(original_node),)):
            updated_node = _apply(edit, updated_node)
        return updated_node

    def _span(self, node: cst.CSTNode) -> Span | None:
        position = self.get_metadata(PositionProvider, node, None)
        if position is None:
            return None
        start, end = position.start, position.end
        return (start.line, start.column + self._shift.get(start.line, 0), end.line, end.column + self._shift.get(end.line, 0))

    def _take(self, span: Span | None, kinds: tuple[type, ...]) -> list[Edit]:
        """Remove and return the edits at ``span`` whose rewrite applies to nodes of ``kinds``
        (an expression statement and its expression share a span)."""
        edits = self._edits.get(span) if span is not None else None
        if not edits:
            return []
        taken = [e for e in edits if any(issubclass(kind, EDIT_APPLIERS[type(e)][0]) for kind in kinds)]
        left = [e for e in edits if e not in taken]
        if left:
            self._edits[span] = left
        else:
            del self._edits[span]
        return taken


#: How each kind of edit rewrites its node: ``edit type -> (node types it applies to, rewrite)``.
#: A new kind of edit is one entry here (and its dataclass in :mod:`channels_lint.diagnostics`).
EDIT_APPLIERS: dict[type[Edit], tuple[tuple[type, ...], Callable]] = {}


def applies(kind: type[Edit], to: tuple[type, ...] = (cst.BaseExpression,)):
    """Register the rewrite of one edit kind; expression rewrites get the node without its
    parentheses, which move to the result."""

    def register(function):
        EDIT_APPLIERS[kind] = (to, function)
        return function

    return register


def _apply(edit: Edit, node: cst.CSTNode) -> cst.CSTNode:
    """Rewrite ``node`` as ``edit`` says."""
    entry = EDIT_APPLIERS.get(type(edit))
    if entry is None:  # pragma: no cover - every Edit subclass registers an applier
        raise FixError(f"internal error: no rewrite for {type(edit).__name__}")
    kinds, rewrite = entry
    if not isinstance(node, kinds):
        raise FixError(f"cannot apply {type(edit).__name__} to {type(node).__name__} at {edit.span}")
    if not isinstance(node, cst.BaseExpression):
        return rewrite(edit, node)
    lpar, rpar = node.lpar, node.rpar
    return rewrite(edit, node.with_changes(lpar=(), rpar=())).with_changes(lpar=lpar, rpar=rpar)


@applies(AddAwait)
def _add_await(edit: AddAwait, node: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Await(node)


@applies(CallThrough)
def _call_through(edit: CallThrough, node: cst.BaseExpression) -> cst.BaseExpression:
    call = _expect(node, cst.Call, edit)
    bridged = cst.Call(cst.Name(edit.wrapper), [cst.Arg(call.func)])  # its parentheses may hold comments
    new = call.with_changes(func=bridged)
    return cst.Await(new) if edit.awaited else new


@applies(AwaitAsyncMethod)
def _await_async_method(edit: AwaitAsyncMethod, node: cst.BaseExpression) -> cst.BaseExpression:
    call = _expect(node, cst.Call, edit)
    if isinstance(call.func, cst.Attribute):
        func = call.func.with_changes(attr=cst.Name(edit.name))
    else:
        func = cst.Name(edit.name)
    return cst.Await(call.with_changes(func=func))


@applies(AwaitInsteadOfAsyncToSync)
def _await_instead_of_async_to_sync(edit: AwaitInsteadOfAsyncToSync, node: cst.BaseExpression) -> cst.BaseExpression:
    call = _expect(node, cst.Call, edit)
    if isinstance(call.func, cst.Call):  # async_to_sync(f)(args)
        return cst.Await(call.with_changes(func=call.func.args[0].value))
    return cst.Await(call.args[0].value)  # async_to_sync(f(args))


@applies(HoistCall)
def _hoist_call(edit: HoistCall, node: cst.BaseExpression) -> cst.BaseExpression:
    call = _expect(node, cst.Call, edit)
    coroutine = _expect(call.args[0].value, cst.Call, edit)
    return coroutine.with_changes(func=call.with_changes(args=[cst.Arg(coroutine.func)]))


@applies(WrapIn)
def _wrap_in(edit: WrapIn, node: cst.BaseExpression) -> cst.BaseExpression:
    new = cst.Call(cst.parse_expression(edit.func), [cst.Arg(node)])
    return cst.Await(new) if edit.awaited else new


@applies(CallMethod)
def _call_method(edit: CallMethod, node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Attribute) and node.attr.value == edit.method:
        return cst.Call(node)
    return cst.Call(cst.Attribute(node, cst.Name(edit.method)))


@applies(ReplaceWith)
def _replace_with(edit: ReplaceWith, node: cst.BaseExpression) -> cst.BaseExpression:
    return cst.parse_expression(edit.text)


@applies(GetAttribute)
def _get_attribute(edit: GetAttribute, node: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Attribute(node, cst.Name(edit.attr))


@applies(AddCall)
def _add_call(edit: AddCall, node: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Call(node)


@applies(InsertAfter, to=(cst.SimpleStatementLine,))
def _insert_after(edit: InsertAfter, node: cst.SimpleStatementLine) -> cst.BaseStatement:
    """The statement to insert after ``node`` (the caller flattens it into the block)."""
    return cst.parse_statement(edit.code)


@applies(RemoveStatement, to=(cst.SimpleStatementLine,))
def _remove_statement(edit: RemoveStatement, node: cst.SimpleStatementLine) -> cst.CSTNode:
    """Never called: ``on_leave`` removes the line when it takes this edit."""
    return node  # pragma: no cover


@applies(MakeAsync, to=(cst.FunctionDef, cst.For))
def _make_async(edit: MakeAsync, node: cst.FunctionDef | cst.For) -> cst.CSTNode:
    return node.with_changes(asynchronous=cst.Asynchronous())


@applies(AddDecorator, to=(cst.FunctionDef,))
def _add_decorator(edit: AddDecorator, node: cst.FunctionDef) -> cst.CSTNode:
    return node.with_changes(decorators=[*node.decorators, cst.Decorator(cst.parse_expression(edit.decorator))])


def _expect(node: cst.CSTNode, kind: type, edit: Edit):
    if not isinstance(node, kind):
        raise FixError(f"expected {kind.__name__} at {edit.span}, found {type(node).__name__}")
    return node


def _merge_awaits(original: cst.Await, updated: cst.CSTNode) -> cst.CSTNode:
    """An edit that awaits an expression the code already awaits (``await
    async_to_sync(f)(x)`` -> ``await f(x)``, not ``await await f(x)``): one ``await``."""
    if not (isinstance(updated, cst.Await) and isinstance(updated.expression, cst.Await)):
        return updated
    if isinstance(original.expression, cst.Await):
        return updated  # the code's own ``await await x`` stays as written
    inner = updated.expression
    expression = inner.expression
    if inner.lpar and not expression.lpar:
        expression = expression.with_changes(lpar=inner.lpar, rpar=inner.rpar)
    return updated.with_changes(expression=expression)


def keep_untouched_whitespace(original: str, printed: str, spans: Collection[Span] = ()) -> str:
    """``printed`` with the whitespace of ``original`` put back where the printer deleted or
    changed it outside the edited ``spans`` (a form feed starting a line, the final ``\r`` of
    a CR-only file).  Whitespace the rewrite *inserts* (a blank line after added imports) and
    every non-blank change stay as printed."""
    if original == printed:
        return printed
    before, after = split_lines(original), split_lines(printed)
    starts = [0]
    for line in before:
        starts.append(starts[-1] + len(line))
    edited = []
    for line, col, end_line, end_col in spans:
        if 0 < line <= len(before) and 0 < end_line <= len(before):
            edited.append((starts[line - 1] + col, starts[end_line - 1] + end_col))

    def outside(start: int, end: int) -> bool:
        return not any(s < end and start < e if start < end else s < start < e for s, e in edited)

    out: list[str] = []
    # lines are matched by their non-blank characters, so a line whose whitespace alone the
    # printer changed pairs with its original, and an inserted line never swallows one
    keys = lambda lines: ["".join(line.split()) for line in lines]
    lines = difflib.SequenceMatcher(None, keys(before), keys(after), autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "insert":
            out.extend(after[j1:j2])
        elif tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                keep = before[i] != after[j] and outside(starts[i], starts[i + 1])
                out.append(before[i] if keep else after[j])
        elif tag == "delete":
            gone = "".join(before[i1:i2])
            out.append(gone if not gone.strip() and outside(starts[i1], starts[i2]) else "")
        else:
            old, new, base = "".join(before[i1:i2]), "".join(after[j1:j2]), starts[i1]
            chars = difflib.SequenceMatcher(None, old, new, autojunk=False)
            for ctag, c1, c2, d1, d2 in chars.get_opcodes():
                lost, put = old[c1:c2], new[d1:d2]
                if ctag in ("delete", "replace") and not lost.strip() and not put.strip() and outside(base + c1, base + c2):
                    out.append(lost)  # whitespace the printer dropped or changed: the original's
                else:
                    out.append(put)
    return "".join(out)


def _statement_groups(module: ast.Module, line_count: int) -> list[tuple[int, int, list[ast.stmt]]]:
    """Line ranges (1-based, inclusive) of the module's top-level statements, decorators
    included, with the statements; statements sharing a line are one range (one LibCST
    statement line)."""
    groups: list[tuple[int, int, list[ast.stmt]]] = []
    for statement in module.body:
        decorators = getattr(statement, "decorator_list", None) or ()
        start = min([statement.lineno, *(d.lineno for d in decorators)])
        end = min(statement.end_lineno or statement.lineno, line_count)
        if groups and start <= groups[-1][1]:
            first, last, statements = groups[-1]
            groups[-1] = (first, max(end, last), [*statements, statement])
        else:
            groups.append((start, end, [statement]))
    return groups


def _after_leading_block(groups: list[tuple[int, int, list[ast.stmt]]]) -> tuple[int, int] | None:
    """The range of the first statement after the module's leading block, which is all
    ``AddImportsVisitor`` reads (a first simple statement, which may be the docstring, then
    one import per statement line) besides that statement's leading blank lines; ``None``
    when the block is the whole module."""
    index = 0
    if groups and len(groups[0][2]) == 1 and not isinstance(groups[0][2][0], _COMPOUND):
        index = 1
    while index < len(groups) and len(groups[index][2]) == 1 and isinstance(groups[index][2][0], (ast.Import, ast.ImportFrom)):
        index += 1
    return groups[index][:2] if index < len(groups) else None


#: Statements with a body: never the docstring or an import.
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
    *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)


def _newline(lines: list[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith(("\n", "\r")):
            return line[-1]
    return "\n"


def _loaded_names(text: str) -> set[str]:
    """Every name the module reads (``ast.Name`` loads, and strings in ``__all__``)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    return names | {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _key(violation: Violation) -> tuple[str, str]:
    """What identifies a finding across passes (positions move as other fixes land)."""
    return violation.code, violation.message


def _parenthesize_await(node: cst.CSTNode) -> cst.CSTNode:
    """``await`` binds looser than ``.attr``, ``[i]`` and ``(...)``: add the parentheses."""
    field_name = {cst.Attribute: "value", cst.Subscript: "value", cst.Call: "func"}.get(type(node))
    if field_name is None:
        return node
    child = getattr(node, field_name)
    if isinstance(child, cst.Await) and not child.lpar:
        return node.with_changes(**{field_name: child.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])})
    return node


@dataclass
class FixResult:
    """What :func:`fix_bytes` did to one file."""

    original: bytes
    fixed: bytes
    applied: list[Violation] = field(default_factory=list)
    #: Why nothing was written, when the file could not be fixed (CHN900 or a fix error).
    error: str | None = None
    #: How many times the engine linted this file (one per pass plus the final proof).
    lint_calls: int = 0
    #: Fixes left out while the others were applied, each with why (its pass could not be
    #: proven with it, or it would rewrite a line its ``# noqa`` protects).
    refused: list[tuple[Violation, str]] = field(default_factory=list)
    #: The findings of the fixed text (from the last proof: no extra lint), when it changed.
    remaining: list[Violation] | None = None

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def fix_bytes(
    data: bytes,
    select: Collection[str] | None = None,
    ignore: Collection[str] = (),
    unsafe_fixes: bool = False,
    filename: str | None = None,
    django_version: str | None = None,
    channels_version: str | None = None,
    orm_style: str | None = None,
    options: Options | None = None,
) -> FixResult:
    """Apply fixes to a file's bytes; never raises for bad input.

    ``options`` (or the loose option arguments, when it is ``None``) say what to fix;
    ``filename`` locates the project (models, pins, ``[tool.channels_lint]``); the version
    and style options override what the project says.  The text is decoded as flake8 reads
    it and written back in the same encoding (BOM kept); line endings and every byte outside
    the edits are kept.  On any failure the original bytes come back unchanged with
    ``error`` set; fixes refused while others applied are in ``refused``.

    Raises:
        ValueError: a version option is malformed or ``orm_style`` is unknown.
    """
    options = options or Options.of(select, ignore, unsafe_fixes, django_version, channels_version, orm_style)
    command = ApplyChannelsLintFixes(CodemodContext(filename=filename), options=options)
    source, violations = lint_bytes(data, command.rules, path=filename, settings=command.settings, project=command.project)
    command.lint_calls += 1
    if source is None or any(v.code == "CHN900" for v in violations):
        return FixResult(data, data, error=violations[0].message if violations else "could not be decoded", lint_calls=1)
    if not fixable(violations, options.unsafe_fixes):
        return FixResult(data, data, lint_calls=1)
    if len(source.text) > MAX_FIX_CHARS:
        size = f"{len(source.text) / 1e6:.1f} million characters"
        return FixResult(data, data, error=f"not rewritten: {size} is over fix's limit of {MAX_FIX_CHARS:,}", lint_calls=1)
    if source.encode(source.text) != data:
        return FixResult(data, data, error=f"not rewritten: its bytes do not round-trip through {source.encoding}", lint_calls=1)
    command.seed(source.text, violations)
    try:
        text = command.transform_text(source.text)
        fixed = source.encode(text)
    except (cst.ParserSyntaxError, FixError, RecursionError, MemoryError, UnicodeEncodeError) as error:
        return FixResult(data, data, error=f"{type(error).__name__}: {error}", lint_calls=command.lint_calls)
    remaining = command._linted.get(text) if fixed != data else None
    return FixResult(data, fixed, command.applied, lint_calls=command.lint_calls, refused=command.refused, remaining=remaining)
