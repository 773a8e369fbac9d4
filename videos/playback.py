"""Signed playback URLs: one viewer, one video's stream, until an expiry, checked by nginx's
secure_link module (nginx/templates) without calling Django per segment, and by
`signed_path_check` where Django serves the files itself (`make run`).

    /hls/<user id>/<expires>/<token>/<stream key>/<file>
    token = base64url(md5("<expires> <user id> <stream key> <MEDIA_SIGNING_KEY>")), unpadded

nginx's `secure_link_md5` can only compute MD5; the key is secret and at the end of the signed
text, and the viewer chooses none of the other parts. Every playlist names its segments and
variants by relative URLs, so they resolve under the same signed prefix; nothing else in the
stream's folder is reachable, and `file` admits no `..`.
"""

import base64
import hashlib
import hmac
import math
import re
import time

from django.conf import settings
from django.utils.crypto import salted_hmac

PREFIX = "/hls/"
# The same shape nginx's location matches: a file of the stream's folder, or of one rendition's.
SIGNED_PATH = re.compile(
    r"/hls/(?P<user_id>[0-9]{1,19})/(?P<expires>[0-9]{1,12})/(?P<token>[A-Za-z0-9_-]{22})/"
    r"(?P<stream_key>[0-9a-f]{32})/(?P<file>(?:[A-Za-z0-9_-]+/)?[A-Za-z0-9_-]+\.(?:m3u8|ts|mp4))",
    re.ASCII,
)


def media_signing_key() -> str:
    """MEDIA_SIGNING_KEY (required in production, shared with nginx); elsewhere a key derived from
    SECRET_KEY, so development needs no configuration."""
    if settings.MEDIA_SIGNING_KEY:
        return settings.MEDIA_SIGNING_KEY
    return salted_hmac("videos.playback", "media-signing-key").hexdigest()


def token(*, expires: int, user_id: int, stream_key: str) -> str:
    signed = f"{expires} {user_id} {stream_key} {media_signing_key()}"
    digest = hashlib.md5(signed.encode(), usedforsecurity=False).digest()  # nginx's secure_link
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def playback_expiry(*, duration: float, now: float | None = None) -> int:
    """VIDEO_PLAYBACK_URL_SECONDS plus the video's length from now, rounded up to the minute, so
    that the URLs one viewer asks for within a minute are the same (and cacheable)."""
    now = time.time() if now is None else now
    return int(math.ceil((now + settings.VIDEO_PLAYBACK_URL_SECONDS + duration) / 60) * 60)


def signed_path(*, user_id: int, stream_key: str, expires: int, file: str) -> str:
    signature = token(expires=expires, user_id=user_id, stream_key=stream_key)
    return f"{PREFIX}{user_id}/{expires}/{signature}/{stream_key}/{file}"


def signed_path_check(path: str, *, now: float | None = None) -> tuple[str, str] | None:
    """(stream key, file) when `path` is a well-formed, untampered and unexpired signed path;
    None otherwise, as nginx answers 403 to all three."""
    match = SIGNED_PATH.fullmatch(path)
    if match is None:
        return None
    expires = int(match["expires"])
    expected = token(expires=expires, user_id=int(match["user_id"]), stream_key=match["stream_key"])
    if not hmac.compare_digest(expected, match["token"]):
        return None
    if expires < (time.time() if now is None else now):
        return None
    return match["stream_key"], match["file"]


def stream_name(stream_key: str, file: str = "") -> str:
    """Where a stream's files live in the protected storage."""
    return f"hls/{stream_key}/{file}"
