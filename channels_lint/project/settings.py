"""Target versions and ``[tool.channels_lint]``, read from the project's own files.

Versions are read the way django-upgrade reads its target: the lowest version the project's
pins admit (``pyproject.toml`` and ``requirements*.txt``), unless an option or
``[tool.channels_lint]`` names one.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from channels_lint.config import NEWEST, ORM_STYLES, Settings, parse_version
from channels_lint.project.index import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


#: Specifier operators that set a lower bound (PEP 440).
_LOWER_BOUNDS = ("==", "===", "~=", ">=", ">")
_TRACKED = ("django", "channels")


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
            requirements.extend((read_regular_file(path) or b"").decode().splitlines())  # no FIFO, bounded
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
    if style not in ORM_STYLES:
        raise ValueError(f"orm-style must be one of {', '.join(ORM_STYLES)}, got {style!r}")
    return Settings(
        parse_version(django) if django else pins.get("django", NEWEST["django"]),
        parse_version(channels) if channels else pins.get("channels", NEWEST["channels"]),
        style,
    )
