"""``channels-lint``: ``check``, ``fix``, ``rules`` and ``rule CODE``.

Exit codes follow flake8 and ruff: ``check`` exits 1 when it reports anything (0 with
``--exit-zero``); ``fix`` exits 1 when it changed a file (with ``--diff``/``--check``: would
change one) or could not fix one; 0 otherwise; 2 for a usage or configuration error.

Configuration is read once per project root (``docs/configuration.md``): command line >
``[tool.channels_lint]`` > flake8's config > pins > defaults.  Files are found by one walk
per path argument, excludes matched on names (and anchored patterns on the path) with
compiled globs.  Work is spread over a process pool (``-j``, default: every core) when there
are enough files; results are reported in file order, identical to a serial run.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import functools
import importlib.util
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channels_lint import __version__
from channels_lint.config import (
    DEFAULT_EXCLUDE,
    ORM_STYLES,
    ConfigError,
    Excluder,
    Layer,
    Options,
    Settings,
    codes,
    comma_list,
    known_codes,
    suggest,
)
from channels_lint.diagnostics import Applicability, Violation
from channels_lint.engine import UNANALYSABLE, Source, lint_bytes, selected_rules
from channels_lint.output import FORMATS, FileReport, attribute_edits, emit, render, text_edits
from channels_lint.project import ROOT_MARKERS, find_root
from channels_lint.project.settings import clear_caches, resolve
from channels_lint.rules import REGISTRY, Rule

__all__ = ["DEFAULT_EXCLUDE", "iter_python_files", "main", "read_source", "run", "unified_diff", "write_atomically"]

#: Below this many files a run stays in one process (a pool costs more than it saves).
PARALLEL_MIN_FILES = 32
#: From this many files on, ``fix`` shows a progress bar (on a terminal).
PROGRESS_MIN_FILES = 50


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with this message."""


# ---------------------------------------------------------------------------- files


def read_source(path: Path | str) -> bytes:
    """A file's bytes.

    Raises:
        OSError: not a regular file (a FIFO would block), or unreadable.
    """
    path = Path(path)
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


@dataclass(frozen=True)
class Target:
    """A file to check and the root of the project it belongs to."""

    path: str
    root: Path


def _child(directory: str, name: str) -> str:
    return name if directory == os.curdir else os.path.join(directory, name)


def _is_environment(directory: str) -> bool:
    """A virtual environment (it holds ``pyvenv.cfg``): never walked, whatever ``exclude`` says."""
    return os.path.exists(os.path.join(directory, "pyvenv.cfg"))


def walk(top: str, root: Path, excluder: Excluder) -> Iterator[Target]:
    """Regular ``*.py`` files under ``top`` (not following directory symlinks), each with its
    project root, skipping excluded names and paths, ``site-packages`` and virtual
    environments.  One ``scandir`` per directory; the root is found from the names the
    directory already lists."""
    absolute_top = os.path.abspath(top)
    stack: list[tuple[str, str, str, Path]] = [(top, absolute_top, str(Path(top).resolve()), root)]
    while stack:
        directory, absolute, resolved, project = stack.pop()
        try:
            with os.scandir(directory) as scanner:
                entries = sorted(scanner, key=lambda entry: entry.name)
        except OSError:
            continue
        if directory != top and any(entry.name in ROOT_MARKERS for entry in entries):
            project = Path(resolved)
        subdirectories = []
        for entry in entries:
            name = entry.name
            full = functools.partial(os.path.join, absolute, name)
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_directory:
                child = _child(directory, name)
                if name == "site-packages" or excluder.matches(name, full) or _is_environment(child):
                    continue
                subdirectories.append((child, full(), os.path.join(resolved, name), project))
            elif name.endswith(".py") and not excluder.matches(name, full):
                try:
                    regular = entry.is_file()  # follows a symlink: a dangling one is skipped
                except OSError:
                    regular = False
                if regular:
                    yield Target(_child(directory, name), project)
        stack.extend(reversed(subdirectories))


def iter_python_files(paths: Sequence[str], exclude: Sequence[str] = DEFAULT_EXCLUDE) -> Iterator[Path]:
    """Python files named or found under ``paths``, skipping ``exclude`` globs (named files are
    always yielded)."""
    excluder = Excluder.of(tuple(exclude))
    for raw in paths:
        path = os.path.normpath(raw)
        if os.path.isdir(path):
            yield from (Path(target.path) for target in walk(path, find_root(Path(path)), excluder))
        else:
            yield Path(path)


