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
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
import math
from typing import Final

from .grid import IEC_MIN_AMPS

# No home charger takes more.
MAX_LIMIT_AMPS: Final = 1000.0
TENTH: Final = Decimal("0.1")


class LimitSource(StrEnum):
    """Who set a limit on a charger."""

    # The charger's maximum current setting (its subentry, or the number).
    USER = "user"
    # The set_current_limit action, for a while or until cleared.
    ACTION = "action"
    BALANCER = "balancer"
    PLANNER = "planner"


def round_down_amps(amps: float) -> float:
    """
    A limit to 0.1 A (OCPP 1.6's resolution), never above what was decided.

    In decimal, so that 8.2 stays 8.2 (``math.floor(8.2 * 10)`` is 81 in
    binary floating point); float noise from arithmetic (8.199999999999999)
    counts as the tenth it misses by a hair. The ``ocpp`` package, as OCPP
    asks, checks the schema's ``multipleOf`` 0.1 in decimal too.
    """
    if math.isnan(amps) or amps <= 0:
        return 0.0
    exact = Decimal(f"{min(amps, MAX_LIMIT_AMPS):.9f}")
    return float(exact.quantize(TENTH, rounding=ROUND_FLOOR))


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
