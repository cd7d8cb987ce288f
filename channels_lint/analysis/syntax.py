"""Syntax and positions: parents, scopes, nodes by type, spans and source text.

Built from one breadth-first walk of the module's :mod:`ast` tree; every other analyzer
asks this one instead of walking ancestors itself.

Code that can never run is not analysed: the dead branch of a constant test (``if True:
... else: <dead>``, ``if 0: <dead>``, ``while False: <dead>``, ``x if 1 else <dead>``, as
generated code writes them) is left out of the walk, so no node in it has a parent, a scope
or a place in :meth:`Syntax.nodes`, and :func:`walk_scope` and :meth:`Syntax.walk` do not
enter it.  Rules that walk a subtree themselves should use :meth:`Syntax.walk`.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from collections.abc import Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
Scope = FunctionNode | ast.Module
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
TRY_STATEMENTS = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


class Syntax:
    """Parents, scopes and positions of one module.

    Args:
        tree: the module's :class:`ast.Module`.
        lines: the module's source lines (``str``, with their line endings), used to turn
            ``ast``'s UTF-8 byte columns into character columns and to quote source.
    """

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines
        self.parents: dict[ast.AST, ast.AST] = {}
        #: The innermost function or lambda whose body holds each node (the module for none).
        self._scopes: dict[ast.AST, Scope] = {tree: tree}
        self._by_type: dict[type, list[ast.AST]] = defaultdict(list)
        # the hot loop of every lint: locals, one field table per node type, no generators
        queue = deque([tree])
        parents, scopes, by_type = self.parents, self._scopes, self._by_type
        popleft, push, node_type = queue.popleft, queue.append, ast.AST
        while queue:
            node = popleft()
            kind = type(node)
            by_type[kind].append(node)
            scope = scopes[node]
            if kind in _BRANCHING:
                children = live_children(node)
            else:
                children = []
                for name in _child_fields(kind):
                    value = getattr(node, name, None)
                    if type(value) is list:
                        children.extend(item for item in value if isinstance(item, node_type))
                    elif isinstance(value, node_type):
                        children.append(value)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                inner = set(map(id, node.body))
                for child in children:
                    parents[child] = node
                    scopes[child] = node if id(child) in inner else scope
                    push(child)
            elif kind is ast.Lambda:
                for child in children:
                    parents[child] = node
                    scopes[child] = node if child is node.body else scope
                    push(child)
            else:
                for child in children:
                    parents[child] = node
                    scopes[child] = scope
                    push(child)

    # ------------------------------------------------------------------ traversal
    def nodes(self, kind: type) -> list:
        """All nodes of exactly this ``ast`` type, in breadth-first order."""
        return self._by_type.get(kind, [])

    def is_live(self, node: ast.AST) -> bool:
        """Whether ``node`` is in code that may run (not in a dead branch of a constant test)."""
        return node is self.tree or node in self.parents

    def walk(self, node: ast.AST) -> Iterator[ast.AST]:
        """``ast.walk`` without the dead branches of constant tests (see the module docs)."""
        stack = [node]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(live_children(current))

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        parent = self.parents.get(node)
        while parent is not None:
            yield parent
            parent = self.parents.get(parent)

    def enclosing_scope(self, node: ast.AST) -> Scope:
        """The innermost function, async function or lambda whose *body* holds ``node``, else
        the module.  Decorators, defaults and annotations belong to the outer scope: they run
        when the ``def`` statement runs."""
        return self._scopes.get(node, self.tree)

    def scope_chain(self, node: ast.AST) -> list[FunctionNode]:
        """Functions and lambdas whose body holds ``node``, innermost first."""
        chain: list[FunctionNode] = []
        scope = self.enclosing_scope(node)
        while scope is not self.tree:
            chain.append(scope)
            scope = self.enclosing_scope(scope)
        return chain

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        """The class whose method holds ``node``, also through nested functions that do not
        rebind ``self``."""
        for function in self.scope_chain(node):
            parent = self.parents.get(function)
            if isinstance(parent, ast.ClassDef) and not isinstance(function, ast.Lambda):
                return parent
            arguments = function.args
            if any(a.arg == "self" for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)):
                return None
        return None

    def inside(self, node: ast.AST, kinds: tuple[type, ...]) -> bool:
        """Whether an ancestor of ``node`` within its scope is one of ``kinds``."""
        scope = self.enclosing_scope(node)
        for parent in self.ancestors(node):
            if parent is scope:
                return False
            if isinstance(parent, kinds):
                return True
        return False

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        """The innermost statement that holds ``node`` (``node`` itself if it is one)."""
        while node is not None and not isinstance(node, ast.stmt):
            node = self.parents.get(node)
        return node

    def comprehension_binding(self, name: ast.Name) -> ast.comprehension | None:
        """The comprehension ``for`` clause that binds ``name`` where it is used, if any."""
        scope = self.enclosing_scope(name)
        child: ast.AST = name
        for parent in self.ancestors(name):
            if parent is scope:
                return None
            if isinstance(parent, COMPREHENSIONS):
                for generator in parent.generators:
                    if child is parent.generators[0].iter:
                        break  # the first iterable is evaluated outside the comprehension
                    if any(isinstance(t, ast.Name) and t.id == name.id for t in ast.walk(generator.target)):
                        return generator
            child = parent
        return None

    def is_async_generator(self, function: ast.AST) -> bool:
        """An ``async def`` with ``yield`` in its own body: calling it gives an async generator,
        which is iterated with ``async for``, never awaited."""
        return isinstance(function, ast.AsyncFunctionDef) and any(
            isinstance(node, (ast.Yield, ast.YieldFrom)) for node in walk_scope(function.body)
        )

    def is_awaited(self, node: ast.expr) -> bool:
        return isinstance(self.parents.get(node), ast.Await)

    def truth_tested(self, node: ast.expr) -> bool:
        """Whether the value of ``node`` is only tested for truth (``if x:``, ``not x``...)."""
        parent = self.parents.get(node)
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            return parent.test is node
        if isinstance(parent, ast.UnaryOp):
            return isinstance(parent.op, ast.Not)
        if isinstance(parent, ast.BoolOp):
            return node is not parent.values[-1]
        return False

    def truth_tests(self) -> Iterator[ast.expr]:
        """Every expression whose value is tested for truth."""
        for kind in (ast.If, ast.While, ast.IfExp, ast.Assert):
            for node in self.nodes(kind):
                yield node.test
        for node in self.nodes(ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                yield node.operand
        for node in self.nodes(ast.BoolOp):
            yield from node.values[:-1]  # the last operand is returned, not tested

    def guards(self, node: ast.AST) -> Iterator[tuple[str, ast.expr | None]]:
        """What protects ``node`` from an exception, in its own scope, innermost first:
        ``("except", type)`` for each handler of a ``try`` whose body holds it (``type`` is
        ``None`` for a bare ``except``) and ``("with", context_expr)`` for each ``with`` item
        around it (``contextlib.suppress(...)`` is the caller's to recognise)."""
        child: ast.AST = node
        for parent in self.ancestors(node):
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return
            if isinstance(parent, TRY_STATEMENTS) and child in parent.body:
                for handler in parent.handlers:
                    yield "except", handler.type
            if isinstance(parent, (ast.With, ast.AsyncWith)) and child in parent.body:
                for item in parent.items:
                    yield "with", item.context_expr
            child = parent

    # ------------------------------------------------------------------ positions
    def char_col(self, lineno: int, byte_col: int) -> int:
        """Convert an ``ast`` column (UTF-8 bytes) to a character column."""
        if lineno - 1 >= len(self.lines):
            return byte_col
        line = self.lines[lineno - 1]
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """``(line, col, end_line, end_col)`` of ``node``; lines 1-based, columns in characters."""
        return (
            node.lineno,
            self.char_col(node.lineno, node.col_offset),
            node.end_lineno,
            self.char_col(node.end_lineno, node.end_col_offset),
        )

    def source(self, node: ast.AST) -> str:
        """The node's source text, on one line (whitespace runs folded) for messages."""
        line, col, end_line, end_col = self.span(node)
        if line == end_line:
            text = self.lines[line - 1][col:end_col]
        else:
            text = self.lines[line - 1][col:] + "".join(self.lines[line : end_line - 1]) + self.lines[end_line - 1][:end_col]
        return " ".join(text.split())


def constant_truth(test: ast.expr) -> bool | None:
    """The truth of a constant test (``True``, ``0``, ``None``, ``"x"``, ``...``), else ``None``."""
    if isinstance(test, ast.Constant):
        return bool(test.value)  # str, bytes, numbers, None, Ellipsis: never raises
    return None


#: Fields never holding a node worth a visit: the shared ``Load``/``Store`` context and
#: operator singletons (``ast.iter_child_nodes`` yields them; nothing asks for them).
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
#: Nodes with a test whose constant value may leave a branch dead.
_BRANCHING = frozenset({ast.If, ast.While, ast.IfExp})


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _SKIPPED_FIELDS)
    return fields


