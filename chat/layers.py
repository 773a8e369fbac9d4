"""channels_redis's pub/sub layer, decoding each broadcast once per process.

The layer hands the same received bytes to every local socket in the group and each socket
decoded them again (msgpack), once per member: a room of 100 decoded every message 100 times in
each process. Here the last decoded message is kept and given to the next socket that receives
the same bytes, so the sockets of a process share one dict: consumers treat what they receive
as read-only (chat.delivery).
"""

from channels_redis.pubsub import RedisPubSubChannelLayer


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._last_raw: bytes | None = None
        self._last_decoded: dict | None = None

    def deserialize(self, message: bytes) -> dict:
        if message is not self._last_raw:  # identity: the very bytes given to each socket
            self._last_decoded = super().deserialize(message)
            self._last_raw = message
        return self._last_decoded  # type: ignore[return-value]
