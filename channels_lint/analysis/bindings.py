"""Bindings: which assignments of a name may reach one use of it.

One pass over each scope's statements (made on first use) records, at every name load, the
bindings that may reach it, flow-sensitively: a later assignment, a ``for`` target or a
``with``/``except`` name kills the earlier binding; ``if``/``try``/``match`` branches merge;
loops are iterated to a fixpoint; code after ``return``/``raise``/``break``/``continue`` sees
no binding; the dead branch of a constant test (``if True:``) is not entered.  Python's
scoping rules: the language reference, "Naming and binding".
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass, field

from channels_lint.analysis.syntax import TRY_STATEMENTS, Scope, Syntax, parameters

#: Fixpoint rounds for a loop body (reaching definitions settle in two; three is a margin).
LOOP_ROUNDS = 3


class BindingKind(enum.Enum):
    """How a name was bound (Python language reference, "Naming and binding")."""

    ASSIGN = "assign"  # x = value; also each name of `a, b = 1, 2`
    UNPACK = "unpack"  # a, b = value (an element of an unknown sequence)
    AUGMENTED = "augmented"  # x += value
    ANNOTATED = "annotated"  # x: T = value
    WALRUS = "walrus"  # (x := value)
    FOR = "for"  # for x in iterable
    WITH = "with"  # with manager as x
    EXCEPT = "except"  # except E as x
    PARAMETER = "parameter"
    IMPORT = "import"
    DEF = "def"  # def x / async def x
    CLASS = "class"
    MATCH = "match"  # a name captured by a case pattern
    COMPREHENSION = "comprehension"  # [... for x in iterable]
    EXTERNAL = "external"  # global/nonlocal: bound by code this scope does not see


@dataclass(frozen=True)
class Binding:
    """One binding of ``name``.

    ``value`` is the expression assigned to exactly this name, when there is one (``ASSIGN``,
    ``ANNOTATED``, ``WALRUS``); ``source`` is the expression the binding takes its value
    from otherwise (the iterable of ``FOR``/``COMPREHENSION``, the manager of ``WITH``, the
    unpacked value of ``UNPACK``, the right operand of ``AUGMENTED``) and ``index`` the
    name's position in an unpacking target.
    """

    name: str
    kind: BindingKind
    node: ast.AST = field(compare=True)
    value: ast.expr | None = None
    source: ast.expr | None = None
    index: int | None = None


_State = dict[str, frozenset[Binding]]


def _merge(*states: _State | None) -> _State | None:
    live = [s for s in states if s is not None]
    if not live:
        return None
    merged: _State = dict(live[0])
    for state in live[1:]:
        for name, bindings in state.items():
            merged[name] = merged.get(name, frozenset()) | bindings
    return merged


def _constant_truth(test: ast.expr) -> bool | None:
    """The truth of a constant ``if``/``while`` test (``if True:``, ``if 0:``), else ``None``."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    return None


