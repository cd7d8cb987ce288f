"""Where a project runs with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set (read statically).

Django skips its ``SynchronousOnlyOperation`` check when the environment variable
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set (django/utils/asyncio.py ``async_unsafe``,
docs/semantics.md §4.2). Test suites set it on purpose to run ORM calls in async tests; the
async-context rules stay silent in the code the setting covers:

* a ``conftest.py`` that sets it covers its directory tree;
* pytest's configuration (``pytest.ini``, ``[tool.pytest.ini_options]`` in ``pyproject.toml``,
  ``[tool:pytest]`` in ``setup.cfg``, ``[pytest]`` in ``tox.ini``, e.g. pytest-env's ``env``)
  covers the test files (``test_*.py``, ``*_test.py``, ``tests.py``, ``conftest.py`` and
  everything under a ``tests``/``test`` directory);
* a settings module (``settings.py``, ``settings/*.py``) that sets it covers the Django
  project it configures: the directory above its package (where ``manage.py`` sits in the
  standard layout), not whatever else lies under the same root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Setting the variable in Python: ``os.environ["..."] = ``, ``setdefault``, ``putenv``, ``setenv``.
_PYTHON_SETS = re.compile(r"""^(?!\s*#).*(environ\s*\[\s*|setdefault\s*\(\s*|putenv\s*\(\s*|setenv\s*\(\s*)["']DJANGO_ALLOW_ASYNC_UNSAFE["']""", re.M)
#: Naming it in a config file (not in a comment).
_CONFIG_SETS = re.compile(r"^(?![ \t]*[#;]).*DJANGO_ALLOW_ASYNC_UNSAFE", re.M)
_PYTEST_CONFIGS = {"pytest.ini": None, "pyproject.toml": "tool.pytest", "setup.cfg": "tool:pytest", "tox.ini": "pytest"}


@dataclass(frozen=True)
class AsyncUnsafeCoverage:
    """The directories, and whether the test files, that run with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set."""

    directories: frozenset[Path] = frozenset()
    test_files: bool = False

    def covers(self, path: Path) -> bool:
        if any(directory == path.parent or directory in path.parents for directory in self.directories):
            return True
        return self.test_files and is_test_file(path)


def is_test_file(path: Path) -> bool:
    """pytest's default test files, ``conftest.py``, and anything under ``tests``/``test``."""
    name = path.name
    if name in ("conftest.py", "tests.py") or (name.startswith("test_") and name.endswith(".py")) or name.endswith("_test.py"):
        return True
    return any(part in ("tests", "test") for part in path.parts[:-1])


def coverage(root: Path, python_files: list[Path], read) -> AsyncUnsafeCoverage:
    """Read ``root``'s pytest configuration, its ``conftest.py`` files and settings modules.

    ``read(path) -> bytes | None`` reads a regular file (bounded); ``python_files`` are the
    project's ``.py`` files.
    """
    directories = set()
    for path in python_files:
        if path.name == "conftest.py" or path.name == "settings.py" or path.parent.name == "settings":
            data = read(path)
            if data is None or not _PYTHON_SETS.search(data.decode("utf-8", "replace")):
                continue
            if path.name == "conftest.py":
                directories.add(path.parent)
            elif path.parent.name == "settings":  # proj/settings/base.py -> the directory above proj
                directories.add(path.parent.parent.parent)
            else:  # proj/settings.py -> the directory above proj
                directories.add(path.parent.parent)
    test_files = False
    for name in _PYTEST_CONFIGS:
        data = read(root / name)
        if data is not None and _CONFIG_SETS.search(data.decode("utf-8", "replace")):
            test_files = True
    return AsyncUnsafeCoverage(frozenset(directories), test_files)
