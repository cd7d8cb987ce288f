"""The configuration model: what one run of channels-lint was asked to do, in one object.

Every option lives in one :class:`Layer` per source, and sources rank (one precedence,
documented in ``docs/configuration.md``)::

    command line  >  [tool.channels_lint] in pyproject.toml  >  flake8's config
    (setup.cfg / tox.ini / .flake8 [flake8])  >  the project's pins  >  defaults

:meth:`Options.merge` turns the layers of one project into the :class:`Options` the front
ends hand on (``fix_bytes(options=...)``, ``ApplyChannelsLintFixes(options=...)``): rule
selection resolved to explicit codes, paths normalised.  :class:`Settings` is what a rule may
depend on beyond the file itself (target versions, fix style, project knowledge), resolved
per project root by :func:`channels_lint.project.project_settings`.

Keys are spelt with dashes in ``[tool.channels_lint]`` (as ruff spells its keys: ``orm_style``
is an unknown key there, with a suggestion); flake8's config accepts dashes and underscores,
as flake8 does for its own options.  Unknown keys and values of the wrong type raise
:class:`ConfigError` with a suggestion.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import fnmatch
import functools
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Newest versions known to this release (used when a project pins nothing).
NEWEST = {"django": (6, 1), "channels": (4, 3)}
ORM_STYLES = ("database_sync_to_async", "async-methods")
#: What ``check``/``fix`` skip under a directory unless ``exclude`` replaces it (flake8's
#: default list plus environments and build output).  Virtual environments (a directory
#: holding ``pyvenv.cfg``) and ``site-packages`` are skipped whatever ``exclude`` says.
DEFAULT_EXCLUDE = (
    ".svn",
    "CVS",
    ".bzr",
    ".hg",
    ".git",
    "__pycache__",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg",
    ".venv",
    "venv",
    "node_modules",
    "build",
    "dist",
)
#: flake8's pattern for an error-code prefix.
CODE_PREFIX = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")
_CONSUMER_KINDS = {"async": True, "sync": False}
_QUALIFIED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ValueError):
    """A configuration that cannot be used: unknown key, wrong type, bad value, unreadable file.

    The message names the source (``pyproject.toml [tool.channels_lint]``) and, where one is
    close, a suggestion.  The CLI exits 2 with it; under flake8 it is one CHN900 per file.
    """


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'orm-style'?"`` for the closest choice, or ``""`` (a choice that
    ``word`` starts with, a rule code followed by a stray digit, comes first)."""
    choices = list(choices)
    close = sorted((c for c in choices if word.startswith(c) and len(c) >= len(word) - 2), key=len, reverse=True)[:1]
    close = close or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.replace("_", "-").lower(), choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def parse_version(text: str) -> tuple[int, int]:
    """``"4.2"`` -> ``(4, 2)``.

    Raises:
        ValueError: not ``MAJOR`` or ``MAJOR.MINOR`` (a patch part is accepted and dropped).
    """
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*", text.strip())
    if not match:
        raise ValueError(f"expected a version like 4.2, got {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def codes(value: str) -> list[str]:
    """``"chn101, CHN2"`` -> ``["CHN101", "CHN2"]`` (option parsing for code lists)."""
    return [code.strip().upper() for code in re.split(r"[,\s]+", value) if code.strip()]


def comma_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [item.strip() for item in re.split(r"[,\n]", value) if item.strip()]


def known_codes() -> tuple[str, ...]:
    """Every registered rule code (imported lazily: rules import the analysis, which imports
    this module)."""
    from channels_lint.rules import REGISTRY

    return tuple(sorted(REGISTRY))


@dataclass(frozen=True)
class Settings:
    """What rules may depend on beyond the file itself.

    ``django_version``/``channels_version`` are ``(major, minor)``; ``orm_style`` is
    ``"database_sync_to_async"`` (default) or ``"async-methods"``.  The project knowledge
    (``extra_consumer_bases``: qualified class name -> whether its handlers are async;
    ``extra_model_managers``: manager attribute names besides ``objects``;
    ``safe_serializers``: qualified names of functions whose result is a safe payload) is
    accepted and validated; the analysis does not read it yet (``docs/configuration.md``).
    """

    django_version: tuple[int, int] = NEWEST["django"]
    channels_version: tuple[int, int] = NEWEST["channels"]
    orm_style: str = "database_sync_to_async"
    extra_consumer_bases: tuple[tuple[str, bool], ...] = ()
    extra_model_managers: tuple[str, ...] = ()
    safe_serializers: tuple[str, ...] = ()

    ORM_STYLES = ORM_STYLES


# ---------------------------------------------------------------------------- one source


#: A ``per-file-ignores`` entry: ``(pattern, code prefixes)``.  A pattern holding a ``/`` is
#: made absolute against the directory of the file that gave it (the current directory for the
#: command line) and matched against a file's absolute path; one without is matched against
#: the base name (flake8's rule).
PerFileIgnore = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Layer:
    """The options one source gave (``None``/empty: not given).

    ``source`` names it in error messages (``"pyproject.toml [tool.channels_lint]"``).
    """

    source: str = "command line"
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] | None = None
    extend_ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[PerFileIgnore, ...] | None = None
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    django_version: str | None = None
    channels_version: str | None = None
    orm_style: str | None = None
    extra_consumer_bases: tuple[tuple[str, bool], ...] | None = None
    extra_model_managers: tuple[str, ...] | None = None
    safe_serializers: tuple[str, ...] | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str, base: str) -> Layer:
        """From ``[tool.channels_lint]`` (TOML values; keys with dashes only).

        ``base`` is the directory of the file: relative path patterns are anchored there.

        Raises:
            ConfigError: an unknown key, a value of the wrong type or a bad value.
        """
        values: dict[str, Any] = {}
        for key, value in table.items():
            spec = KEYS.get(key)
            if spec is None:
                hint = " (keys are spelt with dashes)" if "_" in key and key.replace("_", "-") in KEYS else ""
                raise ConfigError(f"{source}: unknown key {key!r}{hint}{suggest(key, KEYS)}")
            values[spec.field] = spec.from_toml(value, f"{source}: {key}", base)
        return cls(source=source, **values)

    @classmethod
    def from_flake8(cls, section: Mapping[str, str], source: str, base: str) -> Layer:
        """From flake8's ``[flake8]`` section: the keys channels-lint knows, spelt with dashes
        or underscores as flake8 allows; other keys belong to flake8 and its plugins.

        flake8's ``select``/``ignore`` lists name every tool's codes: only the entries that
        can match a CHN code count (``E``, ``W``, ``F`` say nothing about CHN), and a
        ``select`` naming no CHN code is taken as not given.

        Raises:
            ConfigError: a value channels-lint reads is malformed.
        """
        values: dict[str, Any] = {}
        for raw_key, text in section.items():
            key = raw_key.replace("_", "-").lower()
            spec = KEYS.get(key)
            if spec is None:
                continue
            value = spec.from_flake8(text, f"{source}: {raw_key}", base)
            if spec.kind == "codes":
                value = tuple(code for code in value if _about_chn(code))
                if key == "select" and not value:
                    continue
            elif spec.kind == "per-file-ignores":
                value = tuple((p, tuple(c for c in cs if _about_chn(c))) for p, cs in value)
                value = tuple((p, cs) for p, cs in value if cs)
            values[spec.field] = value
        return cls(source=source, **values)

    def given(self) -> dict[str, Any]:
        """The fields this source set."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "source" and getattr(self, f.name) not in (None, ())
        }


def _about_chn(code: str) -> bool:
    """Can this flake8 code prefix match a CHN code (``C``, ``CH``, ``CHN``, ``CHN1``...)?"""
    return "CHN".startswith(code) or code.startswith("CHN")


# ---------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class Key:
    """One configuration key: its field, its kind of value and how each source spells it."""

    name: str
    kind: str
    help: str
    example: str

    @property
    def field(self) -> str:
        return self.name.replace("-", "_")

    def from_toml(self, value: Any, where: str, base: str) -> Any:
        """Validate a TOML value.

        Raises:
            ConfigError: wrong type or bad value (with an example of the right shape).
        """
        if self.kind in ("codes", "patterns", "names", "qualified-names"):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError(f"{where} must be a list of strings, e.g. {self.example}, got {_toml_repr(value)}")
            return self._items(value, where, base)
        if self.kind in ("version", "orm-style"):
            if not isinstance(value, str):
                got = _toml_repr(value)
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                hint = f' (a TOML number is not a version: write "{got}" with the quotes)' if number else ""
                raise ConfigError(f"{where} must be a string, e.g. {self.example}, got {got}{hint}")
            return self._scalar(value, where)
        if self.kind == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                isinstance(codes_, list) and all(isinstance(c, str) for c in codes_) for codes_ in value.values()
            ):
                raise ConfigError(f"{where} must be a table of lists of codes, e.g. {self.example}, got {_toml_repr(value)}")
            return tuple(
                (_anchor(pattern, base), tuple(_check_codes([c.upper() for c in codes_], where)))
                for pattern, codes_ in value.items()
            )
        if self.kind == "consumer-bases":
            if not isinstance(value, dict) or not all(isinstance(kind, str) for kind in value.values()):
                raise ConfigError(f'{where} must be a table of class name = "async" or "sync", e.g. {self.example}')
            return tuple(_consumer_base(name, kind, where) for name, kind in value.items())
        raise AssertionError(self.kind)  # pragma: no cover - every kind is handled above

    def from_flake8(self, text: str, where: str, base: str) -> Any:
        """Parse flake8-config text (comma-separated lists, ``pattern:codes`` mappings).

        Raises:
            ConfigError: a malformed value.
        """
        if self.kind == "codes":
            found = codes(text)
            bad = [c for c in found if not CODE_PREFIX.fullmatch(c)]
            if bad:
                raise ConfigError(f"{where}: {bad[0]!r} is not an error code prefix")
            return tuple(found)
        if self.kind in ("patterns", "names", "qualified-names"):
            return self._items(comma_list(text), where, base)
        if self.kind in ("version", "orm-style"):
            return self._scalar(text.strip(), where)
        if self.kind == "per-file-ignores":
            from flake8.utils import parse_files_to_codes_mapping

            try:
                mapping = parse_files_to_codes_mapping(text)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
            return tuple((_anchor(pattern, base), tuple(c.upper() for c in codes_)) for pattern, codes_ in mapping)
        if self.kind == "consumer-bases":
            entries = []
            for item in comma_list(text):
                name, _, kind = item.partition(":")
                entries.append(_consumer_base(name.strip(), kind.strip() or "async", where))
            return tuple(entries)
        raise AssertionError(self.kind)  # pragma: no cover

    def _items(self, items: list[str], where: str, base: str) -> tuple[str, ...]:
        if self.kind == "codes":
            return tuple(_check_codes([item.strip().upper() for item in items], where))
        if self.kind == "patterns":
            return tuple(_anchor(item, base) for item in items)
        pattern = _IDENTIFIER if self.kind == "names" else _QUALIFIED_NAME
        for item in items:
            if not pattern.fullmatch(item):
                raise ConfigError(f"{where}: {item!r} is not a {'name' if self.kind == 'names' else 'qualified name'}")
        return tuple(items)

    def _scalar(self, value: str, where: str) -> str:
        if self.kind == "version":
            try:
                parse_version(value)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
        elif value not in ORM_STYLES:
            raise ConfigError(f"{where} must be one of {', '.join(ORM_STYLES)}, got {value!r}{suggest(value, ORM_STYLES)}")
        return value


class TomlFloat(float):
    """A TOML float that remembers how it was written (``4.10`` is not ``4.1``)."""

    text: str

    def __new__(cls, text: str) -> TomlFloat:  # noqa: PYI034 - float subclasses return the class
        value = super().__new__(cls, text)
        value.text = text
        return value


def _toml_repr(value: Any) -> str:
    if isinstance(value, TomlFloat):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        odd = next((item for item in value if not isinstance(item, str)), None)
        return f"an array holding {_toml_repr(odd)}" if odd is not None else repr(value)
    return repr(value)


def _check_codes(found: list[str], where: str) -> list[str]:
    """Code prefixes of channels-lint's own config must match a rule (a typo is an error)."""
    universe = known_codes()
    for code in found:
        if not any(known.startswith(code) for known in universe):
            raise ConfigError(f"{where}: unknown rule code {code!r} (see `channels-lint rules`){suggest(code, universe)}")
    return found


