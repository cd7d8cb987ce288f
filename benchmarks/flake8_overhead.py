"""Benchmark: what the channels-lint plugin adds to a flake8 run (prints ratios).

Usage::

    python benchmarks/flake8_overhead.py [TREE ...] [--repeat N]

Default tree: the installed Django's ``db`` and ``core`` packages (the issue's reference
tree, about 230 files).  Each round runs ``flake8 --jobs 1`` (one core) over the tree twice,
once with every installed plugin and once with channels-lint filtered out of flake8's plugin
finder; the best of ``--repeat`` rounds is reported, plus the plugin's own engine time and
how many files the text pre-filter let through.  Not a test: timings are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

#: Runs flake8 with channels-lint removed from the plugins flake8 discovers.
WITHOUT_PLUGIN = """
import sys
from flake8.main.cli import main
from flake8.plugins import finder
_original = finder._find_importlib_plugins
finder._find_importlib_plugins = lambda: (p for p in _original() if p.package != "channels-lint")
sys.exit(main(sys.argv[1:]))
"""
WITH_PLUGIN = "import sys\nfrom flake8.main.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def default_tree() -> list[str]:
    import django

    root = Path(django.__file__).parent
    return [str(root / "db"), str(root / "core")]


def flake8_seconds(program: str, paths: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", program, "--jobs", "1", "--exit-zero", "-qq", *paths], check=True)
    return time.perf_counter() - start


def engine_profile(paths: list[str]) -> tuple[int, int, int, float, float]:
    """(files, lines, files past the pre-filter, ast.parse seconds, engine seconds on parsed trees)."""
    from channels_lint.cli import iter_python_files
    from channels_lint.engine import Source, lint, may_contain_findings, selected_rules

    rules = selected_rules()
    files = lines = candidates = 0
    parse_seconds = engine_seconds = 0.0
    for path in iter_python_files(paths):
        source = Source.from_bytes(path.read_bytes())
        files += 1
        lines += len(source.lines)
        start = time.perf_counter()
        tree = ast.parse(source.text)
        parse_seconds += time.perf_counter() - start
        start = time.perf_counter()
        candidates += may_contain_findings(source.text, rules)
        lint(source, rules, tree=tree, noqa=False)
        engine_seconds += time.perf_counter() - start
    return files, lines, candidates, parse_seconds, engine_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = args.paths or default_tree()

    files, lines, candidates, parse_seconds, engine_seconds = engine_profile(paths)
    without, with_plugin = [], []
    for _ in range(args.repeat):
        without.append(flake8_seconds(WITHOUT_PLUGIN, paths))
        with_plugin.append(flake8_seconds(WITH_PLUGIN, paths))
    base, plugged = min(without), min(with_plugin)
    print(f"tree: {', '.join(paths)}: {files} files, {lines} lines; {candidates} past the pre-filter")
    print(f"flake8 --jobs 1 without channels-lint: {base:.2f} s (best of {args.repeat})")
    print(f"flake8 --jobs 1 with channels-lint:    {plugged:.2f} s (best of {args.repeat})")
    print(f"ratio with/without: {plugged / base:.3f} (added {100 * (plugged / base - 1):+.1f}%)")
    print(
        f"engine on parsed trees: {engine_seconds:.3f} s = {engine_seconds / parse_seconds:.3f} x ast.parse time ({parse_seconds:.2f} s)"
    )


if __name__ == "__main__":
    main()
