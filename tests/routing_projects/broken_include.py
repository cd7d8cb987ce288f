"""include() inside a URLRouter (E006): URLRouter raises ImproperlyConfigured on import."""

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import include, path

from tests.routing_projects.consumers import EchoConsumer

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter([path("ws/", include([path("echo/", EchoConsumer.as_asgi())]))]),
    }
)
