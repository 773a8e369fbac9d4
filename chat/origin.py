"""Cross-site WebSocket hijacking: a browser page may open a socket only from the site itself
(its Origin names the Host the socket is opened on, one of ALLOWED_HOSTS) or from an allowed
origin (CHAT_ALLOWED_ORIGINS, else CORS_ALLOWED_ORIGINS). No Origin at all is not a browser."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _normalised(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def origin_allowed(headers: list[tuple[bytes, bytes]]) -> bool:
    values = {name.lower(): value.decode("latin-1") for name, value in headers}
    origin = values.get(b"origin")
    if origin is None:
        return True
    origin = _normalised(origin)
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = values.get(b"host", "").strip().lower()
    domain, _port = split_domain_port(host)
    if host and parts.netloc == host and validate_host(domain, settings.ALLOWED_HOSTS):
        return True
    allowed = settings.CHAT_ALLOWED_ORIGINS or settings.CORS_ALLOWED_ORIGINS
    return origin in {_normalised(item) for item in allowed}
