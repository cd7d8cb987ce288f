"""Python types of expressions: the type an expression certainly has (``str``, ``bytes``,
``dict``...), the value of constant int expressions, and which expressions the value-flow
layer follows (names, ``self.<attr>``, calls of this module's functions).  The base of the
payload analyzer (:class:`~channels_lint.analysis.payload.Payloads`).
"""

from __future__ import annotations

import ast
import operator

from channels_lint.analysis.facts import BYTES_CALLS
from channels_lint.analysis.flow import MAX_DEPTH, ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm import OrmEvidence

_BUILTIN_TYPES = (str, bytes, dict, list, tuple, set, int, float)
_CONSTANT_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
}


class PythonTypes:
    """Python types and constant ints of expressions (see the module docstring)."""

    def __init__(self, names: Names, flow: ValueFlow, orm: OrmEvidence, consumers=None) -> None:
        self.names = names
        self.flow = flow
        self.orm = orm
        self.consumers = consumers
        self.syntax = flow.syntax

    def _followable(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return True
        call = node.value if isinstance(node, ast.Await) else node
        return isinstance(call, ast.Call) and self.names.local_function(call) is not None

    @staticmethod
    def constant_int(node: ast.expr, depth: int = 0) -> int | None:
        """The value of an int literal, ``-literal`` or a small constant expression of them."""
        if depth > 4:
            return None
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = PythonTypes.constant_int(node.operand, depth + 1)
            return -value if value is not None else None
        if isinstance(node, ast.BinOp) and type(node.op) in _CONSTANT_OPERATORS:
            left, right = PythonTypes.constant_int(node.left, depth + 1), PythonTypes.constant_int(node.right, depth + 1)
            if left is None or right is None or not (0 <= right <= 4096 and abs(left) <= 2**4096):
                return None
            return _CONSTANT_OPERATORS[type(node.op)](left, right)
        return None

    # ------------------------------------------------------------------ python types
    def value_type(self, node: ast.expr | None, depth: int = 0) -> type | None:
        """The Python type ``node`` certainly has here (``str``, ``bytes``, ``int``, ``float``,
        ``bool``, ``NoneType``, ``dict``, ``list``, ``tuple``, ``set``), else ``None``."""
        if node is None or depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return type(node.value)
        if isinstance(node, ast.JoinedStr):
            return str
        if isinstance(node, (ast.Dict, ast.DictComp)):
            return dict
        if isinstance(node, (ast.List, ast.ListComp)):
            return list
        if isinstance(node, ast.Tuple):
            return tuple
        if isinstance(node, (ast.Set, ast.SetComp)):
            return set
        if isinstance(node, ast.BinOp):
            left = self.value_type(node.left, depth + 1)
            if isinstance(node.op, ast.Mod) and left is str:
                return str
            if isinstance(node.op, ast.Add) and left in (str, bytes) and self.value_type(node.right, depth + 1) is left:
                return left
            return None
        if isinstance(node, ast.Call):
            for builtin in _BUILTIN_TYPES:
                if self.names.is_builtin(node.func, builtin.__name__):
                    return builtin
            name = self.names.call_name(node)
            if name == "json.dumps":
                return str
            if name in BYTES_CALLS:
                return bytes
            func = node.func
            if isinstance(func, ast.Attribute):
                receiver = self.value_type(func.value, depth + 1)
                if receiver is str and func.attr == "encode":
                    return bytes
                if receiver is bytes and func.attr == "decode":
                    return str
                if receiver is str and func.attr in ("format", "join", "upper", "lower", "strip", "replace", "title"):
                    return str
        if isinstance(node, ast.Name) or (isinstance(node, (ast.Attribute, ast.Call, ast.Await)) and self._followable(node)):
            values = self.flow.values(node)
            if not values or values == (node,):
                return None
            types = {self.value_type(v, depth + 1) if not isinstance(v, ast.Name) else None for v in values}
            return types.pop() if len(types) == 1 else None
        return None
