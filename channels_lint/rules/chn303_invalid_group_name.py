"""CHN303: a group name Channels refuses, or one built from unsanitised client data."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from channels_lint.analysis.client import ClientSource, GroupName, NamePart
from channels_lint.analysis.facts import GROUP_NAME_RULES, LAYER_MARKERS
from channels_lint.diagnostics import Applicability, Violation, WrapIn
from channels_lint.rules.base import Invalid, Rule

SAFE_GROUP_NAME = ("channels_lint.runtime", "safe_group_name")
GROUP_METHODS = frozenset({"group_add", "group_discard", "group_send"})

#: How each kind of client data is named in messages, and why it breaks a name.
_WORDS: dict[ClientSource, str] = {
    ClientSource.URL_KWARG: "a URL kwarg, which may hold any character its route allows (spaces, `:`, non-ASCII letters)",
    ClientSource.QUERY_STRING: "query-string text, which may hold any character",
    ClientSource.QUERY_PARAM: "a query parameter, which may hold any character",
    ClientSource.PATH: "the request path, which holds `/`",
    ClientSource.HEADERS: "a header, which may hold any character",
    ClientSource.COOKIES: "a cookie, which may hold any character",
    ClientSource.FRAME: "client text, which may hold any character",
    ClientSource.REQUEST_BODY: "the request body, which may hold any character",
    ClientSource.JSON: "client JSON, which may hold any character",
    ClientSource.CHANNEL_NAME: "the channel name, which holds `!` on the in-memory and Redis layers",
}
_USER_FIELDS = {
    "email": "the user's e-mail address, which holds `@`",
    "username": "the user's username, which may hold `@`, `+` and non-ASCII letters",
}


def group_name_rule(version: tuple[int, int]) -> tuple[re.Pattern[str], int] | None:
    """The group-name pattern and longest length of a Channels version (docs/semantics.md §5.1)."""
    found = None
    for since, (pattern, longest) in sorted(GROUP_NAME_RULES.items()):
        if version >= since:
            found = (re.compile(pattern), longest)
    return found


class InvalidGroupName(Rule):
    """
    ## What it does
    Checks the group names passed to `group_add`, `group_discard` and `group_send` (and the
    literal names of a consumer's `groups`): a literal Channels refuses (a character other than
    ASCII letters, digits, `-`, `_` and `.`, or 100 characters or more), a template that is
    never formatted (`"chat_{room}"` without the `f`), and a name built from client data that
    nothing sanitised: URL kwargs from `str`/`path`/`slug` converters or `\\w+`/`[^/]+`
    groups (and any kwarg of a consumer whose routes the project index does not show), the
    query string, the path, headers, cookies, message content, the user's `email` or
    `username`, `self.channel_name`. `int` and `uuid` converters, `slugify()`, hashes and
    `safe_group_name()` give safe characters; their length still counts when they are
    concatenated. Applies to Channels 2.0 and later (the rule is the same from 2.0 to 4.3).

    ## Why is this bad?
    Every layer call validates the name (`channels/layers.py` `require_valid_group_name`,
    docs/semantics.md §5.1) and raises `TypeError` on a bad one. In `connect` the handshake
    fails with a 500; in `receive` the consumer dies, `disconnect()` never runs and its groups
    leak until `group_expiry` (§2.5, §11.3). The official tutorial's `(?P<room_name>\\w+)` accepts
    `café`, which no group name may hold.

    ## Example
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer


    class RoomConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            room = self.scope["url_route"]["kwargs"]["room"]
            self.group_name = f"room-{room}"
            await self.channel_layer.group_add(self.group_name, self.channel_name)
            await self.accept()
    ```

    Use instead:
    ```python
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels_lint.runtime import safe_group_name


    class RoomConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            room = self.scope["url_route"]["kwargs"]["room"]
            self.group_name = safe_group_name(f"room-{room}")
            await self.channel_layer.group_add(self.group_name, self.channel_name)
            await self.accept()
    ```

    ## Fix safety
    For a name built from client data in one place, the fix wraps that expression in
    `channels_lint.runtime.safe_group_name(...)`, which always returns a valid name (a
    readable ASCII form plus a hash when it must change the text). It is unsafe: it adds a
    production import of `channels_lint.runtime`, and names that were valid but hold `.`, or
    that had to change, are spelled differently: code elsewhere that builds the same group
    name by hand (a view sending to `f"room-{room}"`) no longer reaches the group. Wrap those
    names too. Literal names and templates are only reported.

    ## Known problems
    A URL kwarg counts as unsanitised unless the project index knows the consumer's routes; a
    name is checked once, at its first use. An `int` kwarg is taken as short. Projects that
    use only `RedisPubSubChannelLayer`, which checks no names, get findings for names that
    work there.
    """

    code = "CHN303"
    markers = (("group_", "channel_layer"), ("group_", "get_channel_layer"), ("groups", "Consumer"))
    name = "invalid-group-name"
    fix_applicability = Applicability.UNSAFE

    valid = (
        """
import hashlib
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.text import slugify
from channels_lint.runtime import safe_group_name

ALLOWED = {"lobby", "news"}

class Rooms(AsyncWebsocketConsumer):
    groups = ["broadcast", "team.alpha-1"]

    async def connect(self):
        user = self.scope["user"]
        room = self.scope["url_route"]["kwargs"]["room"]
        self.user_group = f"user_{user.pk}"
        self.room_group = safe_group_name("room", room)
        self.hashed = "room_" + hashlib.sha256(room.encode()).hexdigest()
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.channel_layer.group_add(self.room_group, self.channel_name)
        await self.channel_layer.group_add(self.hashed, self.channel_name)
        await self.channel_layer.group_add("chat_%d" % user.id, self.channel_name)
        await self.channel_layer.group_add("team.{}".format(int(room)), self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        room = self.scope["url_route"]["kwargs"]["room"]
        if room not in ALLOWED:
            return
        await self.channel_layer.group_send(f"room_{room}", {"type": "chat.message", "text": text_data})
""",
        # names checked by a regex first, names from the database
        """
import re
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from .models import Room

class Checked(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.room = self.scope["url_route"]["kwargs"]["room"]
        if not re.fullmatch(r"[a-z0-9-]{1,50}", self.room):
            await self.close()
            return
        await self.channel_layer.group_add(f"chat-{self.room}", self.channel_name)

    async def receive_json(self, content, **kwargs):
        room = await Room.objects.aget(pk=content.get("room"))
        await self.channel_layer.group_add(room.group_name, self.channel_name)
""",
    )

    invalid = (
        Invalid(
            """
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, WebsocketConsumer
from channels.layers import get_channel_layer

class Lobby(AsyncJsonWebsocketConsumer):
    groups = ["chat room"]  # error

    async def connect(self):
        await self.channel_layer.group_add("chat_{room}", self.channel_name)  # error
        await self.channel_layer.group_add("notifications:all", self.channel_name)  # error
        await self.channel_layer.group_add(self.channel_name, self.channel_name)  # error
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if "room" in content:
            await self.channel_layer.group_send(content["room"], {"type": "chat.message"})  # error

class Mail(WebsocketConsumer):
    def connect(self):
        email = self.scope["user"].email
        async_to_sync(self.channel_layer.group_add)(f"inbox-{email}", self.channel_name)  # error
        self.accept()

def notify(path):
    layer = get_channel_layer()
    async_to_sync(layer.group_send)("x" * 120, {"type": "ping"})  # error
"""
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer

class Topic(AsyncWebsocketConsumer):
    async def connect(self):
        topic = self.scope["url_route"]["kwargs"]["topic"]
        self.group_name = f"topic-{topic}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)  # error
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        query = self.scope["query_string"].decode()
        await self.channel_layer.group_send("search_" + query, {"type": "search.hit"})  # error
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from channels_lint.runtime import safe_group_name

class Topic(AsyncWebsocketConsumer):
    async def connect(self):
        topic = self.scope["url_route"]["kwargs"]["topic"]
        self.group_name = safe_group_name(f"topic-{topic}")
        await self.channel_layer.group_add(self.group_name, self.channel_name)  # error
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        query = self.scope["query_string"].decode()
        await self.channel_layer.group_send(safe_group_name("search_" + query), {"type": "search.hit"})  # error
""",
        ),
        Invalid(
            """
from channels.generic.websocket import AsyncWebsocketConsumer

class Board(AsyncWebsocketConsumer):
    async def connect(self):
        self.board = self.scope["url_route"]["kwargs"]["board"]
        await self.channel_layer.group_add(self.board, self.channel_name)  # error
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.board, self.channel_name)
""",
            fixed="""
from channels.generic.websocket import AsyncWebsocketConsumer
from channels_lint.runtime import safe_group_name

class Board(AsyncWebsocketConsumer):
    async def connect(self):
        self.board = self.scope["url_route"]["kwargs"]["board"]
        await self.channel_layer.group_add(safe_group_name(self.board), self.channel_name)  # error
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(safe_group_name(self.board), self.channel_name)
""",
        ),
    )

    def check(self) -> Iterator[Violation]:
        a = self.analysis
        rule = group_name_rule(a.settings.channels_version)
        if rule is None:
            return
        # every use of one name: the first reports it, with a fix that wraps the name everywhere
        uses: dict[ast.AST, list[tuple[ast.expr, GroupName]]] = {}
        for call in sorted(a.layer.calls, key=lambda c: (c.call.lineno, c.call.col_offset)):
            if call.method not in GROUP_METHODS:
                continue
            argument = call.argument(0, "group")
            if argument is None:
                continue
            for name in a.client.group_name(argument):
                key = name.builder
                if name.builder is argument and isinstance(argument, (ast.Name, ast.Attribute)):
                    key = a.flow.definite(argument) or argument  # the client value the name holds
                uses.setdefault(key, []).append((argument, name))
        for found in uses.values():
            argument, name = found[0]
            arguments = [use for use, _ in found]
            violation = self._check_name(name, argument, rule, arguments)
            if violation is not None:
                yield violation
        yield from self._class_groups(rule)

    def _check_name(self, name: GroupName, argument: ast.expr, rule, arguments: list[ast.expr]) -> Violation | None:
        a = self.analysis
        pattern, longest = rule
        spelled = a.syntax.source(argument)
        if name.checked or not name.parts:
            return None
        if name.template:
            return self.violation(
                argument,
                f"the group name `{spelled}` looks like a template that is never formatted (no `f` prefix or "
                "`.format()`); Channels refuses `{`, `}` and `%` in names",
            )
        literal = "".join(p.text for p in name.parts if p.text is not None)
        if all(p.text is not None for p in name.parts):
            problem = _literal_problem(literal, pattern, longest)
            if problem:
                return self.violation(
                    argument, f"the group name `{spelled}` {problem}, and Channels raises `TypeError`; use only ASCII letters, digits, `-`, `_` and `.`, under 100 characters"
                )
            return None
        bad_text = next((c for c in literal if not pattern.fullmatch(c)), None)
        if bad_text is not None:
            return self.violation(
                argument,
                f"the group name `{spelled}` holds {bad_text!r}, which Channels refuses (`TypeError`); use only ASCII letters, digits, `-`, `_` and `.`",
            )
        fix = self._fix(name, arguments)
        unsafe = next((p for p in name.parts if p.known and p.client is not None and not p.charset_safe), None)
        if unsafe is not None:
            return self._client_violation(argument, spelled, unsafe, "is not sanitised", fix)
        unbounded = next((p for p in name.parts if p.known and p.client is not None and p.max_length is None), None)
        if unbounded is not None:
            return self._client_violation(argument, spelled, unbounded, "has no length limit", fix)
        length = sum(p.max_length or 0 for p in name.parts if p.known)
        if all(p.known for p in name.parts) and length > longest and any(p.client is not None for p in name.parts):
            return self.violation(
                argument,
                f"the group name `{spelled}` may be {length} characters long; Channels refuses names of "
                f"{longest + 1} characters or more (`TypeError`); shorten the fixed part or hash the name",
                *fix,
            )
        return None

    def _client_violation(self, argument, spelled: str, part: NamePart, problem: str, fix) -> Violation:
        a = self.analysis
        client = part.client
        if problem == "has no length limit" and isinstance(part.node, ast.Call):
            what = "client data with no length limit"  # slugify(...): safe characters, any length
        elif client.source is ClientSource.USER_FIELD:
            what = _USER_FIELDS.get(client.key or "", "a user field, which may hold spaces and non-ASCII letters")
        elif client.source is ClientSource.URL_KWARG:
            what = self._kwarg_words(part)
        else:
            what = _WORDS.get(client.source, "client data")
        if problem == "has no length limit":
            consequence = "a value of 100 characters or more makes Channels raise `TypeError`"
        else:
            consequence = "Channels raises `TypeError` on such a name"
        source = a.syntax.source(part.node)
        subject = f"the group name `{spelled}` is {what}" if source == spelled else f"the group name `{spelled}` is built from `{source}`, {what}"
        return self.violation(
            argument,
            f"{subject}; {consequence} and the consumer dies; pass the name through `safe_group_name()` (which respells such names)",
            *fix,
        )

    def _kwarg_words(self, part: NamePart) -> str:
        route = self.analysis.client.route_kwarg(part.node, part.client.key)
        if route is None:
            return "a URL kwarg of a consumer with no known route, so any text (spaces, `:`, non-ASCII letters)"
        matched = f"`{route.pattern}`" if route.pattern else f"the `{route.converter}` converter"
        if not route.charset_safe:
            return f"a URL kwarg its route matches with {matched}, which allows characters Channels refuses"
        return f"a URL kwarg its route matches with {matched}, which has no length limit"

    def _fix(self, name: GroupName, arguments: list[ast.expr]) -> tuple:
        """Wrap the expression that builds the name, or (for a name that is client data
        itself) every argument that passes it."""
        a = self.analysis
        builders = arguments if name.builder in arguments else [name.builder]
        for builder in builders:
            if not isinstance(builder, (ast.JoinedStr, ast.BinOp, ast.Call, ast.Subscript, ast.Name, ast.Attribute)):
                return ()
            if isinstance(builder, ast.Call) and a.names.call_name(builder) == ".".join(SAFE_GROUP_NAME):
                return ()
            if a.syntax.inside(builder, (ast.JoinedStr,)):
                return ()
        return (
            tuple(WrapIn(a.syntax.span(builder), "safe_group_name") for builder in dict.fromkeys(builders)),
            "Wrap the name in `safe_group_name()`",
            (SAFE_GROUP_NAME,),
        )

    def _class_groups(self, rule) -> Iterator[Violation]:
        a = self.analysis
        pattern, longest = rule
        for consumer in a.consumers.by_class.values():
            for statement in consumer.node.body:
                if not (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "groups" for t in statement.targets)
                    and isinstance(statement.value, (ast.List, ast.Tuple))
                ):
                    continue
                for element in statement.value.elts:
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        problem = _literal_problem(element.value, pattern, longest)
                        if problem:
                            yield self.violation(
                                element,
                                f"the group name `{a.syntax.source(element)}` in `groups` {problem}, and Channels raises "
                                "`TypeError` on connect; use only ASCII letters, digits, `-`, `_` and `.`, under 100 characters",
                            )


def _literal_problem(text: str, pattern: re.Pattern[str], longest: int) -> str | None:
    if not text:
        return "is empty"
    bad = next((c for c in text if not pattern.fullmatch(c)), None)
    if bad is not None:
        return f"holds {bad!r}"
    if len(text) > longest:
        return f"is {len(text)} characters long"
    if text.endswith("\n"):
        return "ends with a newline"
    return None