def _consumer_base(name: str, kind: str, where: str) -> tuple[str, bool]:
    if not _QUALIFIED_NAME.fullmatch(name) or "." not in name:
        raise ConfigError(f"{where}: {name!r} is not a qualified class name such as 'package.module.BaseConsumer'")
    if kind not in _CONSUMER_KINDS:
        raise ConfigError(f'{where}: {name} must be "async" or "sync", got {kind!r}{suggest(kind, _CONSUMER_KINDS)}')
    return name, _CONSUMER_KINDS[kind]


def _anchor(pattern: str, base: str) -> str:
    """flake8's ``normalize_path``: a pattern holding a separator is anchored at ``base``."""
    pattern = pattern.strip()
    if pattern == "." or os.sep in pattern or (os.altsep and os.altsep in pattern):
        pattern = os.path.abspath(os.path.join(base, pattern))
    return pattern.rstrip(os.sep + (os.altsep or ""))


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key("select", "codes", "Rule code prefixes to enable (default: all, CHN).", '["CHN1", "CHN301"]'),
        Key("extend-select", "codes", "Code prefixes to enable on top of select.", '["CHN403"]'),
        Key("ignore", "codes", "Code prefixes to disable.", '["CHN103"]'),
        Key("extend-ignore", "codes", "Code prefixes to disable on top of ignore.", '["CHN105"]'),
        Key(
            "per-file-ignores",
            "per-file-ignores",
            "Code prefixes to disable in files matching a glob.",
            '{"tests/*" = ["CHN1"], "__init__.py" = ["CHN403"]}',
        ),
        Key("exclude", "patterns", "Globs of files and directories to skip; replaces the default list.", '["migrations"]'),
        Key("extend-exclude", "patterns", "Globs to skip on top of exclude.", '["migrations", "legacy/*"]'),
        Key("django-version", "version", "Target Django version (default: from the pins).", '"4.2"'),
        Key("channels-version", "version", "Target Channels version (default: from the pins).", '"4.1"'),
        Key("orm-style", "orm-style", "How ORM fixes are written.", '"async-methods"'),
        Key(
            "extra-consumer-bases",
            "consumer-bases",
            "Consumer base classes outside the project, and whether their handlers are async.",
            '{"djangochannelsrestframework.generic.GenericAsyncAPIConsumer" = "async"}',
        ),
        Key("extra-model-managers", "names", "Manager attribute names besides objects.", '["published", "live"]'),
        Key(
            "safe-serializers",
            "qualified-names",
            "Functions whose result is a JSON- and msgpack-safe payload.",
            '["myapp.events.to_payload"]',
        ),
    )
}