class _ScopeFlow:
    """Reaching bindings at every name load of one scope (one pass over its statements)."""

    def __init__(self, syntax: Syntax, scope: Scope) -> None:
        self.syntax = syntax
        self.scope = scope
        self.uses: dict[ast.Name, frozenset[Binding]] = {}
        self.bindings: dict[str, list[Binding]] = {}
        self.external: set[str] = set()
        self._loops: list[tuple[list[_State], list[_State]]] = []  # (breaks, continues)
        state: _State = {}
        if not isinstance(scope, ast.Module):
            for argument in parameters(scope):
                state = self._bind(state, Binding(argument.arg, BindingKind.PARAMETER, argument))
        if isinstance(scope, ast.Lambda):
            self._record(scope.body, state)
        else:
            self._block(scope.body, state)

    # ------------------------------------------------------------------ helpers
    def _bind(self, state: _State | None, binding: Binding) -> _State | None:
        self.bindings.setdefault(binding.name, []).append(binding)
        if state is None:
            return None
        new = dict(state)
        new[binding.name] = frozenset({binding})
        return new

    def _record(self, node: ast.AST | None, state: _State | None) -> None:
        """Record the state at every name load of ``node`` in this scope (not in nested
        functions or lambdas, whose bodies are their own scopes)."""
        if node is None:
            return
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
                if self.syntax.enclosing_scope(current) is self.scope:
                    self.uses[current] = (state or {}).get(current.id, frozenset())
                continue
            if isinstance(current, ast.Lambda):
                stack.extend(current.args.defaults)
                stack.extend(d for d in current.args.kw_defaults if d is not None)
                continue
            stack.extend(ast.iter_child_nodes(current))

    def _walruses(self, node: ast.AST, state: _State | None) -> _State | None:
        for walrus in (n for n in ast.walk(node) if isinstance(n, ast.NamedExpr)):
            if self.syntax.enclosing_scope(walrus) is self.scope:
                state = self._bind(state, Binding(walrus.target.id, BindingKind.WALRUS, walrus, value=walrus.value))
        return state

    def _bind_target(
        self, state: _State | None, target: ast.expr, statement: ast.AST, value: ast.expr | None, kind: BindingKind
    ) -> _State | None:
        if isinstance(target, ast.Name):
            return self._bind(
                state,
                Binding(
                    target.id,
                    kind,
                    statement,
                    value=value if kind is not BindingKind.FOR else None,
                    source=value if kind is BindingKind.FOR else None,
                ),
            )
        if isinstance(target, ast.Starred):
            return self._bind_target(state, target.value, statement, None, BindingKind.UNPACK)
        if isinstance(target, (ast.Tuple, ast.List)):
            elements = value.elts if isinstance(value, (ast.Tuple, ast.List)) and kind is BindingKind.ASSIGN else None
            if elements is not None and (
                len(elements) != len(target.elts) or any(isinstance(e, ast.Starred) for e in (*elements, *target.elts))
            ):
                elements = None
            for index, element in enumerate(target.elts):
                if elements is not None:
                    state = self._bind_target(state, element, statement, elements[index], BindingKind.ASSIGN)
                elif isinstance(element, ast.Name):
                    state = self._bind(state, Binding(element.id, BindingKind.UNPACK, statement, source=value, index=index))
                else:
                    state = self._bind_target(state, element, statement, None, BindingKind.UNPACK)
            return state
        self._record(target, state)  # d[k] = v and obj.attr = v load d, k and obj
        return state

    # ------------------------------------------------------------------ statements
    def _block(self, body: list[ast.stmt], state: _State | None) -> _State | None:
        for statement in body:
            state = self._statement(statement, state)
        return state

    def _statement(self, node: ast.stmt, state: _State | None) -> _State | None:
        if isinstance(node, ast.Assign):
            self._record(node.value, state)
            state = self._walruses(node.value, state)
            for target in node.targets:
                state = self._bind_target(state, target, node, node.value, BindingKind.ASSIGN)
            return state
        if isinstance(node, ast.AnnAssign):
            self._record(node.value, state)
            if node.value is None or not isinstance(node.target, ast.Name):
                self._record(node.target if not isinstance(node.target, ast.Name) else None, state)
                return state
            return self._bind(state, Binding(node.target.id, BindingKind.ANNOTATED, node, value=node.value))
        if isinstance(node, ast.AugAssign):
            self._record(node.value, state)
            if isinstance(node.target, ast.Name):
                return self._bind(state, Binding(node.target.id, BindingKind.AUGMENTED, node, source=node.value))
            self._record(node.target, state)
            return state
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self._record(node.iter, state)
            state = self._walruses(node.iter, state)
            return self._loop(node, state, lambda s: self._bind_target(s, node.target, node, node.iter, BindingKind.FOR))
        if isinstance(node, ast.While):
            truth = _constant_truth(node.test)
            return self._loop(node, state, lambda s: (self._record(node.test, s), self._walruses(node.test, s))[1], truth)
        if isinstance(node, ast.If):
            self._record(node.test, state)
            state = self._walruses(node.test, state)
            truth = _constant_truth(node.test)
            body = self._block(node.body, state) if truth is not False else None
            orelse = self._block(node.orelse, state) if truth is not True else None
            return _merge(body, orelse)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self._record(item.context_expr, state)
                state = self._walruses(item.context_expr, state)
                if isinstance(item.optional_vars, ast.Name):
                    state = self._bind(state, Binding(item.optional_vars.id, BindingKind.WITH, node, source=item.context_expr))
                elif item.optional_vars is not None:  # with m as (a, b): elements of an unknown value
                    state = self._bind_target(state, item.optional_vars, node, None, BindingKind.UNPACK)
            return self._block(node.body, state)
        if isinstance(node, TRY_STATEMENTS):
            return self._try(node, state)
        if isinstance(node, ast.Match):
            self._record(node.subject, state)
            outs = [state]
            for case in node.cases:
                case_state = state
                for capture in ast.walk(case.pattern):
                    name = capture.rest if isinstance(capture, ast.MatchMapping) else getattr(capture, "name", None)
                    if name and isinstance(capture, (ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
                        case_state = self._bind(case_state, Binding(name, BindingKind.MATCH, capture, source=node.subject))
                self._record(case.guard, case_state)
                outs.append(self._block(case.body, case_state))
            return _merge(*outs)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for expression in (*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)):
                self._record(expression, state)
            return self._bind(state, Binding(node.name, BindingKind.DEF, node))
        if isinstance(node, ast.ClassDef):
            for expression in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
                self._record(expression, state)
            self._block(node.body, state)  # the class body's own names do not leak out
            return self._bind(state, Binding(node.name, BindingKind.CLASS, node))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    state = self._bind(state, Binding((alias.asname or alias.name).split(".")[0], BindingKind.IMPORT, node))
            return state
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            self.external.update(node.names)
            return state
        if isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name) and state is not None:
                    state = {**state, target.id: frozenset()}
                else:
                    self._record(target, state)
            return state
        if isinstance(node, (ast.Return, ast.Raise)):
            self._record(node, state)
            return None
        if isinstance(node, (ast.Break, ast.Continue)):
            if self._loops and state is not None:
                self._loops[-1][0 if isinstance(node, ast.Break) else 1].append(state)
            return None
        self._record(node, state)  # Expr, Assert, Pass...
        return self._walruses(node, state)

    def _loop(
        self, node: ast.For | ast.AsyncFor | ast.While, state: _State | None, enter, truth: bool | None = None
    ) -> _State | None:
        head = state
        breaks: list[_State] = []
        for _ in range(LOOP_ROUNDS):
            self._loops.append(([], []))
            body_start = enter(head)
            end = self._block(node.body, body_start) if truth is not False else None
            breaks, continues = self._loops.pop()
            new_head = _merge(head, end, *continues)
            if new_head == head:
                break
            head = new_head
        # a `for` leaves when its iterable is exhausted (the target is not rebound); a `while`
        # evaluates its test once more
        exit_state = None if truth is True else (head if isinstance(node, (ast.For, ast.AsyncFor)) else enter(head))
        if node.orelse and exit_state is not None:
            exit_state = self._block(node.orelse, exit_state)
        return _merge(exit_state, *breaks)

    def _try(self, node: ast.Try, state: _State | None) -> _State | None:
        seen = [state]
        current = state
        for statement in node.body:
            current = self._statement(statement, current)
            seen.append(current)
        handler_entry = _merge(*seen)  # an exception may leave the body after any statement
        outs = []
        for handler in node.handlers:
            self._record(handler.type, handler_entry)
            entry = handler_entry
            if handler.name:
                entry = self._bind(entry, Binding(handler.name, BindingKind.EXCEPT, handler, source=handler.type))
            outs.append(self._block(handler.body, entry))
        outs.append(self._block(node.orelse, current) if node.orelse else current)
        if node.finalbody:
            final = self._block(node.finalbody, _merge(*outs, handler_entry))
            return final if any(o is not None for o in outs) else None
        return _merge(*outs)


