"""When a charger may be used: its opening hours (a shop's or a cooperative's)."""

from __future__ import annotations

from datetime import time


def is_open(now: time, opens: time, closes: time) -> bool:
    """Whether a charger open from ``opens`` to ``closes`` is open at ``now``.

    Equal times mean always open (the default, 00:00–00:00); hours that pass
    midnight (22:00–06:00) wrap around.
    """
    if opens == closes:
        return True
    if opens < closes:
        return opens <= now < closes
    return now >= opens or now < closes


def parse_time(value: object) -> time:
    """A stored "HH:MM[:SS]"; midnight when missing or unreadable."""
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return time(0, 0)
