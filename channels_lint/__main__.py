"""``python -m channels_lint``: the ``channels-lint`` command."""

from channels_lint.cli import run

if __name__ == "__main__":
    run()
