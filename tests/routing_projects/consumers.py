"""Minimal consumers for the routing projects (no database)."""

from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data or "")


class OtherConsumer(EchoConsumer):
    pass


class EventsConsumer(AsyncHttpConsumer):
    async def handle(self, body):
        await self.send_response(200, b"ok", headers=[(b"Content-Type", b"text/plain")])
