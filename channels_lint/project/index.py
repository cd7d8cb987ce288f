"""The project index: cross-module facts, read statically once per project root and run.

What it holds (each part built on first use, so a run that needs no cross-module fact reads
no other file):

* :attr:`ProjectIndex.models`: the models of every ``models.py`` / ``models/*.py``;
* :attr:`ProjectIndex.consumers`: every class that derives from a Channels consumer, also
  through project base classes and mixins in other modules, with its methods;
* :attr:`ProjectIndex.event_types`: the ``"type"`` of every channel-layer event the project
  sends, where it is sent.

Files are read, never imported; only regular files up to :data:`MAX_FILE_BYTES` are opened,
at most :data:`MAX_FILES` of them, and only files whose text mentions Channels are parsed.
Analyzers never do file I/O: the engine hands them this index.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from channels_lint.project.models import ModelsIndex, models_in_module

#: Markers of a project root, nearest first wins.
ROOT_MARKERS = ("manage.py", "pyproject.toml", "setup.cfg", "setup.py", ".git")
#: Directories never read (flake8's default excludes plus environments).
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
#: Directories visited at most: a root found far too high (a home directory under version
#: control) must not turn one lint run into a walk of the whole disk.
MAX_DIRECTORIES = 20_000
#: ``.py`` files considered at most, and the largest one read (bytes).
MAX_FILES = 20_000
MAX_FILE_BYTES = 1_000_000
#: Text that a module defining a consumer or sending an event must contain.
_CHANNELS_TEXT = re.compile(r"Consumer|channel_layer|group_send|WebsocketDenier")


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


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else ``None``
    (a FIFO named ``models.py`` must not block the run; an unreadable file is skipped)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with open(path, "rb") as stream:
            return stream.read(limit + 1)
    except OSError:
        return None


@dataclass(frozen=True)
class ConsumerFact:
    """A consumer class of the project.

    ``base`` is the qualified name of the Channels class it derives from, ``is_async``
    whether its handlers are coroutines, ``methods`` the names its own body and its project
    bases define (nearest first), ``path`` the file that defines it.
    """

    name: str
    path: str
    base: str
    is_async: bool
    methods: frozenset[str]


@dataclass(frozen=True)
class ConsumerHandlers:
    """Where the project's consumers get their methods from (for event handlers).

    ``defined_in`` maps each method name defined by a consumer class, or by a project class
    in its bases (mixins included), to the files defining it.  ``readable`` is false when a
    handler may exist that the index cannot see: a consumer derives from a class the index
    cannot read (outside the project, or in a module it did not parse), a class derives from
    a ``*Consumer`` base that resolves to no consumer (a library consumer), or a consumer
    defines ``__getattr__``/``__getattribute__`` or a ``dispatch`` that does not call
    ``super().dispatch``.  ``definitions`` maps each method name to ``(path, def)`` for every
    definition in a project module (not the ones ``channels_lint.runtime`` defines); the
    ``def`` nodes belong to the trees :meth:`ProjectIndex.module_analysis` analyses.
    """

    defined_in: dict[str, frozenset[str]]
    readable: bool
    definitions: dict[str, tuple[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _ClassRecord:
    name: str
    path: str
    base_names: tuple[str, ...]  # qualified names of the bases as the module spells them
    methods: frozenset[str]


class ProjectIndex:
    """Cross-module facts of the project under ``root`` (``None``: no project, empty facts)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        #: ``False`` when a bound was hit or a file could not be parsed: facts may be missing.
        self.complete = True
        #: Why project files were left out (``path: reason``), for front ends to show.
        self.notes: list[str] = []

    @classmethod
    def for_path(cls, path: str | None) -> ProjectIndex:
        """The index of the project holding ``path`` (one per root and process)."""
        if path is None:
            return EMPTY
        return _index_for_root(find_root(Path(path)))

    # ------------------------------------------------------------------ files
    @functools.cached_property
    def _python_files(self) -> list[Path]:
        """``*.py`` files under the root (top-down, skipping :data:`SKIP_DIRS` and hidden
        directories), bounded by :data:`MAX_DIRECTORIES` and :data:`MAX_FILES`."""
        if self.root is None:
            return []
        files: list[Path] = []
        for visited, (directory, dirs, names) in enumerate(os.walk(self.root)):
            if visited >= MAX_DIRECTORIES or len(files) >= MAX_FILES:
                self.complete = False
                break
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            files.extend(Path(directory, n) for n in sorted(names) if n.endswith(".py"))
        return files[:MAX_FILES]

    def _parse(self, path: Path, data: bytes | None = None) -> ast.Module | None:
        """``path``'s ``ast`` (``data``: its bytes, when the caller read them), or ``None`` when
        it is no regular file within the size bound or does not parse: CPython rejects some
        files with ``MemoryError``/``RecursionError`` (thousands of nested operators), and such
        a file drops out of the index with a note instead of failing the lint of every file."""
        if data is None:
            data = read_regular_file(path)
        if data is None:
            return None
        try:
            return ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            self.complete = False
            self.notes.append(f"{path}: not indexed ({type(error).__name__}: {getattr(error, 'msg', None) or error})")
            return None

    # ------------------------------------------------------------------ models
    @functools.cached_property
    def models(self) -> ModelsIndex:
        """Every ``models.py`` / ``models/*.py`` under the root, parsed once."""
        models = []
        classes: dict[str, frozenset[str]] = {}
        for path in self._python_files:
            if not (path.name == "models.py" or path.parent.name == "models"):
                continue
            tree = self._parse(path)
            if tree is None:
                continue
            models.extend(models_in_module(tree, str(path)))
            classes[str(path)] = frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
        return ModelsIndex(models, classes)

    # ------------------------------------------------------------------ consumers and events
    @functools.cached_property
    def _channels_modules(self) -> list[tuple[str, ast.Module, list[str]]]:
        found = []
        for path in self._python_files:
            data = read_regular_file(path)
            if data is None or not _CHANNELS_TEXT.search(data.decode("utf-8", "replace")):
                continue
            tree = self._parse(path, data)
            if tree is not None:
                found.append((str(path), tree, data.decode("utf-8", "replace").splitlines(keepends=True)))
        return found

    @functools.cached_property
    def consumers(self) -> dict[str, list[ConsumerFact]]:
        """Consumer classes by class name (several modules may define one name)."""
        from channels_lint.analysis.facts import CONSUMER_BASES
        from channels_lint.analysis.names import Names
        from channels_lint.analysis.syntax import Syntax

        records: dict[str, list[_ClassRecord]] = {}
        for path, tree, lines in self._channels_modules:
            names = Names(Syntax(tree, lines))
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    bases = tuple(filter(None, (names.qualname(base) for base in node.bases)))
                    methods = frozenset(s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))
                    records.setdefault(node.name, []).append(_ClassRecord(node.name, path, bases, methods))

        resolved: dict[int, ConsumerFact | None] = {}

        def resolve(record: _ClassRecord, seen: frozenset[int]) -> ConsumerFact | None:
            if id(record) in resolved:
                return resolved[id(record)]
            fact = None
            for base in record.base_names:
                if base in CONSUMER_BASES:
                    fact = ConsumerFact(record.name, record.path, base, CONSUMER_BASES[base], record.methods)
                    break
                candidates = records.get(base.rsplit(".", 1)[-1], [])
                if len(candidates) == 1 and id(candidates[0]) not in seen:
                    inherited = resolve(candidates[0], seen | {id(record)})
                    if inherited is not None:
                        fact = ConsumerFact(
                            record.name, record.path, inherited.base, inherited.is_async, record.methods | inherited.methods
                        )
                        break
            resolved[id(record)] = fact
            return fact

        consumers: dict[str, list[ConsumerFact]] = {}
        for name, candidates in records.items():
            for record in candidates:
                fact = resolve(record, frozenset())
                if fact is not None:
                    consumers.setdefault(name, []).append(fact)
        return consumers

    def consumer(self, name: str) -> ConsumerFact | None:
        """The project's consumer class ``name`` when exactly one module defines one."""
        candidates = self.consumers.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    @functools.cached_property
    def handler_names(self) -> frozenset[str]:
        """Every method name of every consumer class of the project."""
        return frozenset(name for facts in self.consumers.values() for fact in facts for name in fact.methods)

    @functools.cached_property
    def event_types(self) -> dict[str, list[tuple[str, int]]]:
        """Literal ``"type"`` values of channel-layer events the project sends, with where
        (path, line) each is sent."""
        from channels_lint.analysis import ModuleAnalysis

        found: dict[str, list[tuple[str, int]]] = {}
        for path, tree, lines in self._channels_modules:
            analysis = ModuleAnalysis(tree, lines, path, project=EMPTY)
            for event in analysis.layer.events:
                if event.type is not None:
                    found.setdefault(event.type, []).append((path, event.call.lineno))
        return found


    @functools.cached_property
    def consumer_handlers(self) -> ConsumerHandlers:
        """Where each consumer method of the project is defined (see :class:`ConsumerHandlers`).

        Bases from ``channels_lint.runtime`` are read from this package's own source: the
        runtime's mixins are known code, not a library the index cannot see."""
        from channels_lint.analysis.facts import CONSUMER_BASES

        records: dict[str, list[_HandlerRecord]] = {}
        for path, tree, lines in self._channels_modules:
            for record in _handler_records(tree, lines, path):
                records.setdefault(record.name, []).append(record)
        runtime = _runtime_records()
        consumer_files = {(fact.name, fact.path) for facts in self.consumers.values() for fact in facts}
        defined_in: dict[str, set[str]] = {}
        definitions: dict[str, list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]] = {}
        readable = self.complete

        runtime_paths = {record.path for record in runtime.values()}

        def lookup(base: str, within: _HandlerRecord | None = None) -> _HandlerRecord | None:
            if base.startswith("channels_lint.runtime.") or (within is not None and within.path in runtime_paths):
                return runtime.get(base.rsplit(".", 1)[-1])
            found = records.get(base.rsplit(".", 1)[-1], [])
            if within is not None and "." not in base:  # a class of the same module comes first
                found = [record for record in found if record.path == within.path] or found
            return found[0] if len(found) == 1 else None

        for name, candidates in records.items():
            for record in candidates:
                if (name, record.path) not in consumer_files:
                    if any(base.rsplit(".", 1)[-1].endswith("Consumer") for base in record.base_names):
                        # derives from a consumer the index cannot resolve (a library's)
                        readable &= any(b in CONSUMER_BASES or lookup(b) is not None for b in record.base_names)
                    continue
                queue, seen = [record], set()
                while queue:
                    current = queue.pop()
                    if id(current) in seen:
                        continue
                    seen.add(id(current))
                    readable &= not current.opaque
                    for method in current.methods:
                        defined_in.setdefault(method, set()).add(current.path)
                        if current.path not in runtime_paths and method in current.functions:
                            pairs = definitions.setdefault(method, [])
                            if (current.path, current.functions[method]) not in pairs:
                                pairs.append((current.path, current.functions[method]))
                    for base in current.base_names:
                        if base in CONSUMER_BASES or base in ("object", "typing.Generic"):
                            continue
                        found = lookup(base, current)
                        if found is not None:
                            queue.append(found)
                        else:
                            readable = False
        return ConsumerHandlers(
            {name: frozenset(paths) for name, paths in defined_in.items()},
            readable,
            {name: tuple(pairs) for name, pairs in definitions.items()},
        )

    def module_analysis(self, path: str):
        """The :class:`~channels_lint.analysis.ModuleAnalysis` of a project module that
        mentions Channels (its tree as the index parsed it), or ``None``."""
        cache = self.__dict__.setdefault("_module_analyses", {})
        if path not in cache:
            from channels_lint.analysis import ModuleAnalysis

            found = next(((tree, lines) for p, tree, lines in self._channels_modules if p == path), None)
            cache[path] = ModuleAnalysis(found[0], found[1], path, project=self) if found is not None else None
        return cache[path]

    @functools.cached_property
    def async_unsafe(self):
        """Where the project runs with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set
        (:mod:`channels_lint.project.environment`)."""
        from channels_lint.project.environment import AsyncUnsafeCoverage, coverage

        if self.root is None:
            return AsyncUnsafeCoverage()
        return coverage(self.root, self._python_files, read_regular_file)

    @functools.cached_property
    def modules(self):
        """Functions and classes of project modules, analysed on first use
        (:class:`channels_lint.project.modules.ProjectModules`); ``None`` without a root."""
        from channels_lint.project.modules import ProjectModules

        return ProjectModules(self.root, self._python_files, read_regular_file) if self.root is not None else None

    def async_unsafe_allowed(self, path: str | None) -> bool:
        """Whether the file at ``path`` runs with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set."""
        return path is not None and self.root is not None and self.async_unsafe.covers(Path(path))


    # ------------------------------------------------------------------ routes (issue 10)
    @functools.cached_property
    def routes(self):
        """Routes split across modules, the URL kwargs each consumer's routes define, the
        ASGI settings and the import graph (:class:`channels_lint.project.routes.ProjectRoutes`,
        each part read on first use)."""
        from channels_lint.project.routes import ProjectRoutes

        return ProjectRoutes(self)

    def route_kwargs(self, consumer_name: str):
        """``{kwarg: KwargFact}`` the project's routes to the consumer class ``consumer_name``
        define (converter ``int``/``str``/``slug``/``uuid``/``path``, or ``regex`` with the
        group's pattern); ``None`` when the consumer has no known route.  Lint code should ask
        ``ModuleAnalysis.routes.route_kwargs``, which also sees the module being linted."""
        return self.routes.route_kwargs(consumer_name)

