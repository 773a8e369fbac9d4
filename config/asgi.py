"""ASGI entry point: HTTP goes to Django as under WSGI, WebSockets (/ws/chat/) to chat.

Production serves REST with gunicorn's sync workers (config.wsgi) and sockets with gunicorn's
uvicorn workers on this module (docker/gunicorn.conf.py, the compose file's `ws` service);
`make run` serves both from this module in one process.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Django first: importing the consumers needs the app registry ready.
http_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402

if settings.DEBUG:
    # `make run`: static files (admin, API docs) as runserver serves them; nginx does in production.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_application = ASGIStaticFilesHandler(http_application)

application = ProtocolTypeRouter(
    {"http": http_application, "websocket": URLRouter(websocket_urlpatterns)}
)
