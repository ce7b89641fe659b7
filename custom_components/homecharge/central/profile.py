"""
How a current limit is said to a charger: the OCPP charging profile.

The balancer and the planner decide amps and ``logic.limits.effective_limit``
turns them into the one limit a charger gets (rounded there, once); this
module decides how to say it to a given charger: which OCPP charging profile
(purpose, unit, stack level), when to pause instead, and how long the limit
stays valid. Pure: it builds the SetChargingProfile payloads (wire format,
camelCase); the charger runtime sends them and reports rejections back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
import re
from typing import Any, Final

from ..logic.grid import NOMINAL_VOLTAGE

# A limit expires on the charger by itself, so a charger whose Home Assistant
# died falls back to its own safe current; we renew it well before that.
DEFAULT_VALIDITY: Final = timedelta(minutes=3)
RENEW_AFTER_FRACTION: Final = 0.5
# One fixed profile id: a new limit with the same id and stack level replaces
# the previous one instead of piling up profiles on the charger.
PROFILE_ID: Final = 4242
# The lasting safe-current profile beneath it (build_fallback_profile).
FALLBACK_PROFILE_ID: Final = 4241


def profile_id(connector: int | None) -> int:
    """Our limit's id: one per connector of a charger with several."""
    return PROFILE_ID + max((connector or 1) - 1, 0)


