"""Announcements a lower app makes and higher apps listen to, without the lower app importing
them (shared/STYLE.md): accounts says which login sessions ended, courses whose access to which
courses changed, and chat closes or re-subscribes the sockets concerned.

Listeners run after the announcing transaction commits; one that fails is logged and never
undoes what was committed, nor stops the others.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class Announcement:
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[..., Any]] = []

    def listen(self, listener: Callable[..., Any]) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def announce_now(self, **facts: Any) -> None:
        for listener in self._listeners:
            try:
                listener(**facts)
            except Exception:
                logger.exception("listener of %s failed", self.name)

    def announce_on_commit(self, **facts: Any) -> None:
        transaction.on_commit(lambda: self.announce_now(**facts))
