"""``channels-lint``: ``check``, ``fix``, ``rules`` and ``rule CODE``.

Exit codes follow flake8 and django-upgrade: ``check`` exits 1 when it reports anything;
``fix`` exits 1 when it changed a file (with ``--diff``: would change one) or could not fix
one; 0 otherwise; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from flake8.defaults import EXCLUDE as FLAKE8_EXCLUDE

from channels_lint import __version__
from channels_lint.config import Options, Settings, add_settings_arguments, codes
from channels_lint.diagnostics import Violation
from channels_lint.engine import UNANALYSABLE, Source, lint_bytes, selected_rules
from channels_lint.project import find_root, project_settings
from channels_lint.rules import REGISTRY

DEFAULT_EXCLUDE = (*FLAKE8_EXCLUDE, ".venv", "venv", "node_modules", "build", "dist")


def _excluded(path: Path, exclude: Sequence[str]) -> bool:
    """flake8's rule: a pattern matches the base name or the whole (absolute) path."""
    return any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(str(path.absolute()), p) for p in exclude)


def iter_python_files(paths: Sequence[str], exclude: Sequence[str] = DEFAULT_EXCLUDE) -> Iterator[Path]:
    """Python files named or found under ``paths`` (sorted), skipping ``exclude`` globs.

    Files named explicitly are always yielded; under a directory only regular ``*.py`` files
    are (no FIFOs or dangling links), and symlinked directories are not followed.
    """
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _excluded(Path(root, d), exclude))
            for name in sorted(files):
                candidate = Path(root, name)
                if name.endswith(".py") and candidate.is_file() and not _excluded(candidate, exclude):
                    yield candidate


def read_source(path: Path) -> bytes:
    """A file's bytes.

    Raises:
        OSError: not a regular file (a FIFO would block), or unreadable.
    """
    if not path.is_file():
        raise OSError(f"not a regular file: {path}")
    return path.read_bytes()


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` via a temp file and rename (keeps the mode).

    A symlink is written through (its target changes, the link stays).

    Raises:
        PermissionError: the file has no write permission bit set (read-only).
    """
    path = path.resolve()
    mode = path.stat().st_mode
    if not mode & 0o222:
        raise PermissionError(f"{path} is read-only")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="channels-lint", description="Find and fix Django Channels bugs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def add_selection(command: argparse.ArgumentParser) -> None:
        command.add_argument("paths", nargs="+", help="Files or directories.")
        command.add_argument("--select", type=codes, default=None, help="Comma-separated code prefixes (default: all).")
        command.add_argument("--ignore", type=codes, default=[], help="Comma-separated code prefixes to skip.")
        command.add_argument(
            "--exclude",
            type=lambda v: [p.strip() for p in v.split(",") if p.strip()],
            default=list(DEFAULT_EXCLUDE),
            help="Comma-separated glob patterns of file and directory names to skip (flake8's default list).",
        )

        add_settings_arguments(command)

    check = commands.add_parser("check", help="Report findings in flake8's format.")
    add_selection(check)
    fix = commands.add_parser("fix", help="Apply fixes in place.")
    add_selection(fix)
    fix.add_argument("--diff", action="store_true", help="Print a unified diff and write nothing.")
    fix.add_argument("--unsafe-fixes", action="store_true", help="Also apply fixes marked unsafe.")
    commands.add_parser("rules", help="List every rule.")
    rule = commands.add_parser("rule", help="Print one rule's documentation.")
    rule.add_argument("code")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rules":
        return _rules()
    if args.command == "rule":
        return _rule(args.code)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"channels-lint: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    unknown = [code for code in (*(args.select or ()), *args.ignore) if not any(c.startswith(code) for c in REGISTRY)]
    if unknown:
        print(f"channels-lint: unknown rule code(s): {', '.join(unknown)}; see `channels-lint rules`", file=sys.stderr)
        return 2
    files = list(iter_python_files(args.paths, args.exclude))
    try:
        options = Options.from_namespace(args)
        for path in files:  # cached per project root
            _settings(path, options)
    except ValueError as error:
        print(f"channels-lint: {error}", file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(files, options)
    return _fix(files, options, diff=args.diff)


def _settings(path: Path, options: Options) -> Settings:
    return project_settings(find_root(path), options.django_version, options.channels_version, options.orm_style)


def _check(files: list[Path], options: Options) -> int:
    rules = selected_rules(options.select, options.ignore)
    found = 0
    for path in files:
        try:
            data = read_source(path)
        except OSError as error:
            print(Violation(UNANALYSABLE, 1, 0, f"file could not be read ({error})").format(str(path)))
            found += 1
            continue
        _, violations = lint_bytes(data, rules, path=str(path), settings=_settings(path, options))
        for violation in violations:
            print(violation.format(str(path)))
        found += len(violations)
    return 1 if found else 0


def _fix(files: list[Path], options: Options, diff: bool = False) -> int:
    from channels_lint.fixes import fix_bytes  # LibCST is imported only when fixing

    changed = failed = applied = 0
    for path in files:
        try:
            data = read_source(path)
        except OSError as error:
            failed += 1
            print(f"{path}: not fixed: {error}", file=sys.stderr)
            continue
        result = fix_bytes(data, filename=str(path), options=options)
        if result.error:
            failed += 1
            print(f"{path}: not fixed, left unchanged: {result.error}", file=sys.stderr)
            continue
        if not result.changed:
            continue
        if diff:
            sys.stdout.write(unified_diff(result.original, result.fixed, str(path)))
        else:
            try:
                write_atomically(path, result.fixed)
            except OSError as error:
                failed += 1
                print(f"{path}: not fixed, left unchanged: {error}", file=sys.stderr)
                continue
        changed += 1
        applied += len(result.applied)
    verb = "Would fix" if diff else "Fixed"
    print(f"{verb} {applied} finding(s) in {changed} file(s).", file=sys.stderr)
    return 1 if changed or failed else 0


def unified_diff(original: bytes, fixed: bytes, name: str) -> str:
    """A ``patch``-compatible unified diff, decoded with the file's own encoding."""
    encoding = Source.from_bytes(original).encoding
    before = original.decode(encoding).splitlines(keepends=True)
    after = fixed.decode(encoding).splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(before, after, fromfile=name, tofile=name):
        lines.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _rules() -> int:
    for code, rule in sorted(REGISTRY.items()):
        fix = rule.fix_applicability.value if rule.fix_applicability else "-"
        print(f"{code}  {rule.name:<33} fix: {fix:<6}  {rule.summary()}")
    return 0


def _rule(code: str) -> int:
    rule = REGISTRY.get(code.upper())
    if rule is None:
        print(f"channels-lint: unknown rule {code!r}; see `channels-lint rules`", file=sys.stderr)
        return 2
    print(f"# {rule.name} ({rule.code})\n")
    print(rule.docs())
    return 0


def run() -> None:
    """Console-script entry point: ``main()``'s exit code; a closed pipe (``| head``) ends
    quietly, as for other Unix tools."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = 1
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
