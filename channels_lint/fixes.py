"""Applying fixes with LibCST: the one rewrite path behind ``channels-lint fix`` and the codemod.

Rules describe fixes as edits on ``ast`` spans (:mod:`channels_lint.diagnostics`).  Here the
file is parsed with LibCST only if it has something to fix; each edit is applied to the
LibCST node found at exactly that span (``PositionProvider`` and ``ast`` agree on spans:
both exclude parentheses, and :meth:`ModuleAnalysis.span` converts ``ast``'s UTF-8 byte
columns to characters).  Comments, formatting, encoding and line endings are kept.

Every result is proven before it is returned: the output parses, re-linting it shows fewer
findings of every code a fix claimed to fix, and passes repeat until nothing fixable is left
(so a second run changes nothing).
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import PositionProvider

from channels_lint.diagnostics import (
    AddAwait,
    AddDecorator,
    Applicability,
    AwaitAsyncMethod,
    AwaitInsteadOfAsyncToSync,
    CallMethod,
    CallThrough,
    Edit,
    HoistCall,
    MakeAsync,
    Span,
    Violation,
    WrapIn,
)
from channels_lint.config import codes
from channels_lint.engine import Source, lint, lint_bytes, selected_rules
from channels_lint.project import Settings, add_settings_arguments, find_root, project_settings
from channels_lint.rules import Rule

#: Fix passes before giving up; each pass re-lints the previous pass's output.
MAX_PASSES = 5


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
    ) -> None:
        super().__init__(context)
        self.rules: list[type[Rule]] = selected_rules(select, ignore)
        self.unsafe_fixes = unsafe_fixes
        self.path = context.filename
        root = find_root(Path(self.path)) if self.path else Path.cwd()
        self.settings: Settings = project_settings(root, django_version, channels_version, orm_style)
        self.applied: list[Violation] = []
        self._edits: dict[Span, list[Edit]] = {}

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--select", type=codes, default=None, help="Comma-separated code prefixes to fix (default: all).")
        arg_parser.add_argument("--ignore", type=codes, default=(), help="Comma-separated code prefixes not to fix.")
        arg_parser.add_argument("--unsafe-fixes", action="store_true", help="Also apply unsafe fixes.")
        add_settings_arguments(arg_parser)

    # ------------------------------------------------------------------ passes
    def transform_module(self, tree: cst.Module) -> cst.Module:
        """Fix until nothing fixable is left, proving every pass (see module docs)."""
        for _ in range(MAX_PASSES):
            before = self._lint(tree.code)
            todo = fixable(before, self.unsafe_fixes)
            if not todo:
                return tree
            self._edits = defaultdict(list)
            for violation in todo:
                for edit in violation.fix.edits:
                    if edit not in self._edits[edit.span]:
                        self._edits[edit.span].append(edit)
                for module, name in violation.fix.imports:
                    AddImportsVisitor.add_needed_import(self.context, module, name)
                for module, name in violation.fix.unused_imports:
                    RemoveImportsVisitor.remove_unused_import(self.context, module, name)
            new = super().transform_module(tree)
            self._prove(tree, new, before, todo)
            self.applied.extend(todo)
            if new.code == tree.code:
                return tree
            tree = new
        raise FixError(f"fixes did not settle after {MAX_PASSES} passes")

    def _lint(self, code: str) -> list[Violation]:
        return lint(Source.from_text(code), self.rules, path=self.path, settings=self.settings)

    def _prove(self, old: cst.Module, new: cst.Module, before: list[Violation], applied: list[Violation]) -> None:
        # compile(), not just ast.parse(): `await` outside an async function parses but
        # does not compile.  Code that did not compile before is only required to parse.
        try:
            compile(old.code, "<before>", "exec", dont_inherit=True)
            check = lambda code: compile(code, "<fixed>", "exec", dont_inherit=True)  # noqa: E731
        except (SyntaxError, ValueError):
            check = ast.parse
        try:
            check(new.code)
        except (SyntaxError, ValueError) as error:
            raise FixError(f"fixed code does not compile: {error}") from error
        after = Counter(v.code for v in self._lint(new.code))
        counts_before = Counter(v.code for v in before)
        for code, count in Counter(v.code for v in applied).items():
            if after[code] > counts_before[code] - count:
                raise FixError(f"fixes for {code} did not remove the findings they claimed to fix")

    # ------------------------------------------------------------------ rewriting
    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        updated_node = _parenthesize_await(super().on_leave(original_node, updated_node))
        if not isinstance(original_node, (cst.BaseExpression, cst.FunctionDef, cst.For)) or not self._edits:
            return updated_node
        position = self.get_metadata(PositionProvider, original_node, None)
        if position is None:
            return updated_node
        span = (position.start.line, position.start.column, position.end.line, position.end.column)
        for edit in self._edits.pop(span, ()):
            updated_node = _apply(edit, updated_node)
        return updated_node


def _apply(edit: Edit, node: cst.CSTNode) -> cst.CSTNode:
    """Rewrite ``node`` as ``edit`` says; an expression's parentheses move to the result."""
    if isinstance(node, (cst.FunctionDef, cst.For)):
        return _apply_to_statement(edit, node)
    if not isinstance(node, cst.BaseExpression):  # pragma: no cover - on_leave filters
        raise FixError(f"cannot apply {edit!r} to {type(node).__name__}")
    lpar, rpar = node.lpar, node.rpar
    inner = node.with_changes(lpar=(), rpar=())
    if isinstance(edit, AddAwait):
        new: cst.BaseExpression = cst.Await(inner)
    elif isinstance(edit, CallThrough):
        call = _expect(inner, cst.Call, edit)
        bridged = cst.Call(cst.Name(edit.wrapper), [cst.Arg(call.func)])  # its parentheses may hold comments
        new = call.with_changes(func=bridged)
        if edit.awaited:
            new = cst.Await(new)
    elif isinstance(edit, AwaitAsyncMethod):
        call = _expect(inner, cst.Call, edit)
        if isinstance(call.func, cst.Attribute):
            func = call.func.with_changes(attr=cst.Name(edit.name))
        else:
            func = cst.Name(edit.name)
        new = cst.Await(call.with_changes(func=func))
    elif isinstance(edit, AwaitInsteadOfAsyncToSync):
        call = _expect(inner, cst.Call, edit)
        if isinstance(call.func, cst.Call):  # async_to_sync(f)(args)
            new = cst.Await(call.with_changes(func=call.func.args[0].value))
        else:  # async_to_sync(f(args))
            new = cst.Await(call.args[0].value)
    elif isinstance(edit, HoistCall):
        call = _expect(inner, cst.Call, edit)
        coroutine = _expect(call.args[0].value, cst.Call, edit)
        new = coroutine.with_changes(func=call.with_changes(args=[cst.Arg(coroutine.func)]))
    elif isinstance(edit, WrapIn):
        new = cst.Call(cst.parse_expression(edit.func), [cst.Arg(inner)])
        if edit.awaited:
            new = cst.Await(new)
    elif isinstance(edit, CallMethod):
        if isinstance(inner, cst.Attribute) and inner.attr.value == edit.method:
            new = cst.Call(inner)
        else:
            new = cst.Call(cst.Attribute(inner, cst.Name(edit.method)))
    else:  # pragma: no cover - every Edit subclass is handled above
        raise FixError(f"unknown edit {edit!r}")
    return new.with_changes(lpar=lpar, rpar=rpar)