# ---------------------------------------------------------------------------- one run


@dataclass
class Project:
    """A project root's merged options (versions and style pinned to what the settings say,
    so every front end and ``fix_bytes`` agree) and settings."""

    options: Options
    settings: Settings


@dataclass
class RunState:
    """What a worker needs: the projects and what to compute per file."""

    projects: dict[Path, Project]
    command: str
    want_edits: bool = False
    keep_source: bool = False
    diff: bool = False
    keep_fixed: bool = False


_STATE: RunState | None = None


def _init_worker(state: RunState) -> None:
    global _STATE
    _STATE = state


@functools.lru_cache(maxsize=64)
def _rules_for(select: tuple[str, ...] | None) -> list[type[Rule]]:
    return selected_rules(select)


def _fixable(violation: Violation, unsafe_fixes: bool) -> bool:
    return violation.fix is not None and (unsafe_fixes or violation.fix.applicability is Applicability.SAFE)


def _fix_edits(data: bytes, violations: list[Violation], options: Options, path: str | None) -> dict[int, list[Any]]:
    """The text edits of each fixable violation: each code's fix of the whole file, diffed and
    attributed to its violations by line (LibCST runs only for files with a fix)."""
    by_code: dict[str, list[int]] = {}
    for index, violation in enumerate(violations):
        if violation.fix is not None:
            by_code.setdefault(violation.code, []).append(index)
    if not by_code:
        return {}
    try:
        from channels_lint.fixes import fix_bytes
    except ImportError:  # LibCST is the `fix` extra: findings keep their fix metadata, without edits
        return {}
    original = Source.from_bytes(data).lines
    result: dict[int, list[Any]] = {}
    for code, indexes in by_code.items():
        only = dataclasses.replace(options, select=(code,), ignore=(), unsafe_fixes=True)
        fixed = fix_bytes(data, filename=path, options=only)
        if fixed.error or not fixed.changed:
            continue
        edits = text_edits(original, Source.from_bytes(fixed.fixed).lines)
        for local, found in attribute_edits([violations[i] for i in indexes], edits).items():
            result[indexes[local]] = found
    return result


def check_file(path: str, data: bytes | None, project: Project, state: RunState, name: str | None = None) -> FileReport:
    """Lint one file (``data``: its bytes when already read, e.g. stdin)."""
    display = name or path
    try:
        if data is None:
            data = read_source(path)
    except OSError as error:
        return FileReport(display, [Violation(UNANALYSABLE, 1, 0, f"file could not be read ({error})")])
    options = project.options.for_path(path)
    source, violations = lint_bytes(data, _rules_for(options.select), path=path, settings=project.settings)
    report = FileReport(display, violations)
    if source is not None and violations:
        report.lines = {v.line: source.lines[v.line - 1].rstrip("\r\n") for v in violations if 0 < v.line <= len(source.lines)}
        if state.keep_source:
            report.source = source.text
        if state.want_edits:
            report.edits = _fix_edits(data, violations, options, path)
    return report


@dataclass
class FixOutcome:
    """What ``fix`` did (or would do) to one file."""

    path: str
    changed: bool = False
    fixed: bytes | None = None
    applied: list[tuple[str, str]] = field(default_factory=list)
    left: list[Violation] = field(default_factory=list)
    error: str | None = None
    diff: str | None = None


def fix_file(path: str, data: bytes | None, project: Project, state: RunState, name: str | None = None) -> FixOutcome:
    """Fix one file in memory; LibCST is imported and run only when it has a fixable finding."""
    display = name or path
    try:
        if data is None:
            data = read_source(path)
    except OSError as error:
        return FixOutcome(display, error=str(error))
    options = project.options.for_path(path)
    rules = _rules_for(options.select)
    source, violations = lint_bytes(data, rules, path=path, settings=project.settings)
    broken = [v for v in violations if v.code == UNANALYSABLE]
    if source is None or broken:
        return FixOutcome(display, error=broken[0].message if broken else "could not be decoded", left=violations)
    if not any(_fixable(v, options.unsafe_fixes) for v in violations):
        return FixOutcome(display, fixed=data if state.keep_fixed else None, left=violations)
    from channels_lint.fixes import fix_bytes  # LibCST is imported only when something is fixable

    result = fix_bytes(data, filename=path, options=options)
    if result.error:
        return FixOutcome(display, error=result.error, left=violations)
    if not result.changed:
        return FixOutcome(display, fixed=data if state.keep_fixed else None, left=violations)
    _, left = lint_bytes(result.fixed, rules, path=path, settings=project.settings)
    return FixOutcome(
        display,
        changed=True,
        fixed=result.fixed if state.keep_fixed else None,
        applied=[(v.code, v.fix.title if v.fix else "") for v in result.applied],
        left=left,
        diff=unified_diff(data, result.fixed, display) if state.diff else None,
    )


