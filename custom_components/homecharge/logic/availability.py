"""
When a charger may be used: enabled, within its opening hours, not paused.

Pure logic. A charger is told one thing (OCPP ChangeAvailability on the whole
charger): operative or not. Three things decide it, and this module is where
they meet, so that no one of them undoes another: the user's enable switch,
the opening hours (a shop's or a cooperative's), and a pause for a charger
that keeps charging when told 0 A.
"""

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


def operative(*, enabled: bool, open_now: bool, paused: bool) -> bool:
    """Whether cars may use the charger now."""
    return enabled and open_now and not paused
