"""The project's routes, read statically: routes split across modules, the URL kwargs each
consumer gets, the ASGI entry point and the import graph an ASGI module starts.

Built lazily behind :attr:`ProjectIndex.routes`; each part reads only the files it needs
(regular files, bounded like the rest of the index) and imports nothing.

* :meth:`ProjectRoutes.route_kwargs`: the kwargs the routes to a consumer define, with each
  one's converter or regex (``None`` when the consumer has no known route);
* :meth:`ProjectRoutes.routed_list`: whether another module routes a module's list with a
  ``URLRouter``;
* :meth:`ProjectRoutes.models_chain`: the project modules through which an import reaches a
  models module (which needs the app registry: docs/semantics.md §10.3);
* :attr:`ProjectRoutes.serves_http` / :attr:`ProjectRoutes.asgi_applications`: ``daphne`` in
  ``INSTALLED_APPS`` (``runserver`` then serves HTTP through the ASGI application) and the
  ``ASGI_APPLICATION`` settings.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from channels_lint.analysis.routes import KwargDefinition, KwargFact, ModuleRouting, _is_test_path

#: Text a module that routes must contain to be read for routes.
_ROUTING_TEXT = re.compile(r"URLRouter|as_asgi|ProtocolTypeRouter|re_path|\bpath\(|\burl\(")
#: Modules that are safe to import before the app registry is ready although named ``models``.
_SAFE_MODELS = re.compile(r"(^|\.)db\.models(\.|$)")


class ProjectRoutes:
    """Routing facts of one project (see the module docstring)."""

    def __init__(self, index) -> None:
        self.index = index

    # ------------------------------------------------------------------ modules
    def module_name(self, path: str | Path | None) -> str | None:
        """``root/chat/routing.py`` -> ``"chat.routing"`` (``__init__`` names the package)."""
        if path is None or self.index.root is None:
            return None
        try:
            relative = Path(path).resolve().relative_to(self.index.root.resolve())
        except ValueError:
            return None
        parts = list(relative.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None

    @functools.cached_property
    def _modules_by_name(self) -> dict[str, Path]:
        found = {}
        for path in self.index._python_files:
            name = self.module_name(path)
            if name:
                found[name] = path
        return found

    def find_module(self, name: str) -> tuple[str, Path] | None:
        """The project module ``name`` (also under a ``src/``-like folder: a unique module
        whose dotted name ends with ``.name``)."""
        modules = self._modules_by_name
        if name in modules:
            return name, modules[name]
        matches = [(full, path) for full, path in modules.items() if full.endswith("." + name)]
        return matches[0] if len(matches) == 1 else None

    def absolute(self, name: str, importer: str | None, importer_is_package: bool = False) -> str | None:
        """``name`` with leading dots resolved against the importing module's package."""
        level = len(name) - len(name.lstrip("."))
        if not level:
            return name
        if importer is None:
            return None
        package = importer.split(".") if importer_is_package else importer.split(".")[:-1]
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        rest = name[level:]
        return ".".join([*base, rest] if rest else base) or None

    # ------------------------------------------------------------------ routes
    @functools.cached_property
    def summaries(self) -> dict[str, ModuleRouting]:
        """Each routing module's :class:`ModuleRouting`, by path."""
        from channels_lint.analysis import ModuleAnalysis
        from channels_lint.project.index import EMPTY, read_regular_file

        found = {}
        for path in self.index._python_files:
            data = read_regular_file(path)
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            if not _ROUTING_TEXT.search(text):
                continue
            tree = self.index._parse(path)
            if tree is None:
                continue
            analysis = ModuleAnalysis(tree, text.splitlines(keepends=True), str(path), project=EMPTY)
            found[analysis.path or str(path)] = analysis.routes.summary(self.module_name(path), _is_test_path(str(path)))
        return found

    def _with_live(self, live: ModuleRouting | None) -> list[ModuleRouting]:
        summaries = dict(self.summaries)
        if live is not None and live.path is not None:
            summaries[live.path] = live
        elif live is not None:
            summaries["<live>"] = live
        return list(summaries.values())

    def _list_prefixes(self, summaries: list[ModuleRouting], module: str | None, name: str) -> list | None:
        """Kwargs of the prefixes under which other modules route ``module.name``; ``[]``
        when no other module routes it; ``None`` when one prefix is unknown."""
        if module is None:
            return []
        found = []
        for summary in summaries:
            for reference in summary.references:
                if self._resolves_to(reference.reference, summary, module, name):
                    if reference.prefix is None:
                        return None
                    found.append(reference.prefix)
        return found

    def _resolves_to(self, reference: str, summary: ModuleRouting, module: str, name: str) -> bool:
        is_package = bool(summary.path and summary.path.endswith("__init__.py"))
        absolute = self.absolute(reference, summary.module, is_package)
        if absolute is None:
            return False
        target = f"{module}.{name}"
        return absolute == target or target.endswith("." + absolute) or absolute.endswith("." + target)

    def routed_list(self, path: str | None, name: str) -> bool:
        """Whether a ``URLRouter`` of the project routes the list ``name`` of the module at
        ``path``."""
        module = self.module_name(path)
        if module is None:
            return False
        return any(
            self._resolves_to(reference.reference, summary, module, name)
            for summary in self.summaries.values()
            for reference in summary.references
        )

    def route_kwargs(self, consumer: str, live: ModuleRouting | None = None) -> dict[str, KwargFact] | None:
        """The URL kwargs the routes to ``consumer`` define (each with its converter or
        regex), merged with the prefixes they are nested under in any module; ``None`` when the
        consumer has no known route, its name is ambiguous in the project, or a route or a use
        of ``as_asgi()`` outside routes leaves them unknown."""
        if len(self.index.consumers.get(consumer, [])) > 1:
            return None
        summaries = self._with_live(live)
        if any(consumer in summary.unrouted for summary in summaries):
            return None
        per_route: list[dict[str, KwargDefinition]] = []
        for summary in summaries:
            for route in summary.consumer_routes:
                if route.consumer != consumer:
                    continue
                if route.kwargs is None:
                    return None
                prefixes: list = [()]
                for name in route.lists:
                    outer = self._list_prefixes(summaries, summary.module, name)
                    if outer is None:
                        return None
                    if outer:
                        prefixes = outer
                for prefix in prefixes:
                    per_route.append({**dict(prefix), **dict(route.kwargs)})
        if not per_route:
            return None
        names = {name for kwargs in per_route for name in kwargs}
        return {
            name: KwargFact(
                name,
                tuple(dict.fromkeys(kwargs[name] for kwargs in per_route if name in kwargs)),
                all(name in kwargs for kwargs in per_route),
            )
            for name in sorted(names)
        }

    def mentions(self, consumer: str, live: ModuleRouting | None = None) -> bool:
        """Whether any route (evaluable or not) or any ``as_asgi()`` use outside routes names
        ``consumer``: then a ``None`` from :meth:`route_kwargs` means "unknown", not "no route"."""
        return any(
            consumer in summary.unrouted or any(route.consumer == consumer for route in summary.consumer_routes)
            for summary in self._with_live(live)
        )

    def other_kwargs(self, live: ModuleRouting | None = None) -> tuple[frozenset[str], bool]:
        """Kwargs that routes to anything but a consumer define anywhere (prefixes of nested
        routers, unknown applications), and whether one of them is unknown."""
        names: set[str] = set()
        open_ = False
        for summary in self._with_live(live):
            names |= summary.prefix_kwargs
            open_ |= summary.prefix_open
        return frozenset(names), open_

    def subclassed(self, consumer: str, live: ModuleRouting | None = None) -> bool:
        """Whether a class of a routing module, or of a module that defines consumers, names
        ``consumer`` among its bases."""
        if any(consumer in summary.subclassed for summary in self._with_live(live)):
            return True
        for _, tree, _ in self.index._channels_modules:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(_last(base) == consumer for base in node.bases):
                    return True
        return False

    # ------------------------------------------------------------------ import graph
    def models_chain(self, module: str, importer: str | None = None, importer_is_package: bool = False) -> tuple[str, ...] | None:
        """The modules (``module`` first) through which importing ``module`` reaches a models
        module, following module-level imports of project modules; ``None`` when it reaches
        none that this index can see."""
        absolute = self.absolute(module, importer, importer_is_package)
        if absolute is None:
            return None
        return self._chain(absolute, frozenset())

    def _chain(self, module: str, seen: frozenset[str]) -> tuple[str, ...] | None:
        if module in seen or len(seen) > 50:
            return None
        found = self.find_module(module)
        if found is None:
            if _is_models_module(module):
                return (module,)
            return None
        full, path = found
        facts = self._module_imports(full, path)
        if facts is None:
            return None
        imports, defines_models = facts
        if defines_models:
            return (module,)
        for imported in imports:
            chain = self._chain(imported, seen | {module})
            if chain is not None:
                return (module, *chain)
        return None

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one ProjectRoutes per index, kept for the run
    def _module_imports(self, module: str, path: Path) -> tuple[tuple[str, ...], bool] | None:
        """Absolute names of the modules a project module imports at module level, and
        whether importing it needs the app registry by itself (it defines model classes or
        calls ``get_user_model()`` at import)."""
        tree = self.index._parse(path)
        if tree is None:
            return None
        is_package = path.name == "__init__.py"
        imports: list[str] = []
        needs_registry = False
        for node in _module_level(tree.body):
            if isinstance(node, ast.Import):
                imports.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute("." * node.level + (node.module or ""), module, is_package)
                if base is None:
                    continue
                imports.append(base)
                imports.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
            elif isinstance(node, ast.Call) and _last(node.func) == "get_user_model":
                needs_registry = True
        if module.rsplit(".", 1)[-1] == "models" or path.parent.name == "models":
            needs_registry |= any(isinstance(n, ast.ClassDef) and n.bases for n in tree.body)
        return tuple(imports), needs_registry

    # ------------------------------------------------------------------ settings
    @functools.cached_property
    def _settings_modules(self) -> list[ast.Module]:
        from channels_lint.project.index import read_regular_file

        found = []
        for path in self.index._python_files:
            data = read_regular_file(path)
            if data is None:
                continue
            text = data.decode("utf-8", "replace")
            if "INSTALLED_APPS" in text or "ASGI_APPLICATION" in text:
                tree = self.index._parse(path)
                if tree is not None:
                    found.append(tree)
        return found

    @functools.cached_property
    def serves_http(self) -> bool:
        """``"daphne"`` is in ``INSTALLED_APPS``: ``runserver`` then serves every HTTP request
        through ``ASGI_APPLICATION`` (daphne/management/commands/runserver.py @ 4.2.3; §10.2)."""
        for tree in self._settings_modules:
            for node in ast.walk(tree):
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Name) and t.id == "INSTALLED_APPS" for t in targets) and _holds(
                        node.value, "daphne"
                    ):
                        return True
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("insert", "append", "extend")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "INSTALLED_APPS"
                    and any(_holds(a, "daphne") for a in node.args)
                ):
                    return True
        return False

    @functools.cached_property
    def asgi_applications(self) -> frozenset[str]:
        """Every constant ``ASGI_APPLICATION = "proj.asgi.application"`` of the project."""
        found = set()
        for tree in self._settings_modules:
            for node in tree.body:
                if (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "ASGI_APPLICATION" for t in node.targets)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    found.add(node.value.value)
        return frozenset(found)


def _holds(node: ast.expr | None, value: str) -> bool:
    if isinstance(node, ast.Constant):
        return node.value == value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return any(_holds(e, value) for e in node.elts)
    if isinstance(node, ast.BinOp):
        return _holds(node.left, value) or _holds(node.right, value)
    return False


def _is_models_module(module: str) -> bool:
    """A module outside the project named ``models`` (``django.contrib.auth.models``): it
    defines models, so importing it needs the app registry (``django.db.models`` does not)."""
    return module.rsplit(".", 1)[-1] == "models" and "." in module and not _SAFE_MODELS.search(module)


def _module_level(body: list[ast.stmt]):
    """Statements and expressions that run when the module is imported: the module body and
    the bodies of module-level ``if``/``try``/``with`` (not functions or classes, not
    ``if TYPE_CHECKING:``)."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(statement, ast.If):
            if "TYPE_CHECKING" in ast.dump(statement.test):
                continue
            yield from _module_level(statement.body)
            yield from _module_level(statement.orelse)
            continue
        if isinstance(statement, (ast.Try, ast.With)):
            yield from _module_level(statement.body)
            continue
        yield statement
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            for node in ast.walk(statement):
                if isinstance(node, ast.Call):
                    yield node


def _last(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None
