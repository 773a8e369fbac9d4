"""The rules chat enforces, one class per rule (core.exceptions). The same codes answer over REST
(the error envelope) and over the socket (an `error` frame {code, message}, or a close code)."""

import math

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.errors import NotAuthenticated, NotFound, PermissionDenied
from core.exceptions import ApplicationError

# --- Rooms and members --------------------------------------------------------------------------


class RoomNotFound(NotFound):
    """Unknown, or a room the caller is not in: another user's room is no different."""

    code = "not_found"
    message = _("No such chat room.")


class ModeratorOnly(PermissionDenied):
    code = "moderator_only"
    message = _("Only the room's moderators can do this.")


class NotAGroupRoom(ApplicationError):
    """Members are added to and removed from group rooms only: a direct room is its two friends, a
    course room its learners."""

    code = "not_a_group_room"
    status = status.HTTP_409_CONFLICT
    message = _("Only group rooms have members that can be added or removed.")


class AlreadyMember(ApplicationError):
    code = "already_member"
    status = status.HTTP_409_CONFLICT
    message = _("This user is already a member of the room.")


class NotMember(ApplicationError):
    code = "not_member"
    status = status.HTTP_404_NOT_FOUND
    message = _("This user is not a member of the room.")
    field = "user"


class TooManyMembers(ApplicationError):
    code = "too_many_members"
    status = status.HTTP_409_CONFLICT
    message = _("A group room has at most %(limit)s members.")


class Muted(PermissionDenied):
    code = "muted"
    message = _("A moderator muted you in this room for now.")


# --- Messages -----------------------------------------------------------------------------------


class MessageNotFound(NotFound):
    code = "not_found"
    message = _("No such message.")


class NotMessageAuthor(PermissionDenied):
    code = "not_message_author"
    message = _("Only the author can edit this message, and only the author or a moderator can "
                "delete it.")  # fmt: skip


class MessageDeleted(ApplicationError):
    code = "message_deleted"
    status = status.HTTP_409_CONFLICT
    message = _("This message was deleted.")


class ClientMsgIdReused(ApplicationError):
    """The same client_msg_id again with another room or body: a retry must repeat the send."""

    code = "client_msg_id_reused"
    status = status.HTTP_409_CONFLICT
    message = _("This client_msg_id was already used for another message.")
    field = "client_msg_id"


class ReplyNotInRoom(ApplicationError):
    code = "reply_not_in_room"
    message = _("A reply must answer a message of the same room.")
    field = "reply_to"


# --- Friends and blocks -------------------------------------------------------------------------


class NotFriends(PermissionDenied):
    code = "not_friends"
    message = _("You can only talk directly with your friends.")


class UserBlocked(PermissionDenied):
    """Either of the two blocked the other: both are refused alike, so a block is not revealed."""

    code = "blocked"
    message = _("You cannot contact this user.")


class UserNotFound(NotFound):
    code = "not_found"
    message = _("No such user.")


class CannotFriendSelf(ApplicationError):
    code = "cannot_target_self"
    message = _("You cannot do this to yourself.")
    field = "user"


class AlreadyFriends(ApplicationError):
    code = "already_friends"
    status = status.HTTP_409_CONFLICT
    message = _("You are already friends.")


class FriendRequestPending(ApplicationError):
    code = "friend_request_pending"
    status = status.HTTP_409_CONFLICT
    message = _("A friend request to this user is already waiting for an answer.")


class FriendRequestNotFound(NotFound):
    """Unknown, answered already, or not addressed to (or sent by) the caller."""

    code = "not_found"
    message = _("No such pending friend request.")


class FriendNotFound(NotFound):
    code = "not_found"
    message = _("This user is not your friend.")


class BlockNotFound(NotFound):
    code = "not_found"
    message = _("You have not blocked this user.")


# --- Reports ------------------------------------------------------------------------------------


class AlreadyReported(ApplicationError):
    code = "already_reported"
    status = status.HTTP_409_CONFLICT
    message = _("You have already reported this message.")


# --- The socket ---------------------------------------------------------------------------------


class TicketInvalid(NotAuthenticated):
    """Unknown, expired, already used, or its login session ended: ask for a new one."""

    code = "ticket_invalid"
    message = _("The socket ticket is invalid, expired or already used.")


class SessionEnded(NotAuthenticated):
    code = "session_revoked"
    message = _("This session has ended.")


class RateLimited(ApplicationError):
    """The same code as DRF's throttles, over REST and over the socket."""

    code = "throttled"
    status = status.HTTP_429_TOO_MANY_REQUESTS
    message = _("Too many messages. Slow down.")

    @classmethod
    def waiting(cls, seconds: float) -> "RateLimited":
        return cls(headers={"Retry-After": str(max(1, math.ceil(seconds)))})


class FramesLimited(RateLimited):
    """Any frame over the socket's own budget (CHAT_FRAME_RATE), whatever its type."""

    message = _("Too many frames on this socket. Slow down.")


class TooManySockets(ApplicationError):
    code = "too_many_sockets"
    status = status.HTTP_429_TOO_MANY_REQUESTS
    message = _("Too many open sockets for this account. Close one first.")


class InvalidFrame(ApplicationError):
    """Not a JSON object with a string `type`, or a field of the wrong shape."""

    code = "invalid_frame"
    message = _("The frame is not a valid chat message.")


class UnknownFrameType(ApplicationError):
    code = "unknown_type"
    message = _("Unknown frame type.")


class FrameTooLarge(ApplicationError):
    code = "frame_too_large"
    status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    message = _("Frames may be at most %(limit)s bytes.")
