"""Where Django and Channels code runs, and what is a coroutine, as data.

Channels' consumer bases (async or sync) and the methods Channels defines on each, the
asgiref/Channels thread bridges, library coroutine functions, channel-layer methods and
the test communicators' coroutines; the pre-filter markers the async and layer rules share.
Each fact cites ``docs/semantics.md`` (§2.1, §2.2, §3.1, §3.3).
"""

from __future__ import annotations

#: Channels consumer base classes by qualified name, and whether their handlers are async.
CONSUMER_BASES: dict[str, bool] = {
    "channels.consumer.AsyncConsumer": True,
    "channels.consumer.SyncConsumer": False,
    "channels.generic.websocket.WebsocketConsumer": False,
    "channels.generic.websocket.JsonWebsocketConsumer": False,
    "channels.generic.websocket.AsyncWebsocketConsumer": True,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": True,
    "channels.generic.http.AsyncHttpConsumer": True,
    "channels.security.websocket.WebsocketDenier": True,
}

#: Bridges that run a sync callable in a worker thread (asgiref/sync.py, channels/db.py).
SYNC_TO_ASYNC = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "asgiref.sync.SyncToAsync",
        "channels.db.database_sync_to_async",
        "channels.db.DatabaseSyncToAsync",
    }
)
ASYNC_TO_SYNC = frozenset({"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"})
#: Library functions that are coroutine functions (channels/auth.py, channels/db.py).
KNOWN_COROUTINE_FUNCTIONS = frozenset(
    {
        "channels.auth.login",
        "channels.auth.logout",
        "channels.auth.get_user",
        "channels.db.aclose_old_connections",
        "asyncio.sleep",
    }
)
GET_CHANNEL_LAYER = "channels.layers.get_channel_layer"

#: Channels' test communicators and their coroutine methods (channels/testing/websocket.py,
#: http.py, asgiref/testing.py @ 3.x): every one of them must be awaited.
COMMUNICATORS = frozenset(
    {
        "channels.testing.WebsocketCommunicator",
        "channels.testing.HttpCommunicator",
        "channels.testing.ApplicationCommunicator",
        "channels.testing.websocket.WebsocketCommunicator",
        "channels.testing.http.HttpCommunicator",
        "asgiref.testing.ApplicationCommunicator",
    }
)
COMMUNICATOR_COROUTINES = frozenset(
    {
        "connect", "disconnect", "send_to", "send_json_to", "receive_from", "receive_json_from", "receive_nothing",
        "send_input", "receive_output", "wait", "get_response",
    }
)  # fmt: skip

#: Channel-layer methods; all are coroutines (channels/layers.py, channels_redis/core.py).
LAYER_METHODS = frozenset(
    {
        "send",
        "receive",
        "new_channel",
        "group_add",
        "group_discard",
        "group_send",
        "flush",
        "close",
        "close_pools",
        "receive_single",
        "wait_received",
    }
)

_WEBSOCKET = frozenset(
    {
        "connect",
        "disconnect",
        "receive",
        "websocket_connect",
        "websocket_receive",
        "websocket_disconnect",
        "accept",
        "close",
        "send",
    }
)
_JSON = frozenset({"receive_json", "send_json", "encode_json", "decode_json"})
_HTTP = frozenset(
    {"handle", "http_request", "http_disconnect", "send_headers", "send_body", "send_response", "disconnect", "send"}
)
_RAW = frozenset({"websocket_connect", "websocket_receive", "websocket_disconnect", "http_request", "http_disconnect", "send"})

#: The methods Channels defines on each consumer base, by the base's qualified name: on the
#: async bases they are coroutines that Channels awaits, on the sync ones plain methods it
#: calls in a worker thread (channels/consumer.py, channels/generic/*.py @ 4.3.2, §2.2).
CONSUMER_METHODS: dict[str, frozenset[str]] = {
    "channels.consumer.AsyncConsumer": _RAW,
    "channels.consumer.SyncConsumer": _RAW,
    "channels.generic.websocket.WebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.JsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.websocket.AsyncWebsocketConsumer": _WEBSOCKET,
    "channels.generic.websocket.AsyncJsonWebsocketConsumer": _WEBSOCKET | _JSON,
    "channels.generic.http.AsyncHttpConsumer": _HTTP,
    "channels.security.websocket.WebsocketDenier": _WEBSOCKET,
}

#: Pre-filter markers shared by rules (a file without any of them cannot hold their findings).
ASYNC_MARKERS = ("async def", "Async", "WebsocketDenier")
LAYER_MARKERS = ("channel_layer",)
