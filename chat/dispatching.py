"""How a chat socket takes its messages: one loop per source, taking turns.

Channels' AsyncConsumer.__call__ waits on the client and the channel layer together with
`asyncio.wait`, which makes a new task and a new wait for every message; at a room's fan-out
that bookkeeping cost a socket more than sending the frame. Here each source has one loop that
awaits its next message and dispatches it holding the consumer's `turn` lock, so messages are
still handled one at a time and in order per source, as Channels does (the consumer's own
tasks, such as a heartbeat, take the same lock).
"""

import asyncio
import contextlib
import functools

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer


class ReaderLoops:
    channel_layer_alias: str
    turn: asyncio.Lock  # provided by the consumer

    async def dispatch(self, message) -> None:
        raise NotImplementedError

    async def __call__(self, scope, receive, send) -> None:
        # As AsyncConsumer.__call__ (channels 4.3) sets up, for an async consumer.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        loops = [asyncio.create_task(self._read(source)) for source in sources]
        try:
            done, _pending = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            for loop in done:
                loop.result()  # StopConsumer (the socket closed) or what went wrong
        except StopConsumer:
            pass
        finally:
            for loop in loops:
                loop.cancel()
            for loop in loops:
                with contextlib.suppress(asyncio.CancelledError, StopConsumer):
                    await loop

    async def _read(self, source) -> None:
        while True:
            message = await source()
            async with self.turn:
                await self.dispatch(message)
