"""The shipped example project, ``fixtures/chat_project``, end to end.

1. The linter (``channels-lint check`` and ``flake8 --select CHN``) reports exactly the
   lines annotated ``# expect: CODE``.
2. ``channels-lint fix`` turns a copy into ``fixtures/chat_project_fixed`` (the files it
   changes; every other file stays byte-for-byte), a second fix changes nothing, and
   re-linting shows none of the fixed codes.  ``CHANNELS_LINT_REGENERATE=1`` rewrites the
   expected files from the current output.
3. Behaviour: the fixed consumer works under ``WebsocketCommunicator`` with a real database
   (connect, send, the message is stored and broadcast), on the in-memory layer and on Redis;
   the original fails, and leaving any single fixable bug unfixed fails with that bug's
   error (``SynchronousOnlyOperation``, the serializer ``TypeError``, a lost broadcast, or the
   missing ``as_asgi()``), raised as it happens: no test waits on a receive timeout.
"""

from __future__ import annotations

import filecmp
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from channels_lint.cli import main

from .conftest import FIXTURES
from .helpers import clients, fix_snippet, load_module, output_after_marker, probed

pytestmark = pytest.mark.behaviour

PROJECT = FIXTURES / "chat_project"
EXPECTED = FIXTURES / "chat_project_fixed"
APP = PROJECT / "chat"
FIXED_CODES = {"CHN101", "CHN105", "CHN201", "CHN202", "CHN203", "CHN403"}
#: Reported but never fixed: what to do is the application's decision (CHN204-CHN206 are the
#: payload bugs of chat/payloads.py, tests/test_payload_behaviour.py shows they are real).
UNFIXED_CODES = {"CHN204", "CHN205", "CHN206", "CHN301"}
FINDING = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):\d+: (?P<code>CHN\d{3}) ", flags=re.M)


def annotations(root: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for code in re.findall(r"# expect: (CHN\d{3})", line):
                found.add((path.relative_to(root).as_posix(), number, code))
    return found


def reported(output: str, root: Path) -> set[tuple[str, int, str]]:
    return {
        (Path(m["path"]).resolve().relative_to(root.resolve()).as_posix(), int(m["line"]), m["code"])
        for m in FINDING.finditer(output)
    }


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_check_reports_exactly_the_annotated_lines(capsys) -> None:
    assert main(["check", str(PROJECT)]) == 1
    assert reported(capsys.readouterr().out, PROJECT) == annotations(PROJECT)
    assert {code for _, _, code in annotations(PROJECT)} >= FIXED_CODES | UNFIXED_CODES


def test_flake8_prints_the_same_findings_as_check() -> None:
    check = run(sys.executable, "-m", "channels_lint.cli", "check", str(PROJECT))
    flake8 = run(sys.executable, "-m", "flake8", "--select", "CHN", str(PROJECT))
    assert check.returncode == flake8.returncode == 1, flake8.stderr
    assert sorted(check.stdout.splitlines()) == sorted(flake8.stdout.splitlines())


@pytest.fixture
def fixed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "chat_project"
    shutil.copytree(PROJECT, copy)
    assert main(["fix", str(copy)]) == 1
    return copy


def test_fix_gives_the_expected_project(fixed_copy: Path) -> None:
    changed = {
        p.relative_to(fixed_copy)
        for p in fixed_copy.rglob("*.py")
        if not filecmp.cmp(p, PROJECT / p.relative_to(fixed_copy), shallow=False)
    }
    if os.environ.get("CHANNELS_LINT_REGENERATE") == "1":
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for relative in changed:
            (EXPECTED / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(fixed_copy / relative, EXPECTED / relative)
    expected = {p.relative_to(EXPECTED) for p in EXPECTED.rglob("*.py")}
    assert changed == expected
    for relative in expected:
        assert (fixed_copy / relative).read_text() == (EXPECTED / relative).read_text()


def test_second_fix_changes_nothing(fixed_copy: Path, capsys) -> None:
    before = {p: p.read_bytes() for p in fixed_copy.rglob("*.py")}
    assert main(["fix", str(fixed_copy)]) == 0
    assert {p: p.read_bytes() for p in fixed_copy.rglob("*.py")} == before


def test_relint_shows_none_of_the_fixed_codes(fixed_copy: Path, capsys) -> None:
    capsys.readouterr()
    main(["check", str(fixed_copy)])
    remaining = reported(capsys.readouterr().out, fixed_copy)
    assert {code for _, _, code in remaining} == UNFIXED_CODES


# ---------------------------------------------------------------------------- behaviour


def _variant(ignore: tuple[str, ...] = (), fix: bool = True) -> dict[str, str]:
    """Source of chat.consumers and chat.routing, fixed except for the ``ignore`` codes."""
    sources = {}
    for name in ("consumers", "routing"):
        path = APP / f"{name}.py"
        data = path.read_text()
        sources[name] = fix_snippet(data, ignore=ignore, path=path) if fix else data
    return sources


# Computed at import, before any test leaves coroutines for the garbage collector: on
# CPython 3.11 a finaliser whose traceback is formatted during ast.parse (traceback uses
# ast for its carets) corrupts ast's recursion counter ("AST constructor recursion depth
# mismatch").
VARIANTS = {ignore: _variant(ignore) for ignore in [(), ("CHN101",), ("CHN105",), ("CHN202",), ("CHN403",)]}
ORIGINAL = _variant(fix=False)


def variant(ignore: tuple[str, ...] = (), fix: bool = True) -> dict[str, str]:
    return VARIANTS[ignore] if fix else ORIGINAL


def application_for(sources: dict[str, str], monkeypatch):
    """Import the variant's consumers and routing as ``chat.consumers``/``chat.routing``
    (the consumer probed, so a test can tell when it has handled a message)."""
    from channels.routing import URLRouter

    consumers = load_module("chat.consumers", sources["consumers"], monkeypatch, file=str(APP / "consumers.py"))
    consumers.ChatConsumer = probed(consumers.ChatConsumer)
    routing = load_module("chat.routing", sources["routing"], monkeypatch, file=str(APP / "routing.py"))
    return URLRouter(routing.websocket_urlpatterns)


ROOM = "/ws/chat/lobby/"
HELLO = {"author": "ann", "body": "hello"}


async def chat_scenario(application) -> dict:
    """Two clients in one room; the first sends a message; returns what the second receives
    (the sender, in the room too, receives the same).  Any consumer's exception is raised
    as it happens."""
    from chat.models import Message

    async with clients(application, ROOM, 2) as (sender, listener):
        for client in (sender, listener):
            await client.connect()
        await sender.send(json=HELLO)
        received = await listener.receive_json()
        assert await sender.receive_json() == received
        assert await Message.objects.filter(room__name="lobby", author="ann", body="hello").acount() == 1
        return received


@pytest.fixture(autouse=True)
def collect_garbage(thread_connections_closed):
    """Run the finalisers of the consumers a test leaves behind now, not later inside some
    ast.parse: on CPython 3.11 a finaliser that logs a traceback (traceback uses ast for its
    carets) during ast.parse corrupts ast's recursion counter."""
    yield
    gc.collect()


@pytest.fixture
def redis_layer(settings, redis_url: str) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": f"channels-lint-test-{uuid.uuid4().hex[:8]}"},
        }
    }


