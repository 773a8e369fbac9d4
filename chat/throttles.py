"""Chat writes that put something in front of other people, limited per user: each friend request
reaches its addressee's sockets (a send-and-cancel loop, or a request to every user id, would
be spam), and each report lands in the staff's queue. Rates: DEFAULT_THROTTLE_RATES
["friend_request"] and ["chat_report"] (THROTTLE_FRIEND_REQUEST, THROTTLE_CHAT_REPORT)."""

from core.throttles import UserWriteThrottle


class FriendRequestThrottle(UserWriteThrottle):
    scope = "friend_request"


class ReportThrottle(UserWriteThrottle):
    scope = "chat_report"
