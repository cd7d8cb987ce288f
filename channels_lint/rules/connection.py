"""What the connection-data rules (CHN301-CHN306) share: their words and the validator fix.

The fix (CHN301, CHN302) rewrites ``data = json.loads(text_data)`` in a websocket
consumer's ``receive`` into::

    data = extract_message_data(text_data, required=("k", ...))
    if data is None:
        await self.send(text_data=json.dumps(error_frame("invalid_message", "...")))
        return

and only where that is provably what the handler needs: the decode is a statement of the
handler's own body (not in a ``try``, a branch or a loop), the text is the ``text_data`` or
``bytes_data`` parameter itself, every use of ``data`` needs a JSON object (a str-key
subscript, a dict method, ``in``), and ``required`` holds exactly the keys the handler reads
on every path before it could leave (so no frame that used to be handled is now refused for a
key it never needed).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from channels_lint.analysis import ModuleAnalysis
from channels_lint.analysis.client import ClientSource, Handler, HandlerKind
from channels_lint.analysis.facts import DICT_METHODS
from channels_lint.diagnostics import Edit, InsertAfter, ReplaceWith

RUNTIME = "channels_lint.runtime"
VALIDATOR_IMPORTS = ((RUNTIME, "extract_message_data"), (RUNTIME, "error_frame"))
ERROR_CODE = "invalid_message"

#: How each kind of handler fails, for messages.
FAILURE = {
    HandlerKind.VIEW: "the view answers 500",
    HandlerKind.HTTP_HANDLE: "the consumer dies and the client gets a 500",
}
SOCKET_FAILURE = "the exception closes the socket without running `disconnect()`"


def failure(handler: Handler | None) -> str:
    return FAILURE.get(handler.kind, SOCKET_FAILURE) if handler is not None else SOCKET_FAILURE


WHAT = {
    ClientSource.FRAME: "a malformed client frame",
    ClientSource.REQUEST_BODY: "a malformed request body",
}


@dataclass(frozen=True)
class ValidatorFix:
    """The edits of the validator fix for one decode, and the keys it requires."""

    edits: tuple[Edit, ...]
    required: tuple[str, ...]
    #: The subscripts the required keys come from (their CHN302 findings share the fix).
    covered: frozenset[ast.AST]


def validator_fix(a: ModuleAnalysis, call: ast.Call) -> ValidatorFix | None:
    """The validator fix for the decode ``call``, when it is provably right (module docs)."""
    cache = a.__dict__.setdefault("_connection_fixes", {})
    if call not in cache:
        cache[call] = _validator_fix(a, call)
    return cache[call]


def _validator_fix(a: ModuleAnalysis, call: ast.Call) -> ValidatorFix | None:
    syntax, names = a.syntax, a.names
    function = syntax.enclosing_scope(call)
    handler = a.client.handler(function)
    if handler is None or handler.kind is not HandlerKind.RECEIVE or handler.errors_caught:
        return None
    # json.loads(text_data), spelled through an imported ``json`` module (its dumps sends the error)
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr == "loads"
        and isinstance(func.value, ast.Name)
        and names.imports.get(func.value.id) == "json"
        and len(call.args) == 1
        and not call.keywords
    ):
        return None
    raw = call.args[0]
    if not (isinstance(raw, ast.Name) and raw.id in ("text_data", "bytes_data")):
        return None
    bindings = a.flow.reaching(raw)
    if not bindings or any(b.kind.name != "PARAMETER" for b in bindings):
        return None
    statement = syntax.parents.get(call)
    if not (
        isinstance(statement, ast.Assign)
        and statement.value is call
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and syntax.parents.get(statement) is function
        and statement in function.body
    ):
        return None
    target = statement.targets[0].id
    index = function.body.index(statement)
    if any(
        other is not statement and other.lineno <= statement.end_lineno and other.end_lineno >= statement.lineno
        for other in function.body
    ):
        return None  # `a = 1; data = json.loads(text_data)`: not a statement of its own
    uses = _uses(a, function, statement, target)
    if uses is None:
        return None
    required: list[str] = []
    covered: set[ast.AST] = set()
    for use in uses:
        parent = syntax.parents.get(use)
        if not (isinstance(parent, ast.Subscript) and parent.value is use and isinstance(parent.ctx, ast.Load)):
            continue
        key = parent.slice
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        top = _top_statement(syntax, parent, function)
        if top is None or function.body.index(top) <= index or not _unconditional(syntax, parent, top):
            continue
        if any(_may_leave(s) for s in function.body[index + 1 : function.body.index(top)]):
            continue
        if key.value not in required:
            required.append(key.value)
        covered.add(parent)
    keys = ", ".join(_quote(k) for k in required) + ("," if len(required) == 1 else "")
    arguments = raw.id + (f", required=({keys})" if required else "")
    replacement = f"extract_message_data({arguments})"
    reason = (
        f"A JSON object with {', '.join(repr(k) for k in required)} was expected."
        if required
        else "A JSON object was expected."
    )
    frame = f"error_frame({_quote(ERROR_CODE)}, {_quote(reason)})"
    send = f"self.send_json({frame})" if handler.json_consumer else f"self.send(text_data={func.value.id}.dumps({frame}))"
    if handler.is_async:
        send = "await " + send
    guard = f"if {target} is None:\n    {send}\n    return\n"
    span = syntax.span
    return ValidatorFix(
        (ReplaceWith(span(call), replacement), InsertAfter(span(statement), guard)), tuple(required), frozenset(covered)
    )


def _uses(a: ModuleAnalysis, function, statement: ast.Assign, target: str) -> list[ast.Name] | None:
    """The loads of ``target`` in ``function``, when the decode is the only binding that
    reaches each and every one needs a JSON object; else ``None``."""
    found = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Name) or node.id != target:
            continue
        if a.syntax.enclosing_scope(node) is not function:
            return None  # used by a nested function or lambda
        if not isinstance(node.ctx, ast.Load):
            if node is not statement.targets[0]:
                return None  # rebound
            continue
        bindings = a.flow.reaching(node)
        if not bindings or any(b.node is not statement for b in bindings):
            return None
        parent = a.syntax.parents.get(node)
        if isinstance(parent, ast.Subscript) and parent.value is node:
            if not (isinstance(parent.slice, ast.Constant) and isinstance(parent.slice.value, str)):
                return None
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            if parent.attr not in DICT_METHODS or not isinstance(a.syntax.parents.get(parent), ast.Call):
                return None
        elif isinstance(parent, ast.Compare) and node in parent.comparators:
            index = parent.comparators.index(node)
            if not isinstance(parent.ops[index], (ast.In, ast.NotIn)):
                return None
        else:
            return None
        found.append(node)
    return found


def _top_statement(syntax, node: ast.AST, function) -> ast.stmt | None:
    """The statement of ``function``'s own body that holds ``node``."""
    for parent in (node, *syntax.ancestors(node)):
        if isinstance(parent, ast.stmt) and syntax.parents.get(parent) is function and parent in function.body:
            return parent
    return None


def _unconditional(syntax, node: ast.AST, top: ast.stmt) -> bool:
    """Whether ``node`` is evaluated whenever ``top`` runs (not in a nested block, a branch of
    ``x if c else y``, a later operand of ``and``/``or``, a comprehension or a lambda)."""
    child = node
    for parent in syntax.ancestors(node):
        if parent is top:
            if isinstance(parent, (ast.If, ast.While)):
                return child is parent.test
            if isinstance(parent, (ast.For, ast.AsyncFor)):
                return child is parent.iter
            if isinstance(parent, (ast.With, ast.AsyncWith)):
                return child in [item.context_expr for item in parent.items]
            return not isinstance(parent, (ast.Try, ast.Match, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if isinstance(parent, ast.stmt):
            return False
        if isinstance(parent, ast.IfExp) and child is not parent.test:
            return False
        if isinstance(parent, ast.BoolOp) and child is not parent.values[0]:
            return False
        if isinstance(parent, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
            return False
        child = parent
    return False


def _may_leave(statement: ast.stmt) -> bool:
    """Whether ``statement`` may end the handler or skip what follows it."""
    for node in ast.walk(statement):
        if isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom)):
            return True
    return False


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
