"""The gunicorn worker class of the `ws` service: uvicorn (uvloop, httptools, websockets) with
the chat socket's limits, read from the same settings as the application (config.settings.chat).

    gunicorn -c docker/gunicorn.conf.py -k config.asgi_worker.ChatUvicornWorker \
        config.asgi:application
"""

import sys

from uvicorn_worker import UvicornWorker

from config.settings.chat import CHAT_MAX_FRAME_BYTES, CHAT_PING_SECONDS


class ChatUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "lifespan": "off",
        # A protocol-level ping every CHAT_PING_SECONDS keeps idle sockets open through nginx
        # (whose proxy_read_timeout for /ws/ is longer) and finds dead peers.
        "ws_ping_interval": CHAT_PING_SECONDS,
        "ws_ping_timeout": CHAT_PING_SECONDS,
        # A larger frame closes the socket with 1009 before the application reads it.
        "ws_max_size": CHAT_MAX_FRAME_BYTES,
        # Chat frames are small: per-message deflate would save little and its state costs
        # ~95 KiB per socket (bench/chat.py: 138 -> 43 KiB per idle socket without it).
        "ws_per_message_deflate": False,
        # Behind nginx only (the compose network): its X-Forwarded-For names the client.
        "proxy_headers": True,
        "forwarded_allow_ips": "*",
        # No access log line per socket: nginx logs each handshake already.
        "access_log": False,
    }

    def run(self) -> None:
        # A socket's send runs its transaction in the database thread, which needs the GIL back
        # after every round trip to PostgreSQL while the event loop fans out; at the default
        # 5 ms switch interval each wait could take that long, so a busy worker's sends queued
        # (acks past 300 ms in bench/chat.py). 1 ms: acks and deliveries within tens of ms.
        sys.setswitchinterval(0.001)
        super().run()
