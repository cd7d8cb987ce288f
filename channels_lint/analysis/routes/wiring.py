"""ASGI wiring: the application positions of ``ProtocolTypeRouter``/``ChannelNameRouter``,
``as_asgi()`` called on a route, and the ASGI module's import order (what it imports before
``get_asgi_application()``/``django.setup()``; docs/semantics.md §1.4-§1.6, §10.3).
"""

from __future__ import annotations

import ast
import functools

from channels_lint.analysis.facts import CHANNEL_NAME_ROUTER, DJANGO_SETUP_CALLS, PROTOCOL_TYPE_ROUTER
from channels_lint.analysis.routes.calls import RouteCalls
from channels_lint.analysis.routes.model import ImportBeforeSetup, ProtocolRouter, Target
from channels_lint.analysis.syntax import walk_scope


class AsgiWiring(RouteCalls):
    """Protocol routers, every application position and the ASGI module's setup order."""

    # ------------------------------------------------------------------ application positions
    @functools.cached_property
    def protocol_routers(self) -> list[ProtocolRouter]:
        found = []
        for call in self.syntax.nodes(ast.Call):
            qualified = self.names.qualname(call.func)
            if qualified not in (PROTOCOL_TYPE_ROUTER, CHANNEL_NAME_ROUTER) or len(call.args) != 1:
                continue
            shape = self.flow.dict_shape(call.args[0])
            if shape is None:
                found.append(ProtocolRouter(call, (), True, qualified == CHANNEL_NAME_ROUTER))
                continue
            entries, open_ = [], shape.open
            for entry in shape.entries:
                if isinstance(entry.key, ast.Constant) and isinstance(entry.key.value, str):
                    entries.append((entry.key.value, entry.value))
                elif entry.key is not None:
                    open_ = True
            found.append(ProtocolRouter(call, tuple(entries), open_, qualified == CHANNEL_NAME_ROUTER))
        found.sort(key=lambda p: (p.call.lineno, p.call.col_offset))
        return found

    @functools.cached_property
    def applications(self) -> list[Target]:
        """Every application position: route targets and the values of protocol and
        channel-name routers (middleware is unwrapped by :meth:`target`)."""
        found = [route.target for route in self.routes if route.target is not None]
        for router in self.protocol_routers:
            for _, value in router.entries:
                found.append(self.target(value))
        return found

    @functools.cached_property
    def misplaced_as_asgi(self) -> list[ast.Call]:
        """``path(...).as_asgi()``: ``as_asgi()`` called on the route instead of its target."""
        return [
            call
            for call in self.syntax.nodes(ast.Call)
            if isinstance(call.func, ast.Attribute) and call.func.attr == "as_asgi" and self.route_kind(call.func.value)
        ]

    # ------------------------------------------------------------------ ASGI module
    @functools.cached_property
    def setup_statement(self) -> ast.stmt | None:
        """The first module-level statement that calls ``get_asgi_application()`` or
        ``django.setup()`` (outside functions), if any."""
        for statement in self.syntax.tree.body:
            for node in walk_scope([statement]):
                if isinstance(node, ast.Call) and self.names.qualname(node.func) in DJANGO_SETUP_CALLS:
                    return statement
        return None

    @functools.cached_property
    def imports_before_setup(self) -> list[ImportBeforeSetup]:
        """Module-level imports above :attr:`setup_statement` (none without one)."""
        setup = self.setup_statement
        if setup is None:
            return []
        found = []
        for statement in self.syntax.tree.body:
            if statement is setup:
                break
            if isinstance(statement, ast.Import):
                modules = tuple(alias.name for alias in statement.names)
                names = tuple(alias.asname or alias.name.split(".")[0] for alias in statement.names)
                found.append(ImportBeforeSetup(statement, modules, names))
            elif isinstance(statement, ast.ImportFrom):
                base = "." * statement.level + (statement.module or "")
                joined = base if base.endswith(".") else base + "."
                modules = (base, *(joined + alias.name for alias in statement.names if alias.name != "*"))
                names = tuple(alias.asname or alias.name for alias in statement.names)
                found.append(ImportBeforeSetup(statement, modules, names))
        return found
