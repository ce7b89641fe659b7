"""
A charger's current limit: the sources that set one, and what it gets.

Pure logic. Several sources may limit a charger at once (its maximum current
setting, an action, the load balancer, the planner); it gets the lowest of them
and of its circuit fuse, rounded down to what a charger can be told (0.1 A),
and 0 (off) when that is below the IEC minimum. ``effective_limit`` is the one
function that says so: the charger's limit path sends what it returns, and
the same function (with ``ignoring``) gives the balancer the most it may share
out and the planner the most it may plan with. The balancer decides its shares
in the same 0.1 A steps (``round_down_amps``), so that a change smaller than a
charger can be told is no change; rounding again changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
import math
from typing import Final

from .grid import IEC_MIN_AMPS

# No home charger takes more; it also keeps the 0.1 A rounding exact.
MAX_LIMIT_AMPS: Final = 1000.0


class LimitSource(StrEnum):
    """Who set a limit on a charger."""

    # The charger's maximum current setting (its subentry, or the number).
    USER = "user"
    # The set_current_limit action, for a while or until cleared.
    ACTION = "action"
    BALANCER = "balancer"
    PLANNER = "planner"


def round_down_amps(amps: float) -> float:
    """A limit to 0.1 A (OCPP 1.6's resolution), never above what was decided."""
    if math.isnan(amps) or amps <= 0:
        return 0.0
    tenths = math.floor(min(amps, MAX_LIMIT_AMPS) * 10 + 1e-9)
    # A charger that checks the schema's multipleOf 0.1 in floats refuses
    # a third of the tenths (8.2 / 0.1 = 81.999…): step down to one it takes.
    while tenths > 0 and not _whole((tenths / 10) / 0.1):
        tenths -= 1
    return tenths / 10


def _whole(quotient: float) -> bool:
    return int(quotient) == quotient


def effective_limit(
    circuit_fuse: float,
    limits: Mapping[LimitSource, float],
    *,
    ignoring: Collection[LimitSource] = (),
) -> float:
    """
    What a charger may draw, as it is told: 0 (off) or 6 A up to its fuse.

    The lowest of its circuit fuse and every source's limit, rounded down to
    0.1 A. ``ignoring`` leaves sources out: what the others leave is what the
    balancer may share out, or what the planner may plan with.
    """
    amps = [
        circuit_fuse,
        *(a for source, a in limits.items() if source not in ignoring),
    ]
    # min() skips NaN against numbers: a source that lost its number is off.
    lowest = 0.0 if any(math.isnan(a) for a in amps) else min(amps)
    rounded = round_down_amps(lowest)
    return rounded if rounded >= IEC_MIN_AMPS else 0.0
