"""Benchmark: what channels-lint costs beside flake8 and ruff, side by side (prints medians).

Usage::

    .venv/bin/python benchmarks/lint_speed.py [--rounds 5] [--apps 100] [--jobs 1] [--profile]

Not a test: it prints timings, it asserts nothing.  In one run, alternating the two sides of
each comparison in every round (so drift of the machine hits both alike):

1. **flake8 overhead**: ``flake8 --jobs N`` with and without the ``CHN`` plugin over the
   installed Django package and over a generated tree of Django apps with a few consumers
   (``benchmarks/generate_tree.py``: 100 apps, 2,226 files); median ratio with/without.
2. **check vs ruff**: ``channels-lint check`` against ``ruff check --select ASYNC,DJ
   --isolated --no-cache`` on the same trees; median wall-time ratio.
3. **fix**: ``channels-lint fix`` on a fresh copy of the generated tree (24 findings, 18
   fixable) and on its clean twin (nothing to fix), against ``check`` on the clean twin:
   wall time and peak memory (``ru_maxrss`` of the child process).

``--profile`` also profiles ``channels-lint check`` in this process on the generated tree
and prints where the time goes, module by module (the CLI's walk, project settings, the
pre-filter, the engine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_tree import generate

BIN = Path(sys.executable).parent
#: flake8 with channels-lint removed from the plugins flake8 discovers.
WITHOUT_PLUGIN = """
import sys
from flake8.main.cli import main
from flake8.plugins import finder
_original = finder._find_importlib_plugins
finder._find_importlib_plugins = lambda: (p for p in _original() if p.package != "channels-lint")
sys.exit(main(sys.argv[1:]))
"""
WITH_PLUGIN = "import sys\nfrom flake8.main.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def run(command: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process; its output is discarded."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def compare(name: str, a: tuple[str, list[str]], b: tuple[str, list[str]], rounds: int, cwd: Path | None = None) -> None:
    """Run ``a`` and ``b`` alternately ``rounds`` times; print medians and the median ratio."""
    (a_name, a_command), (b_name, b_command) = a, b
    a_times, b_times, ratios = [], [], []
    a_memory, b_memory = [], []
    for round_ in range(rounds):
        order = [(a_command, a_times, a_memory), (b_command, b_times, b_memory)]
        if round_ % 2:
            order.reverse()
        for command, times, memory in order:
            seconds, megabytes = run(command, cwd)
            times.append(seconds)
            memory.append(megabytes)
        ratios.append(a_times[-1] / b_times[-1])
    print(
        f"{name}: {a_name} {statistics.median(a_times):.2f} s ({max(a_memory):.0f} MB), "
        f"{b_name} {statistics.median(b_times):.2f} s ({max(b_memory):.0f} MB); "
        f"median ratio {statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})",
        flush=True,
    )


def fix_rounds(tree: Path, clean: Path, rounds: int, workdir: Path) -> None:
    """``fix`` on fresh copies of ``tree`` (work to do), ``fix`` and ``check`` on ``clean``."""
    fix_times, fix_memory, clean_fix, clean_check = [], [], [], []
    for round_ in range(rounds):
        copy = workdir / f"fix-{round_}"
        shutil.copytree(tree, copy)
        seconds, megabytes = run([str(BIN / "channels-lint"), "fix", str(copy)])
        fix_times.append(seconds)
        fix_memory.append(megabytes)
        shutil.rmtree(copy)
        pair = [("fix", clean_fix), ("check", clean_check)]
        if round_ % 2:
            pair.reverse()
        for command, results in pair:
            results.append(run([str(BIN / "channels-lint"), command, str(clean)]))
    median = lambda values: statistics.median(v[0] if isinstance(v, tuple) else v for v in values)
    print(f"fix on the generated tree: {median(fix_times):.2f} s, peak {max(fix_memory):.0f} MB", flush=True)
    print(
        f"nothing to fix: fix {median(clean_fix):.2f} s ({max(m for _, m in clean_fix):.0f} MB), "
        f"check {median(clean_check):.2f} s ({max(m for _, m in clean_check):.0f} MB); "
        f"ratio {median(clean_fix) / median(clean_check):.3f}",
        flush=True,
    )


def profile(tree: Path) -> None:
    """Where ``channels-lint check`` spends its time on ``tree``, by module (in this process)."""
    import cProfile
    import pstats
    from collections import defaultdict

    from channels_lint.cli import main

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(lambda: main(["check", "--exit-zero", "-j", "1", "-o", os.devnull, str(tree)]))
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        key = filename.split("/site-packages/")[-1] if "site-packages" in filename else filename.split("/channels_lint/")[-1]
        own[key] += tottime
    print(f"profile of check -j 1 on {tree} ({total:.2f} s under the profiler): own time by file")
    for key, seconds in sorted(own.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds:6.2f} s  {key}")
    stats.sort_stats("cumulative").print_stats(r"channels_lint/(cli|config|engine|project)", 25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--jobs", default="1", help="flake8 --jobs (default 1: one core, the steadiest figure)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import django

    django_tree = Path(django.__file__).parent
    with tempfile.TemporaryDirectory(prefix="chlint-bench-") as temporary:
        workdir = Path(temporary)
        tree, clean = workdir / "tree", workdir / "clean"
        files = generate(tree, apps=args.apps)
        generate(clean, apps=args.apps, clean=True)
        print(f"trees: Django {django.__version__} ({sum(1 for _ in django_tree.rglob('*.py'))} files), generated {files} files")
        for label, path in (("django", django_tree), ("generated", tree)):
            flake8 = [sys.executable, "-c", None, "--jobs", args.jobs, "--exit-zero", "-qq", str(path)]
            with_plugin, without = list(flake8), list(flake8)
            with_plugin[2], without[2] = WITH_PLUGIN, WITHOUT_PLUGIN
            compare(f"flake8 on {label}", ("with CHN", with_plugin), ("without", without), args.rounds)
        for label, path in (("django", django_tree), ("generated", tree)):
            check = [str(BIN / "channels-lint"), "check", "--exit-zero", str(path)]
            ruff = [str(BIN / "ruff"), "check", "--select", "ASYNC,DJ", "--isolated", "--no-cache", "--exit-zero", str(path)]
            compare(f"check vs ruff on {label}", ("channels-lint check", check), ("ruff", ruff), args.rounds, cwd=workdir)
        fix_rounds(tree, clean, args.rounds, workdir)
        if args.profile:
            profile(tree)


if __name__ == "__main__":
    main()
