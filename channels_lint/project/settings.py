"""A project's configuration, read from its own files: ``[tool.channels_lint]``, flake8's
config and the pins.

* ``[tool.channels_lint]`` comes from the nearest ``pyproject.toml`` holding that table, from
  the project root upward (as ruff finds ``[tool.ruff]``);
* flake8's config is the first of ``setup.cfg``, ``tox.ini``, ``.flake8`` with a ``[flake8]``
  section, from the project root upward to the home directory (flake8's own search, started
  at the root instead of the current directory);
* versions are read the way django-upgrade reads its target: the lowest version the project's
  pins admit (``pyproject.toml`` and ``requirements*.txt``), unless an option names one.

Only regular files are opened, with a size bound (a FIFO named ``pyproject.toml`` must not
hang the run).  A file of the wrong shape is a :class:`~channels_lint.config.ConfigError`
naming the file and what is wrong, never a traceback and never silently ignored.
"""

from __future__ import annotations

import configparser
import dataclasses
import functools
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from channels_lint.config import NEWEST, ORM_STYLES, ConfigError, Layer, Options, Settings, TomlFloat, parse_version
from channels_lint.project.index import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


#: Specifier operators that set a lower bound (PEP 440).
_LOWER_BOUNDS = ("==", "===", "~=", ">=", ">")
_TRACKED = ("django", "channels")
#: The largest configuration or requirements file read (bytes).
MAX_CONFIG_BYTES = 2_000_000
FLAKE8_CONFIG_FILES = ("setup.cfg", "tox.ini", ".flake8")


# ---------------------------------------------------------------------------- reading files


def _stat_key(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_dev, info.st_mtime_ns, info.st_size


def _read_text(path: Path) -> str | None:
    """A regular file's text, ``None`` when there is none.

    Raises:
        ConfigError: the file exists but is not a regular file, is too large or is not UTF-8.
    """
    if not os.path.lexists(path):
        return None
    data = read_regular_file(path, MAX_CONFIG_BYTES)
    if data is None:
        raise ConfigError(f"{path}: not a regular readable file of at most {MAX_CONFIG_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 ({error})") from None


@functools.lru_cache(maxsize=256)
def _load_pyproject(path: Path, _stat: object) -> dict[str, Any] | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        data = tomllib.loads(text, parse_float=TomlFloat)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML ({error}); fix the file or remove it") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table ([tool]), got {_kind(tool)}")
    table = tool.get("channels_lint")
    if table is not None and not isinstance(table, dict):
        shape = "an array of tables ([[tool.channels_lint]])" if isinstance(table, list) else _kind(table)
        raise ConfigError(f"{path}: [tool.channels_lint] must be a table, got {shape}")
    return dict(data)


def load_pyproject(path: Path) -> dict[str, Any] | None:
    """A ``pyproject.toml``'s data (``None``: no such file), cached while the file is unchanged.

    Raises:
        ConfigError: invalid TOML, not a regular file, or ``tool``/``tool.channels_lint`` of
            the wrong shape.
    """
    return _load_pyproject(path, _stat_key(path))


def clear_caches() -> None:
    """Forget every file read (a long-lived process, or tests, that rewrite configuration)."""
    _load_pyproject.cache_clear()
    _layers.cache_clear()
    _pins.cache_clear()


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        odd = next((item for item in value if not isinstance(item, str)), None)
        return f"an array holding {odd!r}" if odd is not None else "an array"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"


def _ancestors(start: Path) -> list[Path]:
    """``start`` and its parents up to (not including) the home directory, as flake8 walks."""
    home = Path(os.path.expanduser("~"))
    found = [start]
    for parent in start.parents:
        if parent == home:
            break
        found.append(parent)
    return found


@dataclass(frozen=True)
class ConfigFiles:
    """Where one project root's configuration comes from (``None``: no such file)."""

    root: Path
    pyproject: Path | None
    flake8: Path | None

    def signature(self) -> tuple[object, ...]:
        """Changes when a file changes (caches key on it)."""
        return tuple(_stat_key(p) if p else None for p in (self.root / "pyproject.toml", self.pyproject, self.flake8))


def config_files(root: Path) -> ConfigFiles:
    """The ``pyproject.toml`` holding ``[tool.channels_lint]`` and flake8's config file for ``root``.

    Raises:
        ConfigError: a ``pyproject.toml`` on the way cannot be read or has the wrong shape.
    """
    pyproject = flake8 = None
    for directory in _ancestors(root):
        if pyproject is None:
            candidate = directory / "pyproject.toml"
            data = load_pyproject(candidate)
            if data is not None and "channels_lint" in data.get("tool", {}):
                pyproject = candidate
        if flake8 is None:
            flake8 = _flake8_config_in(directory)
        if pyproject is not None and flake8 is not None:
            break
    return ConfigFiles(root, pyproject, flake8)


