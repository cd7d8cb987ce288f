"""The payload rules (CHN201-CHN206) on whole projects: what the project index changes (handlers
in other modules, unreadable bases, project and runtime base classes), fix safety across
modules, version gates, and fixed expressions that really encode.

Single-module shapes are the rules' own ``valid``/``invalid`` examples (tests/test_rule_examples.py).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from channels_lint.diagnostics import Applicability

from .helpers import fix_snippet, lint_snippet, make_project

CODES = ["CHN201", "CHN202", "CHN203", "CHN204", "CHN205", "CHN206"]


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    return make_project(tmp_path, {name: textwrap.dedent(text) for name, text in files.items()})


def findings(root: Path, relative: str, select=CODES):
    """What ``channels-lint check`` reports for one file of the project (its pins read)."""
    from channels_lint.engine import Source, lint, selected_rules
    from channels_lint.project import project_settings

    path = root / relative
    return lint(Source.from_text(path.read_text()), selected_rules(select), path=str(path), settings=project_settings(root))


def codes(root: Path, relative: str, select=CODES) -> list[tuple[int, str]]:
    return [(v.line, v.code) for v in findings(root, relative, select)]


SENDER = """
from channels.generic.websocket import AsyncWebsocketConsumer


class Sender(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.channel_layer.group_send("g", {"type": "news.item", "text": "hi"})
"""


# ---------------------------------------------------------------------------- CHN205
def test_a_handler_in_another_module_counts(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                class Receiver(AsyncWebsocketConsumer):
                    async def news_item(self, event):
                        await self.send(text_data=event["text"])
            """,
        },
    )
    assert codes(root, "app/sender.py") == []


def test_a_handler_assigned_in_a_class_body_counts(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                async def forward(self, event):
                    await self.send(text_data=event["text"])

                class Receiver(AsyncWebsocketConsumer):
                    news_item = forward
            """,
        },
    )
    assert codes(root, "app/sender.py") == []


def test_no_handler_anywhere_is_reported_and_a_module_function_does_not_count(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                def news_item(event):
                    pass

                class Receiver(AsyncWebsocketConsumer):
                    async def news_items(self, event):
                        pass
            """,
        },
    )
    [violation] = findings(root, "app/sender.py")
    assert (violation.line, violation.code) == (8, "CHN205")
    assert "`news_item()`" in violation.message and "`news_items()`" in violation.message
    assert "\n" not in violation.message


@pytest.mark.parametrize(
    "receiver",
    [
        # a handler mixin in a module the index does not parse (no Channels text in it)
        """
        from channels.generic.websocket import AsyncWebsocketConsumer
        from .handlers import NewsHandlers

        class Receiver(NewsHandlers, AsyncWebsocketConsumer):
            pass
        """,
        # a library's consumer base
        """
        from library.consumers import GenericAsyncAPIConsumer

        class Receiver(GenericAsyncAPIConsumer):
            pass
        """,
        # a dispatch that routes types itself
        """
        from channels.generic.websocket import AsyncWebsocketConsumer

        class Receiver(AsyncWebsocketConsumer):
            async def dispatch(self, message):
                await self.send(text_data=message["type"])
        """,
        """
        from channels.generic.websocket import AsyncWebsocketConsumer

        class Receiver(AsyncWebsocketConsumer):
            def __getattr__(self, name):
                return self.forward
        """,
    ],
    ids=["unparsed-mixin", "library-consumer", "own-dispatch", "getattr"],
)
def test_handlers_the_index_cannot_see_keep_chn205_silent(tmp_path: Path, receiver: str) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": receiver,
            "app/handlers.py": "class NewsHandlers:\n    async def news_item(self, event):\n        pass\n",
        },
    )
    assert codes(root, "app/sender.py") == []


