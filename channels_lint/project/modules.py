"""Functions and classes of other project modules, for calls that cross a module boundary.

``from .utils import notify`` and ``class ChatConsumer(PermissionMixin, ...)``: whether
``notify`` or an inherited ``self.has_perms`` is a coroutine function, a
``sync_to_async``-decorated one, a sync helper that touches the database or one that runs
``async_to_sync`` is decided by analysing the module that defines it, read statically (never
imported) on first use and cached for the run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FunctionFact:
    """What a project function (or method) is, as the calls of it need to know.

    ``coroutine``: calling it returns a coroutine (``async def``, not a generator, or a
    ``sync_to_async``/``database_sync_to_async``-decorated ``def``); ``touches_db``: a plain
    sync function that reaches the database; ``runs_async_to_sync``: a plain sync function
    that runs ``async_to_sync``.  ``path`` and ``line`` say where it is defined.
    """

    name: str
    path: str
    line: int
    coroutine: bool = False
    touches_db: bool = False
    runs_async_to_sync: bool = False


@dataclass(frozen=True)
class ClassFact:
    """A project class: its methods (own first, then its project bases'), by name."""

    name: str
    path: str
    methods: dict[str, FunctionFact] = field(default_factory=dict)
    #: Qualified names of every base, through project bases (``rest_framework.serializers.ModelSerializer``).
    ancestors: frozenset[str] = frozenset()


class ProjectModules:
    """Resolves imported names to project modules and analyses those modules on demand.

    Args:
        root: the project root.
        files: the project's ``.py`` files (from the index's bounded walk).
        read: reads a regular file's bytes (bounded), or gives ``None``.
    """

    def __init__(self, root: Path, files: list[Path], read) -> None:
        self.root = root
        self.read = read
        self._by_suffix: dict[str, list[Path]] = {}
        for path in files:
            parts = path.relative_to(root).with_suffix("").parts if path.is_relative_to(root) else path.with_suffix("").parts
            if parts and parts[-1] == "__init__":
                parts = parts[:-1]
            for start in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[start:]), []).append(path)
        self._analyses: dict[Path, object | None] = {}
        self._classes: dict[tuple[Path, str], ClassFact | None] = {}

    # ------------------------------------------------------------------ resolution
    def module_file(self, module: str, from_path: str | None) -> Path | None:
        """The file of module ``module`` (``"chat.utils"`` or relative ``".utils"``)."""
        if module.startswith("."):
            if from_path is None:
                return None
            dots = len(module) - len(module.lstrip("."))
            package = Path(from_path).parent
            for _ in range(dots - 1):
                package = package.parent
            rest = module.lstrip(".")
            base = package.joinpath(*rest.split(".")) if rest else package
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate in self._known:
                    return candidate
            return None
        found = self._by_suffix.get(module, [])
        return found[0] if len(found) == 1 else None

    @property
    def _known(self) -> set[Path]:
        known = self.__dict__.get("_known_paths")
        if known is None:
            known = self.__dict__["_known_paths"] = {p for paths in self._by_suffix.values() for p in paths}
        return known

    def _analysis(self, path: Path):
        if path not in self._analyses:
            from channels_lint.analysis import ModuleAnalysis
            from channels_lint.project.index import EMPTY

            data = self.read(path)
            analysis = None
            if data is not None:
                try:
                    tree = ast.parse(data)
                    text = data.decode("utf-8", "replace")
                    analysis = ModuleAnalysis(tree, text.splitlines(keepends=True), str(path), project=EMPTY)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    analysis = None
            self._analyses[path] = analysis
        return self._analyses[path]

    def _split(self, qualified: str, from_path: str | None) -> tuple[Path, str] | None:
        module, _, name = qualified.rpartition(".")
        if not module or not name:
            return None
        path = self.module_file(module, from_path)
        return (path, name) if path is not None else None

    @staticmethod
    def _reexport(analysis, name: str) -> str | None:
        """The qualified name a module imports ``name`` from (a package ``__init__`` that
        re-exports it), when it does."""
        qualified = analysis.names.imports.get(name)
        return qualified if qualified and "." in qualified and qualified != name else None

    # ------------------------------------------------------------------ facts
    def function(self, qualified: str, from_path: str | None, _depth: int = 0) -> FunctionFact | None:
        """The module-level function ``qualified`` (as the importing module resolves it)."""
        found = self._split(qualified, from_path)
        if found is None:
            return None
        path, name = found
        analysis = self._analysis(path)
        if analysis is None:
            return None
        function = analysis.names.module_functions.get(name)
        if function is not None:
            return _fact(analysis, function)
        reexported = self._reexport(analysis, name)
        return self.function(reexported, str(path), _depth + 1) if reexported is not None and _depth < 8 else None

    def cls(self, qualified: str, from_path: str | None, _depth: int = 0) -> ClassFact | None:
        """The module-level class ``qualified``, with the methods of its project bases."""
        found = self._split(qualified, from_path)
        if found is None or _depth > 8:
            return None
        key = found
        if key not in self._classes:
            self._classes[key] = None  # guards against cycles
            self._classes[key] = self._class(found[0], found[1], _depth)
        return self._classes[key]

    def _class(self, path: Path, name: str, depth: int) -> ClassFact | None:
        analysis = self._analysis(path)
        if analysis is None:
            return None
        if name not in analysis.names.classes:
            reexported = self._reexport(analysis, name)  # `from .base import BaseConsumer` in a package __init__
            return self.cls(reexported, str(path), depth + 1) if reexported is not None else None
        node = analysis.names.classes[name]
        methods = {m: _fact(analysis, f) for m, f in analysis.names.class_methods(node).items()}
        ancestors: set[str] = set()
        for klass in analysis.names.local_mro(node):
            for base in klass.bases:
                if isinstance(base, ast.Name) and base.id in analysis.names.classes:
                    continue  # a local base: already in class_methods
                qualified = analysis.names.qualname(base)
                if qualified:
                    ancestors.add(qualified)
                if not qualified or "." not in qualified or qualified.startswith(("django.", "channels.", "rest_framework.")):
                    continue
                inherited = self.cls(qualified, str(path), depth + 1)
                if inherited is not None:
                    ancestors |= inherited.ancestors
                    for method, fact in inherited.methods.items():
                        methods.setdefault(method, fact)
        return ClassFact(name, str(path), methods, frozenset(ancestors))


def _fact(analysis, function) -> FunctionFact:
    coroutine = analysis.coroutines.returns_coroutine(function)
    plain = analysis.context.is_plain_sync(function)
    return FunctionFact(
        function.name,
        str(analysis.path),
        function.lineno,
        coroutine=coroutine,
        touches_db=plain and function in analysis.db.helpers,
        runs_async_to_sync=plain and function in analysis.context.async_to_sync_helpers,
    )
