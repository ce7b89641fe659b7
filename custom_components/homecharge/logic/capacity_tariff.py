"""
The Norwegian capacity tariff (kapasitetsledd): which monthly step a place pays.

Meter readings become kWh per clock hour; the month's highest hours, one per
day, pick the step; the planner learns what an hour's energy adds to the cost,
and chooses between step options (``StepOption``, made by grid_tariff.py).
Pure logic. Hours are keyed and compared by their UTC start: Python compares
datetimes of one zone as wall times, ignoring ``fold``, which would merge the
two 02:00 hours of the autumn night.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
import math
from typing import Any, Final

HOUR: Final = timedelta(hours=1)
# A meter silent for longer did not measure zero: the time between is unknown.
DEFAULT_MAX_GAP: Final = timedelta(minutes=5)
# AMS meters send the hourly register a few seconds after the hour (about
# xx:00:10); a reading this soon after a clock hour marks the hour's start.
REGISTER_WINDOW: Final = timedelta(minutes=1)
# Float noise in an average must not keep a place below a threshold it reached.
_EPSILON_KW: Final = 1e-9
_WATT_SECONDS_PER_KWH: Final = 3_600_000


@dataclass(frozen=True, kw_only=True, slots=True)
class CapacityStep:
    """One step: from threshold_kw (included) up to the next step's threshold."""

    threshold_kw: float
    monthly_cost: float


# Elvia's household steps from 1 July 2026 (NOK/month incl. 25 % VAT), the
# default of a Norwegian place: capacity_presets.py's "elvia" (tested equal).
NORWEGIAN_STEPS: Final[tuple[CapacityStep, ...]] = tuple(
    CapacityStep(threshold_kw=kw, monthly_cost=cost)
    for kw, cost in zip(
        (0.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 50.0, 75.0, 100.0),
        (150.0, 250.0, 420.0, 585.0, 755.0, 925.0, 1760.0, 2600.0, 3440.0, 6800.0),
        strict=True,
    )
)


@dataclass(frozen=True, kw_only=True, slots=True)
class CapacityRule:
    """How a grid company picks the step: its steps and which hours count."""

    steps: tuple[CapacityStep, ...] = NORWEGIAN_STEPS
    peaks: int = 3
    one_per_day: bool = True

    def __post_init__(self) -> None:
        """Refuse a rule that cannot pick a step."""
        thresholds = [step.threshold_kw for step in self.steps]
        if (
            self.peaks < 1
            or thresholds[:1] != [0]
            or sorted(set(thresholds)) != thresholds
        ):
            raise ValueError("steps must rise from 0 kW, and at least one peak count")


DEFAULT_RULE: Final = CapacityRule()


@dataclass(frozen=True, kw_only=True)
class StepOption:
    """
    A capacity step a plan may end up in.

    ``extra_cost`` is its monthly cost over the month's base step; a plan
    keeps to it while every slot's house plus charging power stays under
    ``max_kw`` (None: no limit, the top option), or under a day's own cap in
    ``day_max_kw``: a day that peaks above ``max_kw`` anyway (``with_day_caps``),
    or a day of the next month, judged by that month's step (``per_month``).
    """

    extra_cost: float
    max_kw: float | None
    # (day, kW): the cap of those days instead of max_kw (inf: no limit).
    day_max_kw: tuple[tuple[date, float], ...] = ()

    def cap_kw(self, day: date | None) -> float | None:
        """The cap on an hour of ``day`` (None: no limit)."""
        cap = (
            self.max_kw if day is None else dict(self.day_max_kw).get(day, self.max_kw)
        )
        return None if cap is None or cap == math.inf else cap

    @property
    def unlimited(self) -> bool:
        """Whether no day of the plan has a cap."""
        return self.max_kw is None and all(math.isinf(kw) for _, kw in self.day_max_kw)


