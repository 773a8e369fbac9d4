"""What a broadcast costs each socket of a process: one decode for them all (chat.layers), one
JSON encoding for them all (protocol.shared_frame_dump), and no task per message (the socket's
reader loops, chat.dispatching). bench/chat.py measures the effect; these hold the rules."""

import asyncio
import contextlib
import os
import uuid

import pytest
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

from chat import protocol
from chat.dispatching import ReaderLoops
from chat.layers import PubSubChannelLayer

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


# --- One decode per broadcast -----------------------------------------------------------------


@pytest.fixture
async def pubsub_layer():
    layer = PubSubChannelLayer(hosts=[REDIS_URL], prefix=f"test{uuid.uuid4().hex[:16]}")
    decodes = []
    decode = layer._serializer.deserialize

    def counted(message):
        decodes.append(message)
        return decode(message)

    layer._serializer.deserialize = counted
    layer.decodes = decodes
    yield layer
    await layer.flush()


async def _broadcast(layer, group: str, channels: list[str], message: dict) -> list[dict]:
    await layer.group_send(group, message)
    return [await asyncio.wait_for(layer.receive(channel), 5) for channel in channels]


@needs_redis
async def test_the_sockets_of_a_process_share_one_decoded_broadcast(pubsub_layer):
    channels = [await pubsub_layer.new_channel() for _ in range(3)]
    for channel in channels:
        await pubsub_layer.group_add("chat.room.1", channel)
    news = {"type": "chat.event", "room": 1, "seq": 7, "frame": {"type": "message.new"}}
    received = await _broadcast(pubsub_layer, "chat.room.1", channels, news)
    assert received[0] == news
    assert all(message is received[0] for message in received)
    assert len(pubsub_layer.decodes) == 1


@needs_redis
async def test_the_next_broadcast_is_decoded_afresh_even_when_it_is_equal(pubsub_layer):
    channels = [await pubsub_layer.new_channel() for _ in range(2)]
    for channel in channels:
        await pubsub_layer.group_add("chat.room.1", channel)
    news = {"type": "chat.event", "room": 1, "seq": None, "frame": {"type": "typing"}}
    first = await _broadcast(pubsub_layer, "chat.room.1", channels, news)
    second = await _broadcast(pubsub_layer, "chat.room.1", channels, news)
    assert second[0] == first[0] and second[0] is not first[0]
    assert len(pubsub_layer.decodes) == 2


@needs_redis
async def test_a_message_to_one_socket_is_its_own(pubsub_layer):
    alone, other = await pubsub_layer.new_channel(), await pubsub_layer.new_channel()
    await pubsub_layer.send(alone, {"type": "chat.session_ended"})
    await pubsub_layer.send(other, {"type": "chat.access"})
    assert await asyncio.wait_for(pubsub_layer.receive(alone), 5) == {"type": "chat.session_ended"}
    assert await asyncio.wait_for(pubsub_layer.receive(other), 5) == {"type": "chat.access"}


# --- One encoding per broadcast frame ---------------------------------------------------------


def test_a_broadcast_frame_is_encoded_once_for_every_socket():
    frame = {"type": "message.new", "message": {"room": 1, "seq": 2, "body": "안녕"}}
    text = protocol.shared_frame_dump(frame)
    assert text == protocol.frame_dump(frame)
    assert protocol.shared_frame_dump(frame) is text


def test_another_frame_is_encoded_afresh_even_when_it_is_equal():
    frame = {"type": "typing", "room": 1, "user": 2}
    text = protocol.shared_frame_dump(frame)
    again = protocol.shared_frame_dump(dict(frame))
    assert again == text and again is not text
    other = protocol.shared_frame_dump({"type": "typing", "room": 1, "user": 3})
    assert other == protocol.frame_dump({"type": "typing", "room": 1, "user": 3})


# --- Reader loops ------------------------------------------------------------------------------


class WatchedLock(asyncio.Lock):
    """A lock that tells when someone waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self.awaited = asyncio.Event()

    async def acquire(self) -> bool:
        if self.locked():
            self.awaited.set()
        return await super().acquire()


class Probe(ReaderLoops):
    """A consumer that logs what it handles; "slow" holds its turn until another message waits
    for the turn (or 5 s pass: then nothing waited, and the order shows it)."""

    channel_layer_alias = "default"

    def __init__(self) -> None:
        self.turn = WatchedLock()
        self.log: list[str] = []
        self.started = asyncio.Event()

    async def dispatch(self, message) -> None:
        kind = message["type"]
        self.log.append(f"start {kind}")
        if kind == "slow":
            self.started.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.turn.awaited.wait(), 5)
        elif kind == "stop":
            raise StopConsumer()
        elif kind == "boom":
            raise RuntimeError("boom")
        self.log.append(f"end {kind}")


async def _run(probe: Probe, client: asyncio.Queue):
    async def send(message) -> None:
        pass

    return asyncio.create_task(probe({"type": "websocket"}, client.get, send))


async def _channel_of(probe: Probe) -> str:
    for _ in range(100):
        if getattr(probe, "channel_name", None):
            return probe.channel_name
        await asyncio.sleep(0.01)
    raise AssertionError("the consumer never took a channel")


async def test_a_layer_message_waits_for_the_client_frame_being_handled():
    probe, client = Probe(), asyncio.Queue()
    app = await _run(probe, client)
    channel = await _channel_of(probe)
    await client.put({"type": "slow"})
    await asyncio.wait_for(probe.started.wait(), 5)
    await get_channel_layer().send(channel, {"type": "news"})
    await client.put({"type": "stop"})
    await asyncio.wait_for(app, 5)
    assert probe.log[:4] == ["start slow", "end slow", "start news", "end news"]


async def test_stop_from_the_client_ends_both_loops():
    probe, client = Probe(), asyncio.Queue()
    app = await _run(probe, client)
    await _channel_of(probe)
    await client.put({"type": "stop"})
    await asyncio.wait_for(app, 5)
    assert app.exception() is None
    readers = [t for t in asyncio.all_tasks() if "ReaderLoops._read" in repr(t.get_coro())]
    assert readers == []


async def test_a_failing_handler_ends_the_socket_with_its_error():
    probe, client = Probe(), asyncio.Queue()
    app = await _run(probe, client)
    channel = await _channel_of(probe)
    await get_channel_layer().send(channel, {"type": "boom"})
    with pytest.raises(RuntimeError, match="boom"):
        await asyncio.wait_for(app, 5)
    readers = [t for t in asyncio.all_tasks() if "ReaderLoops._read" in repr(t.get_coro())]
    assert readers == []
