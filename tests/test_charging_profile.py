"""How a limit is said to a charger: units, purposes, pause, validity.

Payloads are checked against the official OCPP JSON schemas the ocpp package
ships, the same ones it validates real calls with.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, strategies as st
import jsonschema
import ocpp
import pytest

from custom_components.homecharge.central.profile import (
    PROFILE_ID,
    ChargerCapabilities,
    OcppVersion,
    Purpose,
    RateUnit,
    Step,
    build_fallback_profile,
    build_profile,
    parse_rate_units,
    parse_stack_level,
    plan_steps,
    renewal_due,
    zero_ignored_strikes,
)
from custom_components.homecharge.logic.grid import IEC_MIN_AMPS
from custom_components.homecharge.logic.limits import (
    MAX_LIMIT_AMPS,
    LimitSource,
    effective_limit,
)

NOW = datetime(2026, 11, 21, 17, 0, 12, 345678, tzinfo=UTC)
SCHEMAS = Path(ocpp.__file__).parent


def _validate_16(request: Any) -> None:
    """As the charger receives it: the JSON text, numbers read in decimal.

    OCPP 1.6's multipleOf 0.1 is a decimal rule; the ``ocpp`` package (a
    charger built on it) parses schema and payload with Decimal to check it.
    """
    schema = json.loads(
        (SCHEMAS / "v16/schemas/SetChargingProfile.json").read_text(),
        parse_float=Decimal,
    )
    payload = {"connectorId": request.target_id, "csChargingProfiles": request.profile}
    jsonschema.validate(json.loads(json.dumps(payload), parse_float=Decimal), schema)


def _validate_201(request: Any) -> None:
    schema = json.loads(
        (SCHEMAS / "v201/schemas/SetChargingProfileRequest.json").read_text()
    )
    jsonschema.validate(
        {"evseId": request.target_id, "chargingProfile": request.profile}, schema
    )


V16 = ChargerCapabilities(version=OcppVersion.V16, max_stack_level=8)
V201 = ChargerCapabilities(version=OcppVersion.V201, max_stack_level=3)


@pytest.mark.parametrize(
    ("value", "units"),
    [
        ("A", (RateUnit.AMPS,)),
        ("W", (RateUnit.WATTS,)),
        ("Current,Power", (RateUnit.AMPS, RateUnit.WATTS)),  # EVBox Elvi
        ("Power", (RateUnit.WATTS,)),
        ("W, A", (RateUnit.WATTS, RateUnit.AMPS)),
        ("current;current", (RateUnit.AMPS,)),
        ("", (RateUnit.AMPS,)),
        (None, (RateUnit.AMPS,)),
        ("Volts", (RateUnit.AMPS,)),
    ],
)
def test_parse_rate_units(value: object, units: tuple[RateUnit, ...]) -> None:
    """Every spelling vendors use; unknown means amps."""
    assert parse_rate_units(value) == units


@pytest.mark.parametrize(
    ("value", "level"), [("8", 8), (" 3 ", 3), ("-1", 0), ("x", 0), (None, 0), (5, 5)]
)
def test_parse_stack_level(value: object, level: int) -> None:
    """ChargeProfileMaxStackLevel, with garbage as 0."""
    assert parse_stack_level(value) == level


def test_charge_point_max_profile_16() -> None:
    """1.6: ChargePointMaxProfile on connector 0, Absolute, valid for 3 minutes."""
    request = build_profile(16.0, V16, now=NOW)
    assert request is not None
    _validate_16(request)
    assert request.target_id == 0
    assert request.profile == {
        "chargingProfileId": PROFILE_ID,
        "stackLevel": 8,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": "2026-11-21T17:00:12Z",
        "validTo": "2026-11-21T17:03:12Z",
        "chargingSchedule": {
            "startSchedule": "2026-11-21T17:00:12Z",
            "duration": 180,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
            ],
        },
    }


def test_charging_station_max_profile_201() -> None:
    """2.0.1: ChargingStationMaxProfile on EVSE 0, schedule list with an id."""
    request = build_profile(10, V201, now=NOW, validity=timedelta(minutes=5))
    assert request is not None
    _validate_201(request)
    assert request.target_id == 0
    assert request.profile["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert request.profile["id"] == PROFILE_ID
    assert request.profile["stackLevel"] == 3
    (schedule,) = request.profile["chargingSchedule"]
    assert schedule["id"] == PROFILE_ID
    assert schedule["duration"] == 300
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 10.0


def test_watts_only_charger() -> None:
    """A charger that takes only watts gets the power over its phases."""
    one_phase = ChargerCapabilities(
        version=OcppVersion.V16, rate_units=parse_rate_units("Power"), phases=1
    )
    request = build_profile(16, one_phase, now=NOW)
    assert request is not None
    _validate_16(request)
    schedule = request.profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"][0] == {
        "startPeriod": 0,
        "limit": 3680.0,
        "numberPhases": 1,
    }


def test_fallback_through_purposes() -> None:
    """Rejected ChargePointMax → TxDefault → TxProfile (with the transaction)."""
    caps = V16.after_rejection(Purpose.CHARGE_POINT_MAX)
    request = build_profile(20, caps, now=NOW)
    assert request is not None
    assert request.purpose is Purpose.TX_DEFAULT
    assert request.target_id == 0
    _validate_16(request)

    caps = caps.after_rejection(Purpose.TX_DEFAULT)
    assert build_profile(20, caps, now=NOW) is None  # no transaction yet
    request = build_profile(20, caps, now=NOW, transaction_id=77)
    assert request is not None
    assert request.purpose is Purpose.TX
    assert request.target_id == 1
    assert request.profile["transactionId"] == 77
    _validate_16(request)
    second = replace(caps, connector=2)
    request = build_profile(20, second, now=NOW, transaction_id=78)
    assert request is not None
    assert (request.target_id, request.profile["chargingProfileId"]) == (2, 4243)

    assert build_profile(20, caps.after_rejection(Purpose.TX), now=NOW) is None


def test_fallback_201() -> None:
    """2.0.1 falls back the same way; TxProfile carries the string id."""
    caps = V201.after_rejection(Purpose.CHARGING_STATION_MAX).after_rejection(
        Purpose.TX_DEFAULT
    )
    request = build_profile(8, caps, now=NOW, transaction_id="tx-9")
    assert request is not None
    _validate_201(request)
    assert request.profile["transactionId"] == "tx-9"


@pytest.mark.parametrize("caps", [V16, V201])
def test_one_connector_of_several_gets_its_own_default_profile(
    caps: ChargerCapabilities,
) -> None:
    """No station-wide cap for one connector: a TxDefaultProfile on it, own id.

    Ids differ per connector: a charger replaces a profile with the same id
    wherever it was installed (1.6 §5.16.2).
    """
    for connector in (1, 2, 3):
        request = build_profile(16, replace(caps, connector=connector), now=NOW)
        assert request is not None
        assert request.purpose is Purpose.TX_DEFAULT
        assert request.target_id == connector
        (_validate_16 if caps is V16 else _validate_201)(request)
        number = request.profile.get("chargingProfileId", request.profile.get("id"))
        assert number == 4241 + connector
    # The lasting fallback stays on the whole charger (0): every connector.
    fallback = build_fallback_profile(6, replace(caps, connector=1), now=NOW)
    assert fallback is not None
    assert (fallback.target_id, fallback.purpose) == (0, Purpose.TX_DEFAULT)


def test_pause_instead_of_zero() -> None:
    """A charger that ignores 0 A is paused, then resumed with its limit."""
    stubborn = ChargerCapabilities(version=OcppVersion.V16, honours_zero=False)
    off = effective_limit(32, {LimitSource.ACTION: 3})  # under 6 A: off
    assert plan_steps(off, stubborn, paused=False) == (Step.PAUSE,)
    assert plan_steps(0, stubborn, paused=True) == ()
    assert plan_steps(10, stubborn, paused=True) == (Step.SET_PROFILE, Step.RESUME)
    assert plan_steps(10, stubborn, paused=False) == (Step.SET_PROFILE,)
    assert plan_steps(0, V16, paused=False) == (Step.SET_PROFILE,)
    request = build_profile(effective_limit(32, {LimitSource.ACTION: 4}), V16, now=NOW)
    assert request is not None
    assert (
        request.profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 0
    )


def test_renewal() -> None:
    """Renewed half-way through its validity."""
    assert not renewal_due(NOW, NOW + timedelta(seconds=89))
    assert renewal_due(NOW, NOW + timedelta(seconds=90))
    assert renewal_due(NOW, NOW + timedelta(minutes=10), timedelta(minutes=20))


capabilities = st.builds(
    ChargerCapabilities,
    version=st.sampled_from(OcppVersion),
    rate_units=st.sampled_from(["A", "W", "Current,Power", "Power,Current"]).map(
        parse_rate_units
    ),
    max_stack_level=st.integers(0, 20),
    phases=st.sampled_from([1, 3]),
    voltage=st.sampled_from([230.0, 240.0]),
    rejected=st.frozensets(st.sampled_from(Purpose)),
)


@given(
    amps=st.floats(allow_nan=True, allow_infinity=True),
    caps=capabilities,
    seconds=st.integers(1, 86400),
    transaction=st.one_of(st.none(), st.integers(1, 10**6)),
)
def test_profiles_never_exceed_the_decision(
    amps: float, caps: ChargerCapabilities, seconds: int, transaction: int | None
) -> None:
    """For any decision and charger: valid OCPP, never above it, never 0 < A < 6.

    The path a limit takes: the effective limit, then the profile.
    """
    request = build_profile(
        effective_limit(MAX_LIMIT_AMPS, {LimitSource.BALANCER: amps}),
        caps,
        now=NOW,
        validity=timedelta(seconds=seconds),
        transaction_id=transaction,
    )
    if request is None:
        assert caps.purpose is None or (
            caps.purpose is Purpose.TX and transaction is None
        )
        return
    assert request.purpose not in caps.rejected
    if caps.version is OcppVersion.V16:
        schedule = request.profile["chargingSchedule"]
        _validate_16(request)
    else:
        (schedule,) = request.profile["chargingSchedule"]
        _validate_201(request)
    limit = schedule["chargingSchedulePeriod"][0]["limit"]
    wanted = 0.0 if math.isnan(amps) else amps
    per_phase = (
        limit
        if schedule["chargingRateUnit"] == "A"
        else limit / (caps.voltage * caps.phases)
    )
    assert per_phase <= max(wanted, 0.0) + 1e-9
    assert per_phase == 0 or per_phase >= IEC_MIN_AMPS - 1e-9
    assert round(limit * 10) == pytest.approx(limit * 10)
    assert request.profile["stackLevel"] <= caps.max_stack_level
    assert schedule["duration"] == seconds


def test_transaction_id_types() -> None:
    """1.6 wants an integer transaction id, 2.0.1 a string."""
    caps16 = V16.after_rejection(Purpose.CHARGE_POINT_MAX).after_rejection(
        Purpose.TX_DEFAULT
    )
    request = build_profile(10, caps16, now=NOW, transaction_id="12")
    assert request is not None
    assert request.profile["transactionId"] == 12
    _validate_16(request)
    caps201 = V201.after_rejection(Purpose.CHARGING_STATION_MAX).after_rejection(
        Purpose.TX_DEFAULT
    )
    request = build_profile(10, caps201, now=NOW, transaction_id=12)
    assert request is not None
    assert request.profile["transactionId"] == "12"
    _validate_201(request)


def test_zero_ignored_strikes() -> None:
    """Counted only while 0 A is offered and a phase still draws current."""
    assert zero_ignored_strikes(0, (6.0, 6.1, 5.9), 0) == 1
    assert zero_ignored_strikes(0, (6.0, None, None), 1) == 2
    assert zero_ignored_strikes(0, (0.2, 0.0, 0.1), 3) == 0
    assert zero_ignored_strikes(16, (16.0, 16.0, 16.0), 3) == 0
    assert zero_ignored_strikes(None, (6.0, 6.0, 6.0), 1) == 0
