"""A checkout-only shim: the codemods live in :mod:`channels_lint.codemods`.

This folder is not installed (``pyproject.toml`` installs ``channels_lint*`` only), so a
project's own ``codemods`` package never collides with it.  From a checkout of this
repository, ``modules: ['codemods']`` in ``.libcst.codemod.yaml`` still finds the command.
"""