def children(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes(node)`` without expression contexts and operators."""
    found: list[ast.AST] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


def live_children(node: ast.AST) -> list[ast.AST]:
    """:func:`children` less the branch a constant test never takes: the body of
    ``if <falsy>:``/``while <falsy>:``, the ``else`` of ``if <truthy>:`` and the dead arm of a
    conditional expression (``while True: ... else:`` stays: a ``break`` skips it, but its
    reachability is not a constant fact)."""
    if type(node) in _BRANCHING:
        truth = constant_truth(node.test)
        if truth is not None and not (isinstance(node, ast.While) and truth):
            if isinstance(node, ast.IfExp):
                return [node.test, node.body if truth else node.orelse]
            return [node.test, *(node.body if truth else node.orelse)]
    return children(node)


def walk_scope(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Nodes of a scope's body in source order, not entering nested functions or classes, nor
    the dead branches of constant tests."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(live_children(node)))


def dotted(node: ast.expr | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else ``None`` (no import resolution)."""
    if type(node) is ast.Name:  # the common case, without building a list
        return node.id
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is ast.Name:
        parts.append(node.id)
        parts.reverse()
        return ".".join(parts)
    return None


def is_capitalized(name: str) -> bool:
    return name[:1].isupper()


def parameters(function: FunctionNode) -> list[ast.arg]:
    """Every parameter of a function or lambda, ``*args`` and ``**kwargs`` included."""
    arguments = function.args
    found = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    found.extend(a for a in (arguments.vararg, arguments.kwarg) if a is not None)
    return found
