"""False findings seen when the tool was tried on realistic projects, each kept as a test."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import found, make_project

CONSUMER = """
from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer


class AlertConsumer(WebsocketConsumer):
    def connect(self):
        channel = self.scope["url_route"]["kwargs"]["channel"]
        self.group_name = f"alerts-{channel}"
        async_to_sync(self.channel_layer.group_add)(self.group_name, self.channel_name)
        self.accept()
"""


def test_a_url_kwarg_of_a_consumer_whose_route_cannot_be_read_is_not_called_unsanitised(tmp_path: Path) -> None:
    routing = """
from django.conf import settings
from django.urls import re_path
from .consumers import AlertConsumer

websocket_urlpatterns = [re_path(settings.ALERT_ROUTE, AlertConsumer.as_asgi())]
"""
    root = make_project(tmp_path, {"alerts/consumers.py": CONSUMER, "alerts/routing.py": routing})
    assert [code for _, code in found(CONSUMER, path=root / "alerts" / "consumers.py")] == []


def test_a_url_kwarg_of_a_consumer_with_no_route_at_all_is_unsanitised(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"alerts/consumers.py": CONSUMER})
    assert [code for _, code in found(CONSUMER, path=root / "alerts" / "consumers.py")] == ["CHN303"]