def assert_broadcast(received: dict) -> None:
    assert received["author"] == "ann" and received["body"] == "hello"
    assert isinstance(received["sent_at"], str) and received["sent_at"][:2] == "20"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_fixed_consumer_works_in_memory(monkeypatch) -> None:
    assert_broadcast(await chat_scenario(application_for(variant(), monkeypatch)))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_fixed_consumer_works_on_redis(monkeypatch, redis_layer) -> None:
    assert_broadcast(await chat_scenario(application_for(variant(), monkeypatch)))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_original_consumer_fails(monkeypatch) -> None:
    with pytest.raises(TypeError, match="can't be used in 'await' expression"):
        await chat_scenario(application_for(variant(fix=False), monkeypatch))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_chn101_fix_raises_synchronous_only_operation(monkeypatch) -> None:
    from django.core.exceptions import SynchronousOnlyOperation

    with pytest.raises(SynchronousOnlyOperation):
        await chat_scenario(application_for(variant(ignore=("CHN101",)), monkeypatch))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_chn105_fix_the_broadcast_is_lost(monkeypatch) -> None:
    """The message is stored, but ``group_send`` is a coroutine nobody awaits (the warning
    proves it never ran), and a marker sent to the room after the sender's handler finished is
    the first thing the listener gets: the broadcast never reached the layer."""
    from chat.models import Message

    application = application_for(variant(ignore=("CHN105",)), monkeypatch)
    gc.collect()  # finalise earlier tests' coroutines before warnings are recorded
    marker = {"type": "chat.message", "author": "marker", "body": "marker", "sent_at": "2000-01-01T00:00:00"}
    with pytest.warns(RuntimeWarning, match="group_send' was never awaited"):
        async with clients(application, ROOM, 2) as (sender, listener):
            for client in (sender, listener):
                await client.connect()
            await sender.send(json=HELLO)
            output = await output_after_marker(listener, sender, marker, group="chat_lobby")
            assert json.loads(output["text"]) == {key: marker[key] for key in ("author", "body", "sent_at")}
            assert await Message.objects.filter(room__name="lobby", author="ann", body="hello").acount() == 1
        gc.collect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_chn202_fix_redis_cannot_serialize_the_event(monkeypatch, redis_layer) -> None:
    with pytest.raises(TypeError, match="can not serialize 'datetime.datetime' object"):
        await chat_scenario(application_for(variant(ignore=("CHN202",)), monkeypatch))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_chn202_fix_the_receiver_cannot_encode_the_event(monkeypatch) -> None:
    with pytest.raises(TypeError, match="Object of type datetime is not JSON serializable"):
        await chat_scenario(application_for(variant(ignore=("CHN202",)), monkeypatch))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_chn403_fix_the_route_fails_at_connect(monkeypatch) -> None:
    with pytest.raises(TypeError, match="can't be used in 'await' expression"):
        await chat_scenario(application_for(variant(ignore=("CHN403",)), monkeypatch))
