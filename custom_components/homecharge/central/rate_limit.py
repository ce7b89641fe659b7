"""How often a charger may talk to us: a token bucket, pure and clock-free."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """Allows ``rate`` messages per second on average, ``burst`` at once.

    A charger replaying its offline queue sends a burst; one stuck in a loop
    sends forever. The bucket lets the first through and sheds the second.
    """

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> bool:
        """Spend a token at monotonic time ``now``; False when none is left."""
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
