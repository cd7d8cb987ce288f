"""Checks of client data: the tests and validators a value went through before a use.

Membership tests, ``.get()``, ``isinstance``/``type()``/``match``, allowlist comparisons, text
tests (``re.match``, ``str.isalnum``, lengths), serializers/forms/pydantic/jsonschema, the
runtime's validators and the project's own ``validate*``/``check*`` functions, each a
:class:`~.model.Check`; and the ``try``/``contextlib.suppress`` around a use.  A rule asks
:meth:`ClientChecks.checks_before` and decides which kinds make a use safe.
"""

from __future__ import annotations

import ast
import functools
import re

from channels_lint.analysis.client.model import ANY, Check, CheckKind, ClientValue, _constant_key
from channels_lint.analysis.client.sources import ClientSources
from channels_lint.analysis.facts import JSON_DECODERS, RUNTIME_VALIDATORS

_TEXT_TESTS = frozenset(
    {"isalnum", "isalpha", "isascii", "isdigit", "isdecimal", "isnumeric", "isidentifier", "startswith", "endswith"}
)
_REGEX_TESTS = frozenset({"re.match", "re.fullmatch", "re.search"})
_VALIDATOR_WORDS = re.compile(r"(?i)valid|verify|check|clean|sanitiz|sanitis|schema|allowed|permitted")
_SCHEMA_NAMES = re.compile(r"(?:Serializer|Form|Schema|Model|Validator|Payload|Message|Request|Command|Event)$")
_SCHEMA_METHODS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate", "validate_python", "load", "loads", "from_dict", "is_valid"}
)


