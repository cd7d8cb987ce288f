"""Project-level facts, read statically and cached once per run: the models index, target
versions and ``[tool.channels_lint]`` settings.

Nothing here imports Django or the analysed project: ``models.py`` files are parsed with
:mod:`ast`, version pins are read from ``pyproject.toml`` and ``requirements*.txt`` the way
django-upgrade reads its target version.
"""

from __future__ import annotations

import ast
import copy
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Markers of a project root, nearest first wins.
ROOT_MARKERS = ("manage.py", "pyproject.toml", "setup.cfg", "setup.py", ".git")
#: Directories never searched for models (flake8's default excludes plus environments).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".eggs",
        "__pycache__",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "build",
        "dist",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
    }
)
#: Newest versions known to this release (used when a project pins nothing).
NEWEST = {"django": (6, 1), "channels": (4, 3)}

FORWARD_FIELDS = {"ForeignKey": "fk", "OneToOneField": "o2o", "ManyToManyField": "m2m", "ParentalKey": "fk"}
USER_MODEL_TARGETS = frozenset({"settings.AUTH_USER_MODEL", "get_user_model", "User", "auth.User"})


@dataclass
class ModelInfo:
    """What the index knows about one model class.

    ``relations`` maps an attribute name to ``(kind, target model name)`` where kind is
    ``"fk"``/``"o2o"`` (the attribute is a related object, loaded lazily),
    ``"m2m"``/``"reverse-fk"``/``"reverse-m2m"`` (a related manager) or ``"reverse-o2o"``.
    ``fields`` maps concrete field names to their field class name (``"UUIDField"``).
    """

    name: str
    path: str
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    managers: set[str] = field(default_factory=lambda: {"objects"})
    bases: list[str] = field(default_factory=list)
    #: ``related_name`` given on forward relations (attribute -> name).
    related_names: dict[str, str] = field(default_factory=dict)

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
    """Models of one project, by defining file and class name."""

    def __init__(self, models: list[ModelInfo], classes: dict[str, set[str]] | None = None) -> None:
        self._user = copy.deepcopy(BUILTIN_USER)  # gains this project's reverse relations
        #: Every top-level class name of each indexed models file (models or not).
        self.classes = classes or {}
        self.by_name: dict[str, list[ModelInfo]] = {}
        for model in models:
            self.by_name.setdefault(model.name, []).append(model)
        self._inherit()
        self._add_reverse_relations()

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

    def user_model(self) -> ModelInfo:
        """The project's ``User`` model if it defines one, else django.contrib.auth's."""
        for candidate in self.by_name.get("User", []):
            return candidate
        return self._user

    def _inherit(self) -> None:
        for models in self.by_name.values():
            for model in models:
                seen = {model.name}
                queue = list(model.bases)
                while queue:
                    base = self.lookup(queue.pop())
                    if base is None or base.name in seen:
                        continue
                    seen.add(base.name)
                    for key, value in base.relations.items():
                        model.relations.setdefault(key, value)
                    for key, value in base.fields.items():
                        model.fields.setdefault(key, value)
                    model.managers |= base.managers
                    queue.extend(base.bases)

    def _add_reverse_relations(self) -> None:
        for models in list(self.by_name.values()):
            for model in models:
                for attribute, (kind, target) in list(model.relations.items()):
                    if kind not in FORWARD_FIELDS.values():
                        continue
                    related_name = model.related_names.get(attribute)
                    if related_name == "+" or (related_name or "").endswith("+"):
                        continue
                    target_model = self.lookup(target, model.path)
                    if target_model is None:
                        continue
                    default = model.name.lower() if kind == "o2o" else f"{model.name.lower()}_set"
                    reverse_kind = {"fk": "reverse-fk", "o2o": "reverse-o2o", "m2m": "reverse-m2m"}[kind]
                    target_model.relations.setdefault(related_name or default, (reverse_kind, model.name))


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


