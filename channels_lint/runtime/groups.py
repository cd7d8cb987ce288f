"""Build channel-layer group names and read query parameters from client-controlled values.

Group names (channels/layers.py @ 4.3.2 L106, L140-148, L164-169; docs/semantics.md §5.1)::

    MAX_NAME_LENGTH = 100
    match_type_and_length: isinstance(name, str) and len(name) < MAX_NAME_LENGTH   # <= 99 chars
    group_name_regex = re.compile(r"^[a-zA-Z\\d\\-_.]+$")

``require_valid_group_name`` raises ``TypeError("Group name must be a valid unicode string with
length < 100 containing only ASCII alphanumerics, hyphens, underscores, or periods.")``.
channels_redis 4.3.0 calls it inside ``assert`` (``core.py`` L487), so under ``python -O`` a bad
name reaches Redis unchecked; the PubSub layer checks nothing (§5.1). Channels 2.x and 3.x had the
same regex and the same ``len(name) < 100`` rule in ``valid_group_name`` (their message said
"alphanumerics, hyphens, or periods" although the regex always allowed ``_``); 4.2.1 renamed the
method to ``require_valid_group_name`` and 4.2.2 restored the old name as an alias (§5.1, §8.1).
The regex is looser than it looks (``$`` accepts a trailing newline, ``\\d`` accepts Unicode
digits such as ``"٣"``); :func:`safe_group_name` produces only ``[A-Za-z0-9_.-]{1,99}``, which
every version accepts.

URL kwargs from ``<str:...>``/``<path:...>`` converters and ``\\w+`` groups, query strings and
message content admit spaces, ``:``, ``/`` and non-ASCII text, so a group name built from them
raises in ``group_add`` and kills the consumer (§1.3, §2.5).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import parse_qs

__all__ = ["MAX_GROUP_NAME_LENGTH", "safe_group_name", "safe_query_params"]

logger = logging.getLogger("channels_lint.runtime")

MAX_GROUP_NAME_LENGTH = 99
"""Longest group name Channels accepts: ``len(name) < BaseChannelLayer.MAX_NAME_LENGTH`` (100)."""

_PLAIN_PART = re.compile(r"[A-Za-z0-9_-]+\Z")
_NOT_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_HASH_CHARS = 22  # 16 bytes of BLAKE2b in unpadded urlsafe base64: [A-Za-z0-9_-]
_MARK = ".."  # never appears in a name without a hash (its parts are non-empty and dot-free)
_READABLE_MAX = MAX_GROUP_NAME_LENGTH - len(_MARK) - _HASH_CHARS
_DOMAIN = b"channels-lint.safe_group_name.v1\0"


def safe_group_name(*parts: object, prefix: str = "") -> str:
    """Build a group name that every Channels layer accepts, from untrusted parts.

    Args:
        parts: the pieces of the name, e.g. ``("chat", room_name)``. Non-``str`` parts are
            converted with ``str()`` first (so ``5`` and ``"5"`` give the same name).
        prefix: a namespace written first; ``safe_group_name(x, prefix="chat")`` is exactly
            ``safe_group_name("chat", x)``. An empty prefix adds nothing.

    Returns:
        A ``str`` matching ``[A-Za-z0-9_.-]{1,99}``:

        * When every piece (prefix included) is non-empty, made only of ``[A-Za-z0-9_-]``, and the
          pieces joined with ``"."`` fit in 99 characters, that joined text:
          ``safe_group_name("chat", "lobby") == "chat.lobby"``.
        * Otherwise a readable ASCII form of the pieces (accents removed by NFKD, other
          characters replaced by ``_``, cut to 75 characters) followed by ``".."`` and 22
          characters of a BLAKE2b-128 hash of the exact pieces:
          ``safe_group_name("chat", "café") == "chat.cafe..<hash>"``.

        The same pieces always give the same name, in every process (no ``hash()`` salt).
        Different piece sequences give different names: plain names are the pieces themselves
        (no piece contains ``"."``), hashed names contain ``".."``, which no plain name does, and
        two hashed names are equal only on a 128-bit hash collision. So ``("a.b",)``,
        ``("a", "b")`` and ``("a_b",)`` are three different groups.

    Raises:
        Nothing: a part whose ``str()`` raises is replaced by its type name (and logged).
    """
    pieces = ([_text(prefix)] if prefix else []) + [_text(part) for part in parts]
    plain = ".".join(pieces)
    if pieces and len(plain) <= MAX_GROUP_NAME_LENGTH and all(_PLAIN_PART.match(piece) for piece in pieces):
        return plain
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_DOMAIN)
    for piece in pieces:
        data = piece.encode("utf-8", "surrogatepass")  # injective on every str
        digest.update(b"%d:" % len(data))
        digest.update(data)
    suffix = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
    readable = ".".join(filter(None, (_readable(piece) for piece in pieces)))
    readable = readable[:_READABLE_MAX].strip(".") or "g"
    return f"{readable}{_MARK}{suffix}"


def _text(part: object) -> str:
    if isinstance(part, str):
        return str(part)
    try:
        return str(part)
    except Exception:  # noqa: BLE001
        logger.warning("channels_lint: str() of a %s group name part raised", type(part).__name__)
        return f"<{type(part).__name__}>"


def _readable(piece: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", piece).encode("ascii", "ignore").decode("ascii")
    return _NOT_SAFE.sub("_", ascii_text).strip("_")


def safe_query_params(scope: object, *, max_fields: int = 1000) -> dict[str, list[str]]:
    """Parse ``scope["query_string"]`` into ``{name: [values...]}`` without ever raising.

    Args:
        scope: an ASGI connection scope (any ``Mapping``; anything else gives ``{}``). Its
            ``"query_string"`` is, per the ASGI spec (asgiref ``specs/www.rst``, HTTP and WebSocket
            connection scopes), the byte string after ``?``, percent-encoded and not decoded by
            the server (Daphne passes the raw bytes, docs/semantics.md §1.3b). A ``str`` is
            accepted too (some test clients pass one).
        max_fields: the number of ``&``-separated fields read; later fields are ignored (Django's
            ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` default is also 1000).

    Returns:
        ``urllib.parse.parse_qs`` of the text, with ``keep_blank_values=True`` (``?room=`` gives
        ``{"room": [""]}``, as Django's ``QueryDict`` does) and ``+`` read as a space. Percent
        escapes and any raw non-ASCII bytes are decoded as UTF-8 with invalid sequences replaced
        by U+FFFD; that is what Django does (``ASGIRequest`` decodes ``query_string`` as UTF-8,
        django/core/handlers/asgi.py @ 5.2 L64-66, and ``QueryDict`` unquotes with
        ``DEFAULT_CHARSET``), except that Django's strict decode raises on invalid bytes.
        Decoding as latin-1 instead would turn UTF-8 into mojibake. Values are untrusted text:
        pass them through :func:`safe_group_name` before using them in a group name.

    Raises:
        Nothing.
    """
    try:
        if not isinstance(scope, Mapping):
            return {}
        raw = scope.get("query_string", b"")
        if isinstance(raw, (bytes, bytearray, memoryview)):
            text = bytes(raw).decode("utf-8", "replace")
        elif isinstance(raw, str):
            text = raw
        else:
            return {}
        limit = max(int(max_fields), 0)
        fields = text.split("&", limit)[:limit]
        return parse_qs("&".join(fields), keep_blank_values=True, encoding="utf-8", errors="replace")
    except Exception:  # never raise into a consumer
        logger.exception("channels_lint: parsing the query string failed")
        return {}
