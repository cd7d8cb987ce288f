"""A slot for generated applications: tests/test_runtime_checks.py assigns ``application``."""

application = None