def dotted(node: ast.expr | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else ``None`` (no import resolution)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


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
        model = ModelInfo(node.name, path, bases=[b.rsplit(".", 1)[-1] for b in bases])
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
                model.relations[attribute] = (FORWARD_FIELDS[callee], target)
                model.fields[attribute] = callee
                for keyword in call.keywords:
                    if keyword.arg == "related_name" and isinstance(keyword.value, ast.Constant):
                        model.related_names[attribute] = str(keyword.value.value).replace("%(class)s", node.name.lower())
            elif callee.endswith("Field"):
                model.fields[attribute] = callee
            elif (
                callee.endswith("Manager")
                or callee in ("as_manager", "from_queryset")
                or (isinstance(call.func, ast.Call) and (dotted(call.func.func) or "").endswith("from_queryset"))
            ):
                model.managers.add(attribute)
        found.append(model)
    return found


def find_root(path: Path) -> Path:
    """The nearest ancestor of ``path`` holding a project marker (``manage.py``, ``pyproject.toml``...)."""
    path = path.resolve()
    return _find_root(path if path.is_dir() else path.parent)


@functools.lru_cache(maxsize=1024)
def _find_root(directory: Path) -> Path:
    """Cached per directory: flake8 asks once per file."""
    for candidate in (directory, *directory.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return directory


#: Directories searched for models at most: a root found far too high (a home directory
#: under version control) must not turn one lint run into a walk of the whole disk.
MAX_MODEL_DIRECTORIES = 20_000


def _model_files(root: Path) -> list[Path]:
    """``models.py`` and ``models/*.py`` under ``root`` (``os.walk``, top-down), skipping
    :data:`SKIP_DIRS` and hidden directories, visiting at most :data:`MAX_MODEL_DIRECTORIES`."""
    files = []
    for visited, (directory, dirs, names) in enumerate(os.walk(root)):
        if visited >= MAX_MODEL_DIRECTORIES:
            break
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        base = Path(directory)
        if base.name == "models":
            files.extend(base / n for n in sorted(names) if n.endswith(".py"))
        elif "models.py" in names:
            files.append(base / "models.py")
    return files


@functools.lru_cache(maxsize=16)
def models_index(root: Path) -> ModelsIndex:
    """Parse every ``models.py`` / ``models/*.py`` under ``root`` once per process."""
    models: list[ModelInfo] = []
    classes: dict[str, set[str]] = {}
    for path in _model_files(root):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, OSError, RecursionError):
            continue
        models.extend(models_in_module(tree, str(path)))
        classes[str(path)] = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    return ModelsIndex(models, classes)


# ----------------------------------------------------------------------------- versions

#: Specifier operators that set a lower bound (PEP 440).
_LOWER_BOUNDS = ("==", "===", "~=", ">=", ">")
_TRACKED = ("django", "channels")


def parse_version(text: str) -> tuple[int, int]:
    """``"4.2"`` -> ``(4, 2)``.

    Raises:
        ValueError: not ``MAJOR`` or ``MAJOR.MINOR``.
    """
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*", text.strip())
    if not match:
        raise ValueError(f"expected a version like 4.2, got {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def pinned_versions(root: Path) -> dict[str, tuple[int, int]]:
    """The lowest Django/Channels version a project's requirements admit, as django-upgrade
    reads its target: the lower bound (``==``, ``~=``, ``>=``, ``>``; ``^``/``~`` in Poetry)
    of each requirement, the lowest across requirements.

    Reads ``[project].dependencies`` and optional dependencies of ``pyproject.toml``, Poetry's
    ``[tool.poetry.dependencies]``, and ``requirements*.txt`` / ``requirements/*.txt``.
    """
    requirements: list[str] = []
    poetry: dict[str, str] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text())
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            data = {}
        project = data.get("project", {})
        requirements.extend(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements.extend(extra)
        for name, spec in data.get("tool", {}).get("poetry", {}).get("dependencies", {}).items():
            poetry[name] = spec.get("version", "") if isinstance(spec, dict) else str(spec)
    for path in sorted([*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")]):
        try:
            requirements.extend(path.read_text().splitlines())
        except (OSError, UnicodeDecodeError):
            continue
    bounds: dict[str, list[tuple[int, int]]] = {}
    for line in requirements:
        name, lower = _requirement_lower_bound(line)
        if name in _TRACKED and lower is not None:
            bounds.setdefault(name, []).append(lower)
    for name, spec in poetry.items():
        lower = _poetry_lower_bound(spec)
        if name.lower() in _TRACKED and lower is not None:
            bounds.setdefault(name.lower(), []).append(lower)
    # the lowest version any requirement admits is the one the code must run on
    return {name: min(found) for name, found in bounds.items()}


def _requirement_lower_bound(line: str) -> tuple[str | None, tuple[int, int] | None]:
    """``"Django>=4.0,<4.2,!=4.1.3"`` -> ``("django", (4, 0))`` via :mod:`packaging`; a
    requirement without a lower bound gives ``(name, None)``, a non-requirement ``(None, None)``."""
    try:
        requirement = Requirement(line.split("#", 1)[0].strip())
    except InvalidRequirement:
        return None, None
    lowers = []
    for specifier in requirement.specifier:
        if specifier.operator in _LOWER_BOUNDS:
            try:
                lowers.append(parse_version(specifier.version.rstrip(".*")))
            except ValueError:
                continue
    # all clauses hold at once: the lower bound is the highest of them
    return requirement.name.lower(), max(lowers) if lowers else None


def _poetry_lower_bound(spec: str) -> tuple[int, int] | None:
    """Poetry constraints: ``"4.1"``, ``"^4.1"``, ``"~4.1.3"``, ``"4.1.*"``, ``">=4.0,<5"``."""
    lowers = []
    for clause in re.split(r"[,\s]+", spec.strip()):
        match = re.fullmatch(r"(\^|~=?|==|>=|>)?v?(\d+(?:\.\d+)*)(?:\.\*)?", clause)
        if match:
            lowers.append(parse_version(match.group(2)))
    return max(lowers) if lowers else None


@dataclass(frozen=True)
class Settings:
    """What rules may depend on beyond the file itself.

    ``django_version``/``channels_version`` are ``(major, minor)``; ``orm_style`` is
    ``"database_sync_to_async"`` (default) or ``"async-methods"``.
    """

    django_version: tuple[int, int] = NEWEST["django"]
    channels_version: tuple[int, int] = NEWEST["channels"]
    orm_style: str = "database_sync_to_async"

    ORM_STYLES = ("database_sync_to_async", "async-methods")


def tool_settings(root: Path) -> dict[str, str]:
    """``[tool.channels_lint]`` of the project's pyproject.toml (keys with ``-`` or ``_``).

    Raises:
        ValueError: the table has a key other than ``django-version``,
            ``channels-version`` and ``orm-style``.
    """
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("channels_lint", {})
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
        return {}
    settings = {key.replace("_", "-"): str(value) for key, value in table.items()}
    unknown = sorted(set(settings) - {"django-version", "channels-version", "orm-style"})
    if unknown:
        raise ValueError(f"unknown key(s) in [tool.channels_lint]: {', '.join(unknown)}")
    return settings


@functools.lru_cache(maxsize=64)
def project_settings(
    root: Path,
    django_version: str | None = None,
    channels_version: str | None = None,
    orm_style: str | None = None,
) -> Settings:
    """Settings for a project: explicit options, else ``[tool.channels_lint]``, else pins,
    else the newest versions.

    Raises:
        ValueError: a version is malformed or ``orm_style`` is unknown.
    """
    table = tool_settings(root)
    pins = pinned_versions(root)
    django = django_version or table.get("django-version")
    channels = channels_version or table.get("channels-version")
    style = orm_style or table.get("orm-style") or "database_sync_to_async"
    if style not in Settings.ORM_STYLES:
        raise ValueError(f"orm-style must be one of {', '.join(Settings.ORM_STYLES)}, got {style!r}")
    return Settings(
        parse_version(django) if django else pins.get("django", NEWEST["django"]),
        parse_version(channels) if channels else pins.get("channels", NEWEST["channels"]),
        style,
    )


def add_settings_arguments(parser) -> None:
    """The target-version and fix-style options, shared by the CLI and the codemod."""
    parser.add_argument("--django-version", default=None, help="Target Django version, e.g. 4.2 (default: from pins).")
    parser.add_argument("--channels-version", default=None, help="Target Channels version, e.g. 4.1 (default: from pins).")
    parser.add_argument(
        "--orm-style",
        choices=Settings.ORM_STYLES,
        default=None,
        help="How ORM fixes are written: database_sync_to_async (default) or the native async-methods.",
    )
