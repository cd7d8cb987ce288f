"""The value-flow layer: reaching bindings for every binding form, merges, and what an
expression may hold (``channels_lint.analysis.bindings`` and ``.flow``)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from channels_lint.analysis import BindingKind, ModuleAnalysis
from channels_lint.project import ProjectIndex
from tests.helpers import lint_snippet


def analyse(source: str) -> ModuleAnalysis:
    source = textwrap.dedent(source)
    return ModuleAnalysis(ast.parse(source), source.splitlines(keepends=True), project=ProjectIndex(None))


def use(a: ModuleAnalysis, name: str, line: int) -> ast.Name:
    """The load of ``name`` on ``line`` (1-based, of the dedented source)."""
    found = [n for n in a.syntax.nodes(ast.Name) if n.id == name and n.lineno == line and isinstance(n.ctx, ast.Load)]
    assert len(found) == 1, f"{len(found)} loads of {name} on line {line}"
    return found[0]


def reaching(source: str, name: str, line: int) -> list[tuple[str, int]]:
    a = analyse(source)
    bindings = a.flow.reaching(use(a, name, line))
    return sorted((b.kind.name, b.node.lineno) for b in bindings) if bindings is not None else None


def values(source: str, name: str, line: int) -> list[str] | None:
    a = analyse(source)
    found = a.flow.values(use(a, name, line))
    return None if found is None else [ast.unparse(v) for v in found]


# --------------------------------------------------------------------------- binding forms
@pytest.mark.parametrize(
    ("source", "name", "line", "expected"),
    [
        ("x = 1\nprint(x)\n", "x", 2, [("ASSIGN", 1)]),
        ("a, b = 1, 2\nprint(b)\n", "b", 2, [("ASSIGN", 1)]),
        ("a, b = f()\nprint(b)\n", "b", 2, [("UNPACK", 1)]),
        ("x = 1\nx += 2\nprint(x)\n", "x", 3, [("AUGMENTED", 2)]),
        ("x: int = 1\nprint(x)\n", "x", 2, [("ANNOTATED", 1)]),
        ("if (x := f()):\n    print(x)\n", "x", 2, [("WALRUS", 1)]),
        ("for x in y:\n    print(x)\n", "x", 2, [("FOR", 1)]),
        ("with open(p) as x:\n    print(x)\n", "x", 2, [("WITH", 1)]),
        ("try:\n    pass\nexcept E as x:\n    print(x)\n", "x", 4, [("EXCEPT", 3)]),
        ("def f(x):\n    return x\n", "x", 2, [("PARAMETER", 1)]),
        ("import x\nprint(x)\n", "x", 2, [("IMPORT", 1)]),
        ("from m import y as x\nprint(x)\n", "x", 2, [("IMPORT", 1)]),
        ("def x():\n    pass\nprint(x)\n", "x", 3, [("DEF", 1)]),
        ("class x:\n    pass\nprint(x)\n", "x", 3, [("CLASS", 1)]),
        ("match v:\n    case [x]:\n        print(x)\n", "x", 3, [("MATCH", 2)]),
        ("print([x for x in y])\n", "x", 1, [("COMPREHENSION", 1)]),
        ("def f():\n    global x\n    print(x)\n", "x", 3, [("EXTERNAL", 1)]),
        ("def f():\n    x = 1\n    def g():\n        nonlocal x\n        print(x)\n", "x", 5, [("EXTERNAL", 3)]),
    ],
    ids=lambda v: v if isinstance(v, str) and "\n" not in v else None,
)
def test_every_binding_form_reaches_its_use(source: str, name: str, line: int, expected) -> None:
    assert reaching(source, name, line) == expected


def test_unbound_builtin_is_unknown() -> None:
    assert reaching("print(len)\n", "len", 1) is None


# --------------------------------------------------------------------------- kills and merges
def test_a_later_assignment_kills_the_earlier_one() -> None:
    assert reaching("x = 1\nx = 2\nprint(x)\n", "x", 3) == [("ASSIGN", 2)]


def test_use_before_a_later_assignment_sees_the_earlier_one() -> None:
    assert reaching("x = 1\nprint(x)\nx = 2\n", "x", 2) == [("ASSIGN", 1)]


def test_branches_merge() -> None:
    source = "x = 1\nif c:\n    x = 2\nelse:\n    pass\nprint(x)\n"
    assert reaching(source, "x", 6) == [("ASSIGN", 1), ("ASSIGN", 3)]


def test_both_branches_assigning_kill_the_earlier_binding() -> None:
    source = "x = 1\nif c:\n    x = 2\nelse:\n    x = 3\nprint(x)\n"
    assert reaching(source, "x", 6) == [("ASSIGN", 3), ("ASSIGN", 5)]


def test_a_for_target_rebinds_inside_the_loop_only_on_its_path() -> None:
    source = "e = 1\nfor e in items:\n    print(e)\nprint(e)\n"
    assert reaching(source, "e", 3) == [("FOR", 2)]
    assert reaching(source, "e", 4) == [("ASSIGN", 1), ("FOR", 2)]  # the loop may not run


def test_loop_carried_binding_reaches_the_top_of_the_body() -> None:
    source = "x = 0\nwhile c:\n    print(x)\n    x = x + 1\n"
    assert reaching(source, "x", 3) == [("ASSIGN", 1), ("ASSIGN", 4)]


def test_code_after_return_in_a_branch_does_not_merge_that_branch() -> None:
    source = "def f(c):\n    x = 1\n    if c:\n        x = 2\n        return x\n    print(x)\n"
    assert reaching(source, "x", 6) == [("ASSIGN", 2)]


def test_break_and_continue_paths_reach_their_targets() -> None:
    source = "x = 0\nfor i in y:\n    if i:\n        x = 1\n        break\n    x = 2\n    continue\nprint(x)\n"
    assert reaching(source, "x", 8) == [("ASSIGN", 1), ("ASSIGN", 4), ("ASSIGN", 6)]


def test_try_handlers_see_bindings_from_any_point_of_the_body() -> None:
    source = "x = 0\ntry:\n    x = 1\n    g()\n    x = 2\nexcept E:\n    print(x)\n"
    assert reaching(source, "x", 7) == [("ASSIGN", 1), ("ASSIGN", 3), ("ASSIGN", 5)]


def test_dead_branch_of_a_constant_test_is_not_entered() -> None:
    source = "x = 1\nif False:\n    x = 2\nprint(x)\n"
    assert reaching(source, "x", 4) == [("ASSIGN", 1)]


def test_free_name_in_a_function_gets_every_module_binding() -> None:
    source = "x = 1\nx = 2\ndef f():\n    return x\n"
    assert reaching(source, "x", 4) == [("ASSIGN", 1), ("ASSIGN", 2)]


def test_a_class_body_does_not_leak_its_names() -> None:
    source = "x = 1\nclass C:\n    x = 2\nprint(x)\n"
    assert reaching(source, "x", 4) == [("ASSIGN", 1)]


def test_del_unbinds() -> None:
    assert reaching("x = 1\ndel x\nprint(x)\n", "x", 3) == []


# --------------------------------------------------------------------------- values
def test_values_follow_names_and_merge_branches() -> None:
    source = "a = 1\nif c:\n    a = 2\nb = a\nprint(b)\n"
    assert values(source, "b", 5) == ["1", "2"]


def test_one_unknown_binding_makes_the_value_unknown() -> None:
    source = "def f(p):\n    x = 1\n    if p:\n        x = p.y\n    for x in p:\n        pass\n    return x\n"
    assert values(source, "x", 7) is None


def test_values_through_or_and_conditional_expressions() -> None:
    source = "def f(text_data, bytes_data):\n    data = text_data or bytes_data\n    return data\n"
    assert values(source, "data", 3) is None  # both operands are parameters: unknown values
    assert values("x = 1 if c else 2\nprint(x)\n", "x", 2) == ["1", "2"]


def test_values_of_a_local_function_call_are_its_returns() -> None:
    source = "def make():\n    return {'a': 1}\nx = make()\nprint(x)\n"
    assert values(source, "x", 4) == ["{'a': 1}"]


def test_a_function_that_may_fall_off_its_end_is_unknown() -> None:
    source = "def make(c):\n    if c:\n        return 1\nx = make(1)\nprint(x)\n"
    assert values(source, "x", 5) is None


def test_self_attribute_values_come_from_every_method() -> None:
    a = analyse(
        """
        class C:
            async def connect(self):
                self.room = await Room.objects.aget(pk=1)

            async def receive(self):
                print(self.room)
        """
    )
    attribute = next(n for n in a.syntax.nodes(ast.Attribute) if n.attr == "room" and isinstance(n.ctx, ast.Load))
    assert [ast.unparse(v) for v in a.flow.values(attribute)] == ["await Room.objects.aget(pk=1)"]


def test_self_attribute_with_an_augmented_assignment_is_unknown() -> None:
    a = analyse(
        """
        class C:
            def a(self):
                self.n = 1

            def b(self):
                self.n += 1
                print(self.n)
        """
    )
    attribute = next(n for n in a.syntax.nodes(ast.Attribute) if n.attr == "n" and n.lineno == 8)
    assert a.flow.values(attribute) is None


# --------------------------------------------------------------------------- dict shapes
def shape_of(source: str, name: str, line: int):
    a = analyse(source)
    return a.flow.dict_shape(use(a, name, line))


def test_dict_shape_from_literal_spread_subscript_and_update() -> None:
    source = "base = {'x': 1}\nd = {**base, 'type': 't'}\nd['at'] = now\nd.update(more=2)\nsend(d)\n"
    shape = shape_of(source, "d", 5)
    keys = [e.key.value for e in shape.entries if e.key is not None]
    assert keys == ["x", "type", "at", "more"]
    assert {"x", "type", "at"} <= shape.always and not shape.open


def test_dict_shape_of_dict_call_and_branches() -> None:
    source = "if c:\n    d = dict(type='a', n=1)\nelse:\n    d = {'type': 'b'}\nsend(d)\n"
    shape = shape_of(source, "d", 5)
    assert sorted(ast.unparse(v) for v in shape.values_of("type")) == ["'a'", "'b'"]
    assert shape.always == {"type"}


def test_dict_passed_to_a_call_before_use_is_open() -> None:
    shape = shape_of("d = {'a': 1}\nfill(d)\nsend(d)\n", "d", 3)
    assert shape.open


def test_spread_of_an_unknown_dict_is_open() -> None:
    assert shape_of("def f(extra):\n    d = {'a': 1, **extra}\n    return d\n", "d", 3).open


# --------------------------------------------------------------------------- the three wrong answers
def test_for_rebinding_is_seen_no_payload_finding() -> None:
    source = """
        from django.utils import timezone
        from channels.generic.websocket import AsyncWebsocketConsumer

        class C(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                event = {"type": "x", "at": timezone.now()}
                for event in self.pending:
                    await self.channel_layer.group_send("g", event)
    """
    assert [v for v in lint_snippet(textwrap.dedent(source)) if v.code == "CHN202"] == []


def test_merge_of_two_bindings_keeps_weak_evidence() -> None:
    source = """
        from channels.generic.websocket import AsyncWebsocketConsumer

        class C(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                qs = self.room.members.all()
                if text_data:
                    qs = self.other.owners.all()
                for member in qs:
                    print(member)
    """
    assert [v for v in lint_snippet(textwrap.dedent(source)) if v.code.startswith("CHN1")] == []


def test_advice_comes_from_the_kind_not_from_the_text() -> None:
    source = """
        from channels.generic.websocket import AsyncWebsocketConsumer

        class C(AsyncWebsocketConsumer):
            async def receive(self, text_data=None, bytes_data=None):
                await self.channel_layer.group_send("g", {"type": "x", ("update", 1): 2})
    """
    messages = [v.message for v in lint_snippet(textwrap.dedent(source)) if v.code == "CHN202"]
    assert len(messages) == 1
    assert "isoformat" not in messages[0] and "str keys" in messages[0]


def test_binding_kinds_are_all_covered() -> None:
    tested = {
        "ASSIGN", "UNPACK", "AUGMENTED", "ANNOTATED", "WALRUS", "FOR", "WITH", "EXCEPT", "PARAMETER",
        "IMPORT", "DEF", "CLASS", "MATCH", "COMPREHENSION", "EXTERNAL",
    }  # fmt: skip
    assert tested == {kind.name for kind in BindingKind}