class Bindings:
    """Reaching bindings of names (see the module docstring)."""

    def __init__(self, syntax: Syntax) -> None:
        self.syntax = syntax
        self._flows: dict[Scope, _ScopeFlow] = {}

    def _flow(self, scope: Scope) -> _ScopeFlow:
        if scope not in self._flows:
            self._flows[scope] = _ScopeFlow(self.syntax, scope)
        return self._flows[scope]

    def reaching(self, name: ast.Name) -> frozenset[Binding] | None:
        """The bindings of ``name`` that may reach this load; ``None`` when the name is not
        bound in any scope this module shows (a builtin, a star import, an undefined name).

        A local name gets the flow-sensitive answer (possibly empty: unbound on every path
        here); a free name gets every binding of its enclosing scope (that code may run at
        any time); ``global``/``nonlocal`` names get an ``EXTERNAL`` binding."""
        generator = self.syntax.comprehension_binding(name)
        if generator is not None:
            return frozenset({Binding(name.id, BindingKind.COMPREHENSION, generator.target, source=generator.iter)})
        scope = self.syntax.enclosing_scope(name)
        flow = self._flow(scope)
        if name.id in flow.external:
            return frozenset({Binding(name.id, BindingKind.EXTERNAL, scope)})
        if name.id in flow.bindings:
            if name in flow.uses:
                return flow.uses[name]
            return frozenset(flow.bindings[name.id])
        for outer in self.syntax.scope_chain(scope)[1:] if not isinstance(scope, ast.Module) else ():
            bindings = self._flow(outer).bindings.get(name.id)
            if bindings:
                return frozenset(bindings)
        if not isinstance(scope, ast.Module):
            bindings = self._flow(self.syntax.tree).bindings.get(name.id)
            if bindings:
                return frozenset(bindings)
        return None

    def bindings_in(self, scope: Scope, name: str) -> list[Binding]:
        """Every binding of ``name`` in ``scope``, in source order (flow-insensitive)."""
        return list(self._flow(scope).bindings.get(name, ()))
