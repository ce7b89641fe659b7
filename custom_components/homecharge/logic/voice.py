"""Voice: what a spoken sentence's slots mean (a time, a charger, an amount).

The sentences (``sentences/<lang>/homecharge.yaml``) give slots as hassil
recognises them: an hour, perhaps minutes or an offset ("half past seven",
"halv åtte" — half *to* eight —, "kwart voor acht"), perhaps "am"/"pm"; an
LLM gives a ``time`` as text. The charger is whatever words were said
("the driveway", "garasjen"), matched loosely against the chargers' names.
Plain values in, decisions out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
import re
from typing import Any, Final

from .limited_by import LimitedBy
from .planner.problem import ChargerPlan, PlanStatus

# Words before a name that are not part of it ("the driveway", "de oprit").
ARTICLES: Final = frozenset({"the", "a", "my", "our", "de", "het", "den", "det"})
# A Nordic definite ending ("garasje" → "garasjen", "carport" → "carporten").
MAX_SUFFIX: Final = 3
# Languages that write decimals with a point; the others use a comma.
DECIMAL_POINT: Final = frozenset({"en"})
# Under this a session's car is not said to be charging (W): a car drawing
# a few watts to keep itself awake is not charging.
CHARGING_W: Final = 100.0


class SlotError(ValueError):
    """The slots do not make a time."""


def spoken_time(slots: Mapping[str, Any]) -> time:
    """
    The clock time the slots say.

    ``time`` ("07:00", "7.30", "19") wins; else ``hour`` with ``minute`` or
    ``offset`` (minutes from the hour, negative before it: "halv åtte" is
    8 − 30 min) and ``period`` ("am"/"pm": 7 pm is 19:00, 12 am 00:00).
    """
    if (text := slots.get("time")) not in (None, ""):
        return _parse(str(text))
    if slots.get("hour") in (None, ""):
        raise SlotError("no hour")
    hour = _int(slots["hour"])
    minute = _int(slots.get("minute") or 0)
    offset = _int(slots.get("offset") or 0)
    period = slots.get("period")
    if not 0 <= hour <= 24 or not 0 <= minute <= 59 or not -59 <= offset <= 59:
        raise SlotError("out of range")
    if period == "pm" and hour < 12:
        hour += 12
    elif period == "am" and hour == 12:
        hour = 0
    total = (hour * 60 + minute + offset) % (24 * 60)
    return time(total // 60, total % 60)


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError) as err:
        raise SlotError(f"not a number: {value}") from err


def _parse(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2})(?:[:.h ](\d{2}))?\s*(am|pm)?\s*", text.lower())
    if match is None:
        raise SlotError(f"not a time: {text}")
    hour_text, minute_text, period = match.groups()
    return spoken_time(
        {"hour": hour_text, "minute": minute_text or 0, "period": period}
    )


def normalize(name: str) -> str:
    """A name as spoken and as written alike: lower case, no punctuation."""
    words = re.sub(r"[^\w\s]", " ", name.casefold()).split()
    while len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def name_matches(spoken: str, name: str) -> bool:
    """Whether words said name this (a definite ending may be added)."""
    said, written = normalize(spoken), normalize(name)
    if not said or not written:
        return False
    if said == written:
        return True
    longer, shorter = (said, written) if len(said) > len(written) else (written, said)
    return (
        longer.startswith(shorter)
        and len(longer) - len(shorter) <= MAX_SUFFIX
        and " " not in longer[len(shorter) :]
    )


def pick[T](
    candidates: Iterable[tuple[T, Iterable[str]]], spoken: str | None
) -> list[T]:
    """The candidates one of whose names the words say (all without words)."""
    found = []
    for candidate, names in candidates:
        if spoken is None or any(name_matches(spoken, n) for n in names):
            found.append(candidate)
    return found


def decimal(value: float, language: str, places: int) -> str:
    """A number as it is read in the language (``12.5`` / ``12,5``)."""
    text = f"{value:.{places}f}"
    if language.split("-")[0].lower() not in DECIMAL_POINT:
        text = text.replace(".", ",")
    return text


def clock(moment: datetime | time) -> str:
    """A clock time as the answers say it: 07:00."""
    return moment.strftime("%H:%M")


def day_offset(moment: datetime, now: datetime) -> int:
    """0 today, 1 tomorrow, … (both local)."""
    return (moment.date() - now.date()) // timedelta(days=1)


def readiness(
    plan: ChargerPlan | None, *, plugged_in: bool, now: datetime, language: str
) -> dict[str, Any]:
    """
    What "when will the car be ready?" answers, as the response's slots.

    ``status``: ``no_car``, ``done``, ``full_now`` (smart charging off),
    ``cannot_finish`` (with ``ready_by``, ``energy`` and ``need`` kWh),
    ``planned`` (``time`` the plan's last slot ends, ``days`` from today),
    ``unknown`` (no plan yet). Times are local, as ``now`` is.
    """
    slots: dict[str, Any] = {"status": "unknown", "days": 0}
    status = plan.status if plan is not None else None
    if status is PlanStatus.NO_CAR or (status is None and not plugged_in):
        slots["status"] = "no_car"
    elif status is PlanStatus.DONE:
        slots["status"] = "done"
    elif status is PlanStatus.CHARGE_NOW:
        slots["status"] = "full_now"
    elif plan is not None and status is PlanStatus.CANNOT_FINISH:
        slots["status"] = "cannot_finish"
        if plan.ready_by is not None:
            slots["ready_by"] = clock(plan.ready_by.astimezone(now.tzinfo))
        slots["energy"] = decimal(plan.energy_kwh, language, 1)
        slots["need"] = decimal(plan.need_kwh, language, 1)
    elif plan is not None and plan.end is not None:
        end = plan.end.astimezone(now.tzinfo)
        slots.update(status="planned", time=clock(end), days=day_offset(end, now))
    return slots


def _waits(plan: ChargerPlan | None, now: datetime) -> dict[str, Any]:
    """When a waiting plan's first slot begins (``time``, ``days``), if ahead."""
    if plan is None or plan.start is None or plan.start <= now:
        return {}
    start = plan.start.astimezone(now.tzinfo)
    return {"time": clock(start), "days": day_offset(start, now)}


def waiting(plan: ChargerPlan | None, limited: LimitedBy) -> bool:
    """Smart charging holds the car for a cheaper slot."""
    return limited is LimitedBy.PLAN or (
        plan is not None and plan.status is PlanStatus.WAITING
    )


def start_answer(
    plan: ChargerPlan | None,
    *,
    plugged_in: bool,
    session: bool,
    limited: LimitedBy,
    now: datetime,
) -> dict[str, Any]:
    """
    What "start charging" answers before anything is sent, as the slots.

    ``status``: ``no_car`` (nothing to start), ``already`` (a session runs),
    else ``start`` (start it). A plan that waits for a cheaper slot adds
    ``waits`` with its first slot's ``time`` and ``days``: the session starts,
    the car charges then (unless told to charge full now).
    """
    if not plugged_in:
        return {"status": "no_car", "waits": False, "days": 0}
    slots: dict[str, Any] = {"status": "already" if session else "start", "days": 0}
    slots["waits"] = waiting(plan, limited)
    if slots["waits"]:
        slots.update(_waits(plan, now))
    return slots


def charging_answer(
    plan: ChargerPlan | None,
    *,
    online: bool,
    plugged_in: bool,
    session: bool,
    charging_status: bool,
    power_w: float | None,
    energy_kwh: float | None,
    limited: LimitedBy,
    now: datetime,
    language: str,
) -> dict[str, Any]:
    """
    What "is the car charging?" answers, as the response's slots.

    ``status``: ``charging`` (``power`` kW when reported, ``energy`` kWh of the
    session so far) or why not, the first that holds: ``offline``,
    ``no_car``, ``stopped`` (stopped or disabled by someone), ``closed``
    (outside opening hours), ``not_started`` (plugged in, no session),
    ``waiting`` (for a cheaper slot; ``time``/``days`` it begins when known),
    ``done`` (the plan has what the car needs), ``car`` (the car takes
    nothing), ``idle`` (anything else).
    ``charging_status`` is the charger saying it charges (OCPP "Charging"):
    what counts when it reports no power.
    """
    slots: dict[str, Any] = {"status": "idle", "days": 0}
    if not online:
        slots["status"] = "offline"
    elif not plugged_in:
        slots["status"] = "no_car"
    elif session and (
        power_w >= CHARGING_W if power_w is not None else charging_status
    ):
        slots["status"] = "charging"
        if power_w is not None:
            slots["power"] = decimal(power_w / 1000, language, 1)
        slots["energy"] = decimal(energy_kwh or 0.0, language, 1)
    elif limited is LimitedBy.PAUSED_BY_USER:
        slots["status"] = "stopped"
    elif limited is LimitedBy.OPENING_HOURS:
        slots["status"] = "closed"
    elif not session:
        slots["status"] = "not_started"
    elif waiting(plan, limited):
        slots.update(status="waiting", **_waits(plan, now))
    elif plan is not None and plan.status is PlanStatus.DONE:
        slots["status"] = "done"
    elif limited is LimitedBy.CAR:
        slots["status"] = "car"
    return slots
