"""Group names: what a group-name expression is built from, piece by piece.

Literal text, f-strings, ``%``/``.format()``/``+``/``join`` templates, slices, sanitisers
(``slugify``, hashes, the runtime's ``safe_group_name``) and client data, each a
:class:`~.model.NamePart` with what is known of its characters and length; a URL kwarg's
piece takes what the routes to its consumer say (:meth:`GroupNames.route_kwarg`,
:func:`~.route_kwargs.route_kwarg_fact`; docs/semantics.md §5.1, §11.3).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from channels_lint.analysis.client.checks import ClientChecks
from channels_lint.analysis.client.model import CheckKind, ClientSource, ClientValue, GroupName, NamePart, RouteKwarg
from channels_lint.analysis.client.route_kwargs import route_kwarg_fact
from channels_lint.analysis.facts import HEXDIGEST_LENGTHS, NAME_SANITISERS
from channels_lint.analysis.flow import MAX_DEPTH
from channels_lint.analysis.syntax import dotted


class GroupNames(ClientChecks):
    """Group names built from client data, and the route facts of URL kwargs in them."""

    # ------------------------------------------------------------------ group names
    def group_name(self, node: ast.expr) -> list[GroupName]:
        """What a group-name expression may be built from: one :class:`GroupName` per value
        it may hold (an empty list when a value is unknown)."""
        checked = self._name_checked(node)
        client = self.value(node)
        if client is not None and not client.source.is_container:
            return [GroupName(parts=(self._client_part(node, client),), builder=node, checked=checked)]
        values = self.flow.values(node) if isinstance(node, (ast.Name, ast.Attribute)) else (node,)
        if not values:
            return []
        found = []
        for value in values:
            parts = self._parts(value, 0)
            template = isinstance(value, ast.Constant) and isinstance(value.value, str) and _looks_like_template(value.value)
            found.append(GroupName(parts=tuple(parts), builder=value, template=template, checked=checked))
        return found

    def _name_checked(self, node: ast.expr) -> bool:
        """Whether the name (``room_group``, ``self.group_name``) was tested before: passed to
        a call in a test, matched, compared."""
        spelled = dotted(node)
        if spelled is None or not isinstance(node, (ast.Name, ast.Attribute)):
            return False
        cls = self.syntax.enclosing_class(node)
        for test in self.syntax.truth_tests():
            if isinstance(node, ast.Attribute) and (cls is None or self.syntax.enclosing_class(test) is not cls):
                continue
            if isinstance(node, ast.Name) and self.syntax.enclosing_scope(test) is not self.syntax.enclosing_scope(node):
                continue
            for inner in ast.walk(test):
                if isinstance(inner, ast.Call) and not any(self.names.is_builtin(inner.func, b) for b in ("hasattr", "getattr", "bool", "isinstance")):
                    operands = [*inner.args, *(k.value for k in inner.keywords)]
                elif isinstance(inner, ast.Compare) and not all(
                    isinstance(op, (ast.Is, ast.IsNot)) for op in inner.ops
                ):
                    operands = [inner.left, *inner.comparators]
                    operands += [o.args[0] for o in operands if isinstance(o, ast.Call) and self.names.is_builtin(o.func, "len") and o.args]
                else:
                    continue
                if any(dotted(o) == spelled for o in operands):
                    return True
        return False

    def _parts(self, node: ast.expr, depth: int) -> list[NamePart]:
        unknown = [NamePart(node=node, known=False)]
        if depth > MAX_DEPTH:
            return unknown
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return [NamePart(node=node, text=node.value, charset_safe=True, max_length=len(node.value))]
            if isinstance(node.value, int) and not isinstance(node.value, bool):
                return [NamePart(node=node, text=str(node.value), charset_safe=True, max_length=len(str(node.value)))]
            return unknown
        if isinstance(node, ast.JoinedStr):
            parts: list[NamePart] = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.extend(self._parts(piece, depth + 1))
                elif isinstance(piece, ast.FormattedValue):
                    if piece.format_spec is not None or piece.conversion not in (-1, ord("s")):
                        parts.append(NamePart(node=piece.value, known=False))
                    else:
                        parts.extend(self._parts(piece.value, depth + 1))
            return parts
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mult)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and isinstance(node.right, ast.Constant)
            and type(node.right.value) is int
            and 0 <= node.right.value <= 10_000
        ):
            text = node.left.value * node.right.value
            return [NamePart(node=node, text=text, charset_safe=True, max_length=len(text))]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._parts(node.left, depth + 1) + self._parts(node.right, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            template = node.left.value
            if not isinstance(template, str) or not re.fullmatch(r"(?:[^%]|%[sd])*", template):
                return unknown
            arguments = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            pieces = re.split(r"%[sd]", template)
            if len(pieces) != len(arguments) + 1:
                return unknown
            return self._interleave(node.left, pieces, arguments, depth)
        if isinstance(node, ast.Call):
            return self._call_parts(node, depth)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            bound = node.slice.upper
            if (
                node.slice.lower is None
                and node.slice.step is None
                and isinstance(bound, ast.Constant)
                and type(bound.value) is int
                and bound.value >= 0
            ):
                inner = self._parts(node.value, depth + 1)
                if len(inner) == 1 and inner[0].known:
                    part = inner[0]
                    length = bound.value if part.max_length is None else min(part.max_length, bound.value)
                    return [replace(part, node=node, max_length=length)]
            return unknown
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Await)):
            client = self.value(node)
            if client is not None and not client.source.is_container:
                return [self._client_part(node, client)]
            if isinstance(node, (ast.Name, ast.Attribute)):
                value = self.flow.definite(node)
                if value is not None and value is not node:
                    return self._parts(value, depth + 1)
            return unknown
        return unknown

    def _interleave(self, literal: ast.expr, pieces: list[str], arguments: list[ast.expr], depth: int) -> list[NamePart]:
        parts: list[NamePart] = []
        for index, text in enumerate(pieces):
            if text:
                parts.append(NamePart(node=literal, text=text, charset_safe=True, max_length=len(text)))
            if index < len(arguments):
                parts.extend(self._parts(arguments[index], depth + 1))
        return parts

    def _call_parts(self, call: ast.Call, depth: int) -> list[NamePart]:
        name = self.names.call_name(call) or ""
        func = call.func
        first = call.args[0] if call.args else None
        if self.names.is_builtin(func, "str") and first is not None and len(call.args) == 1:
            return self._parts(first, depth + 1)
        if name in NAME_SANITISERS and (name != "int" or self.names.is_builtin(func, "int")):
            safe, length = NAME_SANITISERS[name]
            if name.endswith("slugify") and any(k.arg == "allow_unicode" for k in call.keywords):
                return [NamePart(node=call, known=False)]
            if length is None and first is not None and name.endswith("slugify"):
                inner = self._parts(first, depth + 1)
                if all(p.known for p in inner) and all(p.max_length is not None for p in inner):
                    length = sum(p.max_length for p in inner)
                elif any(p.client is not None and p.max_length is None for p in inner):
                    client = next(p.client for p in inner if p.client is not None and p.max_length is None)
                    return [NamePart(node=call, client=client, charset_safe=True, max_length=None)]
                else:
                    return [NamePart(node=call, charset_safe=True, known=False)]
            return [NamePart(node=call, charset_safe=safe, max_length=length, known=length is not None)]
        if isinstance(func, ast.Attribute) and func.attr == "hexdigest" and isinstance(func.value, ast.Call):
            length = HEXDIGEST_LENGTHS.get(self.names.call_name(func.value) or "")
            if length is not None:
                return [NamePart(node=call, charset_safe=True, max_length=length)]
        if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant):
            template = func.value.value
            if isinstance(template, str) and not call.keywords and re.fullmatch(r"(?:[^{}]|\{\})*", template):
                pieces = template.split("{}")
                if len(pieces) == len(call.args) + 1:
                    return self._interleave(func.value, pieces, call.args, depth)
            return [NamePart(node=call, known=False)]
        if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant) and first is not None:
            separator = func.value.value
            if isinstance(separator, str) and isinstance(first, (ast.List, ast.Tuple)) and first.elts:
                parts: list[NamePart] = []
                for index, element in enumerate(first.elts):
                    if index and separator:
                        parts.append(NamePart(node=func.value, text=separator, charset_safe=True, max_length=len(separator)))
                    parts.extend(self._parts(element, depth + 1))
                return parts
            return [NamePart(node=call, known=False)]
        client = self.value(call)
        if client is not None and not client.source.is_container:
            return [self._client_part(call, client)]
        return [NamePart(node=call, known=False)]

    def _client_part(self, node: ast.expr, client: ClientValue) -> NamePart:
        """A name piece holding client data: unsafe unless a check or a route says otherwise."""
        if any(
            check.kind in (CheckKind.ALLOWLIST, CheckKind.CONTENT, CheckKind.SCHEMA, CheckKind.RUNTIME, CheckKind.PROJECT)
            or check.kind is CheckKind.TYPE and check.value.path == client.path
            for check in self.checks_before(client, node)
        ) or self._checked_anywhere(client):
            return NamePart(node=node, client=client, known=False)
        if client.source is ClientSource.URL_KWARG:
            route = self.route_kwarg(node, client.key)
            if route is not None:
                return NamePart(
                    node=node, client=client, charset_safe=route.charset_safe, max_length=route.max_length, known=route.known
                )
            consumer = self.consumers.of(node)
            if consumer is not None and callable(self._routed) and self._routed(consumer.node.name):
                return NamePart(node=node, client=client, known=False)  # routed, but the route cannot be read
        return NamePart(node=node, client=client, charset_safe=False, max_length=None)

    def _checked_anywhere(self, client: ClientValue) -> bool:
        """A text test of the same value anywhere in its class: a URL kwarg read into
        ``self.room`` in ``connect`` and checked there, used in another method."""
        for check in self.checks:
            if check.kind in (CheckKind.ALLOWLIST, CheckKind.CONTENT, CheckKind.SCHEMA, CheckKind.PROJECT) and check.value.covers(client):
                return True
        return False

    # ------------------------------------------------------------------ routes
    def route_kwarg(self, node: ast.AST, key: str | None) -> RouteKwarg | None:
        """What the routes to the consumer holding ``node`` say about its URL kwarg ``key``;
        ``None`` when no route of the consumer is known (the value is then unsanitised text)."""
        consumer = self.consumers.of(node)
        if consumer is None or key is None or not callable(self._route_kwargs):
            return None
        cache = self.__dict__.setdefault("_routes", {})
        name = consumer.node.name
        if name not in cache:
            try:
                cache[name] = self._route_kwargs(name)
            except Exception:  # noqa: BLE001 - an index that cannot answer knows nothing
                cache[name] = None
        return route_kwarg_fact(cache[name], key)


_TEMPLATE = re.compile(r"\{[A-Za-z_][\w.\[\]]*\}|\{\d*\}|%\(?[A-Za-z_]*\)?[sd]")


def _looks_like_template(text: str) -> bool:
    return _TEMPLATE.search(text) is not None
