"""``broken`` with every route corrected: ``manage.py check`` reports nothing for it."""

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path, re_path

from tests.routing_projects.consumers import EchoConsumer, EventsConsumer, OtherConsumer

django_asgi_app = get_asgi_application()

room_router = URLRouter([path("room/<slug:room>/", EchoConsumer.as_asgi())])

websocket_routes = [
    path("ws/leading/", EchoConsumer.as_asgi()),
    re_path(r"^ws/regex-in-path/$", EchoConsumer.as_asgi()),
    path("ws/no-as-asgi/", EchoConsumer.as_asgi()),
    path("ws/uncalled/", EchoConsumer.as_asgi()),
    re_path(r"^ws/nested/", AuthMiddlewareStack(room_router)),
    path("ws/bad/<int:x>/", EchoConsumer.as_asgi()),
    re_path(r"^ws/unanchored/$", EchoConsumer.as_asgi()),
    path("ws/dup/", EchoConsumer.as_asgi()),
    path("ws/dup-other/", OtherConsumer.as_asgi()),
    re_path(r"^ws/redos/\w+/$", EchoConsumer.as_asgi()),
    path("ws/shared/", EchoConsumer.as_asgi()),
    re_path(r"^ws/pcre/(?P<room>\w+)/$", EchoConsumer.as_asgi()),
    # the valid routing of the bug-report case 38_ok_valid_routing
    re_path(r"^ws/course/(?P<course_id>\d+)/chat/$", EchoConsumer.as_asgi()),
    re_path(r"ws/group-status/(?P<group_id>[\w-]+)/$", EchoConsumer.as_asgi()),
    path("ws/alerts/<int:team_id>/", EchoConsumer.as_asgi()),
]

websocket_router = URLRouter(websocket_routes)

http_router = URLRouter(
    [
        path("events/", EventsConsumer.as_asgi()),
        re_path(r"", django_asgi_app),
    ]
)

application = ProtocolTypeRouter(
    {
        "http": http_router,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(websocket_router)),
    }
)
