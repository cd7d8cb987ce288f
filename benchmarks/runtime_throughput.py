"""Benchmark: what the resilient runtime (handler + mixin) costs per chat message.

Usage::

    .venv/bin/python benchmarks/runtime_throughput.py [--messages 500] [--rounds 3]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres; a scratch database
``chlint_bench_<pid>`` is created and dropped) and Redis on 127.0.0.1:6379 (a random key prefix,
flushed afterwards). Two consumers do the same work for each client message, through
``WebsocketCommunicator`` in one process:

* **plain**: an ``AsyncJsonWebsocketConsumer`` that stores the message with
  ``database_sync_to_async(Message.objects.create)``, ``group_send``s it to the room (Redis) and
  sends an ack; the room member forwards the broadcast to its client.
* **resilient**: the example project's ``chat.resilient.ResilientChatConsumer`` (frame
  validation, ``AsyncSafeMessageHandler`` with a transaction and an idempotency receipt, the
  ordered outbound queue, tracked groups, dedup by message id).

Each round sends ``--messages`` messages from one client, one at a time (the next after the ack),
while a second client in the room receives the broadcasts; rounds alternate between the two
consumers. Printed: messages per second (best round), the ratio, and the per-message latency
(client send -> ack) p50/p99 with the p99 the runtime adds. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "fixtures" / "chat_project")]


def configure(database: str, prefix: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="benchmark",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "channels", "chat", "channels_lint.runtime"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "PORT": 5432,
                "USER": "postgres",
                "NAME": database,
                "CONN_MAX_AGE": None,
            }
        },
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"], "prefix": prefix},
            }
        },
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as connection:
        connection.execute(statement)


def plain_consumer():
    from channels.db import database_sync_to_async
    from channels.generic.websocket import AsyncJsonWebsocketConsumer
    from chat.models import Message, Room

    def store(room, author, body):
        message = Message.objects.create(room=room, author=author, body=body)
        return {
            "id": message.pk,
            "content": body,
            "user_id": author,
            "room_id": room.pk,
            "created_at": message.sent_at.isoformat(),
            "client_id": None,
        }

    class PlainChatConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self):
            self.room, _ = await Room.objects.aget_or_create(name=self.scope["url_route"]["kwargs"]["room_name"])
            self.group_name = f"plain_chat_{self.room.pk}"
            await self.channel_layer.group_add(self.group_name, self.channel_name)
            await self.accept()
            await self.send_json({"type": "history", "messages": []})

        async def disconnect(self, code):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

        async def receive_json(self, content, **kwargs):
            message = await database_sync_to_async(store)(self.room, str(content.get("author") or "anonymous"), content["body"])
            await self.channel_layer.group_send(self.group_name, {"type": "chat.message", "message": message})
            await self.send_json({"type": "ack", "client_id": content.get("client_id"), "id": message["id"]})

        async def chat_message(self, event):
            await self.send_json({"type": "chat.message", **event["message"]})

    return PlainChatConsumer


async def one_round(consumer, messages: int) -> tuple[float, list[float]]:
    from channels.testing import WebsocketCommunicator

    room = f"bench{uuid.uuid4().hex[:10]}"
    app = consumer.as_asgi()
    clients = []
    for _ in range(2):
        comm = WebsocketCommunicator(app, f"/ws/{room}/")
        comm.scope["url_route"] = {"args": (), "kwargs": {"room_name": room}}
        assert (await comm.connect(timeout=30))[0]
        await comm.receive_output(timeout=30)  # history
        clients.append(comm)
    sender, listener = clients

    async def listen() -> None:
        got = 0
        while got < messages:
            frame = json.loads((await listener.receive_output(timeout=30))["text"])
            got += frame["type"] == "chat.message"

    listening = asyncio.ensure_future(listen())
    latencies = []
    start = time.perf_counter()
    for number in range(messages):
        sent = time.perf_counter()
        await sender.send_json_to({"body": f"message {number}", "author": "ann", "client_id": f"c{number}"})
        while json.loads((await sender.receive_output(timeout=30))["text"])["type"] != "ack":
            pass
        latencies.append(time.perf_counter() - sent)
    await listening
    elapsed = time.perf_counter() - start
    for comm in clients:
        await comm.disconnect()
    return messages / elapsed, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def main_async(messages: int, rounds: int) -> None:
    from channels.layers import get_channel_layer
    from chat.resilient import ResilientChatConsumer

    plain = plain_consumer()
    consumers = {"plain": plain, "resilient": ResilientChatConsumer}
    await one_round(plain, 50)  # warm up connections, caches
    await one_round(ResilientChatConsumer, 50)
    rates: dict[str, list[float]] = {name: [] for name in consumers}
    latencies: dict[str, list[float]] = {name: [] for name in consumers}
    for _ in range(rounds):
        for name, consumer in consumers.items():
            rate, lat = await one_round(consumer, messages)
            rates[name].append(rate)
            latencies[name] += lat
    layer = get_channel_layer()
    await layer.flush()
    await layer.close_pools()

    print(f"{messages} messages x {rounds} rounds per consumer, PostgreSQL + Redis on 127.0.0.1, one process")
    for name in consumers:
        lat = latencies[name]
        print(
            f"  {name:<10} {max(rates[name]):8.0f} msg/s (best round; median {statistics.median(rates[name]):.0f})"
            f"   latency p50 {percentile(lat, 0.5) * 1000:6.2f} ms  p99 {percentile(lat, 0.99) * 1000:6.2f} ms"
        )
    ratio = max(rates["resilient"]) / max(rates["plain"])
    added = percentile(latencies["resilient"], 0.99) - percentile(latencies["plain"], 0.99)
    added50 = percentile(latencies["resilient"], 0.5) - percentile(latencies["plain"], 0.5)
    print(f"  ratio resilient/plain: {ratio:.2f}   added latency: p50 {added50 * 1000:+.2f} ms, p99 {added * 1000:+.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database = f"chlint_bench_{os.getpid()}"
    admin_sql(f'CREATE DATABASE "{database}"')
    try:
        configure(database, f"chlint-bench-{uuid.uuid4().hex[:8]}")
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        connections.close_all()
        asyncio.run(main_async(args.messages, args.rounds))
        from asgiref.sync import sync_to_async

        asyncio.run(sync_to_async(connections.close_all)())
        connections.close_all()
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
