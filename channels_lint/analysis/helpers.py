"""Calls, on the event loop, of sync helpers that must not run there.

A helper is a plain sync function of this module that reaches something loop-unsafe (the
database for CHN104, ``async_to_sync`` for CHN106), itself or through other helpers, or an
imported project function the project index says does so.  Both rules ask the same question
here; each keeps its own words.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from channels_lint.analysis.context import ExecutionContext
from channels_lint.analysis.crossmodule import CrossModule
from channels_lint.analysis.names import Names
from channels_lint.analysis.syntax import Syntax


@dataclass(frozen=True, kw_only=True)
class HelperCall:
    """A call on the loop (not awaited) of a loop-unsafe helper.

    For a helper of this module, ``function`` is it and ``evidence`` the operation that makes
    it unsafe (or, when ``via_helper``, the call of the helper that does); for an imported one
    ``fact`` is the project index's :class:`~channels_lint.project.modules.FunctionFact`.
    """

    call: ast.Call
    function: ast.FunctionDef | None = None
    evidence: ast.expr | None = None
    via_helper: bool = False
    fact: object | None = None


class HelperCalls:
    """Finds :class:`HelperCall`\\ s (see the module docstring)."""

    def __init__(self, syntax: Syntax, names: Names, context: ExecutionContext, cross: CrossModule) -> None:
        self.syntax = syntax
        self.names = names
        self.context = context
        self.cross = cross

    def on_loop(self, local: Callable[[], dict], imported: Callable[[object], bool]) -> list[HelperCall]:
        """Calls on the loop of the helpers ``local()`` gives (``{function: (node, via)}``,
        asked only when a local function is called on the loop) and of imported project
        functions whose fact satisfies ``imported``."""
        on_loop = [
            call
            for call in self.syntax.nodes(ast.Call)
            if self.context.of(call).on_event_loop and not self.syntax.is_awaited(call)
        ]
        helpers = local() if any(self.names.local_function(c) is not None for c in on_loop) else {}
        found = []
        for call in on_loop:
            function = self.names.local_function(call)
            if function is None:
                fact = self.cross.callee(call)
                if fact is not None and imported(fact):
                    found.append(HelperCall(call=call, fact=fact))
            elif function in helpers:
                node, via_helper = helpers[function]
                found.append(HelperCall(call=call, function=function, evidence=node, via_helper=via_helper))
        return found
