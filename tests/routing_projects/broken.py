"""One broken route of each kind; each comment names the id ``manage.py check`` reports.

The routes the behaviour tests connect to come first: URLRouter tries routes in order, and the
regex that does not compile (E002) raises as soon as a path reaches it.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path, re_path

from tests.routing_projects.consumers import EchoConsumer, EventsConsumer, OtherConsumer

django_asgi_app = get_asgi_application()

room_router = URLRouter([path("room/<slug:room>/", EchoConsumer.as_asgi())])

websocket_routes = [
    path("/ws/leading/", EchoConsumer.as_asgi()),  # E004
    path("^ws/regex-in-path/$", EchoConsumer.as_asgi()),  # E003
    path("ws/no-as-asgi/", EchoConsumer),  # E005
    path("ws/uncalled/", EchoConsumer.as_asgi),  # E005
    path("ws/nested/", AuthMiddlewareStack(room_router)),  # E007
    path("ws/bad/<int:x/", EchoConsumer.as_asgi()),  # E009
    re_path(r"ws/unanchored/", EchoConsumer.as_asgi()),  # W001
    path("ws/dup/", EchoConsumer.as_asgi()),
    path("ws/dup/", OtherConsumer.as_asgi()),  # W002
    re_path(r"^ws/redos/(\w+\d?)+/$", EchoConsumer.as_asgi()),  # W003
    path("ws/shared/", EchoConsumer()),  # W006
    re_path(r"^ws/pcre/(?<room>\w+)/$", EchoConsumer.as_asgi()),  # E002
]

websocket_router = URLRouter(websocket_routes)

http_router = URLRouter(
    [
        path("events/", EventsConsumer.as_asgi()),
        re_path(r"^admin/", django_asgi_app),  # W005
    ]
)

application = ProtocolTypeRouter(
    {
        "http": http_router,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(websocket_router)),
    }
)
