"""Django system checks of the runtime app (registered on import by ``apps.ready``).

``check_asgi_routing`` (tags ``urls`` and ``channels_lint``; run it alone with
``manage.py check --tag channels_lint``) imports ``settings.ASGI_APPLICATION`` with
``django.utils.module_loading.import_string``, walks its websocket and HTTP routes with
:class:`channels_lint.runtime.routing.RoutingValidator` (forcing Django's lazy regex
compilation), and reports every problem found. It is silent when ``ASGI_APPLICATION`` is unset.
Django's own URL checks never see these routes (they check ``ROOT_URLCONF`` only), and Channels
registers no checks (docs/semantics.md §7).

Each message has ``obj`` = where the route is (``"proj.asgi.application['websocket'].routes[2]"``)
and a ``hint`` with the fix.

=====================  =========  ===============================================================
Id                     Level      Problem
=====================  =========  ===============================================================
``channels_lint.E001`` Error      ``ASGI_APPLICATION`` cannot be imported (the exception is quoted).
``channels_lint.E002`` Error      a ``re_path`` regex does not compile (Django would raise
                                  ``ImproperlyConfigured`` on the first connection).
``channels_lint.E003`` Error      regex syntax in a ``path()`` route (matched literally).
``channels_lint.E004`` Error      a route starts with ``/`` (``URLRouter`` strips it: never matches).
``channels_lint.E005`` Error      a consumer class routed without ``.as_asgi()`` (``TypeError`` on
                                  connect), or ``.as_asgi`` not called.
``channels_lint.E006`` Error      ``include()`` in a ``URLRouter`` (also when it makes the import of
                                  ``ASGI_APPLICATION`` fail with Channels' ``ImproperlyConfigured``).
``channels_lint.E007`` Error      a nested ``URLRouter`` that cannot be reached (middleware-wrapped
                                  under ``path()``, or under a regex ending in ``$``).
``channels_lint.E008`` Error      a routes entry that is not a ``path()``/``re_path()`` route.
``channels_lint.E009`` Error      a malformed ``path()`` converter (unmatched ``<``/``>``, unknown type).
``channels_lint.W001`` Warning    an endpoint ``re_path`` anchored at neither end (matches too much).
``channels_lint.W002`` Warning    a route shadowed by an earlier identical route or a catch-all.
``channels_lint.W003`` Warning    a regex that can backtrack exponentially (ReDoS).
``channels_lint.W004`` Warning    a ``ProtocolTypeRouter`` without ``"http"`` (Channels 4 adds none).
``channels_lint.W005`` Warning    Django's ASGI app in an HTTP ``URLRouter`` under a route that is
                                  not a catch-all.
``channels_lint.W006`` Warning    a consumer instance routed (one instance shared by all connections).
=====================  =========  ===============================================================

Silence one with ``SILENCED_SYSTEM_CHECKS = ["channels_lint.W001"]``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

__all__ = ["check_asgi_routing", "to_check_message"]

#: Channels' own message when a URLRouter is given include() (channels/routing.py @ 4.3.2 L85-89)
_INCLUDE_MESSAGE = "include() is not supported in URLRouter"


@register(Tags.urls, "channels_lint")
def check_asgi_routing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report routing problems of ``settings.ASGI_APPLICATION`` (ids in the module docstring).

    Args:
        app_configs: ignored (the routing belongs to the project, not to an app).
        kwargs: ignored (Django passes ``databases``).

    Returns:
        A list of ``django.core.checks.Error``/``Warning``; empty when ``ASGI_APPLICATION`` is
        unset or the routing has no problem.

    Raises:
        Nothing: an import failure of ``ASGI_APPLICATION`` is reported as E001 (or E006).
    """
    dotted = getattr(settings, "ASGI_APPLICATION", None)
    if not dotted:
        return []
    dotted = str(dotted)
    try:
        from django.utils.module_loading import import_string

        application = import_string(dotted)
    except Exception as exc:  # noqa: BLE001  (any import-time failure is the finding itself)
        text = f"{type(exc).__name__}: {exc}"
        if _INCLUDE_MESSAGE in str(exc):
            return [
                Error(
                    f"ASGI_APPLICATION {dotted!r} fails to import: {text}",
                    hint="Nest a URLRouter([...]) of the included routes instead of include().",
                    obj=dotted,
                    id="channels_lint.E006",
                )
            ]
        return [
            Error(
                f"ASGI_APPLICATION {dotted!r} cannot be imported: {text}",
                hint="Point ASGI_APPLICATION at the application object (e.g. 'myproject.asgi.application') and make "
                "that module importable; servers such as Daphne import it the same way.",
                obj=dotted,
                id="channels_lint.E001",
            )
        ]
    try:
        from channels_lint.runtime.routing import RoutingValidator
    except ImportError:  # Channels is not installed: there are no Channels routes to check
        return []
    return [to_check_message(problem) for problem in RoutingValidator().check_application(application, name=dotted)]


def to_check_message(problem: Any) -> CheckMessage:
    """Turn a :class:`channels_lint.runtime.routing.RouteProblem` into a Django check message.

    Args:
        problem: a ``RouteProblem`` (``id``, ``level``, ``message``, ``hint``, ``location``).

    Returns:
        ``Error`` for level ``"error"``, else ``Warning``, with ``obj=problem.location``.
    """
    kind = Error if problem.level == "error" else Warning
    return kind(problem.message, hint=problem.hint, obj=problem.location, id=problem.id)
