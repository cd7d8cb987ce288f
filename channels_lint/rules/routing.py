"""What the routing rules (CHN401-CHN411) share: string-literal rewrites proven by evaluation,
how a route is quoted in a message, and the pre-filter markers.

A literal rewrite keeps the user's quote character and prefix where it can and is only
offered when ``ast.literal_eval`` of the new text gives exactly the intended value: a
rewrite that cannot be proven is not offered.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from channels_lint.analysis import ModuleAnalysis
from channels_lint.analysis.facts import ROUTING_MARKERS
from channels_lint.analysis.routes import Route

MARKERS = ROUTING_MARKERS


def literal_source(a: ModuleAnalysis, node: ast.expr | None) -> str | None:
    """The exact source text of a string literal written as one token (not implicitly
    concatenated, not an f-string, not triple-quoted over several lines), else ``None``."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or node.lineno != node.end_lineno:
        return None
    line, col, _, end_col = a.syntax.span(node)
    text = a.lines[line - 1][col:end_col]
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
    except (tokenize.TokenError, SyntaxError):
        return None
    if len(tokens) != 1 or tokens[0].string != text:
        return None
    return text


def split_literal(text: str) -> tuple[str, str, str]:
    """``r"abc"`` -> ``("r", '"', "abc")`` (prefix, quote, body as written)."""
    match = re.fullmatch(r"([A-Za-z]*)('''|\"\"\"|'|\")(.*)\2", text, flags=re.DOTALL)
    assert match is not None, text
    return match.group(1), match.group(2), match.group(3)


def proven(text: str, value: str) -> str | None:
    """``text`` if it is a string literal whose value is exactly ``value``."""
    try:
        return text if ast.literal_eval(text) == value else None
    except (SyntaxError, ValueError):
        return None


def literal_for(value: str, like: str | None = None, raw: bool = False) -> str | None:
    """A one-line literal for ``value`` in the quote style of the literal ``like`` (default
    ``"``), raw when asked; ``None`` when no such literal holds exactly ``value``."""
    quote = split_literal(like)[1] if like else '"'
    if len(quote) == 3:
        quote = quote[0]
    if raw:
        for candidate in (quote, "'" if quote == '"' else '"'):
            text = f"r{candidate}{value}{candidate}"
            if "\n" not in value and "\r" not in value and proven(text, value):
                return text
        return None
    if "\\" in value or any(not c.isprintable() for c in value):
        return None
    for candidate in (quote, "'" if quote == '"' else '"'):
        if candidate not in value and proven(f"{candidate}{value}{candidate}", value):
            return f"{candidate}{value}{candidate}"
    return None


def rewrite_body(text: str, change) -> str:
    """``text`` with ``change(body)`` applied to the body between its quotes."""
    prefix, quote, body = split_literal(text)
    return f"{prefix}{quote}{change(body)}{quote}"


def shown(a: ModuleAnalysis, route: Route) -> str:
    """The pattern as the user wrote it (``r"^ws/$"``, ``f"{PREFIX}chat/"``)."""
    return a.syntax.source(route.pattern_node) if route.pattern_node is not None else "the route"


def regex_body(pattern: str) -> str:
    """A regex without its leading inline flags (``(?i)``), which come before ``^``."""
    return re.sub(r"^\(\?[aiLmsux]+\)", "", pattern)


def anchored_start(pattern: str) -> bool:
    body = regex_body(pattern)
    return body.startswith(("^", "\\A"))


def anchored_end(pattern: str) -> bool:
    return pattern.endswith("$") and not pattern.endswith("\\$") or pattern.endswith("\\Z")
