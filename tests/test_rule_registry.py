"""The rule registry and the fix pipeline's contracts.

* every ``chnNNN_*.py`` module of ``channels_lint.rules`` defines exactly one rule whose code
  matches the file name, and every registered rule comes from such a module (adding a rule
  touches one file);
* a fixed file is linted at most once per pass plus the final proof;
* an edit whose span matches no node is an error, never silently dropped;
* every edit kind has a rewrite.
"""

from __future__ import annotations

import dataclasses
import inspect
import pkgutil

import channels_lint.rules as rules_package
from channels_lint import diagnostics
from channels_lint.diagnostics import AddAwait, Edit, Fix
from channels_lint.fixes import EDIT_APPLIERS, fix_bytes
from channels_lint.rules import REGISTRY, RULE_MODULE, RULE_MODULES, Rule


def test_every_rule_module_defines_one_rule_named_after_its_file() -> None:
    names = [info.name for info in pkgutil.iter_modules(rules_package.__path__) if RULE_MODULE.fullmatch(info.name)]
    assert names, "no rule modules found"
    assert [m.__name__.rsplit(".", 1)[1] for m in RULE_MODULES] == sorted(names)
    for module in RULE_MODULES:
        defined = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj.__module__ == module.__name__
        ]
        assert len(defined) == 1, f"{module.__name__} defines {len(defined)} rules"
        number = RULE_MODULE.fullmatch(module.__name__.rsplit(".", 1)[1]).group(1)
        assert defined[0].code == f"CHN{number}", module.__name__


def test_every_registered_rule_comes_from_a_rule_module() -> None:
    modules = {module.__name__ for module in RULE_MODULES}
    assert {rule.__module__ for rule in REGISTRY.values()} == modules


def test_other_modules_of_the_rules_package_define_no_rule() -> None:
    for info in pkgutil.iter_modules(rules_package.__path__):
        if RULE_MODULE.fullmatch(info.name):
            continue
        module = __import__(f"channels_lint.rules.{info.name}", fromlist=["_"])
        assert not [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        ], info.name


def test_every_edit_kind_has_a_rewrite() -> None:
    kinds = {obj for obj in vars(diagnostics).values() if inspect.isclass(obj) and issubclass(obj, Edit) and obj is not Edit}
    assert kinds == set(EDIT_APPLIERS)


TWO_PASSES = b"""from channels.generic.websocket import AsyncWebsocketConsumer
from .models import Note


class C(AsyncWebsocketConsumer):
    def receive(self, text_data=None, bytes_data=None):
        self.send(text_data="x")
        Note.objects.create(body=text_data)
"""


def test_a_fixed_file_is_linted_once_per_pass_plus_the_final_proof() -> None:
    result = fix_bytes(TWO_PASSES, unsafe_fixes=True)
    assert result.error is None and b"async def receive" in result.fixed and b"await self.send" in result.fixed
    passes = 2  # make the handler async (CHN108), then add the awaits it needs
    assert result.lint_calls <= passes + 1


def test_a_file_without_fixes_is_linted_once() -> None:
    assert fix_bytes(b"x = 1\n").lint_calls <= 1
    assert fix_bytes(TWO_PASSES).lint_calls == 1  # only unsafe fixes: nothing to apply


def test_an_edit_that_matches_no_node_is_an_error(monkeypatch) -> None:
    from channels_lint import fixes

    real_lint = fixes.lint

    def lint_with_a_stray_edit(*args, **kwargs):
        found = real_lint(*args, **kwargs)
        stray = Fix("stray", (AddAwait((1, 0, 1, 3)),))  # no expression spans `fro` of line 1
        return [dataclasses.replace(v, fix=stray) if v.fix is not None else v for v in found]

    monkeypatch.setattr(fixes, "lint", lint_with_a_stray_edit)
    monkeypatch.setattr(
        fixes,
        "lint_bytes",
        lambda data, *a, **k: (fixes.Source.from_bytes(data), lint_with_a_stray_edit(fixes.Source.from_bytes(data), *a[:1], **k)),
    )
    source = b"""from channels.generic.websocket import AsyncWebsocketConsumer


class C(AsyncWebsocketConsumer):
    async def connect(self):
        self.accept()
"""
    result = fix_bytes(source)
    assert result.fixed == source
    # the fix is refused, with the reason, and costs no other fix (issue 12)
    assert [why for _, why in result.refused if "no node at the span" in why], result.refused