def _flake8_config_in(directory: Path) -> Path | None:
    for name in FLAKE8_CONFIG_FILES:
        path = directory / name
        if not os.path.isfile(path):
            continue
        parser = _read_ini(path, strict=False)
        if parser is not None and ("flake8" in parser or "flake8:local-plugins" in parser):
            return path
    return None


def _read_ini(path: Path, strict: bool = True) -> configparser.RawConfigParser | None:
    """flake8 reads its config with ``RawConfigParser``; one that does not parse is skipped
    by flake8 with a warning while looking for the config (``strict=False``), an error once found.

    Raises:
        ConfigError: (``strict``) the file does not parse.
    """
    parser = configparser.RawConfigParser()
    try:
        text = _read_text(path)
        parser.read_string(text or "", source=str(path))
    except (ConfigError, configparser.Error) as error:
        if strict:
            raise ConfigError(f"{path}: cannot be read as an INI file ({error})") from None
        return None
    return parser


# ---------------------------------------------------------------------------- layers


def tool_layer(path: Path) -> Layer:
    """``[tool.channels_lint]`` of ``path`` as a :class:`Layer`.

    Raises:
        ConfigError: see :meth:`Layer.from_table`.
    """
    data = load_pyproject(path) or {}
    table = data.get("tool", {}).get("channels_lint", {})
    return Layer.from_table(table, f"{path} [tool.channels_lint]", str(path.parent))


def flake8_layer(path: Path) -> Layer:
    """The keys channels-lint reads from the ``[flake8]`` section of ``path``.

    Raises:
        ConfigError: see :meth:`Layer.from_flake8`.
    """
    parser = _read_ini(path)
    if parser is None or "flake8" not in parser:
        return Layer(source=f"{path} [flake8]")
    return Layer.from_flake8(dict(parser["flake8"]), f"{path} [flake8]", str(path.parent))


@functools.lru_cache(maxsize=256)
def _layers(files: ConfigFiles, _signature: object) -> tuple[Layer, ...]:
    layers = []
    if files.flake8 is not None:
        layers.append(flake8_layer(files.flake8))
    if files.pyproject is not None:
        layers.append(tool_layer(files.pyproject))
    return tuple(layers)


def project_layers(root: Path, flake8: bool = True) -> tuple[Layer, ...]:
    """The configuration layers of a project root, lowest precedence first: flake8's config
    (unless ``flake8`` is false: flake8 itself hands the plugin those), then
    ``[tool.channels_lint]``.  Pins are read separately (:func:`pinned_versions`).

    Raises:
        ConfigError: a file of the wrong shape or a bad value.
    """
    files = config_files(root)
    if not flake8:
        files = ConfigFiles(files.root, files.pyproject, None)
    layers = _layers(files, files.signature())
    # the root's own pyproject.toml is read for pins even without the table: its shape counts
    pinned_versions(root)
    return layers


def project_options(root: Path, command_line: Layer | None = None, unsafe_fixes: bool = False) -> Options:
    """The options of a project: its layers under ``command_line`` (see :meth:`Options.merge`).

    Raises:
        ConfigError: a file of the wrong shape or a bad value.
    """
    layers = [*project_layers(root), *([command_line] if command_line is not None else [])]
    return Options.merge(layers, unsafe_fixes=unsafe_fixes)


def resolve(
    root: Path, command_line: Layer | None = None, unsafe_fixes: bool = False, isolated: bool = False
) -> tuple[Options, Settings]:
    """A project's merged options and settings, the options' versions and style pinned to the
    settings' (so ``fix_bytes(options=...)`` and the codemod decide nothing differently).
    ``isolated`` skips the configuration files (the pins are still read).

    Raises:
        ConfigError: a file of the wrong shape or a bad value.
    """
    layers = [*(() if isolated else project_layers(root)), *([command_line] if command_line is not None else [])]
    options = Options.merge(layers, unsafe_fixes=unsafe_fixes)
    settings = settings_from(root, options)
    options = dataclasses.replace(
        options,
        django_version="{}.{}".format(*settings.django_version),
        channels_version="{}.{}".format(*settings.channels_version),
        orm_style=settings.orm_style,
    )
    return options, settings


def tool_settings(root: Path) -> dict[str, Any]:
    """The validated ``[tool.channels_lint]`` options that apply to ``root`` (field -> value).

    Raises:
        ConfigError: see :func:`project_layers`.
    """
    files = config_files(root)
    return tool_layer(files.pyproject).given() if files.pyproject else {}


# ---------------------------------------------------------------------------- pins


def pinned_versions(root: Path) -> dict[str, tuple[int, int]]:
    """The lowest Django/Channels version a project's requirements admit, as django-upgrade
    reads its target: the lower bound (``==``, ``~=``, ``>=``, ``>``; ``^``/``~`` in Poetry)
    of each requirement, the lowest across requirements.

    Reads ``[project].dependencies`` and optional dependencies of ``pyproject.toml``, Poetry's
    ``[tool.poetry.dependencies]``, and ``requirements*.txt`` / ``requirements/*.txt``.

    Raises:
        ConfigError: ``pyproject.toml`` is not valid TOML, or those tables have the wrong shape.
    """
    data = load_pyproject(root / "pyproject.toml") or {}
    return _pins(root, _requirements_from(data, root / "pyproject.toml"), _requirement_files_signature(root))