# ---------------------------------------------------------------------------- one run


#: One entry of the resolved selection: ``(code prefix, rank of its source, selects?)``.
SelectionEntry = tuple[str, int, bool]


@dataclass(frozen=True)
class Options:
    """One run's options for one project, as the front ends hand them on.

    ``select``/``ignore`` are code prefixes (``"CHN1"``); ``select=None`` means every rule.
    After :meth:`merge`, ``select`` holds the enabled codes themselves and ``ignore`` is
    empty, so ``selected_rules(options.select, options.ignore)`` is the resolved selection
    wherever it is used.  ``django_version`` and ``channels_version`` are version text such as
    ``"4.2"`` (``None``: the project's pins decide).
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    django_version: str | None = None
    channels_version: str | None = None
    orm_style: str | None = None
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    #: Effective exclude globs (default list replaced by ``exclude``, plus ``extend-exclude``).
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extra_consumer_bases: tuple[tuple[str, bool], ...] = ()
    extra_model_managers: tuple[str, ...] = ()
    safe_serializers: tuple[str, ...] = ()
    #: The selection before resolution, kept so per-file ignores resolve with the same rule.
    selection: tuple[SelectionEntry, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def of(
        cls,
        select: Collection[str] | None = None,
        ignore: Collection[str] = (),
        unsafe_fixes: bool = False,
        django_version: str | None = None,
        channels_version: str | None = None,
        orm_style: str | None = None,
    ) -> Options:
        """Build from loose values (lists become tuples, codes are upper-cased).

        Raises:
            ValueError: a version is malformed or ``orm_style`` is unknown.
        """
        for version in (django_version, channels_version):
            if version is not None:
                parse_version(version)
        if orm_style is not None and orm_style not in ORM_STYLES:
            raise ValueError(f"orm-style must be one of {', '.join(ORM_STYLES)}, got {orm_style!r}")
        return cls(
            None if select is None else tuple(c.upper() for c in select),
            tuple(c.upper() for c in ignore),
            unsafe_fixes,
            django_version,
            channels_version,
            orm_style,
        )

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> Options:
        """From an ``argparse.Namespace`` with any of the fields (missing ones: defaults)."""
        return cls.of(
            getattr(namespace, "select", None),
            getattr(namespace, "ignore", None) or (),
            bool(getattr(namespace, "unsafe_fixes", False)),
            getattr(namespace, "django_version", None),
            getattr(namespace, "channels_version", None),
            getattr(namespace, "orm_style", None),
        )

    @classmethod
    def merge(cls, layers: Sequence[Layer], unsafe_fixes: bool = False) -> Options:
        """The options of ``layers``, lowest precedence first (flake8 config, pyproject, command line).

        A scalar (version, style, each knowledge list, ``exclude``, ``per-file-ignores``)
        comes from the highest layer that sets it.  ``select`` and ``ignore`` of a higher
        layer replace a lower one's; every layer's ``extend-select``/``extend-ignore`` add.
        A code is enabled when the most specific (longest) matching prefix selects it;
        between equally long prefixes the higher layer decides, and within one layer
        ``ignore`` wins.
        """
        scalars: dict[str, Any] = {}
        for layer in layers:
            for name in (
                "django_version",
                "channels_version",
                "orm_style",
                "per_file_ignores",
                "extra_consumer_bases",
                "extra_model_managers",
                "safe_serializers",
            ):
                value = getattr(layer, name)
                if value is not None:
                    scalars[name] = value
        select_rank, select = max(
            ((rank, layer.select) for rank, layer in enumerate(layers) if layer.select is not None),
            default=(-1, ("CHN",)),
        )
        ignore_rank, ignore = max(
            ((rank, layer.ignore) for rank, layer in enumerate(layers) if layer.ignore is not None),
            default=(-1, ()),
        )
        entries: list[SelectionEntry] = [(code, select_rank, True) for code in select]
        entries += [(code, ignore_rank, False) for code in ignore]
        for rank, layer in enumerate(layers):
            entries += [(code, rank, True) for code in layer.extend_select]
            entries += [(code, rank, False) for code in layer.extend_ignore]
        exclude = next((layer.exclude for layer in reversed(layers) if layer.exclude is not None), DEFAULT_EXCLUDE)
        extend = [pattern for layer in layers for pattern in layer.extend_exclude]
        return cls(
            select=resolve_selection(entries),
            ignore=(),
            unsafe_fixes=unsafe_fixes,
            django_version=scalars.get("django_version"),
            channels_version=scalars.get("channels_version"),
            orm_style=scalars.get("orm_style"),
            per_file_ignores=scalars.get("per_file_ignores", ()),
            exclude=tuple(dict.fromkeys((*exclude, *extend))),
            extra_consumer_bases=scalars.get("extra_consumer_bases", ()),
            extra_model_managers=scalars.get("extra_model_managers", ()),
            safe_serializers=scalars.get("safe_serializers", ()),
            selection=tuple(entries),
        )

    def for_path(self, path: str | None) -> Options:
        """These options for one file: ``per-file-ignores`` that match ``path`` applied.

        The result's ``select`` is the codes enabled in that file.
        """
        if path is None or not self.per_file_ignores:
            return self
        extra = [code for pattern, codes_ in self.per_file_ignores if _path_matches(path, pattern) for code in codes_]
        if not extra:
            return self
        entries = self.selection or tuple((code, -1, True) for code in (self.select or ("CHN",)))
        if not self.selection and self.ignore:
            entries += tuple((code, -1, False) for code in self.ignore)
        # a per-file ignore ranks above every configured source: it names this very file
        rank = max((e[1] for e in entries), default=0) + 1
        narrowed = resolve_selection((*entries, *((code, rank, False) for code in extra)))
        return dataclasses.replace(self, select=narrowed, ignore=())

    def excluder(self) -> Excluder:
        """A fast matcher for :attr:`exclude`."""
        return Excluder.of(self.exclude)


def resolve_selection(entries: Iterable[SelectionEntry]) -> tuple[str, ...]:
    """The codes enabled by ``entries`` (see :meth:`Options.merge` for the rule)."""
    entries = list(entries)
    enabled = []
    for code in known_codes():
        matching = [e for e in entries if code.startswith(e[0])]
        if not matching:
            continue
        # longest prefix, then the higher source, then ignore (False sorts first) wins
        _, _, selects = max(matching, key=lambda e: (len(e[0]), e[1], not e[2]))
        if selects:
            enabled.append(code)
    return tuple(enabled)


def _path_matches(path: str, pattern: str) -> bool:
    """flake8's ``matches_filename``: the base name, or the absolute path, matches the glob."""
    name = os.path.basename(path)
    if name not in (".", "..") and fnmatch.fnmatch(name, pattern):
        return True
    return os.path.isabs(pattern) and fnmatch.fnmatch(os.path.abspath(path), pattern)