@dataclass(frozen=True)
class _HandlerRecord:
    name: str
    path: str
    base_names: tuple[str, ...]
    methods: frozenset[str]
    #: defines ``__getattr__``/``__getattribute__``, or a ``dispatch`` that does not hand the
    #: message to ``super().dispatch``: it may handle types no method is named after
    opaque: bool
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict, compare=False, hash=False)


def _handler_records(tree: ast.Module, lines: list[str], path: str) -> list[_HandlerRecord]:
    from channels_lint.analysis.names import Names
    from channels_lint.analysis.syntax import Syntax, dotted

    names = Names(Syntax(tree, lines))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        functions = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        dispatch = functions.get("dispatch")
        transparent = dispatch is None or any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "dispatch"
            and isinstance(call.func.value, ast.Call)
            and dotted(call.func.value.func) == "super"
            for call in ast.walk(dispatch)
        )
        opaque = not transparent or bool(functions.keys() & {"__getattr__", "__getattribute__"})
        bases = tuple(names.qualname(base) or "?" for base in node.bases)
        # `chat_message = handle_chat` in the class body defines a handler too
        assigned = {
            target.id
            for statement in node.body
            if isinstance(statement, (ast.Assign, ast.AnnAssign))
            for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
            if isinstance(target, ast.Name)
        }
        found.append(_HandlerRecord(node.name, path, bases, frozenset(functions) | assigned, opaque, functions))
    return found