def test_a_dispatch_wrapping_super_still_looks_handlers_up_by_name(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                class Receiver(AsyncWebsocketConsumer):
                    async def dispatch(self, message):
                        try:
                            await super().dispatch(message)
                        except ValueError:
                            pass
            """,
        },
    )
    assert codes(root, "app/sender.py") == [(8, "CHN205")]


def test_runtime_mixins_are_read_from_the_runtime_package(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": SENDER,
            "app/receiver.py": """
                from channels.generic.websocket import AsyncJsonWebsocketConsumer
                from channels_lint.runtime import ResilientAsyncJsonConsumerMixin

                class Receiver(ResilientAsyncJsonConsumerMixin, AsyncJsonWebsocketConsumer):
                    pass
            """,
        },
    )
    assert codes(root, "app/sender.py") == [(8, "CHN205")]


def test_a_project_without_any_consumer_in_sight_keeps_chn205_silent(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/tasks.py": """
                from asgiref.sync import async_to_sync
                from channels.layers import get_channel_layer

                def notify():
                    async_to_sync(get_channel_layer().group_send)("g", {"type": "news.item"})
            """
        },
    )
    assert codes(root, "app/tasks.py") == []


def test_without_a_project_chn205_is_silent() -> None:
    assert [code for _, code in [(v.line, v.code) for v in lint_snippet(SENDER, select=CODES)]] == []


# ---------------------------------------------------------------------------- CHN202 fix safety
def event_sender(value: str) -> str:
    return f"""
        from django.utils import timezone
        from channels.generic.websocket import AsyncWebsocketConsumer

        class Sender(AsyncWebsocketConsumer):
            async def connect(self):
                await self.channel_layer.group_send("g", {{"type": "news.item", "at": {value}}})
    """


@pytest.mark.parametrize(
    ("handler", "safe"),
    [
        ('await self.send(text_data=json.dumps({"at": event["at"]}))', True),
        ("await self.send_json(event)", True),
        ('data = {"at": event["at"], "n": 1}\nawait self.send_json(data)', True),
        ('await self.send(text_data=event["at"].date().isoformat())', False),
        ("await self.send(text_data=json.dumps(event, cls=DjangoJSONEncoder))", False),
        ("self.log(event)", False),
    ],
    ids=["json-dumps", "send-json", "via-local", "used-as-datetime", "custom-encoder", "passed-elsewhere"],
)
def test_conversion_is_safe_only_where_every_handler_in_the_project_passes_it_on(
    tmp_path: Path, handler: str, safe: bool
) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": event_sender("timezone.now()"),
            "app/receiver.py": f"""
                import json
                from django.core.serializers.json import DjangoJSONEncoder
                from channels.generic.websocket import AsyncJsonWebsocketConsumer

                class Receiver(AsyncJsonWebsocketConsumer):
                    async def news_item(self, event):
                        {handler.replace(chr(10), chr(10) + " " * 24)}
            """,
        },
    )
    [violation] = findings(root, "app/sender.py")
    assert violation.code == "CHN202"
    assert violation.fix.applicability is (Applicability.SAFE if safe else Applicability.UNSAFE)
    fixed = fix_snippet((root / "app/sender.py").read_text(), path=root / "app/sender.py")
    assert ("timezone.now().isoformat()" in fixed) is safe


def test_a_second_handler_that_uses_the_value_makes_the_conversion_unsafe(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app/sender.py": event_sender("timezone.now()"),
            "app/a.py": """
                from channels.generic.websocket import AsyncJsonWebsocketConsumer

                class A(AsyncJsonWebsocketConsumer):
                    async def news_item(self, event):
                        await self.send_json(event)
            """,
            "app/b.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                class B(AsyncWebsocketConsumer):
                    async def news_item(self, event):
                        await self.send(text_data=event["at"].strftime("%H:%M"))
            """,
        },
    )
    [violation] = findings(root, "app/sender.py")
    assert violation.fix.applicability is Applicability.UNSAFE


def test_safe_serialize_is_unsafe_and_says_the_runtime_must_be_installed(tmp_path: Path) -> None:
    root = project(tmp_path, {"app/sender.py": event_sender("timezone.now() - timezone.now()")})
    source = (root / "app/sender.py").read_text()
    assert lint_snippet(source, path=root / "app/sender.py", select=["CHN202"]) == []  # not a known kind
    root = project(
        tmp_path,
        {"app/sender.py": event_sender("datetime.timedelta(days=1)").replace("from django", "import datetime; from django", 1)},
    )
    [violation] = findings(root, "app/sender.py", ["CHN202"])
    assert violation.fix.applicability is Applicability.UNSAFE
    assert "`channels_lint.runtime` must then be installed where this code runs" in violation.message
    path = root / "app/sender.py"
    assert fix_snippet(path.read_text(), path=path) == path.read_text()  # not applied without --unsafe-fixes
    assert "safe_serialize({" in fix_snippet(path.read_text(), path=path, unsafe_fixes=True)


@pytest.mark.parametrize(
    ("pin", "reported"), [("channels==2.4.0", [(7, "CHN202")]), ("channels==3.0.5", [(6, "CHN202"), (7, "CHN202")])]
)
def test_int_keys_are_reported_from_channels_3(tmp_path: Path, pin: str, reported) -> None:
    root = project(
        tmp_path,
        {
            "requirements.txt": pin + "\n",
            "app/sender.py": """
                from channels.generic.websocket import AsyncWebsocketConsumer

                class Sender(AsyncWebsocketConsumer):
                    async def connect(self):
                        seats = {0: "ann"}
                        await self.channel_layer.group_send("g", {"type": "t", "seats": seats, "pair": {(1, 2): "x"}})
            """,
        },
    )
    found = [(v.line, v.code) for v in findings(root, "app/sender.py", ["CHN202"])]
    assert sorted(found) == sorted(reported), found


