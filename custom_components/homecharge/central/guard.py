"""
Defence against password guessing: failed logins slow the next try down.

Pure and clock-free. Each failure by a charger id and by a network address
counts; after a few free tries each further one must wait twice as long
(up to a ceiling), and while it waits even the right password is refused —
so guessing cannot go faster than the back-off. A success by an id clears
that id; an address is cleared only by time (a guesser may also hold a
valid charger's password).
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
    """Failed logins per charger id and per address, and their back-off."""

    _by_id: dict[str, _Record] = field(default_factory=dict)
    _by_address: dict[str, _Record] = field(default_factory=dict)

    def wait_s(self, charge_point_id: str, address: str, now: float) -> float:
        """How long this id or address must still wait before a try counts."""
        self._forget(now)
        return max(
            _wait(self._by_id.get(charge_point_id), now),
            _wait(self._by_address.get(address), now),
        )

    def failed(self, charge_point_id: str, address: str, now: float) -> int:
        """A wrong password; returns the address's failures so far."""
        for table, key in ((self._by_id, charge_point_id), (self._by_address, address)):
            record = table.setdefault(key, _Record())
            record.failures += 1
            record.last = now
        return self._by_address[address].failures

    def succeeded(self, charge_point_id: str) -> None:
        """The right password: the id's record is cleared."""
        self._by_id.pop(charge_point_id, None)

    def failures_from(self, address: str) -> int:
        """Failures counted for an address now."""
        record = self._by_address.get(address)
        return record.failures if record else 0

    def _forget(self, now: float) -> None:
        for table in (self._by_id, self._by_address):
            for key in [k for k, r in table.items() if now - r.last > FORGET_AFTER_S]:
                del table[key]


def _wait(record: _Record | None, now: float) -> float:
    if record is None or record.failures < FREE_TRIES:
        return 0.0
    backoff: float = min(
        FIRST_WAIT_S * 2.0 ** (record.failures - FREE_TRIES), MAX_WAIT_S
    )
    return max(record.last + backoff - now, 0.0)
