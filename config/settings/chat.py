"""Chat: the channel layer and the socket's limits."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.environment import env

_REDIS_URL = env("REDIS_URL", default="")
# channels_redis's two layers: "pubsub" (Redis PUBLISH/SUBSCRIBE, the default) or "core" (a list
# per channel, polled); bench/chat.py and `make faults` measure both, README "Chat" says why.
CHAT_CHANNEL_LAYER = env("CHAT_CHANNEL_LAYER", default="pubsub")
_LAYER_BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "chat.layers.PubSubChannelLayer",  # channels_redis's, one decode per process
}
if CHAT_CHANNEL_LAYER not in _LAYER_BACKENDS:
    raise ImproperlyConfigured(f"CHAT_CHANNEL_LAYER must be one of {', '.join(_LAYER_BACKENDS)}.")
if _REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _LAYER_BACKENDS[CHAT_CHANNEL_LAYER],
            "CONFIG": {
                # redis-py 8 gives connections a 5 s socket timeout by default: as long as the 5 s
                # channels_redis blocks reading a socket's channel (BZPOPMIN), so an idle socket's
                # empty answer could time out and kill its consumer. Longer than that block.
                "hosts": [{"address": _REDIS_URL, "socket_timeout": 15}],
                "prefix": env("CHAT_LAYER_PREFIX", default="chat"),
            },
        }
    }
else:
    # One process (`make run`): rooms and sockets live in its memory. Production refuses it.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Origins whose pages may open a socket, besides the site's own (the Origin naming the Host the
# socket is opened on). Empty: CORS_ALLOWED_ORIGINS. A browser always sends Origin; a client
# that sends none (a mobile app) is not a browser page and is let in on its ticket alone.
CHAT_ALLOWED_ORIGINS = env.list("CHAT_ALLOWED_ORIGINS", default=[])
# A ticket opens one socket, within this many seconds of being issued.
CHAT_TICKET_SECONDS = env.int("CHAT_TICKET_SECONDS", default=30)
# The largest text frame a client may send, in bytes (uvicorn's ws_max_size is set to the same).
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=16 * 1024)
# Messages a user may send per second, over every socket and REST together, with a burst.
CHAT_MESSAGE_RATE = env.float("CHAT_MESSAGE_RATE", default=5.0)
CHAT_MESSAGE_BURST = env.int("CHAT_MESSAGE_BURST", default=20)
# Frames of every type one socket may send per second, with a burst: pings, read markers,
# resumes and deletes as well as sends, so that no frame type is free to flood the server.
CHAT_FRAME_RATE = env.float("CHAT_FRAME_RATE", default=20.0)
CHAT_FRAME_BURST = env.int("CHAT_FRAME_BURST", default=60)
# A socket that keeps sending while refused this many times in a row is closed with 4008.
CHAT_REFUSALS_BEFORE_CLOSE = env.int("CHAT_REFUSALS_BEFORE_CLOSE", default=20)
# At most one `typing` per room per socket this often; more are dropped silently.
CHAT_TYPING_INTERVAL_SECONDS = env.float("CHAT_TYPING_INTERVAL_SECONDS", default=2.0)
CHAT_SOCKETS_PER_USER = env.int("CHAT_SOCKETS_PER_USER", default=10)
# The server pings every socket this often (uvicorn's ws_ping_interval); a socket also re-checks
# its session and refreshes its presence row at this pace (at a random point of each interval's
# last quarter, chat.consumers.heartbeat_delay). nginx's read timeout must be longer.
CHAT_PING_SECONDS = env.float("CHAT_PING_SECONDS", default=20.0)
# Room news waits this long after `hello` for the client's first frame (a reconnecting client
# sends `resume` first, so what it missed comes before what is new); any frame ends the wait.
CHAT_RESUME_GRACE_SECONDS = env.float("CHAT_RESUME_GRACE_SECONDS", default=1.0)
# `resume` and `events/` send at most this many missed messages per room, then resync_required.
CHAT_RESUME_LIMIT = env.int("CHAT_RESUME_LIMIT", default=500)
CHAT_GROUP_MAX_MEMBERS = env.int("CHAT_GROUP_MAX_MEMBERS", default=500)
