"""CHN900: the file could not be analysed."""

from __future__ import annotations

from collections.abc import Iterator

from channels_lint.diagnostics import Violation
from channels_lint.rules.base import Rule


class UnanalysableFile(Rule):
    """
    ## What it does
    Reports a file that channels-lint could not analyse: it does not parse as Python (a syntax
    error, a null byte, an undecodable encoding), or a rule failed on it. It is the only
    finding reported for such a file.

    ## Why is this bad?
    Nothing in the file was checked, so none of its Channels bugs can be reported, and
    `channels-lint fix` leaves the file byte-for-byte unchanged.

    ## Example
    ```python
    async def connect(self)
        await self.accept()
    ```

    Use instead:
    ```python
    async def connect(self):
        await self.accept()
    ```

    ## Fix safety
    No fix. Under flake8 a syntax error is reported by flake8 itself as `E999` and plugins
    are not run, so this code appears only in `channels-lint check` and `channels-lint fix`.
    """

    code = "CHN900"
    name = "unanalysable-file"

    def check(self) -> Iterator[Violation]:
        return iter(())  # reported by the engine, never by analysis