def per_month(
    first: Sequence[StepOption], following: Sequence[StepOption], days: Sequence[date]
) -> tuple[StepOption, ...]:
    """
    The options of a plan across a month boundary: a step in each month.

    ``first`` are the options of the month the plan starts in, ``following``
    those of the next, whose ``days`` are in the plan: each pair is an option
    costing both extras, the next month's days under its cap. Cheapest first.
    """
    combined = [
        replace(
            one,
            extra_cost=one.extra_cost + other.extra_cost,
            day_max_kw=(
                *one.day_max_kw,
                *(
                    (day, math.inf if (cap := other.cap_kw(day)) is None else cap)
                    for day in days
                ),
            ),
        )
        for one in first
        for other in following
    ]
    return tuple(sorted(combined, key=lambda option: option.extra_cost))


# No capacity tariff: one option, free and without a limit.
NO_TARIFF: Final = (StepOption(extra_cost=0.0, max_kw=None),)


@dataclass(frozen=True, kw_only=True, slots=True)
class HourEnergy:
    """The energy taken from the grid in one clock hour (kWh = average kW)."""

    start: datetime
    kwh: float


def _hour_key(moment: datetime, zone: tzinfo) -> datetime:
    """The UTC start of the local clock hour holding ``moment`` (fold kept)."""
    local = moment.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def _instant(text: Any) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment.astimezone(UTC)