class ClientChecks(ClientSources):
    """Checks of the client values :class:`~.sources.ClientSources` finds."""

    # ------------------------------------------------------------------ checks
    @functools.cached_property
    def checks(self) -> list[Check]:
        """Every check of client data in the module, in source order."""
        found: list[Check] = []
        for compare in self.syntax.nodes(ast.Compare):
            operands = [compare.left, *compare.comparators]
            for index, op in enumerate(compare.ops):
                left, right = operands[index], operands[index + 1]
                if isinstance(op, (ast.In, ast.NotIn)):
                    container = right.func.value if _is_call_of(right, "keys") else right
                    value = self.value(container)
                    if value is not None:
                        found.append(Check(kind=CheckKind.MEMBERSHIP, node=compare, value=value, key=_constant_key(left)))
                    value = self.value(left)
                    if value is not None:
                        found.append(Check(kind=CheckKind.ALLOWLIST, node=compare, value=value))
                elif isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                    for side, other in ((left, right), (right, left)):
                        if isinstance(side, ast.Call) and self.names.is_builtin(side.func, "type") and side.args:
                            value = self.value(side.args[0])
                            if value is not None:
                                found.append(Check(kind=CheckKind.TYPE, node=compare, value=value))
                        elif isinstance(other, ast.Constant) and other.value is not None:
                            value = self.value(side)
                            if value is not None:
                                found.append(Check(kind=CheckKind.ALLOWLIST, node=compare, value=value))
                else:  # <, >, ...: a length or range test; data.keys() >= {...}: a key test
                    for side in (left, right):
                        if _is_call_of(side, "keys"):
                            value = self.value(side.func.value)
                            if value is not None:
                                found.append(Check(kind=CheckKind.MEMBERSHIP, node=compare, value=value, key=ANY))
                            continue
                        inner = side.args[0] if isinstance(side, ast.Call) and self.names.is_builtin(side.func, "len") and side.args else side
                        value = self.value(inner)
                        if value is not None:
                            found.append(Check(kind=CheckKind.CONTENT, node=compare, value=value))
        for call in self.syntax.nodes(ast.Call):
            found.extend(self._call_checks(call))
        for match in self.syntax.nodes(ast.Match):
            value = self.value(match.subject)
            if value is not None:
                found.append(Check(kind=CheckKind.TYPE, node=match, value=value))
        found.sort(key=lambda c: (c.node.lineno, c.node.col_offset))
        return found

    def _call_checks(self, call: ast.Call) -> list[Check]:
        func = call.func
        name = self.names.call_name(call) or ""
        first = call.args[0] if call.args else None
        if self.names.is_builtin(func, "isinstance") and first is not None:
            value = self.value(first)
            return [Check(kind=CheckKind.TYPE, node=call, value=value)] if value is not None else []
        if isinstance(func, ast.Attribute) and func.attr == "get" and first is not None:
            value = self.value(func.value)
            if value is not None:
                return [Check(kind=CheckKind.GET, node=call, value=value, key=_constant_key(first))]
            return []
        if isinstance(func, ast.Attribute) and func.attr in _TEXT_TESTS:
            value = self.value(func.value)
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        if name in _REGEX_TESTS and len(call.args) > 1:
            value = self.value(call.args[1])
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        if isinstance(func, ast.Attribute) and func.attr in ("match", "fullmatch", "search") and first is not None:
            value = self.value(first)  # a compiled pattern's match(value)
            return [Check(kind=CheckKind.CONTENT, node=call, value=value)] if value is not None else []
        arguments = [*call.args, *(k.value for k in call.keywords)]
        arguments = [a.value if isinstance(a, ast.Starred) else a for a in arguments]
        values = [v for v in map(self.value, arguments) if v is not None]
        if not values:
            return []
        if name in RUNTIME_VALIDATORS or (isinstance(func, ast.Attribute) and func.attr in ("check_message_data", "extract_message_data", "validate_connection_data")):
            keywords = {k.arg: k.value for k in call.keywords}
            kind = CheckKind.SCHEMA if "schema" in keywords else CheckKind.RUNTIME
            required = _required_keys(keywords.get("required"))
            found = [Check(kind=kind, node=call, value=values[0], required=required)]
            result = self.value(call)  # extract_message_data's dict: an object holding `required`
            if result is not None:
                found.append(Check(kind=kind, node=call, value=result, required=required))
            return found
        last = name.rsplit(".", 1)[-1] if name else (func.attr if isinstance(func, ast.Attribute) else "")
        if name in JSON_DECODERS or name.startswith(("json.", "orjson.", "ujson.", "simplejson.", "rapidjson.")):
            return []
        is_schema = (
            _SCHEMA_NAMES.search(last) is not None and last[:1].isupper()
            or last in _SCHEMA_METHODS
            or name.startswith(("jsonschema.", "pydantic.", "marshmallow.", "rest_framework.", "dacite.", "cattrs.", "msgspec."))
            or any(k.arg is None for k in call.keywords)  # Model(**data)
        )
        if is_schema:
            return [Check(kind=CheckKind.SCHEMA, node=call, value=v) for v in values]
        if _VALIDATOR_WORDS.search(last):
            return [Check(kind=CheckKind.PROJECT, node=call, value=v) for v in values]
        return []

    def checks_before(self, value: ClientValue, node: ast.AST) -> list[Check]:
        """Checks of ``value`` (or of a value it was read from) in the scope of ``node``,
        before it in the source."""
        scope = self.syntax.enclosing_scope(node)
        return [
            check
            for check in self.checks
            if check.value.covers(value) and self.syntax.enclosing_scope(check.node) is scope and self._before(check.node, node)
        ]

    def _before(self, check: ast.AST, node: ast.AST) -> bool:
        """Whether ``check`` runs before ``node``: earlier in the source, or in the test of an
        ``a if test else b`` whose ``a`` holds ``node``."""
        if (check.lineno, check.col_offset) < (node.lineno, node.col_offset):
            return True
        child = node
        for parent in self.syntax.ancestors(node):
            if isinstance(parent, ast.IfExp) and child is parent.body:
                if any(a is parent.test for a in (check, *self.syntax.ancestors(check))):
                    return True
            if isinstance(parent, ast.stmt):
                return False
            child = parent
        return False

    def caught(self, node: ast.AST, catchers: frozenset[str]) -> bool:
        """Whether a ``try`` around ``node`` (in its scope) catches one of ``catchers``
        (qualified names; a bare ``except`` catches everything), or a
        ``contextlib.suppress`` of one of them."""
        for guard, expression in self.syntax.guards(node):
            if guard == "except" and self._catches(expression, catchers):
                return True
            if (
                guard == "with"
                and isinstance(expression, ast.Call)
                and self.names.resolves_to(expression.func, "contextlib.suppress")
                and any(self._catches(kind, catchers) for kind in expression.args)
            ):
                return True
        return False

    def _catches(self, kind: ast.expr | None, catchers: frozenset[str]) -> bool:
        if kind is None:
            return True
        kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
        return any(self.names.qualname(k) in catchers for k in kinds)


def _is_call_of(node: ast.AST, method: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method and not node.args


def _required_keys(node: ast.AST | None) -> tuple[str, ...]:
    """The key names of a literal ``required=`` argument (``"k"`` or ``("k", type)`` items)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if not isinstance(node, (ast.Tuple, ast.List)):
        return ()
    keys = []
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            keys.append(element.value)
        elif isinstance(element, (ast.Tuple, ast.List)) and element.elts and isinstance(element.elts[0], ast.Constant):
            keys.append(element.elts[0].value)
    return tuple(keys)