@dataclass(frozen=True)
class Excluder:
    """Exclude globs compiled once: names (no ``/``) match an entry's name, anchored patterns
    (made absolute) its absolute path.  Matching costs one or two regex calls per entry."""

    names: re.Pattern[str] | None
    paths: re.Pattern[str] | None

    @classmethod
    @functools.lru_cache(maxsize=64)
    def of(cls, patterns: tuple[str, ...]) -> Excluder:
        names = [fnmatch.translate(p) for p in patterns if not os.path.isabs(p)]
        paths = [fnmatch.translate(p) for p in patterns if os.path.isabs(p)]
        return cls(
            re.compile("|".join(names)) if names else None,
            re.compile("|".join(paths)) if paths else None,
        )

    def matches(self, name: str, absolute: Callable[[], str]) -> bool:
        """Does an entry called ``name`` (whose absolute path ``absolute()`` gives) match?"""
        if self.names is not None and self.names.match(name):
            return True
        return self.paths is not None and self.paths.match(absolute()) is not None

    def excludes(self, path: str, root: str, parents: bool = True) -> bool:
        """Is the file ``path`` excluded: its name or absolute path matches, or (``parents``)
        one of its directories below ``root`` does (what a walk from ``root`` would skip)."""
        absolute = os.path.abspath(path)
        if self.matches(os.path.basename(absolute), lambda: absolute):
            return True
        if not parents:
            return False
        relative = os.path.relpath(os.path.dirname(absolute), root)
        if relative == os.curdir or relative.startswith(os.pardir):
            return False
        directory = root
        for part in relative.split(os.sep):
            directory = os.path.join(directory, part)
            if self.matches(part, functools.partial(str, directory)):
                return True
        return False


def add_settings_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The target-version and fix-style options, shared by the CLI and the codemod."""
    parser.add_argument("--django-version", default=None, help="Target Django version, e.g. 4.2 (default: from pins).")
    parser.add_argument("--channels-version", default=None, help="Target Channels version, e.g. 4.1 (default: from pins).")
    parser.add_argument(
        "--orm-style",
        choices=ORM_STYLES,
        default=None,
        help="How ORM fixes are written: database_sync_to_async (default) or the native async-methods.",
    )
