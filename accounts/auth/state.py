"""What the token machinery of this process remembers between requests, in one object, so that a
test (or anything else) starts from nothing with one call: `auth_state.reset()`."""

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rest_framework_simplejwt.tokens import Token


@dataclass
class AuthState:
    # Access tokens whose signature and claims already checked out, by raw value (authentication).
    verified_tokens: "dict[bytes, Token]" = field(default_factory=dict)
    # The cache failed: until this time.monotonic() it is not asked again (cache).
    cache_paused_until: float = 0.0
    # Revocations the cache missed, written once it answers again: session key -> verdict (cache).
    revocations_not_cached: dict[str, str] = field(default_factory=dict)
    # The background writer of those revocations; it stops by itself once none is left.
    revocations_retry_thread: threading.Thread | None = None
    revocations_retry_lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Forget everything remembered (a running retry thread ends, having nothing to write)."""
        self.verified_tokens.clear()
        self.cache_paused_until = 0.0
        self.revocations_not_cached.clear()


auth_state = AuthState()