def _requirements_from(data: dict[str, Any], path: Path) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``(PEP 508 requirements, Poetry (name, constraint) pairs)`` of a pyproject's data.

    Raises:
        ConfigError: a table or list of the wrong shape.
    """
    requirements: list[str] = []
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise ConfigError(f"{path}: [project] must be a table, got {_kind(project)}")
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ConfigError(f"{path}: project.dependencies must be an array of requirement strings, got {_kind(dependencies)}")
    requirements.extend(dependencies)
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise ConfigError(
            f"{path}: project.optional-dependencies must be a table of arrays (extra = [...]), got {_kind(optional)}"
        )
    for extra, items in optional.items():
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise ConfigError(f"{path}: project.optional-dependencies.{extra} must be an array of strings, got {_kind(items)}")
        requirements.extend(items)
    poetry: list[tuple[str, str]] = []
    table = data.get("tool", {}).get("poetry", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.poetry] must be a table, got {_kind(table)}")
    poetry_dependencies = table.get("dependencies", {})
    if not isinstance(poetry_dependencies, dict):
        raise ConfigError(
            f'{path}: [tool.poetry.dependencies] must be a table (django = "^4.2"), got {_kind(poetry_dependencies)}'
        )
    for name, spec in poetry_dependencies.items():
        for constraint in spec if isinstance(spec, list) else [spec]:
            if isinstance(constraint, dict):
                constraint = constraint.get("version", "")
            if not isinstance(constraint, str):
                raise ConfigError(f"{path}: tool.poetry.dependencies.{name} must be a version string or table")
            poetry.append((name, constraint))
    return tuple(requirements), tuple(poetry)


def _requirement_files(root: Path) -> list[Path]:
    try:
        return sorted([*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")])
    except OSError:
        return []


def _requirement_files_signature(root: Path) -> tuple[object, ...]:
    return tuple((path, _stat_key(path)) for path in _requirement_files(root))


@functools.lru_cache(maxsize=256)
def _pins(
    root: Path, declared: tuple[tuple[str, ...], tuple[tuple[str, str], ...]], _signature: object
) -> dict[str, tuple[int, int]]:
    requirements, poetry = list(declared[0]), declared[1]
    for path in _requirement_files(root):
        data = read_regular_file(path, MAX_CONFIG_BYTES)
        if data is None:
            continue
        requirements.extend(data.decode("utf-8", "replace").splitlines())
    bounds: dict[str, list[tuple[int, int]]] = {}
    for line in requirements:
        name, lower = _requirement_lower_bound(line)
        if name in _TRACKED and lower is not None:
            bounds.setdefault(name, []).append(lower)
    for name, spec in poetry:
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


# ---------------------------------------------------------------------------- settings


def project_settings(
    root: Path,
    django_version: str | None = None,
    channels_version: str | None = None,
    orm_style: str | None = None,
    layers: Sequence[Layer] | None = None,
) -> Settings:
    """Settings for a project: explicit options, else ``[tool.channels_lint]``, else flake8's
    config, else pins, else the newest versions.  ``layers`` replaces the layers read from the
    project's files (the flake8 plugin passes its own).

    Raises:
        ConfigError: a version is malformed, ``orm_style`` is unknown, or a file of the
            project has the wrong shape.
    """
    layers = tuple(project_layers(root) if layers is None else layers)
    for name, value in (("django-version", django_version), ("channels-version", channels_version)):
        if value is not None:
            try:
                parse_version(value)
            except ValueError as error:
                raise ConfigError(f"{name}: {error}") from None
    if orm_style is not None and orm_style not in ORM_STYLES:
        raise ConfigError(f"orm-style must be one of {', '.join(ORM_STYLES)}, got {orm_style!r}")
    command_line = Layer(django_version=django_version, channels_version=channels_version, orm_style=orm_style)
    return settings_from(root, Options.merge([*layers, command_line]))


def settings_from(root: Path, options: Options) -> Settings:
    """The :class:`Settings` of merged ``options`` for a project root (pins fill the versions).

    Raises:
        ConfigError: the root's ``pyproject.toml`` has the wrong shape.
    """
    pins = pinned_versions(root)
    return Settings(
        django_version=parse_version(options.django_version) if options.django_version else pins.get("django", NEWEST["django"]),
        channels_version=(
            parse_version(options.channels_version) if options.channels_version else pins.get("channels", NEWEST["channels"])
        ),
        orm_style=options.orm_style or "database_sync_to_async",
        extra_consumer_bases=options.extra_consumer_bases,
        extra_model_managers=options.extra_model_managers,
        safe_serializers=options.safe_serializers,
    )
