"""A process's "stop trying for a while" after a shared service failed (the chat's channel
layer, the task broker): a service that is down costs one request its timeouts, not every
request, while the work waits in PostgreSQL to be caught up."""

import time
from dataclasses import dataclass


@dataclass
class Pause:
    paused_until: float = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.paused_until

    def start(self, seconds: float) -> None:
        self.paused_until = time.monotonic() + seconds

    def reset(self) -> None:
        self.paused_until = 0.0
