"""Client data: which expressions hold data the client controls, and what checked it.

Sources (docs/semantics.md §1.3, §1.3b, §2.4, §11): the ``text_data``/``bytes_data`` of a
consumer's ``receive``, ``event["text"]`` of ``websocket_receive``, ``decode_json``'s text,
``receive_json``'s ``content``, what a JSON decoder returns for any of them, ``request.body``
of a view and the body an ``AsyncHttpConsumer.handle`` gets; the scope's ``query_string``,
``path``, ``headers``, ``cookies``, URL kwargs and the user's text fields; ``self.channel_name``.
Client data flows: through names (reaching bindings), ``self.<attr>``, ``x or y``, string
methods, subscripts and ``.get()`` (which extend the value's key path) and iteration.

Checks (:class:`Check`) are the tests and validators a value went through before a use:
membership tests, ``.get()``, ``isinstance``, allowlist comparisons, text tests
(``re.match``, ``str.isalnum``...), serializers/forms/pydantic/jsonschema, the runtime's
validators and the project's own ``validate*``/``check*`` functions.  A rule asks
:meth:`ClientData.checks_before` and decides which kinds make a use safe.

``None`` means "not provably client data": rules stay silent on it.

The analyzer is one class built in layers, one module each: :mod:`.sources` (handlers and
values), :mod:`.checks` (what checked them), :mod:`.groups` (group names);
:mod:`.route_kwargs` says what routes make of a URL kwarg and :mod:`.model` holds the types.
Every public name is importable from ``channels_lint.analysis.client``.
"""

from __future__ import annotations

from channels_lint.analysis.client.checks import ClientChecks
from channels_lint.analysis.client.groups import GroupNames
from channels_lint.analysis.client.model import (
    ANY,
    Check,
    CheckKind,
    ClientSource,
    ClientValue,
    GroupName,
    Handler,
    HandlerKind,
    NamePart,
    RouteKwarg,
)
from channels_lint.analysis.client.route_kwargs import pattern_fact, route_kwarg_fact
from channels_lint.analysis.client.sources import ClientSources


class ClientData(GroupNames):
    """Client data of one module (see the module docstring): :class:`ClientSources`,
    :class:`ClientChecks` and :class:`GroupNames` in one analyzer.

    Args:
        route_kwargs: ``route_kwargs(consumer_name)`` gives the URL kwargs the project's routes
            to a consumer define (``{name: KwargFact}``, each with its converter or regex), or
            ``None`` when the consumer has no known route (``ModuleAnalysis.routes``).
    """


__all__ = [
    "ANY",
    "Check",
    "CheckKind",
    "ClientChecks",
    "ClientData",
    "ClientSource",
    "ClientSources",
    "ClientValue",
    "GroupName",
    "GroupNames",
    "Handler",
    "HandlerKind",
    "NamePart",
    "RouteKwarg",
    "pattern_fact",
    "route_kwarg_fact",
]
