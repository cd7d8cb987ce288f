"""Route calls: every ``path()``/``re_path()``/``url()`` call, its pattern and its target.

A pattern is evaluated when it is a constant (literals, constant f-strings, ``.format()`` and
``+`` of constants and of names bound to them); a target is what an application position
holds (a consumer's ``as_asgi()``, the class itself, an instance, a nested ``URLRouter``,
``include()``, Django's ASGI app), through middleware and names bound in this module
(docs/semantics.md §1.2-§1.6).
"""

from __future__ import annotations

import ast
import functools
import string

from channels_lint.analysis.consumers import Consumers
from channels_lint.analysis.facts import (
    CHANNELS_ASGI_HANDLER,
    CHANNELS_MIDDLEWARE,
    DJANGO_ASGI_APPLICATIONS,
    INCLUDE_FUNCTIONS,
    MIDDLEWARE_NAME_ENDINGS,
    ROUTE_FUNCTIONS,
    URL_ROUTER,
)
from channels_lint.analysis.flow import ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.routes.model import MAX_DEPTH, MAX_PATTERN, Route, RouteKind, Target, TargetKind
from channels_lint.analysis.syntax import Syntax, dotted, is_capitalized


class RouteCalls:
    """Route calls, their patterns and targets (the base of
    :class:`~channels_lint.analysis.routes.Routes`)."""

    def __init__(
        self, syntax: Syntax, names: Names, flow: ValueFlow, consumers: Consumers, project=None, path: str | None = None
    ) -> None:
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.consumers = consumers
        self.project = project
        #: The module's file path (``None`` for text without a file).
        self.path = path

    # ------------------------------------------------------------------ routes
    @functools.cached_property
    def routes(self) -> list[Route]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            kind = self.route_kind(call)
            if kind is None or not call.args and not call.keywords:
                continue
            pattern_node = call.args[0] if call.args else _keyword(call, "route")
            target_node = call.args[1] if len(call.args) > 1 else _keyword(call, "view")
            defaults_node = call.args[2] if len(call.args) > 2 else _keyword(call, "kwargs")
            pattern = self.constant_string(pattern_node)
            literal = pattern_node if isinstance(pattern_node, ast.Constant) and isinstance(pattern_node.value, str) else None
            parent = self.syntax.parents.get(call)
            container = parent if isinstance(parent, (ast.List, ast.Tuple)) else None
            found.append(
                Route(
                    call=call,
                    kind=kind,
                    pattern=pattern,
                    pattern_node=pattern_node,
                    literal=literal,
                    target=self.target(target_node) if target_node is not None else None,
                    defaults=self._dict_keys(defaults_node),
                    container=container,
                    index=container.elts.index(call) if container is not None else 0,
                )
            )
        found.sort(key=lambda r: (r.call.lineno, r.call.col_offset))
        return found

    def route_kind(self, node: ast.AST) -> RouteKind | None:
        if not isinstance(node, ast.Call):
            return None
        kind = ROUTE_FUNCTIONS.get(self.names.qualname(node.func) or "")
        return RouteKind(kind) if kind else None

    @functools.cached_property
    def by_call(self) -> dict[ast.Call, Route]:
        return {route.call: route for route in self.routes}

    def _dict_keys(self, node: ast.expr | None) -> frozenset[str] | None:
        if node is None or isinstance(node, ast.Constant) and node.value is None:
            return frozenset()
        shape = self.flow.dict_shape(node)
        if shape is None or shape.open:
            return None
        keys = set()
        for entry in shape.entries:
            if not isinstance(entry.key, ast.Constant) or not isinstance(entry.key.value, str):
                return None
            keys.add(entry.key.value)
        return frozenset(keys)

    # ------------------------------------------------------------------ constant strings
    def constant_string(self, node: ast.expr | None, _depth: int = 0) -> str | None:
        """The text ``node`` always evaluates to, when it is built from constants only:
        string literals, f-strings without conversions or format specs, ``"...".format()``,
        ``+``, and names bound to one such value here.  ``None`` otherwise."""
        if node is None or _depth > MAX_DEPTH:
            return None
        value = self._constant(node, _depth)
        if isinstance(value, str) and len(value) <= MAX_PATTERN:
            return value
        return None

    def _constant(self, node: ast.expr, depth: int) -> str | int | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, int)) and not isinstance(node.value, bool) else None
        if isinstance(node, ast.Name):
            value = self.flow.definite(node)
            if value is None or value is node:
                return None
            return self._constant(value, depth + 1) if depth < MAX_DEPTH else None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(str(part.value))
                elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                    inner = self._constant(part.value, depth + 1)
                    if inner is None:
                        return None
                    parts.append(str(inner))
                else:
                    return None
            return _bounded("".join(parts))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._constant(node.left, depth + 1), self._constant(node.right, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return _bounded(left + right)
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and not any(isinstance(a, ast.Starred) for a in node.args)
            and all(k.arg is not None for k in node.keywords)
        ):
            template = self._constant(node.func.value, depth + 1)
            if not isinstance(template, str):
                return None
            args = [self._constant(a, depth + 1) for a in node.args]
            kwargs = {k.arg: self._constant(k.value, depth + 1) for k in node.keywords}
            if any(v is None for v in args) or any(v is None for v in kwargs.values()):
                return None
            return _format(template, args, kwargs)
        return None

    # ------------------------------------------------------------------ targets
    def target(self, node: ast.expr) -> Target:
        """What the application position ``node`` holds (see :class:`Target`)."""
        wrappers: list[str] = []
        current = node
        in_place = True
        for _ in range(MAX_DEPTH):
            if isinstance(current, ast.Call) and current.args and self.is_middleware(current):
                wrappers.append(dotted(current.func) or "")
                current = current.args[0]
                continue
            if isinstance(current, ast.Name) and not self._is_consumer_class(current):
                value = self.flow.definite(current)
                if value is not None and value is not current and not isinstance(value, ast.Name):
                    current = value
                    in_place = False
                    continue
            break
        return self._classify(node, current, tuple(wrappers), in_place)

    def _classify(self, node, inner, wrappers, in_place) -> Target:
        def make(kind, **more):
            return Target(node=node, kind=kind, inner=inner, wrappers=wrappers, in_place=in_place, **more)

        qualified = self.names.qualname(inner.func if isinstance(inner, ast.Call) else inner) or ""
        if isinstance(inner, ast.Call):
            if qualified == URL_ROUTER:
                return make(TargetKind.ROUTER, router=inner)
            if qualified in INCLUDE_FUNCTIONS:
                return make(TargetKind.INCLUDE)
            if qualified in DJANGO_ASGI_APPLICATIONS:
                return make(TargetKind.DJANGO_APP)
            if qualified == CHANNELS_ASGI_HANDLER:
                return make(TargetKind.ASGI_HANDLER)
            if isinstance(inner.func, ast.Attribute) and inner.func.attr == "as_asgi":
                receiver = inner.func.value
                return make(TargetKind.AS_ASGI, consumer=_last(receiver), class_node=receiver)
            if self._is_consumer_class(inner.func):
                return make(TargetKind.CONSUMER_INSTANCE, consumer=_last(inner.func), class_node=inner.func)
            return make(TargetKind.UNKNOWN)
        if qualified == CHANNELS_ASGI_HANDLER:
            return make(TargetKind.ASGI_HANDLER)
        if isinstance(inner, ast.Attribute) and inner.attr == "as_asgi":
            return make(TargetKind.UNCALLED_AS_ASGI, consumer=_last(inner.value), class_node=inner.value)
        if self._is_consumer_class(inner):
            return make(TargetKind.CONSUMER_CLASS, consumer=_last(inner), class_node=inner)
        return make(TargetKind.UNKNOWN)

    def is_middleware(self, call: ast.Call) -> bool:
        """``Middleware(inner, ...)``: Channels' middleware, or a class whose name ends like one."""
        qualified = self.names.qualname(call.func)
        if qualified is None:
            return False
        if qualified in CHANNELS_MIDDLEWARE:
            return True
        last = qualified.rsplit(".", 1)[-1]
        return last.endswith(MIDDLEWARE_NAME_ENDINGS) and is_capitalized(last)

    def _is_consumer_class(self, node: ast.expr) -> bool:
        """A consumer class: defined here as one, known to the project index as one, named
        ``*Consumer``, or a CapWords name taken from a module named ``consumers``
        (``consumers.Chat``, ``from .consumers import Chat``)."""
        name = dotted(node)
        if name is None:
            return False
        qualified = self.names.qualname(node) or name
        if qualified == CHANNELS_ASGI_HANDLER or qualified in DJANGO_ASGI_APPLICATIONS:
            return False
        last = name.rsplit(".", 1)[-1]
        if isinstance(node, ast.Name):
            if any(c.node.name == last for c in self.consumers.by_class.values()):
                return True
            if last in self.names.classes:
                return False  # a class of this module that is not a consumer
            if last in self.names.local_names(self.syntax.tree):
                return False  # ChatRouter = URLRouter([...]): an application, not a class
        if self.project is not None and self.project.root is not None and self.project.consumer(last) is not None:
            return True
        if last.endswith("Consumer"):
            return True
        class_like = is_capitalized(last) and not last.isupper()  # CapWords, not a CONSTANT
        modules = qualified.split(".")[:-1]
        return class_like and any(part.endswith("consumers") for part in modules)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _last(node: ast.expr) -> str | None:
    name = dotted(node)
    return name.rsplit(".", 1)[-1] if name else None


def _bounded(text: str) -> str | None:
    return text if len(text) <= MAX_PATTERN else None


def _format(template: str, args: list, kwargs: dict) -> str | None:
    """``template.format(*args, **kwargs)`` for plain fields only (no conversion, no format
    spec, no attribute or index access): anything else is left unevaluated."""
    out = []
    automatic = 0
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            out.append(literal)
            if field is None:
                continue
            if spec or conversion:
                return None
            if field == "":
                if automatic >= len(args):
                    return None
                out.append(str(args[automatic]))
                automatic += 1
            elif field.isdigit():
                if int(field) >= len(args):
                    return None
                out.append(str(args[int(field)]))
            elif field.isidentifier() and field in kwargs:
                out.append(str(kwargs[field]))
            else:
                return None
    except ValueError:
        return None
    return _bounded("".join(out))
