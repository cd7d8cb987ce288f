"""LibCST codemod commands: list ``channels_lint.codemods`` under ``modules:`` in
``.libcst.codemod.yaml`` and run
``python -m libcst.tool codemod channels_lint_fix.ApplyChannelsLintFixes PATH``.

They live inside the ``channels_lint`` package so that installing channels-lint adds no
top-level ``codemods`` package to site-packages (a project's own ``codemods`` package keeps
its name).
"""
