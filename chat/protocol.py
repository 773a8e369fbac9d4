"""The socket protocol's fixed parts: the subprotocol, close codes, and how a client frame is
parsed (README "Chat" documents every frame)."""

import json

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header

from chat.errors import FrameTooLarge, InvalidFrame, UnknownFrameType
from chat.payloads import user_data
from core.exceptions import ApplicationError

PROTOCOL = "chat.v1"
TICKET_PREFIX = "ticket."

CLOSE_SESSION_ENDED = 4001  # revoked or expired session, invalid ticket: log in or get a ticket
CLOSE_FORBIDDEN = 4003  # a page of an origin that may not open sockets
CLOSE_RATE_LIMITED = 4008  # kept sending while refused, or too many sockets
CLOSE_TOO_LARGE = 1009  # RFC 6455: a frame over CHAT_MAX_FRAME_BYTES

CLIENT_TYPES = frozenset(
    {"message.send", "message.edit", "message.delete", "typing", "read", "resume", "ping"}
)


def ticket_from(subprotocols: list[str]) -> str | None:
    for offered in subprotocols:
        if offered.startswith(TICKET_PREFIX):
            return offered[len(TICKET_PREFIX) :]
    return None


def frame_parse(text: str | None) -> dict:
    """The client's frame as a dict with a known `type`; FrameTooLarge, InvalidFrame or
    UnknownFrameType otherwise."""
    if text is None:
        raise InvalidFrame()
    if len(text) > settings.CHAT_MAX_FRAME_BYTES or (
        len(text.encode("utf-8", "surrogatepass")) > settings.CHAT_MAX_FRAME_BYTES
    ):
        raise FrameTooLarge(limit=settings.CHAT_MAX_FRAME_BYTES)
    try:
        frame = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidFrame() from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise InvalidFrame()
    if frame["type"] not in CLIENT_TYPES:
        raise UnknownFrameType()
    return frame


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity


def ref_of(frame: dict) -> str | int | None:
    """The client's optional `ref`, echoed on the answer to its frame."""
    ref = frame.get("ref")
    return ref if isinstance(ref, str | int) and not isinstance(ref, bool) else None


def room_key(key) -> int | None:
    """A room id written as an object key ("12"): ASCII digits only, as `int()` would also take
    Arabic-Indic or fullwidth digits (and `isdigit()` accepts "²", which `int()` refuses)."""
    if not isinstance(key, str) or not key.isascii() or not key.isdigit() or len(key) > 18:
        return None
    return int(key)


def integer(frame: dict, name: str, *, required: bool = True) -> int | None:
    value = frame.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not 0 <= value < 2**63:
        raise InvalidFrame(fields={name: [_("A non-negative integer.")]})
    return value


def frame_dump(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class SharedFrameText:
    """A broadcast's frame is one dict shared by the process's sockets (chat.layers) and sent by
    each of them in turn: it is encoded once. Frames are never changed once sent."""

    def __init__(self) -> None:
        self.frame: dict | None = None  # held, so that the identity check cannot be fooled
        self.text = ""

    def __call__(self, frame: dict) -> str:
        if frame is not self.frame:
            self.text, self.frame = frame_dump(frame), frame
        return self.text


shared_frame_dump = SharedFrameText()


def hello_frame(user, rooms: dict[int, int], online_friends: list[int]) -> dict:
    return {
        "type": "hello",
        "protocol": PROTOCOL,
        "user": user_data(user),
        "rooms": [{"id": room, "last_seq": seq} for room, seq in sorted(rooms.items())],
        "online_friends": online_friends,
        "ping_interval": settings.CHAT_PING_SECONDS,
        "limits": {
            "max_frame_bytes": settings.CHAT_MAX_FRAME_BYTES,
            "messages_per_second": settings.CHAT_MESSAGE_RATE,
            "message_burst": settings.CHAT_MESSAGE_BURST,
            "frames_per_second": settings.CHAT_FRAME_RATE,
            "frame_burst": settings.CHAT_FRAME_BURST,
            "typing_interval": settings.CHAT_TYPING_INTERVAL_SECONDS,
            "resume_limit": settings.CHAT_RESUME_LIMIT,
        },
    }


def error_frame(error: ApplicationError, *, ref=None) -> dict:
    """An `error` frame: the REST envelope's code, message and fields, and Retry-After."""
    frame: dict = {"type": "error", "code": error.code, "message": str(error.message)}
    if error.fields:
        frame["fields"] = {
            str(key): [str(text) for text in texts] for key, texts in error.fields.items()
        }
    if "Retry-After" in error.headers:
        frame["retry_after"] = int(error.headers["Retry-After"])
    if ref is not None:
        frame["ref"] = ref
    return frame


def language_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The language the handshake's Accept-Language prefers among ours (as LocaleMiddleware
    picks it for REST), else LANGUAGE_CODE: `error` frames speak it."""
    header = next(
        (value.decode("latin-1") for name, value in headers if name.lower() == b"accept-language"),
        "",
    )
    for code, _quality in parse_accept_lang_header(header[:255]):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
