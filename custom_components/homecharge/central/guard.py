"""
Defence against password guessing: failed logins slow the next try down.

Pure and clock-free. Failures are counted per network address: after a few
free tries each further one must wait twice as long (up to a ceiling), and
while it waits even the right password is refused — so guessing cannot go
faster than the back-off. Kept per address, not per charger id, so that
someone who knows a charger's id cannot lock the real charger out. The right
password from an address clears it; an hour of quiet forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

FREE_TRIES: Final = 3
FIRST_WAIT_S: Final = 1.0
MAX_WAIT_S: Final = 300.0
# An address quiet this long is forgotten.
FORGET_AFTER_S: Final = 3600.0
# Failures from one address before the user is told (a repair issue).
REPORT_AFTER: Final = 10


@dataclass(slots=True)
class _Record:
    failures: int = 0
    last: float = 0.0


@dataclass(slots=True)
class LoginGuard:
    """Failed logins per address, and their back-off."""

    _by_address: dict[str, _Record] = field(default_factory=dict)

    def wait_s(self, address: str, now: float) -> float:
        """How long this address must still wait before a try counts."""
        self._forget(now)
        record = self._by_address.get(address)
        if record is None or record.failures < FREE_TRIES:
            return 0.0
        backoff: float = min(
            FIRST_WAIT_S * 2.0 ** (record.failures - FREE_TRIES), MAX_WAIT_S
        )
        return max(record.last + backoff - now, 0.0)

    def failed(self, address: str, now: float) -> int:
        """A wrong password; returns the address's failures so far."""
        record = self._by_address.setdefault(address, _Record())
        record.failures += 1
        record.last = now
        return record.failures

    def succeeded(self, address: str) -> None:
        """The right password from an address: its record is cleared."""
        self._by_address.pop(address, None)

    def failures_from(self, address: str) -> int:
        """Failures counted for an address now."""
        record = self._by_address.get(address)
        return record.failures if record else 0

    def _forget(self, now: float) -> None:
        for key in [
            k for k, r in self._by_address.items() if now - r.last > FORGET_AFTER_S
        ]:
            del self._by_address[key]
