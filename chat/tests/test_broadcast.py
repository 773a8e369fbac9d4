"""Broadcasting is best effort and bounded: a Redis that hangs costs a request one short wait,
then this process stops trying for a while; the news is caught up from PostgreSQL anyway."""

import asyncio
import time

from chat import broadcast


class FrozenLayer:
    """A channel layer whose Redis accepted the connection and never answers."""

    def __init__(self) -> None:
        self.calls = 0

    async def group_send(self, group: str, message: dict) -> None:
        self.calls += 1
        await asyncio.sleep(60)


def test_a_frozen_layer_costs_one_bounded_wait_then_broadcasts_pause(monkeypatch):
    frozen = FrozenLayer()
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: frozen)
    started = time.monotonic()
    broadcast.sessions_ended(["a", "b", "c"])  # a logout ending three sessions
    assert time.monotonic() - started < broadcast.SEND_TIMEOUT_SECONDS + 1
    assert frozen.calls == 1
    assert broadcast.layer_state.paused_until > time.monotonic()


def test_broadcasts_resume_once_the_pause_is_over(monkeypatch):
    frozen = FrozenLayer()
    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: frozen)
    broadcast.layer_state.paused_until = time.monotonic() - 1
    monkeypatch.setattr(broadcast, "SEND_TIMEOUT_SECONDS", 0.05)
    broadcast.send_now("chat.user.1", {"type": "chat.access"})
    assert frozen.calls == 1
