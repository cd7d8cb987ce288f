"""A ProtocolTypeRouter without "http" (W004): Channels 4 adds no HTTP handler."""

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from tests.routing_projects.consumers import EchoConsumer

application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/echo/", EchoConsumer.as_asgi())])})
