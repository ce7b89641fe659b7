"""
The grid tariff: what the grid company charges per kWh, and per capacity step.

The energy part (energiledd) is a price per kWh that is lower at night and,
with most Norwegian grid companies, all weekend. The capacity part
(kapasitetsledd, capacity_tariff.py) becomes the step options the planner
chooses between: each a monthly extra cost and the power the plan must stay
under to keep it.

Pure logic, read from a place's options and checked for the flows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
import sys
from typing import Any, Final

from .capacity_tariff import (
    DEFAULT_RULE,
    CapacityRule,
    HourEnergy,
    StepOption,
    capacity_state,
    per_month,
)
from .place import parse_decimal, parse_price

CONF_GRID_DAY_PRICE: Final = "grid_day_price"
CONF_GRID_NIGHT_PRICE: Final = "grid_night_price"
CONF_GRID_NIGHT_START: Final = "grid_night_start"
CONF_GRID_NIGHT_END: Final = "grid_night_end"
CONF_GRID_WEEKEND_NIGHT: Final = "grid_weekend_night"

HOURS: Final = range(24)
# The planner keeps a slot's power below max_kw; this much below the power
# at which the month would reach the next step, so that float noise in the
# planner or the meter never tips the month over the threshold.
STEP_MARGIN_KW: Final = 1e-6
# Bisection halves the interval: 60 halvings of any power a home can draw
# leave far less than the margin.
_BISECTIONS: Final = 60
# kW a day must gain over the even share for an uneven one to be an option.
_SPLIT_GAIN_KW: Final = 0.1


@dataclass(frozen=True, kw_only=True, slots=True)
class EnergyTariff:
    """
    The grid's price per kWh: a day price and, optionally, a night price.

    Night runs from night_start to night_end (local hours; 22 to 6 wraps
    past midnight; equal hours mean no night). With weekend_is_night the
    whole of Saturday and Sunday is at the night price. Public holidays,
    which some companies also price as night, are not modelled.
    """

    day_price: float = 0.0
    night_price: float | None = None
    night_start: int = 22
    night_end: int = 6
    weekend_is_night: bool = True

    def is_night(self, moment_local: datetime) -> bool:
        """Whether a moment (in the place's local time) is at the night price."""
        if self.weekend_is_night and moment_local.weekday() >= 5:
            return True
        hour, start, end = moment_local.hour, self.night_start, self.night_end
        if start <= end:
            return start <= hour < end
        return hour >= start or hour < end

    def price_at(self, moment_local: datetime) -> float:
        """The price per kWh at a moment in the place's local time."""
        if self.night_price is not None and self.is_night(moment_local):
            return self.night_price
        return self.day_price


# Elvia's household energy part from 1 July 2026 (Norway's largest grid
# company): 28.99 øre/kWh on working days 06–22, else 16.99 øre/kWh, both
# without VAT and the state's fees. From the kraftsystemet/fri-nettleie
# collection (tariffer/elvia.yml, gathered from elvia.no); here in NOK/kWh
# with 25 % VAT. The consumption tax (elavgift) and the Enova fee are not
# included, and public holidays (night price at Elvia) are not modelled.
NORWEGIAN_ENERGY_TARIFF: Final = EnergyTariff(
    day_price=0.2899 * 1.25,
    night_price=0.1699 * 1.25,
    night_start=22,
    night_end=6,
    weekend_is_night=True,
)


def _number(value: object) -> float | None:
    """A number typed or stored; None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return parse_decimal(value)


def _price(value: object) -> float | None:
    """A price per kWh in range, or None."""
    number = _number(value)
    return None if number is None else parse_price(number)


def _hour(value: object) -> int | None:
    """A whole hour of the day from a number or text; None when it is not."""
    number = _number(value)
    if number is None or not number.is_integer() or int(number) not in HOURS:
        return None
    return int(number)


def from_options(options: Mapping[str, Any]) -> EnergyTariff:
    """Read the energy tariff from a place's options; missing or bad ones default."""
    default = EnergyTariff()
    day = _price(options.get(CONF_GRID_DAY_PRICE))
    night = _price(options.get(CONF_GRID_NIGHT_PRICE))
    start = _hour(options.get(CONF_GRID_NIGHT_START))
    end = _hour(options.get(CONF_GRID_NIGHT_END))
    return EnergyTariff(
        day_price=default.day_price if day is None else day,
        night_price=night,
        night_start=default.night_start if start is None else start,
        night_end=default.night_end if end is None else end,
        weekend_is_night=bool(
            options.get(CONF_GRID_WEEKEND_NIGHT, default.weekend_is_night)
        ),
    )


def validate_tariff(user_input: Mapping[str, Any]) -> dict[str, str]:
    """
    Check energy tariff settings; maps each bad field to its error key.

    Only the fields present are checked. An empty night price means a flat
    tariff.
    """
    errors: dict[str, str] = {}
    for key in (CONF_GRID_DAY_PRICE, CONF_GRID_NIGHT_PRICE):
        if key not in user_input:
            continue
        value = user_input[key]
        flat = key == CONF_GRID_NIGHT_PRICE and value in (None, "")
        if not flat and _price(value) is None:
            errors[key] = "invalid_price"
    for key in (CONF_GRID_NIGHT_START, CONF_GRID_NIGHT_END):
        if key in user_input and _hour(user_input[key]) is None:
            errors[key] = "invalid_hour"
    return errors


# Where a planned hour is put: local noon plus a microsecond. No recorded
# hour starts then, so without the one-per-day rule it never stands in for a
# recorded hour; with it, it counts for its day like any hour of the day.
_PLANNED_HOUR: Final = time(12, 0, 0, 1)


def step_options(
    known: Iterable[HourEnergy],
    horizon_days: Sequence[date],
    house_peak_kw: Mapping[date, float],
    month_of: datetime,
    max_kw_possible: float,
    rule: CapacityRule = DEFAULT_RULE,
) -> tuple[StepOption, ...]:
    """
    The capacity steps a plan may end in, cheapest first.

    The base step is the month's step with the house forecast alone: each
    horizon day gets an hour of ``house_peak_kw[day]`` beside the ``known``
    hours. For each step from there up to the one that ``max_kw_possible``
    on every horizon day reaches, the option is that step's extra monthly
    cost over the base and the largest hourly power X such that giving
    every horizon day an hour of max(X, house peak) keeps the month in it
    (less STEP_MARGIN_KW). The last option has no limit. A plan across a
    month boundary is judged per month, as the bill is: an option is a step
    in each month (``per_month``), the next month's days under its own cap.
    """
    known = tuple(known)
    options = _month_options(
        known, horizon_days, house_peak_kw, month_of, max_kw_possible, rule
    )
    for month_start in month_starts(horizon_days, month_of)[1:]:
        days = [day for day in horizon_days if _same_month(day, month_start)]
        following = _month_options(
            known, days, house_peak_kw, month_start, max_kw_possible, rule
        )
        options = per_month(options, following, sorted(set(days)))
    return options


def month_starts(days: Iterable[date], month_of: datetime) -> list[datetime]:
    """The first moment of each month ``days`` reach, from ``month_of``'s on.

    The first is ``month_of`` itself; the others local midnight of a 1st.
    """
    zone = month_of.tzinfo
    starts = [month_of]
    for day in sorted(set(days)):
        if (day.year, day.month) > (starts[-1].year, starts[-1].month):
            starts.append(datetime(day.year, day.month, 1, tzinfo=zone))
    return starts


def _same_month(day: date, month_of: datetime) -> bool:
    return (day.year, day.month) == (month_of.year, month_of.month)


def _month_options(
    known: Sequence[HourEnergy],
    horizon_days: Sequence[date],
    house_peak_kw: Mapping[date, float],
    month_of: datetime,
    max_kw_possible: float,
    rule: CapacityRule,
) -> tuple[StepOption, ...]:
    """``step_options`` of the month holding ``month_of``: its days only."""
    zone = month_of.tzinfo
    days = [day for day in dict.fromkeys(horizon_days) if _same_month(day, month_of)]
    # Only each day's best recorded hour can count (or, without the one per
    # day rule, the top hours): keep those, so each trial below is cheap.
    every = capacity_state(known, month_of, replace(rule, peaks=sys.maxsize))
    recorded = every.peaks if rule.one_per_day else every.peaks[: rule.peaks]
    # Days of the month already counted, besides the plan's: an uneven share
    # is offered only when they fill the month's peaks (else days still to
    # come, unknown, would count beside a day raised high).
    others = [
        hour for hour in recorded if hour.start.astimezone(zone).date() not in days
    ]

    def index_of(kw_by_day: Mapping[date, float]) -> int:
        planned = [
            HourEnergy(
                start=datetime.combine(day, _PLANNED_HOUR, tzinfo=zone),
                kwh=max(kw, house_peak_kw.get(day, 0.0)),
            )
            for day, kw in kw_by_day.items()
        ]
        step = capacity_state([*recorded, *planned], month_of, rule).step
        return rule.steps.index(step)

    def step_index(kw: float) -> int:
        return index_of(dict.fromkeys(days, kw))

    base, top = step_index(0.0), step_index(max_kw_possible)
    base_cost = rule.steps[base].monthly_cost
    options: list[StepOption] = []
    for index in range(base, top):
        limit = max(_largest_kw(step_index, index, max_kw_possible), 0.0)
        if options and limit < (options[-1].max_kw or 0.0) + STEP_MARGIN_KW:
            # Paying for a step narrower than the margin buys no power.
            continue
        cost = rule.steps[index].monthly_cost - base_cost
        options.append(StepOption(extra_cost=cost, max_kw=limit))
        if rule.one_per_day and len(others) >= rule.peaks:
            options.extend(_splits(index_of, days, index, limit, cost, max_kw_possible))
    cost = rule.steps[top].monthly_cost - base_cost
    options.append(StepOption(extra_cost=cost, max_kw=None))
    return tuple(options)


def _splits(
    index_of: Callable[[Mapping[date, float]], int],
    days: Sequence[date],
    index: int,
    even: float,
    cost: float,
    high: float,
) -> list[StepOption]:
    """
    The step's room shared unevenly between a plan's two days.

    The month's step averages its highest days: an overnight plan may keep
    the evening's day low so that the night's may go higher (and the other
    way round). For each day favoured in turn, at its most (the other day at
    its house peak) and halfway from the even share, the other day gets
    what the step leaves it. Options of the same cost as the even one,
    offered once the month's other days fill its peaks.
    """
    if len(days) != 2:
        return []
    splits = []
    for favoured, other in (days, days[::-1]):
        most = _largest_kw(_shared(index_of, other, 0.0, favoured), index, high)
        if most <= even + _SPLIT_GAIN_KW:
            continue  # favouring the day buys it nothing
        for kw in (most, (most + even) / 2):
            rest = _largest_kw(_shared(index_of, favoured, kw, other), index, high)
            splits.append(
                StepOption(
                    extra_cost=cost,
                    max_kw=even,
                    day_max_kw=((favoured, kw), (other, max(rest, 0.0))),
                )
            )
    return splits


def _shared(
    index_of: Callable[[Mapping[date, float]], int],
    fixed: date,
    kw: float,
    day: date,
) -> Callable[[float], int]:
    """The step index as a function of ``day``'s power, ``fixed`` at ``kw``."""

    def index(power: float) -> int:
        return index_of({fixed: kw, day: power})

    return index


def _largest_kw(step_index: Callable[[float], int], index: int, high: float) -> float:
    """
    Just below the power at which step_index first exceeds index.

    step_index is non-decreasing in the power (the month's average rises
    with the planned hours) and exceeds index at ``high``; at 0 it does not.
    """
    low = 0.0
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if step_index(middle) > index:
            high = middle
        else:
            low = middle
    return low - STEP_MARGIN_KW
