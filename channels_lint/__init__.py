"""channels-lint: find and fix the classic Django Channels failures.

This package is split in two halves that never import each other's dependencies:

* the lint side (:mod:`channels_lint.engine`, :mod:`channels_lint.analysis`,
  :mod:`channels_lint.rules`, :mod:`channels_lint.fixes`, :mod:`channels_lint.plugin`,
  :mod:`channels_lint.cli`) uses only the standard library, flake8 and LibCST, and never
  imports Django;
* the runtime side (:mod:`channels_lint.runtime`) is imported by user consumers, needs
  Django/Channels (the ``channels-lint[runtime]`` extra) and never imports LibCST or flake8.
"""

__version__ = "0.1.0"
