"""One charger's log: a broken or hostile charger cannot flood Home Assistant's.

At most one warning per charger per minute (the next one says how many were
held back), and no tracebacks for what a charger sent: its bad input is its
fault, not ours. The ``ocpp`` package logs through this too (it logs every
frame at info, which goes to debug here).
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import sys
import time
from typing import Any, Final

from ocpp.exceptions import OCPPError

_LOGGER = logging.getLogger(__package__)

WARN_EVERY_S: Final = 60.0


class ChargerLog:
    """A logger-like object for one charger's session."""

    def __init__(
        self,
        charge_point_id: str,
        *,
        every_s: float = WARN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Log for a charger; ``clock`` is monotonic seconds."""
        self._id = charge_point_id
        self._every = every_s
        self._clock = clock
        self._last: float | None = None
        self.held_back = 0

    def warning(self, msg: str, *args: Any, **_: Any) -> None:
        """A warning, unless one was logged for this charger within the minute."""
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            self.held_back += 1
            return
        self._last = now
        held, self.held_back = self.held_back, 0
        suffix = f" ({held} similar held back)" if held else ""
        _LOGGER.warning("Charger %s: %s%s", self._id, _text(msg, args), suffix)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """The ``ocpp`` package's errors are about the charger's frames."""
        self.warning(msg, *args, **kwargs)

    def exception(self, msg: str, *args: Any, **_: Any) -> None:
        """No traceback for a charger's bad input; ours keep theirs (rarely)."""
        error = sys.exc_info()[1]
        if error is None or isinstance(error, OCPPError):
            self.warning(msg + ": %s", *args, error)
            return
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            self.held_back += 1
            return
        self._last = now
        _LOGGER.exception("Charger %s: %s", self._id, _text(msg, args))

    def info(self, msg: str, *args: Any, **_: Any) -> None:
        """Every frame: debug only."""
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("Charger %s: %s", self._id, _text(msg, args))

    debug = info


def _text(msg: str, args: tuple[Any, ...]) -> str:
    """A log message with its arguments, as logging would format it."""
    try:
        return msg % args if args else msg
    except (TypeError, ValueError):
        return " ".join([msg, *map(str, args)])
