"""Options: what one run of channels-lint was asked to do, in one object.

The CLI, the flake8 plugin and the LibCST codemod each build one :class:`Options` from their
own command line or config and hand it on; :class:`Settings` is what a rule may depend on
beyond the file itself, resolved per project from the options, ``[tool.channels_lint]`` and
the project's pins (:func:`channels_lint.project.project_settings`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

#: Newest versions known to this release (used when a project pins nothing).
NEWEST = {"django": (6, 1), "channels": (4, 3)}
ORM_STYLES = ("database_sync_to_async", "async-methods")


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
    return [code.strip().upper() for code in value.split(",") if code.strip()]


@dataclass(frozen=True)
class Settings:
    """What rules may depend on beyond the file itself.

    ``django_version``/``channels_version`` are ``(major, minor)``; ``orm_style`` is
    ``"database_sync_to_async"`` (default) or ``"async-methods"``.
    """

    django_version: tuple[int, int] = NEWEST["django"]
    channels_version: tuple[int, int] = NEWEST["channels"]
    orm_style: str = "database_sync_to_async"

    ORM_STYLES = ORM_STYLES


@dataclass(frozen=True)
class Options:
    """One run's options, as given (``None``: not given, the project decides).

    ``select``/``ignore`` are code prefixes (``"CHN1"``); ``django_version`` and
    ``channels_version`` are version text such as ``"4.2"``.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    django_version: str | None = None
    channels_version: str | None = None
    orm_style: str | None = None

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
    def from_namespace(cls, namespace) -> Options:
        """From an ``argparse.Namespace`` with any of the fields (missing ones: defaults)."""
        return cls.of(
            getattr(namespace, "select", None),
            getattr(namespace, "ignore", None) or (),
            bool(getattr(namespace, "unsafe_fixes", False)),
            getattr(namespace, "django_version", None),
            getattr(namespace, "channels_version", None),
            getattr(namespace, "orm_style", None),
        )


def add_settings_arguments(parser) -> None:
    """The target-version and fix-style options, shared by the CLI and the codemod."""
    parser.add_argument("--django-version", default=None, help="Target Django version, e.g. 4.2 (default: from pins).")
    parser.add_argument("--channels-version", default=None, help="Target Channels version, e.g. 4.1 (default: from pins).")
    parser.add_argument(
        "--orm-style",
        choices=ORM_STYLES,
        default=None,
        help="How ORM fixes are written: database_sync_to_async (default) or the native async-methods.",
    )