class OcppVersion(StrEnum):
    """The protocol a charger speaks."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class RateUnit(StrEnum):
    """What a charging schedule limits."""

    AMPS = "A"
    WATTS = "W"


class Purpose(StrEnum):
    """OCPP charging profile purposes we use, in the order we try them."""

    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    CHARGING_STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Step(StrEnum):
    """What the adapter must do to apply a limit."""

    PAUSE = "pause"
    RESUME = "resume"
    SET_PROFILE = "set_profile"


# The station-wide cap first: it limits the whole charger whatever the session.
PURPOSE_ORDER: Final[dict[OcppVersion, tuple[Purpose, ...]]] = {
    OcppVersion.V16: (Purpose.CHARGE_POINT_MAX, Purpose.TX_DEFAULT, Purpose.TX),
    OcppVersion.V201: (Purpose.CHARGING_STATION_MAX, Purpose.TX_DEFAULT, Purpose.TX),
}

STATION_WIDE: Final = frozenset(
    {Purpose.CHARGE_POINT_MAX, Purpose.CHARGING_STATION_MAX}
)

_UNIT_WORDS: Final = {
    "a": RateUnit.AMPS,
    "current": RateUnit.AMPS,
    "w": RateUnit.WATTS,
    "power": RateUnit.WATTS,
}


def parse_rate_units(value: object) -> tuple[RateUnit, ...]:
    """
    Units from ChargingScheduleAllowedChargingRateUnit.

    Chargers say "A", "W", "Current", "Power" or a list such as
    "Current,Power" (EVBox); an unreadable value means amps, the OCPP default.
    """
    units: list[RateUnit] = []
    for word in re.split(r"[\s,;]+", str(value or "")):
        unit = _UNIT_WORDS.get(word.casefold())
        if unit is not None and unit not in units:
            units.append(unit)
    return tuple(units) or (RateUnit.AMPS,)


def parse_stack_level(value: object) -> int:
    """ChargeProfileMaxStackLevel as a usable level (0 when unknown)."""
    try:
        level = int(str(value).strip())
    except ValueError:
        return 0
    return max(level, 0)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerCapabilities:
    """What we know of how a charger takes limits."""

    version: OcppVersion
    rate_units: tuple[RateUnit, ...] = (RateUnit.AMPS,)
    max_stack_level: int = 0
    phases: int = 3
    voltage: float = NOMINAL_VOLTAGE
    # Some chargers accept a 0 A profile and keep charging at 6 A.
    honours_zero: bool = True
    rejected: frozenset[Purpose] = frozenset()
    # One connector of a charger with several (its own limit), or None: the
    # charger's only one, limited as the whole charger.
    connector: int | None = None

    @property
    def purpose(self) -> Purpose | None:
        """The profile purpose to use now; None when every one was rejected.

        A station-wide cap cannot limit one connector of several.
        """
        return next(
            (
                p
                for p in PURPOSE_ORDER[self.version]
                if p not in self.rejected
                and not (self.connector is not None and p in STATION_WIDE)
            ),
            None,
        )

    @property
    def unit(self) -> RateUnit:
        """Amps when the charger takes them (exact per phase), else watts."""
        return RateUnit.AMPS if RateUnit.AMPS in self.rate_units else RateUnit.WATTS

    def after_rejection(self, purpose: Purpose) -> ChargerCapabilities:
        """The capabilities once the charger has rejected a purpose."""
        return replace(self, rejected=self.rejected | {purpose})


def plan_steps(
    amps: float, capabilities: ChargerCapabilities, *, paused: bool
) -> tuple[Step, ...]:
    """
    The steps that apply an effective limit (0 or 6 A and up) to a charger.

    A charger that ignores 0 A is paused (stop or availability change) instead
    and resumed when current is allowed again; its profile still goes out so it
    resumes at the right current.
    """
    if amps == 0 and not capabilities.honours_zero:
        return () if paused else (Step.PAUSE,)
    if paused and amps > 0:
        return (Step.SET_PROFILE, Step.RESUME)
    return (Step.SET_PROFILE,)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProfileRequest:
    """A SetChargingProfile call, ready for the OCPP adapter."""

    purpose: Purpose
    # Connector (1.6) or EVSE (2.0.1); 0 means the whole charger.
    target_id: int
    profile: dict[str, Any]


def _timestamp(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def _schedule_limit(amps: float, capabilities: ChargerCapabilities) -> float:
    if capabilities.unit is RateUnit.AMPS:
        return amps
    # Watts over all phases, rounded down like the amps.
    return float(math.floor(amps * capabilities.voltage * capabilities.phases))


def build_profile(
    amps: float,
    capabilities: ChargerCapabilities,
    *,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
    transaction_id: int | str | None = None,
) -> ProfileRequest | None:
    """
    The profile that caps a charger at ``amps`` per phase until it expires.

    ``amps`` is the charger's effective limit (``logic.limits``), sent as it is.
    Kind Absolute with a start schedule (some firmware rejects Relative), our
    fixed id at the highest stack level the charger allows, and a validity
    (validTo and duration). None when no purpose is left to try, or when only
    a TxProfile is left and there is no transaction to attach it to.
    """
    purpose = capabilities.purpose
    if purpose is None:
        return None
    transaction: dict[str, int | str] = {}
    if purpose is Purpose.TX:
        if transaction_id is None:
            return None
        # 1.6 numbers transactions; 2.0.1 names them with a string.
        transaction["transactionId"] = (
            int(transaction_id)
            if capabilities.version is OcppVersion.V16
            else str(transaction_id)
        )
    limit = _schedule_limit(amps, capabilities)
    seconds = max(int(validity.total_seconds()), 1)
    start = _timestamp(now)
    period = {"startPeriod": 0, "limit": limit, "numberPhases": capabilities.phases}
    schedule: dict[str, Any] = {
        "startSchedule": start,
        "duration": seconds,
        "chargingRateUnit": capabilities.unit.value,
        "chargingSchedulePeriod": [period],
    }
    profile: dict[str, Any] = {
        "stackLevel": capabilities.max_stack_level,
        "chargingProfilePurpose": purpose.value,
        "chargingProfileKind": "Absolute",
        "validFrom": start,
        "validTo": _timestamp(now + timedelta(seconds=seconds)),
    }
    number = profile_id(capabilities.connector)
    if capabilities.version is OcppVersion.V16:
        profile = {"chargingProfileId": number, **profile}
        profile["chargingSchedule"] = schedule
    else:
        profile = {"id": number, **profile}
        profile["chargingSchedule"] = [{"id": number, **schedule}]
    if transaction:
        profile.update(transaction)
        return ProfileRequest(
            purpose=purpose, target_id=capabilities.connector or 1, profile=profile
        )
    # The charger's only connector: the whole charger (0), as every charger
    # takes it; one of several: that connector.
    return ProfileRequest(
        purpose=purpose, target_id=capabilities.connector or 0, profile=profile
    )


def build_fallback_profile(
    amps: float, capabilities: ChargerCapabilities, *, now: datetime
) -> ProfileRequest | None:
    """
    A lasting profile at the safe current, one stack level below our limits.

    Our limits expire by themselves (so a charger is never held by a dead
    Home Assistant); beneath them this one stays, so that the charger falls
    to the place's safe current rather than to its own maximum. None where
    the charger has a single stack level, or only TxProfiles left (they end
    with the session).
    """
    purpose = capabilities.purpose
    if purpose is None or purpose is Purpose.TX or capabilities.max_stack_level < 1:
        return None
    start = _timestamp(now)
    period = {
        "startPeriod": 0,
        "limit": _schedule_limit(amps, capabilities),
        "numberPhases": capabilities.phases,
    }
    schedule: dict[str, Any] = {
        "startSchedule": start,
        "chargingRateUnit": capabilities.unit.value,
        "chargingSchedulePeriod": [period],
    }
    profile: dict[str, Any] = {
        "stackLevel": capabilities.max_stack_level - 1,
        "chargingProfilePurpose": purpose.value,
        "chargingProfileKind": "Absolute",
    }
    if capabilities.version is OcppVersion.V16:
        profile = {"chargingProfileId": FALLBACK_PROFILE_ID, **profile}
        profile["chargingSchedule"] = schedule
    else:
        profile = {"id": FALLBACK_PROFILE_ID, **profile}
        profile["chargingSchedule"] = [{"id": FALLBACK_PROFILE_ID, **schedule}]
    return ProfileRequest(purpose=purpose, target_id=0, profile=profile)


def renewal_due(
    sent_at: datetime, now: datetime, validity: timedelta = DEFAULT_VALIDITY
) -> bool:
    """Whether a limit must be sent again so it never lapses while HA runs."""
    return now - sent_at >= validity * RENEW_AFTER_FRACTION


# A charger told 0 A that still delivers this much on a phase ignores the
# limit (some keep charging at 6 A); two readings in a row make it certain.
IGNORED_ZERO_AMPS: Final = 3.0
IGNORED_ZERO_READINGS: Final = 2


def zero_ignored_strikes(
    offered_amps: float | None, phase_amps: tuple[float | None, ...], strikes: int
) -> int:
    """Readings in a row that show a 0 A limit ignored; 0 when it is honoured."""
    if offered_amps != 0:
        return 0
    drawing = any(amps is not None and amps >= IGNORED_ZERO_AMPS for amps in phase_amps)
    return strikes + 1 if drawing else 0