def _work(task: tuple[str, Path]) -> FileReport | FixOutcome:
    """One file in a worker (or in-process): never raises."""
    assert _STATE is not None
    path, root = task
    project = _STATE.projects[root]
    try:
        if _STATE.command == "fix":
            return fix_file(path, None, project, _STATE)
        return check_file(path, None, project, _STATE)
    except Exception as error:  # noqa: BLE001 - a bug must not stop the run: report it for this file
        message = f"file could not be analysed (internal error {type(error).__name__}: {error} (please report it))"
        if _STATE.command == "fix":
            return FixOutcome(path, error=message)
        return FileReport(path, [Violation(UNANALYSABLE, 1, 0, message)])


def _pool_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")  # workers start with the rules already imported
    return multiprocessing.get_context("spawn")


def execute(targets: list[Target], state: RunState, jobs: int, progress: Any = None) -> list[Any]:
    """Run :func:`_work` over ``targets`` (in a process pool when it pays), in order."""
    tasks = [(target.path, target.root) for target in targets]
    results: list[Any] = []
    if jobs > 1 and len(tasks) >= PARALLEL_MIN_FILES:
        chunksize = max(1, min(32, len(tasks) // (jobs * 8)))
        try:
            with ProcessPoolExecutor(jobs, mp_context=_pool_context(), initializer=_init_worker, initargs=(state,)) as pool:
                for result in pool.map(_work, tasks, chunksize=chunksize):
                    results.append(result)
                    if progress is not None:
                        progress.update(1)
            return results
        except BrokenProcessPool as error:  # a worker died (out of memory?): do it here instead
            emit(f"channels-lint: worker process failed ({error}); continuing in one process\n", sys.stderr)
            results = []
            if progress is not None:
                progress.reset()
    _init_worker(state)
    for task in tasks:
        results.append(_work(task))
        if progress is not None:
            progress.update(1)
    return results


# ---------------------------------------------------------------------------- arguments


def _check_codes(found: Iterable[str], option: str) -> tuple[str, ...]:
    """Raises: ConfigError: a code prefix matches no rule (with the closest code)."""
    universe = known_codes()
    for code in found:
        if not any(known.startswith(code) for known in universe):
            raise ConfigError(f"{option}: unknown rule code {code!r} (see `channels-lint rules`){suggest(code, universe)}")
    return tuple(found)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="channels-lint", description="Find and fix Django Channels bugs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", help="Files or directories (default: .); - reads stdin.")
    group = common.add_argument_group("rule selection (command line > [tool.channels_lint] > flake8 config)")
    group.add_argument("--select", type=codes, default=None, help="Code prefixes to enable, replacing the config's.")
    group.add_argument("--extend-select", type=codes, default=[], help="Code prefixes to enable on top.")
    group.add_argument("--ignore", type=codes, default=None, help="Code prefixes to disable, replacing the config's.")
    group.add_argument("--extend-ignore", type=codes, default=[], help="Code prefixes to disable on top.")
    group.add_argument(
        "--per-file-ignores",
        default=None,
        metavar="PATTERN:CODES ...",
        help="flake8's format: 'tests/*:CHN1 __init__.py:CHN403'.",
    )
    files = common.add_argument_group("files")
    files.add_argument(
        "--exclude",
        type=comma_list,
        default=None,
        help=f"Comma-separated globs to skip, replacing the default list ({','.join(DEFAULT_EXCLUDE)}).",
    )
    files.add_argument("--extend-exclude", type=comma_list, default=[], help="Comma-separated globs to skip on top.")
    files.add_argument(
        "--force-exclude", action="store_true", help="Apply excludes to files named on the command line too (pre-commit)."
    )
    files.add_argument("--stdin-filename", default=None, help="The name of the file read from stdin (-).")
    files.add_argument("--isolated", action="store_true", help="Ignore configuration files (pins are still read).")
    files.add_argument("-j", "--jobs", type=int, default=None, help="Worker processes (default: every core; 1: no pool).")
    settings = common.add_argument_group("target")
    settings.add_argument("--django-version", default=None, help="Target Django version, e.g. 4.2 (default: from pins).")
    settings.add_argument("--channels-version", default=None, help="Target Channels version, e.g. 4.1 (default: from pins).")
    settings.add_argument("--orm-style", choices=ORM_STYLES, default=None, help="How ORM fixes are written.")

    check = commands.add_parser("check", parents=[common], help="Report findings (flake8's format by default).")
    check.add_argument("--output-format", choices=FORMATS, default="text", help="text (default), json, sarif, github, junit.")
    check.add_argument("-o", "--output-file", default=None, help="Write the report to this file instead of stdout.")
    check.add_argument("--statistics", action="store_true", help="Count the findings per code (text format).")
    check.add_argument("--show-source", action="store_true", help="Show each finding's source line (text format).")
    check.add_argument("--show-fixes", action="store_true", help="Show each finding's fix as a diff (text format).")
    check.add_argument("--exit-zero", action="store_true", help="Exit 0 even when something is reported.")
    check.add_argument("--add-noqa", action="store_true", help="Add `# noqa: CODE` to every reported line.")
    check.add_argument("--baseline", type=Path, default=None, help="Report only findings not recorded in this file.")
    check.add_argument("--update-baseline", action="store_true", help="Record today's findings in --baseline FILE.")

    fix = commands.add_parser("fix", parents=[common], help="Apply fixes in place.")
    fix.add_argument("--diff", action="store_true", help="Print a unified diff and write nothing.")
    fix.add_argument("--check", action="store_true", help="Write nothing; exit 1 if anything would change.")
    fix.add_argument("--unsafe-fixes", action="store_true", help="Also apply fixes marked unsafe.")
    fix.add_argument("--show-fixes", action="store_true", help="List the fixes applied in each file.")
    fix.add_argument("--no-progress", action="store_true", help="No progress bar.")
    commands.add_parser("rules", help="List every rule.")
    rule = commands.add_parser("rule", help="Print one rule's documentation.")
    rule.add_argument("code")
    return parser


def command_line_layer(args: argparse.Namespace) -> Layer:
    """The command line's options as the highest :class:`Layer`.

    Raises:
        ConfigError: a malformed version or ``--per-file-ignores``.
    """
    values: dict[str, Any] = {}
    base = os.getcwd()
    from channels_lint.config import KEYS

    for key in ("django-version", "channels-version"):
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            values[key.replace("-", "_")] = KEYS[key].from_flake8(value, f"--{key}", base)
    if args.per_file_ignores is not None:
        mapping = KEYS["per-file-ignores"].from_flake8(args.per_file_ignores, "--per-file-ignores", base)
        for _, found in mapping:
            _check_codes(found, "--per-file-ignores")
        values["per_file_ignores"] = mapping
    return Layer(
        source="command line",
        select=None if args.select is None else _check_codes(args.select, "--select"),
        extend_select=_check_codes(args.extend_select, "--extend-select"),
        ignore=None if args.ignore is None else _check_codes(args.ignore, "--ignore"),
        extend_ignore=_check_codes(args.extend_ignore, "--extend-ignore"),
        exclude=None if args.exclude is None else tuple(KEYS["exclude"].from_flake8(",".join(args.exclude), "--exclude", base)),
        extend_exclude=tuple(KEYS["extend-exclude"].from_flake8(",".join(args.extend_exclude), "--extend-exclude", base)),
        orm_style=args.orm_style,
        **values,
    )


class Projects:
    """Each project root's configuration, read once per run.

    Raises (from :meth:`get`):
        UsageError: the configuration of a root is wrong.
    """

    def __init__(self, command_line: Layer, unsafe_fixes: bool, isolated: bool) -> None:
        self.command_line = command_line
        self.unsafe_fixes = unsafe_fixes
        self.isolated = isolated
        self.by_root: dict[Path, Project] = {}

    def get(self, root: Path) -> Project:
        project = self.by_root.get(root)
        if project is None:
            try:
                options, settings = resolve(root, self.command_line, self.unsafe_fixes, self.isolated)
            except ConfigError as error:
                raise UsageError(f"configuration error: {error}") from None
            project = self.by_root[root] = Project(options, settings)
        return project


def discover(paths: Sequence[str], projects: Projects, force_exclude: bool) -> list[Target]:
    """The files to check: explicit files (``.py`` only) and the ``.py`` files under directories.

    Raises:
        UsageError: a path does not exist or names a file that is not Python source.
    """
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    targets: list[Target] = []
    for raw in paths:
        path = os.path.normpath(raw)
        if os.path.isdir(path):
            root = find_root(Path(path))
            targets.extend(walk(path, root, projects.get(root).options.excluder()))
            continue
        if not path.endswith(".py"):
            raise UsageError(f"{path}: not a Python file (*.py); name .py files or directories")
        root = find_root(Path(path))
        excluded = projects.get(root).options.excluder().excludes(path, str(root), parents=force_exclude)
        if not excluded:
            targets.append(Target(path, root))
    unique: dict[str, Target] = {}
    for target in targets:
        unique.setdefault(target.path, target)
    return list(unique.values())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "rules":
        return _rules()
    if args.command == "rule":
        return _rule(args.code)
    clear_caches()  # main() may run many times in one process (tests, editors): read files afresh
    try:
        return _run(args)
    except UsageError as error:
        emit(f"channels-lint: {error}\n", sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    paths = list(args.paths) or [os.curdir]
    stdin = "-" in paths
    if stdin and len(paths) > 1:
        raise UsageError("- (stdin) cannot be combined with other paths")
    if args.command == "check" and args.update_baseline and args.baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    if args.command == "check" and args.output_format != "text" and (args.statistics or args.show_source):
        raise UsageError("--statistics and --show-source apply to the text format")
    if args.command == "fix" and args.diff and args.check:
        raise UsageError("--diff and --check: pick one")
    if args.command == "fix" and importlib.util.find_spec("libcst") is None:
        raise UsageError("`fix` needs LibCST: pip install 'channels-lint[fix]'")
    try:
        command_line = command_line_layer(args)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    projects = Projects(command_line, bool(getattr(args, "unsafe_fixes", False)), args.isolated)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise UsageError("-j/--jobs must be at least 1")
    if stdin:
        name = args.stdin_filename
        if name is not None and not name.endswith(".py"):
            raise UsageError(f"--stdin-filename {name}: not a Python file (*.py)")
        root = find_root(Path(name) if name else Path.cwd())
        project = projects.get(root)
        data = sys.stdin.buffer.read()
        if args.command == "check":
            state = _check_state(args, {root: project})
            return _report(args, [check_file(name or "-", data, project, state, name=name or "-")])
        state = RunState({root: project}, "fix", diff=args.diff, keep_fixed=True)
        return _fix_report(args, [fix_file(name or "-", data, project, state, name=name or "-")], stdin=data)
    targets = discover(paths, projects, args.force_exclude)
    for target in targets:  # every root's configuration is read (and checked) before any work
        projects.get(target.root)
    if args.command == "check":
        state = _check_state(args, projects.by_root)
        return _report(args, execute(targets, state, jobs))
    state = RunState(projects.by_root, "fix", diff=args.diff, keep_fixed=not (args.diff or args.check))
    progress = _progress(len(targets), args.no_progress)
    try:
        outcomes = execute(targets, state, jobs, progress)
    finally:
        if progress is not None:
            progress.close()
    return _fix_report(args, outcomes)


# ---------------------------------------------------------------------------- check


def _check_state(args: argparse.Namespace, projects: dict[Path, Project]) -> RunState:
    return RunState(
        projects,
        "check",
        want_edits=args.output_format in ("json", "sarif") or args.show_fixes,
        keep_source=args.show_fixes,
    )


def _report(args: argparse.Namespace, reports: list[FileReport]) -> int:
    if args.baseline is not None:
        from channels_lint.adoption import Baseline

        if args.update_baseline:
            count = Baseline.record(args.baseline, reports)
            emit(f"Recorded {count} finding(s) in {args.baseline}.\n", sys.stderr)
            return 0
        try:
            reports = Baseline(args.baseline, Counter()).load(args.baseline).new_findings(reports)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if args.add_noqa:
        return _add_noqa(reports)
    text = render(args.output_format, reports, args.show_source, args.show_fixes, args.statistics)
    if args.output_file:
        with open(args.output_file, "w", encoding="utf-8", errors="backslashreplace") as stream:
            stream.write(text)
    else:
        emit(text)
    found = sum(len(report.violations) for report in reports)
    return 1 if found and not args.exit_zero else 0


def _add_noqa(reports: list[FileReport]) -> int:
    """Add ``# noqa`` comments, proving each file: it still parses where it did, and re-linting
    shows none of the findings it silenced."""
    from channels_lint.adoption import add_noqa

    added = files = 0
    for report in reports:
        wanted = [v for v in report.violations if v.code != UNANALYSABLE]
        if not wanted or report.path == "-":
            continue
        try:
            data = read_source(report.path)
            source = Source.from_bytes(data)
            text, count = add_noqa(source.text, wanted)
            new = text.encode(source.encoding)
            if data.startswith(b"\xef\xbb\xbf") and not new.startswith(b"\xef\xbb\xbf"):
                new = b"\xef\xbb\xbf" + new
            _, after = lint_bytes(new, selected_rules(tuple({v.code for v in wanted})), path=report.path)
            left = {(v.line, v.code) for v in after} & {(v.line, v.code) for v in wanted}
            if left:
                raise ValueError(f"# noqa did not silence {', '.join(sorted(c for _, c in left))}")
            if new != data:
                write_atomically(Path(report.path), new)
        except (OSError, ValueError, SyntaxError, UnicodeError) as error:
            emit(f"{report.path}: # noqa not added, left unchanged: {error}\n", sys.stderr)
            continue
        added += count
        files += 1 if count else 0
    emit(f"Added {added} noqa directive(s) to {files} file(s).\n", sys.stderr)
    return 0


# ---------------------------------------------------------------------------- fix


def _progress(total: int, disabled: bool) -> Any:
    """A tqdm bar on stderr for large trees, when stderr is a terminal and tqdm is installed."""
    if disabled or total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True)


def _counts(items: Iterable[str]) -> str:
    from channels_lint.rules import REGISTRY

    counted = Counter(items)
    return "".join(
        f"  {count:<5} {code} {REGISTRY[code].name if code in REGISTRY else ''}".rstrip() + "\n"
        for code, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    )


def _fix_report(args: argparse.Namespace, outcomes: list[FixOutcome], stdin: bytes | None = None) -> int:
    """Write (or diff, or list) what was fixed, then the summary on stderr.  With stdin, the
    fixed code (or the input, when nothing changed or it could not be fixed) goes to stdout."""
    changed = failed = 0
    applied: list[str] = []
    left: list[Violation] = []
    for outcome in outcomes:
        left.extend(outcome.left)
        if stdin is not None and not (args.diff or args.check):
            sys.stdout.flush()
            sys.stdout.buffer.write(outcome.fixed if outcome.changed and outcome.fixed is not None else stdin)
            sys.stdout.buffer.flush()
        if outcome.error:
            failed += 1
            emit(f"{outcome.path}: not fixed, left unchanged: {outcome.error}\n", sys.stderr)
            continue
        if not outcome.changed:
            continue
        if args.diff:
            emit(outcome.diff or "")
        elif args.check:
            emit(f"Would fix {len(outcome.applied)} finding(s) in {outcome.path}\n")
        elif stdin is None:
            try:
                write_atomically(Path(outcome.path), outcome.fixed or b"")
            except OSError as error:
                failed += 1
                emit(f"{outcome.path}: not fixed, left unchanged: {error}\n", sys.stderr)
                continue
        changed += 1
        applied.extend(code for code, _ in outcome.applied)
        if args.show_fixes:
            emit(f"{outcome.path}:\n{_counts(code for code, _ in outcome.applied)}", sys.stderr)
    verb = "Would fix" if (args.diff or args.check) else "Fixed"
    summary = f"{verb} {len(applied)} finding(s) in {changed} file(s).\n{_counts(applied)}"
    if left:
        summary += f"{len(left)} finding(s) left:\n{_counts(v.code for v in left)}"
        if not args.unsafe_fixes:
            unsafe = sum(1 for v in left if v.fix is not None and v.fix.applicability is Applicability.UNSAFE)
            if unsafe:
                summary += f"{unsafe} of them fixable with --unsafe-fixes.\n"
    emit(summary, sys.stderr)
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


# ---------------------------------------------------------------------------- rules


def _rules_listing() -> Iterator[str]:
    for code, rule in sorted(REGISTRY.items()):
        fix = rule.fix_applicability.value if rule.fix_applicability else "-"
        yield f"{code}  {rule.name:<33} fix: {fix:<6}  {rule.summary()}\n"


def _rules() -> int:
    for line in _rules_listing():
        emit(line)
    return 0


def _rule(code: str) -> int:
    rule = REGISTRY.get(code.upper())
    if rule is None:
        emit(f"channels-lint: unknown rule {code!r}{suggest(code.upper(), REGISTRY)}; see `channels-lint rules`\n", sys.stderr)
        return 2
    emit(f"# {rule.name} ({rule.code})\n\n{rule.docs()}\n")
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
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
