"""ASGI applications for the routing validator and system-check tests.

``broken`` has one broken route of each kind (its comments give the id expected), ``fixed`` the
same routes corrected; ``broken_no_http`` and ``broken_include`` hold the two problems that need
an application of their own.
"""
