"""The socket protocol's fixed parts: the subprotocol, close codes, and how a client frame is
parsed (README "Chat" documents every frame)."""

import json

from django.conf import settings

from chat.errors import FrameTooLarge, InvalidFrame, UnknownFrameType

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


def integer(frame: dict, name: str, *, required: bool = True) -> int | None:
    value = frame.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not 0 <= value < 2**63:
        raise InvalidFrame(fields={name: ["A non-negative integer."]})
    return value


def frame_dump(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