# ---------------------------------------------------------------------------- CHN201
@pytest.mark.parametrize(
    ("bases", "files", "reported"),
    [
        (
            "BaseJson",
            {
                "app/base.py": "import json\nfrom channels.generic.websocket import AsyncJsonWebsocketConsumer\n\nclass BaseJson(AsyncJsonWebsocketConsumer):\n    @classmethod\n    async def encode_json(cls, content):\n        return json.dumps(content, default=str)\n"
            },
            False,
        ),
        (
            "BaseJson",
            {
                "app/base.py": "from channels.generic.websocket import AsyncJsonWebsocketConsumer\n\nclass BaseJson(AsyncJsonWebsocketConsumer):\n    pass\n"
            },
            True,
        ),
        ("AsyncSafeJsonConsumerMixin, AsyncJsonWebsocketConsumer", {}, False),
        ("LibraryMixin, AsyncJsonWebsocketConsumer", {}, False),
    ],
    ids=["project-base-overrides", "project-base-plain", "runtime-mixin", "unknown-mixin"],
)
def test_send_json_is_checked_only_where_the_encoder_is_known_to_be_plain(tmp_path: Path, bases, files, reported) -> None:
    root = project(
        tmp_path,
        {
            **files,
            "app/consumers.py": f"""
                import uuid
                from channels.generic.websocket import AsyncJsonWebsocketConsumer
                from channels_lint.runtime import AsyncSafeJsonConsumerMixin
                from library import LibraryMixin
                from .base import BaseJson

                class C({bases}):
                    async def connect(self):
                        await self.accept()
                        await self.send_json({{"id": uuid.uuid4()}})
            """,
        },
    )
    assert bool(codes(root, "app/consumers.py")) is reported


CONVERSIONS = [
    ("timezone.now()", "from django.utils import timezone"),
    ("datetime.date.today()", "import datetime"),
    ("uuid.uuid4()", "import uuid"),
    ("Decimal('1.10')", "from decimal import Decimal"),
    ("{1, 2, 3}", ""),
    ("frozenset({'b', 'a'})", ""),
    ("gettext_lazy('hello')", "from django.utils.translation import gettext_lazy"),
    ("base64.b64encode(b'raw')", "import base64"),
]


@pytest.mark.parametrize(("value", "imports"), CONVERSIONS, ids=[v for v, _ in CONVERSIONS])
def test_a_safe_conversion_gives_a_value_json_encodes(value: str, imports: str, settings) -> None:
    """The fixed expression, evaluated, passes the encoder that rejected the original."""
    source = textwrap.dedent(
        f"""
        import json
        {imports}
        from channels.generic.websocket import AsyncJsonWebsocketConsumer

        class C(AsyncJsonWebsocketConsumer):
            async def connect(self):
                await self.send_json({{"v": {value}}})
        """
    )
    [violation] = lint_snippet(source, select=["CHN201"])
    assert violation.fix.applicability is Applicability.SAFE
    fixed = fix_snippet(source, select=["CHN201"])
    fixed_value = fixed.split('{"v": ', 1)[1].rsplit("})", 1)[0]
    namespace: dict = {}
    exec(imports, namespace)  # noqa: S102 - the test's own import line
    with pytest.raises(TypeError):
        json.dumps(eval(value, namespace))
    assert isinstance(json.loads(json.dumps(eval(fixed_value, namespace))), (str, list))


# ---------------------------------------------------------------------------- CHN203, CHN206
def test_frames_of_consumers_with_their_own_send_or_an_unknown_base_are_not_checked() -> None:
    source = textwrap.dedent(
        """
        from channels.generic.websocket import AsyncWebsocketConsumer
        from library import Mixin

        class Own(AsyncWebsocketConsumer):
            async def send(self, text_data=None, bytes_data=None, close=False):
                await super().send(text_data=json.dumps(text_data))

            async def connect(self):
                await self.send(text_data={"a": 1})

        class Unknown(Mixin, AsyncWebsocketConsumer):
            async def connect(self):
                await self.send(text_data={"a": 1})
        """
    )
    assert lint_snippet(source, select=["CHN203"]) == []


def test_chn108_owns_a_sync_encode_json_written_in_the_async_consumer() -> None:
    source = textwrap.dedent(
        """
        import json
        from channels.generic.websocket import AsyncJsonWebsocketConsumer

        class C(AsyncJsonWebsocketConsumer):
            @classmethod
            def encode_json(cls, content):
                return json.dumps(content)
        """
    )
    assert [(v.line, v.code) for v in lint_snippet(source, select=["CHN108", "CHN206"])] == [(7, "CHN108")]


def test_every_payload_message_is_one_line(tmp_path: Path) -> None:
    from channels_lint.rules import REGISTRY

    for code in CODES:
        rule = REGISTRY[code]
        for case in rule.invalid:
            for violation in lint_snippet(case.source, select=[code]):
                assert "\n" not in violation.message and violation.message[0].islower() or violation.message[0] in '`"', violation


def test_chn206_owns_a_sync_encode_json_chn108_cannot_see() -> None:
    """Defined on a websocket consumer base (whose Channels methods have no encode_json, so
    CHN108 passes it by) and inherited by an async JSON consumer."""
    source = textwrap.dedent(
        """
        import json
        from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer

        class Base(AsyncWebsocketConsumer):
            @classmethod
            def encode_json(cls, content):
                return json.dumps(content)

        class Feed(Base, AsyncJsonWebsocketConsumer):
            pass
        """
    )
    assert [(v.line, v.code) for v in lint_snippet(source, select=["CHN108", "CHN206"])] == [(7, "CHN206")]
