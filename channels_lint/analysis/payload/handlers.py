"""Events and their handlers: what an event's ``"type"`` may be, and whether an event handler
only hands a key's value on to a plain JSON encoder (what makes converting it in the sender
keep the meaning; docs/semantics.md §2.3, §2.4, §6.1).
"""

from __future__ import annotations

import ast

from channels_lint.analysis.facts import JSON_ENCODER_KEYWORDS
from channels_lint.analysis.flow import DictShape
from channels_lint.analysis.payload.sinks import JsonSinks


class EventHandlers(JsonSinks):
    """Event types and event handlers that pass values on (see the module docstring)."""

    # ------------------------------------------------------------------ event types
    def type_values(self, shape: DictShape) -> tuple[ast.expr, ...] | None:
        """What the ``"type"`` of an event may be: the values any path stores under
        ``"type"``, followed through names (``{"type": EVENT}`` with ``EVENT = "chat.message"``);
        ``None`` when one is unknown, or the dict may get entries the analysis cannot see."""
        if shape.open:
            return None
        found: list[ast.expr] = []
        for value in shape.values_of("type"):
            values = self.flow.values(value)
            if values is None:
                return None
            found.extend(values)
        return tuple(dict.fromkeys(found))

    # ------------------------------------------------------------------ event handlers
    def passes_on(self, handler: ast.FunctionDef | ast.AsyncFunctionDef, key: object, renamed: bool = False) -> bool:
        """Whether the event handler only hands ``event[key]`` on to a plain JSON encoder.

        Every use of the handler's event parameter must be: ``event[k]``/``event.get(k)`` for
        another constant ``k``; ``event[key]``/``event.get(key)`` (not when the key itself is
        ``renamed``) or the whole event, reaching ``json.dumps`` (no ``cls=``/``default=``)
        or ``self.send_json`` of a consumer that encodes plainly, directly, inside dict/list
        literals, or through a local name used only that way.  The encoder rejects the
        original value, so the sender converting it gives the receiver's output the only
        meaning it could have."""
        positional = [*handler.args.posonlyargs, *handler.args.args]
        if len(positional) != 2 or handler.decorator_list or handler.args.vararg or handler.args.kwarg:
            return False
        name = positional[1].arg
        loads = [n for n in ast.walk(handler) if isinstance(n, ast.Name) and n.id == name]
        for load in loads:
            if not isinstance(load.ctx, ast.Load) or not self._passes_on(load, key, renamed):
                return False
        return True

    def _passes_on(self, load: ast.Name, key: object, renamed: bool) -> bool:
        parent = self.syntax.parents.get(load)
        accessed: tuple[bool, object] | None = None
        if isinstance(parent, ast.Subscript) and parent.value is load:
            if not isinstance(parent.slice, ast.Constant) or not isinstance(parent.ctx, ast.Load):
                return False
            accessed, expression = (True, parent.slice.value), parent
        elif isinstance(parent, ast.Attribute) and parent.value is load:
            call = self.syntax.parents.get(parent)
            if parent.attr != "get" or not isinstance(call, ast.Call) or call.func is not parent:
                return False
            if not call.args or not isinstance(call.args[0], ast.Constant):
                return False
            accessed, expression = (True, call.args[0].value), call
        if accessed is not None:
            value = accessed[1]
            if type(value) is not type(key) or value != key:
                return True  # another key: untouched by the conversion
            return not renamed and self._reaches_json(expression, 0)
        return self._reaches_json(load, 0)

    def _reaches_json(self, node: ast.expr, depth: int) -> bool:
        parents = self.syntax.parents
        while True:
            parent = parents.get(node)
            inside_dict = isinstance(parent, ast.Dict) and any(v is node for v in parent.values)
            if inside_dict or isinstance(parent, (ast.List, ast.Tuple)) and isinstance(parent.ctx, ast.Load):
                node = parent
            elif (
                isinstance(parent, ast.keyword)
                and isinstance(parents.get(parent), ast.Call)
                and self.names.is_builtin(parents[parent].func, "dict")
            ):
                node = parents[parent]
            else:
                break
        if isinstance(parent, (ast.Call, ast.keyword)):
            call = parent if isinstance(parent, ast.Call) else parents.get(parent)
            if not isinstance(call, ast.Call):
                return False
            first = call.args[:1] == [node] or (isinstance(parent, ast.keyword) and parent.arg in ("obj", "content"))
            if not first:
                return False
            if self.names.call_name(call) == "json.dumps":
                return not any(k.arg in JSON_ENCODER_KEYWORDS or k.arg is None for k in call.keywords)
            return self._is_send_json(call)
        if (
            isinstance(parent, ast.Assign)
            and parent.value is node
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
            and depth < 3
        ):
            variable = parent.targets[0].id
            scope = self.syntax.enclosing_scope(parent)
            if len(self.flow.bindings.bindings_in(scope, variable)) != 1:
                return False
            loads = [n for n in self.names.loads_by_name[0].get(variable, ()) if self.syntax.enclosing_scope(n) is scope]
            return all(self._reaches_json(n, depth + 1) for n in loads)
        return False
