"""The project's models, read statically from ``models.py`` and ``models/*.py`` with :mod:`ast`.

Django is never imported.  Every :class:`ModelInfo` is immutable: the index resolves
inheritance and reverse relations into new objects, and a module's own models are combined
with the project's by building a new index (no copies of shared state, no mutation).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from channels_lint.analysis.syntax import dotted

FORWARD_FIELDS = {"ForeignKey": "fk", "OneToOneField": "o2o", "ManyToManyField": "m2m", "ParentalKey": "fk"}
USER_MODEL_TARGETS = frozenset({"settings.AUTH_USER_MODEL", "get_user_model", "User", "auth.User"})


@dataclass(frozen=True)
class ModelInfo:
    """What the index knows about one model class.

    ``relations`` maps an attribute name to ``(kind, target model name)`` where kind is
    ``"fk"``/``"o2o"`` (the attribute is a related object, loaded lazily),
    ``"m2m"``/``"reverse-fk"``/``"reverse-m2m"`` (a related manager) or ``"reverse-o2o"``.
    ``fields`` maps concrete field names to their field class name (``"UUIDField"``).
    """

    name: str
    path: str
    relations: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    managers: frozenset[str] = frozenset({"objects"})
    bases: tuple[str, ...] = ()
    #: ``related_name`` given on forward relations (attribute -> name).
    related_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for name in ("relations", "fields", "related_names"):
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))

    def is_object_relation(self, attribute: str) -> bool:
        return self.relations.get(attribute, ("", ""))[0] in ("fk", "o2o", "reverse-o2o")

    def is_manager_relation(self, attribute: str) -> bool:
        return self.relations.get(attribute, ("", ""))[0] in ("m2m", "reverse-fk", "reverse-m2m")


#: django.contrib.auth's User, for ``scope["user"]`` (django/contrib/auth/models.py).
BUILTIN_USER = ModelInfo(
    "User",
    "django/contrib/auth/models.py",
    relations={"groups": ("m2m", "Group"), "user_permissions": ("m2m", "Permission")},
    fields={
        "id": "AutoField",
        "username": "CharField",
        "email": "EmailField",
        "last_login": "DateTimeField",
        "date_joined": "DateTimeField",
    },
)


class ModelsIndex:
    """Models of one project, by defining file and class name.

    Args:
        models: the models as read from their files (:func:`models_in_module`), before
            inheritance and reverse relations are resolved.
        classes: every top-level class name of each indexed models file (models or not).
    """

    def __init__(self, models: list[ModelInfo], classes: Mapping[str, frozenset[str]] | None = None) -> None:
        self.raw = tuple(models)
        self.classes = dict(classes or {})
        raw_by_name: dict[str, list[ModelInfo]] = {}
        for model in self.raw:
            raw_by_name.setdefault(model.name, []).append(model)
        inherited = [self._inherit(model, raw_by_name) for model in self.raw]
        by_name: dict[str, list[ModelInfo]] = {}
        for model in inherited:
            by_name.setdefault(model.name, []).append(model)
        self.by_name = by_name
        has_user = "User" in by_name
        reverse: dict[int, dict[str, tuple[str, str]]] = {}
        user_reverse: dict[str, tuple[str, str]] = {}
        for model in inherited:
            for attribute, (kind, target) in model.relations.items():
                if kind not in FORWARD_FIELDS.values():
                    continue
                related_name = model.related_names.get(attribute)
                if related_name is not None and related_name.endswith("+"):
                    continue
                default = model.name.lower() if kind == "o2o" else f"{model.name.lower()}_set"
                reverse_kind = {"fk": "reverse-fk", "o2o": "reverse-o2o", "m2m": "reverse-m2m"}[kind]
                if target == "User" and not has_user:
                    user_reverse.setdefault(related_name or default, (reverse_kind, model.name))
                    continue
                target_model = self.lookup(target, model.path)
                if target_model is not None:
                    reverse.setdefault(id(target_model), {}).setdefault(related_name or default, (reverse_kind, model.name))
        self.by_name = {
            name: [self._with_relations(model, reverse.get(id(model), {})) for model in models]
            for name, models in by_name.items()
        }
        self._user = self._with_relations(BUILTIN_USER, user_reverse)

    @staticmethod
    def _with_relations(model: ModelInfo, extra: Mapping[str, tuple[str, str]]) -> ModelInfo:
        if not extra:
            return model
        return dataclasses.replace(model, relations={**extra, **model.relations})

    @staticmethod
    def _inherit(model: ModelInfo, raw_by_name: Mapping[str, list[ModelInfo]]) -> ModelInfo:
        relations, fields, managers = dict(model.relations), dict(model.fields), set(model.managers)
        seen = {model.name}
        queue = list(model.bases)
        while queue:
            candidates = raw_by_name.get(queue.pop(), [])
            base = candidates[0] if len(candidates) == 1 else None
            if base is None or base.name in seen:
                continue
            seen.add(base.name)
            for key, value in base.relations.items():
                relations.setdefault(key, value)
            for key, value in base.fields.items():
                fields.setdefault(key, value)
            managers |= base.managers
            queue.extend(base.bases)
        if (relations, fields, managers) == (dict(model.relations), dict(model.fields), set(model.managers)):
            return model
        return dataclasses.replace(model, relations=relations, fields=fields, managers=frozenset(managers))

    def with_module(self, own: list[ModelInfo], path: str, classes: frozenset[str]) -> ModelsIndex:
        """This index with the models of ``path`` replaced by ``own`` (a module being linted
        defines models of its own)."""
        others = [m for m in self.raw if m.path != path]
        return ModelsIndex(others + own, {**self.classes, path: classes})

    def is_model(self, name: str, module_path: str) -> bool | None:
        """Whether class ``name`` of the indexed file ``module_path`` is a model; ``None``
        when that file was not indexed."""
        if module_path not in self.classes:
            return None
        return any(m.path == module_path for m in self.by_name.get(name, []))

    def lookup(self, name: str, module_path: str | None = None) -> ModelInfo | None:
        """The model ``name``, preferring one defined in ``module_path``; ``None`` if ambiguous."""
        candidates = self.by_name.get(name, [])
        if module_path is not None:
            exact = [m for m in candidates if m.path == module_path]
            if exact:
                return exact[0]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates and name == "User":
            return self._user
        return None

    @property
    def builtin_user(self) -> ModelInfo:
        """django.contrib.auth's User, with the project's reverse relations to it."""
        return self._user

    def user_model(self) -> ModelInfo:
        """The project's ``User`` model if it defines one, else django.contrib.auth's."""
        for candidate in self.by_name.get("User", []):
            return candidate
        return self._user


def _target_name(node: ast.expr | None, owner: str) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value.rsplit(".", 1)[-1]
        return owner if name == "self" else name
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node)
    if name is None:
        return None
    if name in USER_MODEL_TARGETS or name.endswith("AUTH_USER_MODEL"):
        return "User"
    return name.rsplit(".", 1)[-1]


def models_in_module(tree: ast.Module, path: str) -> list[ModelInfo]:
    """Model classes defined in one module: every class with a base named ``*Model``
    (``models.Model``, ``AbstractUser``...) or a base defined as a model in the module."""
    found: list[ModelInfo] = []
    local_models: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [dotted(base) or "" for base in node.bases]
        if not any(b.endswith(("Model", "AbstractUser", "AbstractBaseUser")) or b in local_models for b in bases):
            continue
        local_models.add(node.name)
        relations: dict[str, tuple[str, str]] = {}
        fields: dict[str, str] = {}
        managers = {"objects"}
        related_names: dict[str, str] = {}
        for statement in node.body:
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Call)
            ):
                continue
            attribute, call = statement.targets[0].id, statement.value
            callee = (dotted(call.func) or "").rsplit(".", 1)[-1]
            if callee in FORWARD_FIELDS:
                to = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "to"), None)
                target = _target_name(to, node.name)
                if target is None:
                    continue
                relations[attribute] = (FORWARD_FIELDS[callee], target)
                fields[attribute] = callee
                for keyword in call.keywords:
                    if keyword.arg == "related_name" and isinstance(keyword.value, ast.Constant):
                        related_names[attribute] = str(keyword.value.value).replace("%(class)s", node.name.lower())
            elif callee.endswith("Field"):
                fields[attribute] = callee
            elif (
                callee.endswith("Manager")
                or callee in ("as_manager", "from_queryset")
                or (isinstance(call.func, ast.Call) and (dotted(call.func.func) or "").endswith("from_queryset"))
            ):
                managers.add(attribute)
        found.append(
            ModelInfo(
                node.name,
                path,
                relations,
                fields,
                frozenset(managers),
                tuple(b.rsplit(".", 1)[-1] for b in bases),
                related_names,
            )
        )
    return found