def _apply_to_statement(edit: Edit, node: cst.FunctionDef | cst.For) -> cst.CSTNode:
    if isinstance(edit, MakeAsync):
        return node.with_changes(asynchronous=cst.Asynchronous())
    if isinstance(edit, AddDecorator) and isinstance(node, cst.FunctionDef):
        decorator = cst.Decorator(cst.parse_expression(edit.decorator))
        return node.with_changes(decorators=[*node.decorators, decorator])
    raise FixError(f"cannot apply {edit!r} to {type(node).__name__}")


def _expect(node: cst.CSTNode, kind: type, edit: Edit):
    if not isinstance(node, kind):
        raise FixError(f"expected {kind.__name__} at {edit.span}, found {type(node).__name__}")
    return node


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
) -> FixResult:
    """Apply fixes to a file's bytes; never raises for bad input.

    ``filename`` locates the project (models, pins, ``[tool.channels_lint]``); the version
    and style options override what the project says.  Encoding (PEP 263) and line endings
    are kept because LibCST parses and renders bytes.  On any failure the original bytes
    come back unchanged with ``error`` set.

    Raises:
        ValueError: a version option is malformed or ``orm_style`` is unknown.
    """
    command = ApplyChannelsLintFixes(
        CodemodContext(filename=filename), select, ignore, unsafe_fixes, django_version, channels_version, orm_style
    )
    source, violations = lint_bytes(data, command.rules, path=filename, settings=command.settings)
    if source is None or any(v.code == "CHN900" for v in violations):
        return FixResult(data, data, error=violations[0].message if violations else "could not be decoded")
    if not fixable(violations, unsafe_fixes):
        return FixResult(data, data)
    try:
        module = cst.parse_module(data)
        new = command.transform_module(module)
    except (cst.ParserSyntaxError, FixError, RecursionError) as error:
        return FixResult(data, data, error=f"{type(error).__name__}: {error}")
    return FixResult(data, new.bytes, command.applied)
