"""The error frame every runtime helper sends to a client instead of failing.

One shape for all of them, so a client handles every failure the same way::

    {"type": "error", "error": "<machine-readable code>", "reason": "<one sentence>", ...}
"""

from __future__ import annotations

__all__ = ["error_frame"]


def error_frame(error: str, reason: str = "", **fields: object) -> dict[str, object]:
    """Build the error frame sent to a client.

    Args:
        error: a short machine-readable code, e.g. ``"serialization_failed"``, ``"invalid_json"``.
        reason: one human-readable sentence saying what was wrong (may be empty).
        fields: further JSON-safe entries (``str`` keys); they never replace ``type``, ``error``
            or ``reason``.

    Returns:
        A new ``dict`` whose ``"type"`` is ``"error"``; JSON- and msgpack-safe when ``fields`` are.

    Raises:
        Nothing.
    """
    frame: dict[str, object] = dict(fields)
    frame.update(type="error", error=str(error), reason=str(reason))
    return frame
