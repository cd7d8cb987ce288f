"""ORM evidence of expressions: model classes (through imports and the models index), manager
chains, querysets and what ``select_related``/``prefetch_related`` load, instances from
queries, constructors, loops and unpacking, awaited async twins and bridged calls, relations
of instances, ``self.<attr>`` and the ASGI scope's ``user`` (docs/semantics.md §4).
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from channels_lint.analysis.bindings import Binding, BindingKind
from channels_lint.analysis.facts import (
    ASYNC_INSTANCE_METHODS,
    GET_USER_MODEL,
    MANAGER_ATTRIBUTES,
    QUERYSET_BUILDERS,
    QUERYSET_INSTANCE_METHODS,
    WEAK_RELATION_BUILDERS,
)
from channels_lint.analysis.flow import ValueFlow
from channels_lint.analysis.names import Names
from channels_lint.analysis.orm.evidence import Evidence, Orm, Strength, inferred_manager_call, merge
from channels_lint.analysis.syntax import Syntax, dotted, is_capitalized


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


_UNPACKED_CREATORS = ("get_or_create", "update_or_create", "aget_or_create", "aupdate_or_create")


class OrmEvidence:
    """ORM evidence of expressions (see the module docstring).

    Args:
        models: the project's models index, with this module's own models.
        path: the module's resolved path (``None`` for text without a file).
    """

    def __init__(self, syntax: Syntax, names: Names, flow: ValueFlow, models, path: str | None) -> None:
        self.syntax = syntax
        self.names = names
        self.flow = flow
        self.models = models
        self.path = path
        self._cache: dict[ast.AST, Evidence | None] = {}

    def of(self, node: ast.expr | None) -> Orm | None:
        """The kind of ORM evidence for an expression, or ``None`` when nothing is proven."""
        evidence = self.evidence(node)
        return evidence.kind if evidence is not None and not evidence.weak else None

    def evidence(self, node: ast.expr | None) -> Evidence | None:
        """ORM evidence for an expression (see :class:`Evidence`), or ``None``."""
        if node is None:
            return None
        if node not in self._cache:
            self._cache[node] = None  # guards against cycles
            self._cache[node] = self._evidence(node)
        return self._cache[node]

    # ------------------------------------------------------------------ models
    def model_info(self, name: str | None, reference: ast.expr | None = None):
        """Index entry of model ``name``, preferring the module its import points to."""
        if name is None:
            return None
        return self.models.lookup(name, self._module_path(reference))

    def _module_path(self, reference: ast.expr | None) -> str | None:
        """The file a (relatively) imported name comes from: ``from .models import X`` in
        ``app/consumers.py`` gives ``app/models.py``; this file for local names."""
        qualified = self.names.qualname(reference) if reference is not None else None
        if not (qualified and self.path):
            return self.path
        if not qualified.startswith("."):
            return self.path if "." not in qualified else None
        dots = len(qualified) - len(qualified.lstrip("."))
        package = Path(self.path).parent
        for _ in range(dots - 1):
            package = package.parent
        module = qualified.lstrip(".").rsplit(".", 1)[0]
        return str(package.joinpath(*module.split(".")).with_suffix(".py"))

    def is_model_class(self, node: ast.expr) -> bool:
        """A name imported from a ``models`` module, or a local ``models.Model`` subclass."""
        qualified = self.names.qualname(node)
        if qualified is None:
            return False
        if qualified.startswith("django."):
            return qualified in ("django.contrib.auth.models.User", "django.contrib.auth.models.Group")
        parts = qualified.lstrip(".").split(".")
        if len(parts) >= 2 and "models" in parts[:-1] and is_capitalized(parts[-1]):
            module_path = self._module_path(node) if self.path else None
            known = self.models.is_model(parts[-1], module_path) if module_path else None
            return known is not False  # a TextChoices or helper class in models.py is not a model
        if isinstance(node, ast.Name) and node.id in self.names.classes:
            return any((self.names.qualname(base) or "").endswith("models.Model") for base in self.names.classes[node.id].bases)
        return False

    # ------------------------------------------------------------------ expressions
    def _evidence(self, node: ast.expr) -> Evidence | None:
        if isinstance(node, ast.Name):
            return self._name_evidence(node)
        if isinstance(node, ast.Attribute):
            return self._attribute_evidence(node)
        if isinstance(node, ast.Call):
            return self._call_evidence(node)
        if isinstance(node, ast.Await):
            return self._awaited_evidence(node.value)
        if isinstance(node, ast.Subscript):
            value = self.evidence(node.value)
            if value is not None and value.kind is Orm.ROWS and not isinstance(node.slice, ast.Slice):
                return value.instance()
            if value is not None and value.kind is Orm.QUERYSET:
                if isinstance(node.slice, ast.Slice):
                    return value if node.slice.step is None else None
                return value.instance()
            if self.is_scope_key(node, "user"):
                return Evidence(Orm.INSTANCE, "User", info=self.models.user_model())
        return None

    def _name_evidence(self, node: ast.Name) -> Evidence | None:
        if self.is_model_class(node):
            return Evidence(Orm.MODEL, node.id, info=self.model_info(node.id, node))
        bindings = self.flow.reaching(node)
        if not bindings:
            return None
        statement = self.syntax.statement_of(node)
        # `qs = qs.filter(...)` in a loop reaches itself: its kind follows from the others
        others = [b for b in bindings if b.node is not statement] or list(bindings)
        return merge([self._binding_evidence(b) for b in others])

    def _binding_evidence(self, binding: Binding) -> Evidence | None:
        if binding.kind in (BindingKind.ASSIGN, BindingKind.ANNOTATED, BindingKind.WALRUS):
            return self.evidence(binding.value)
        if binding.kind in (BindingKind.FOR, BindingKind.COMPREHENSION):
            iterable = self.evidence(binding.source)
            target = binding.node.target if binding.kind is BindingKind.FOR else binding.node
            if iterable is None or isinstance(target, (ast.Tuple, ast.List)):
                return None
            return iterable.instance() if iterable.kind in (Orm.QUERYSET, Orm.ROWS) else None
        if binding.kind is BindingKind.UNPACK and binding.index == 0:
            # obj, created = Model.objects.get_or_create(...)
            call = binding.source.value if isinstance(binding.source, ast.Await) else binding.source
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _UNPACKED_CREATORS:
                receiver = self.evidence(call.func.value)
                if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                    return receiver.instance()
        return None

    def _awaited_evidence(self, call: ast.expr) -> Evidence | None:
        """What an awaited call gives: ``await Model.objects.aget(...)`` (an instance), the
        bridged forms the fixes write (``await database_sync_to_async(Model.objects.get)(...)``,
        ``await database_sync_to_async(list)(qs)``: evaluated rows), and laziness that
        survives the thread hop: ``await sync_to_async(Model.objects.filter)(...)``, a
        bridged lambda or a ``@database_sync_to_async`` helper of this module that *returns*
        a queryset gives a queryset that is still unevaluated (``hop`` is the callee)."""
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ASYNC_INSTANCE_METHODS:
            receiver = self.evidence(func.value)
            if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                return receiver.instance(func.attr, call)
        if isinstance(func, ast.Call) and self._is_bridge_name(func.func) and func.args:
            target = func.args[0]
            if isinstance(target, ast.Attribute) and target.attr in QUERYSET_INSTANCE_METHODS:
                receiver = self.evidence(target.value)
                if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                    return receiver.instance(target.attr, call)
            if isinstance(target, ast.Attribute) and target.attr in QUERYSET_BUILDERS:
                receiver = self.evidence(target.value)
                if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                    return replace(receiver, kind=Orm.QUERYSET, hop=target)
            if isinstance(target, ast.Name) and target.id == "list" and call.args:
                rows = self.evidence(call.args[0])
                if rows is not None and rows.kind is Orm.QUERYSET:
                    return Evidence(Orm.ROWS, rows.model, rows.loaded, info=rows.info, strength=rows.strength)
            if isinstance(target, ast.Lambda):
                return self._hop(self.evidence(target.body), target)
            if isinstance(target, (ast.Name, ast.Attribute)):
                function = self.names.local_function(ast.Call(func=target, args=[], keywords=[]))
                return self._returned(function, target) if function is not None else None
            return None
        function = self.names.local_function(call)
        if function is not None and any(
            self._is_bridge_name(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list
        ):
            return self._returned(function, func)
        return None

    def _returned(self, function, callee: ast.expr) -> Evidence | None:
        """Evidence of what a sync function of this module returns (every ``return`` agrees)."""
        if isinstance(function, ast.AsyncFunctionDef):
            return None
        returned = self.flow.returns(function)
        if not returned:
            return None
        return self._hop(merge([self.evidence(value) for value in returned]), callee)

    @staticmethod
    def _hop(evidence: Evidence | None, callee: ast.expr) -> Evidence | None:
        """A queryset that crossed a thread hop is still lazy: say where it came back from."""
        if evidence is not None and evidence.kind is Orm.QUERYSET:
            return replace(evidence, hop=callee)
        return evidence

    def _is_bridge_name(self, node: ast.expr) -> bool:
        from channels_lint.analysis.facts import SYNC_TO_ASYNC

        return self.names.resolves_to(node, SYNC_TO_ASYNC)

    def is_scope_key(self, node: ast.expr, key: str) -> bool:
        """``self.scope[key]`` / ``scope[key]`` (the ASGI scope, docs/semantics.md §1.3b)."""
        return (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == key
            and dotted(node.value) in ("self.scope", "scope")
        )

    def _attribute_evidence(self, node: ast.Attribute) -> Evidence | None:
        base = self.evidence(node.value)
        if base is not None and base.kind is Orm.MODEL:
            if node.attr in MANAGER_ATTRIBUTES or (base.info is not None and node.attr in base.info.managers):
                return Evidence(Orm.MANAGER, base.model, info=base.info)
            return None
        if base is not None and base.kind is Orm.INSTANCE and base.info is None and not node.attr.endswith("_id"):
            # an unknown model's attribute: only manager-only calls on it are telling
            strength = Strength.INFERRED if base.strength is Strength.PROVEN else Strength.WEAK
            return Evidence(Orm.MANAGER, relation=node.attr, strength=strength)
        if base is not None and base.kind is Orm.INSTANCE and base.info is not None:
            kind, target = base.info.relations.get(node.attr, (None, None))
            if kind is None:
                return None
            info = self.models.lookup(target, base.info.path)
            nested = frozenset(path.split("__", 1)[1] for path in base.loaded if path.startswith(node.attr + "__"))
            nested |= base.loaded & {"*"}
            if base.info.is_object_relation(node.attr):
                return Evidence(Orm.INSTANCE, target, nested, info=info)
            return Evidence(
                Orm.MANAGER,
                target,
                nested,
                relation=node.attr,
                prefetched=base.loads(node.attr),
                info=info,
                relation_kind=kind,
            )
        if base is None and node.attr in MANAGER_ATTRIBUTES:
            name = dotted(node.value)
            if name is not None and is_capitalized(name.rsplit(".", 1)[-1]):
                model = name.rsplit(".", 1)[-1]
                return Evidence(Orm.MANAGER, model, info=self.model_info(model, node.value))
        if self.is_model_class(node):
            return Evidence(Orm.MODEL, node.attr, info=self.model_info(node.attr, node))
        if isinstance(node.value, ast.Name) and node.value.id == "self" and isinstance(node.ctx, ast.Load):
            return self._self_attribute_evidence(node)
        return None

    def _self_attribute_evidence(self, node: ast.Attribute) -> Evidence | None:
        """``self.room`` when every value the class assigns to it has the same evidence
        (``self.room = await Room.objects.aget(...)`` in ``connect``); ``None`` placeholders
        (``self.room = None`` in ``__init__``) do not count: nothing can be called on them."""
        values = self.flow.self_attribute(node)
        if not values:
            return None
        found = [v for v in values if not (isinstance(v, ast.Constant) and v.value is None)]
        return merge([self.evidence(v) for v in found]) if found else None

    def _call_evidence(self, node: ast.Call) -> Evidence | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.evidence(func.value)
            if receiver is not None and receiver.inferred and receiver.kind is Orm.MANAGER and not inferred_manager_call(node):
                return None  # `instance.data.get(...)` may be a JSONField dict: nothing proven
            if receiver is not None and receiver.kind in (Orm.MANAGER, Orm.QUERYSET):
                if func.attr in QUERYSET_BUILDERS or func.attr == "iterator":  # iterator(): lazy until iterated
                    loaded = receiver.loaded
                    if func.attr in ("select_related", "prefetch_related"):
                        loaded |= self._loaded_paths(node)
                    # only .all() keeps a related manager's prefetched cache
                    return replace(
                        receiver, kind=Orm.QUERYSET, loaded=loaded, prefetched=receiver.prefetched and func.attr == "all"
                    )
                if func.attr in QUERYSET_INSTANCE_METHODS:
                    return receiver.instance(func.attr, node)
            elif receiver is None and func.attr in WEAK_RELATION_BUILDERS and isinstance(func.value, ast.Attribute):
                owner = dotted(func.value.value)
                if owner is not None and owner.split(".")[0] not in self.names.imports:
                    return Evidence(Orm.QUERYSET, relation=func.value.attr, strength=Strength.WEAK)
        if self.names.resolves_to(func, GET_USER_MODEL):
            return Evidence(Orm.MODEL, "User", info=self.models.user_model())
        model = self.evidence(func)
        if model is not None and model.kind is Orm.MODEL:
            return Evidence(Orm.INSTANCE, model.model, info=model.info).instance("__init__", node)
        return None

    def _loaded_paths(self, call: ast.Call) -> frozenset[str]:
        """Relation paths a ``select_related``/``prefetch_related`` call loads: string
        lookups, ``Prefetch("lookup", ...)`` objects, and ``"*"`` for a bare
        ``select_related()`` (which follows every non-null foreign key)."""
        if not call.args and not call.keywords and isinstance(call.func, ast.Attribute) and call.func.attr == "select_related":
            return frozenset({"*"})
        paths = set()
        for argument in call.args:
            nested: frozenset[str] = frozenset()
            if isinstance(argument, ast.Call) and (dotted(argument.func) or "").endswith("Prefetch"):
                prefetch = argument
                argument = prefetch.args[0] if prefetch.args else _keyword(prefetch, "lookup")
                # Prefetch("answers", queryset=Answer.objects.select_related("player")) loads answers__player
                queryset = prefetch.args[1] if len(prefetch.args) > 1 else _keyword(prefetch, "queryset")
                evidence = self.evidence(queryset) if queryset is not None else None
                if evidence is not None and evidence.kind is Orm.QUERYSET:
                    nested = evidence.loaded
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                paths.add(argument.value)
                paths.update(f"{argument.value}__{path}" for path in nested if path != "*")
        return frozenset(paths)