def _amount(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(value)
    return float(value)


type _Reading = tuple[datetime, float]


def _reading(data: Any) -> _Reading | None:
    return None if data is None else (_instant(data[0]), _amount(data[1]))


class HourlyEnergy:
    """
    Energy per clock hour of the current and previous month, from the meter.

    Power readings are integrated; an import register, when the meter sends
    one, wins for the hours it covers. ``tz`` is the place's zone (else each
    reading's own): clock hours and months are local.
    """

    def __init__(
        self, *, tz: tzinfo | None = None, max_gap: timedelta = DEFAULT_MAX_GAP
    ) -> None:
        """An empty accumulator."""
        self._tz = tz
        self._zone: tzinfo = tz or UTC
        self._max_gap = max_gap
        # All instants below are UTC; hours are keyed by their UTC start.
        self._integrated: dict[datetime, float] = {}
        self._metered: dict[datetime, float] = {}
        self._power: _Reading | None = None
        self._register: _Reading | None = None
        # The register at the start of an hour: (the hour, kWh).
        self._anchor: _Reading | None = None
        self._latest: datetime | None = None

    def _key(self, moment: datetime) -> datetime:
        return _hour_key(moment, self._zone)

    def _accept(self, at: datetime) -> None:
        if self._tz is None and at.tzinfo is not None:
            self._zone = at.tzinfo
        moment = at.astimezone(UTC)
        latest = self._latest
        if latest is None or moment > latest:
            self._latest = moment
            if latest is None or self._key(moment) != self._key(latest):
                self._prune(moment)

    def _prune(self, moment: datetime) -> None:
        """Forget hours before the previous month: no bill asks for them."""
        local = moment.astimezone(self._zone)
        year, month = divmod(local.year * 12 + local.month - 2, 12)
        cutoff = datetime(year, month + 1, 1, tzinfo=self._zone).astimezone(UTC)
        for hours in (self._integrated, self._metered):
            for key in [key for key in hours if key < cutoff]:
                del hours[key]

    def add_power(self, at: datetime, watts: float) -> None:
        """
        A power reading; the energy since the previous one joins its hours.

        The previous reading holds until this one (Home Assistant reports on
        change), split at clock hours. After a gap longer than max_gap, or
        after an unknown (NaN) reading, the time between adds nothing. Export
        (negative power) is no import.
        """
        previous = self._power
        moment = at.astimezone(UTC)
        if previous is not None and moment <= previous[0]:
            return
        self._accept(at)
        if previous is not None and moment - previous[0] <= self._max_gap:
            start, held = previous
            while start < moment:
                key = self._key(start)
                stop = min(moment, key + HOUR)
                energy = held * (stop - start).total_seconds() / _WATT_SECONDS_PER_KWH
                self._integrated[key] = self._integrated.get(key, 0.0) + energy
                start = stop
        self._power = (moment, max(watts, 0.0)) if math.isfinite(watts) else None

    def add_register(self, at: datetime, kwh: float) -> None:
        """
        An import energy register reading (kWh).

        The first reading in the first minute of a clock hour marks the hour's
        start; an hour between two marks gets their difference. A register that
        goes back (meter swapped) starts over, so the hour across the swap
        keeps its integral and no hour gets negative energy.
        """
        moment = at.astimezone(UTC)
        last = self._register
        if not math.isfinite(kwh) or kwh < 0 or (last and moment <= last[0]):
            return
        self._accept(at)
        if last is not None and kwh < last[1]:
            self._anchor = None
        self._register = (moment, kwh)
        key = self._key(moment)
        anchor = self._anchor
        if moment - key >= REGISTER_WINDOW or (anchor is not None and anchor[0] == key):
            return
        if anchor is not None and anchor[0] == key - HOUR:
            self._metered[anchor[0]] = kwh - anchor[1]
        self._anchor = (key, kwh)

    def current_hour(self, now: datetime) -> HourEnergy:
        """
        The current hour's energy so far.

        The register's once it reads past the hour's first minute (an hourly
        register never does); else the integral, with the last power reading
        held up to now (within max_gap).
        """
        zone = self._tz or now.tzinfo or self._zone
        moment = now.astimezone(UTC)
        key = _hour_key(moment, zone)
        start = key.astimezone(zone)
        anchor, register = self._anchor, self._register
        if (
            anchor is not None
            and register is not None
            and anchor[0] == key
            and register[0] >= key + REGISTER_WINDOW
        ):
            return HourEnergy(start=start, kwh=register[1] - anchor[1])
        kwh = self._integrated.get(key, 0.0)
        power = self._power
        if power is not None and moment - power[0] <= self._max_gap:
            held = (moment - max(power[0], key)).total_seconds()
            kwh += power[1] * max(held, 0.0) / _WATT_SECONDS_PER_KWH
        return HourEnergy(start=start, kwh=kwh)

    def hours(self) -> tuple[HourEnergy, ...]:
        """The completed hours, oldest first: the register's where it has them."""
        if self._latest is None:
            return ()
        current = self._key(self._latest)
        merged = {**self._integrated, **self._metered}
        return tuple(
            HourEnergy(start=key.astimezone(self._zone), kwh=kwh)
            for key, kwh in sorted(merged.items())
            if key < current
        )

    def stored(self) -> dict[str, Any]:
        """What must survive a restart of Home Assistant (JSON-safe)."""
        readings = {
            "power": self._power,
            "register": self._register,
            "anchor": self._anchor,
        }
        return {
            "integrated": {k.isoformat(): v for k, v in self._integrated.items()},
            "metered": {k.isoformat(): v for k, v in self._metered.items()},
            **{
                name: None if pair is None else [pair[0].isoformat(), pair[1]]
                for name, pair in readings.items()
            },
            "latest": self._latest.isoformat() if self._latest else None,
        }

    @classmethod
    def restored(
        cls,
        data: Any,
        *,
        tz: tzinfo | None = None,
        max_gap: timedelta = DEFAULT_MAX_GAP,
    ) -> HourlyEnergy:
        """The accumulator ``stored()`` saved; an empty one when data is not that."""
        energy = cls(tz=tz, max_gap=max_gap)
        try:
            integrated, metered = (
                {_instant(k): _amount(v) for k, v in data.get(name, {}).items()}
                for name in ("integrated", "metered")
            )
            energy._power = _reading(data.get("power"))
            energy._register = _reading(data.get("register"))
            energy._anchor = _reading(data.get("anchor"))
            latest = data.get("latest")
            energy._latest = None if latest is None else _instant(latest)
        except (AttributeError, IndexError, TypeError, ValueError):
            return cls(tz=tz, max_gap=max_gap)
        energy._integrated, energy._metered = integrated, metered
        return energy


@dataclass(frozen=True, kw_only=True, slots=True)
class CapacityState:
    """The month's capacity tariff as it stands."""

    peaks: tuple[HourEnergy, ...]
    average_kw: float
    step: CapacityStep
    next_threshold_kw: float | None
    monthly_cost: float


def _step_index(average_kw: float, steps: Sequence[CapacityStep]) -> int:
    thresholds = [step.threshold_kw for step in steps]
    return max(bisect_right(thresholds, average_kw + _EPSILON_KW) - 1, 0)


def step_for(average_kw: float, steps: Sequence[CapacityStep]) -> CapacityStep:
    """The step of an average (steps ascending); a threshold starts its step."""
    return steps[_step_index(average_kw, steps)]


def capacity_state(
    hours: Iterable[HourEnergy],
    month_of: datetime,
    rule: CapacityRule = DEFAULT_RULE,
) -> CapacityState:
    """
    The step of the calendar month holding ``month_of`` (in its zone).

    Each day counts with its highest hour when the rule says one per day; the
    top ``rule.peaks`` are averaged. With fewer days so far the average is of
    those, as the grid companies show it mid-month.
    """
    zone = month_of.tzinfo
    best: dict[date, HourEnergy] = {}
    for hour in hours:
        local = hour.start.astimezone(zone)
        if (local.year, local.month) != (month_of.year, month_of.month):
            continue
        key = local.date() if rule.one_per_day else hour.start.astimezone(UTC)
        if key not in best or hour.kwh > best[key].kwh:
            best[key] = hour
    ranked = sorted(best.values(), key=lambda hour: hour.kwh, reverse=True)
    peaks = tuple(ranked[: rule.peaks])
    average = math.fsum(peak.kwh for peak in peaks) / len(peaks) if peaks else 0.0
    index = _step_index(average, rule.steps)
    following = rule.steps[index + 1 : index + 2]
    return CapacityState(
        peaks=peaks,
        average_kw=average,
        step=rule.steps[index],
        next_threshold_kw=following[0].threshold_kw if following else None,
        monthly_cost=rule.steps[index].monthly_cost,
    )


def with_day_caps(
    options: Sequence[StepOption],
    hours: Iterable[HourEnergy],
    month_of: datetime,
    house_peak_kw: Mapping[date, float],
    rule: CapacityRule = DEFAULT_RULE,
) -> tuple[StepOption, ...]:
    """
    The options with each day's own cap: no lower than the day's peak so far.

    With one hour per day counted, an hour no higher than its day's highest
    (recorded in ``hours``, or the house forecast's peak the options were
    made with) leaves its month's step where it is: a day that already
    peaked above an option's cap (its own month's, ``per_month``) may charge
    up to that peak. Days before the month of ``month_of`` are no plan's.
    """
    if not rule.one_per_day:
        return tuple(options)
    zone = month_of.tzinfo
    peaks: dict[date, float] = {}
    for hour in hours:
        day = hour.start.astimezone(zone).date()
        peaks[day] = max(peaks.get(day, 0.0), hour.kwh)
    for day, kw in house_peak_kw.items():
        peaks[day] = max(peaks.get(day, 0.0), kw)
    ahead = {
        day: kw
        for day, kw in peaks.items()
        if (day.year, day.month) >= (month_of.year, month_of.month)
    }

    def raised(option: StepOption) -> StepOption:
        caps = dict(option.day_max_kw)
        for day, kw in sorted(ahead.items()):
            cap = option.cap_kw(day)
            if cap is not None and kw > cap:
                caps[day] = kw
        return replace(option, day_max_kw=tuple(caps.items()))

    return tuple(raised(option) for option in options)


def cost_increase(
    hours: Iterable[HourEnergy],
    month_of: datetime,
    hour_start: datetime,
    hour_kwh: float,
    rule: CapacityRule = DEFAULT_RULE,
) -> float:
    """
    What the month's capacity cost rises by if an hour ends with ``hour_kwh``.

    The hour replaces what ``hours`` holds for it. Never negative: a lower
    average early in the month (a new low day) is no saving the bill keeps.
    """
    known = tuple(hours)
    key = hour_start.astimezone(UTC)
    planned = [hour for hour in known if hour.start.astimezone(UTC) != key]
    planned.append(HourEnergy(start=hour_start, kwh=hour_kwh))
    before = capacity_state(known, month_of, rule).monthly_cost
    return max(capacity_state(planned, month_of, rule).monthly_cost - before, 0.0)