@functools.lru_cache(maxsize=1)
def _runtime_records() -> dict[str, _HandlerRecord]:
    """The classes of ``channels_lint.runtime``, read from this package's source."""
    found: dict[str, _HandlerRecord] = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "runtime").glob("*.py")):
        data = read_regular_file(path)
        if data is None:
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for record in _handler_records(tree, data.decode("utf-8", "replace").splitlines(keepends=True), str(path)):
            found.setdefault(record.name, record)
    return found


def runtime_methods(name: str) -> frozenset[str] | None:
    """The methods class ``name`` of ``channels_lint.runtime`` and its bases define (read
    from this package's source); ``None`` when it is no runtime class, or a base of it is
    neither a runtime class nor a Channels consumer."""
    from channels_lint.analysis.facts import CONSUMER_BASES

    records = _runtime_records()
    methods: set[str] = set()
    queue, seen = [name], set()
    while queue:
        current = queue.pop()
        if current in seen:
            continue
        seen.add(current)
        record = records.get(current)
        if record is None:
            return None
        methods |= record.methods
        for base in record.base_names:
            if base not in CONSUMER_BASES and base != "object":
                queue.append(base.rsplit(".", 1)[-1])
    return frozenset(methods)

EMPTY = ProjectIndex(None)


@functools.lru_cache(maxsize=16)
def _index_for_root(root: Path) -> ProjectIndex:
    return ProjectIndex(root)
