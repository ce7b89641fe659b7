"""The planner's continuous mode: one unbroken run per car."""

from __future__ import annotations

from collections.abc import Sequence
import math

from .model import CarNeed


def blocks(
    cars: Sequence[CarNeed], capacity: Sequence[int], prices: Sequence[float]
) -> list[list[int]]:
    """
    One unbroken run per car at the most the lines allow, cheapest run first.

    Cars are placed in order of their ready-by time, each in what the earlier
    ones left. This is the simple plan users ask for when they want no
    stop-and-go; it is not claimed optimal.
    """
    slots = len(capacity)
    free = list(capacity)
    amps = [[0] * slots for _ in cars]
    for row in sorted(range(len(cars)), key=lambda r: cars[r].ready):
        car = cars[row]
        best: tuple[tuple[int, float], int, list[int]] | None = None
        for start in range(min(car.ready, slots)):
            run = run_from(car, start, free, prices)
            if run is None:
                continue
            given = sum(run)
            cost = math.fsum(
                prices[start + offset] * value for offset, value in enumerate(run)
            )
            key = (-given, cost)
            if best is None or key < best[0]:
                best = (key, start, run)
        if best is None:
            continue
        _, start, run = best
        for offset, value in enumerate(run):
            amps[row][start + offset] = value
            free[start + offset] -= value
    return amps


def run_from(
    car: CarNeed, start: int, free: Sequence[int], prices: Sequence[float]
) -> list[int] | None:
    """Amps per slot of a run starting at ``start`` until the car has enough."""
    run: list[int] = []
    left = car.need_amps
    slot = start
    while left > 0 and slot < min(car.ready, len(free)):
        room = min(car.max_a, free[slot])
        if room < car.min_a:
            break
        amps = min(room, left)
        if amps < car.min_a:
            # Too little for a slot of its own: the slot before gives some up.
            if not run or run[-1] - (car.min_a - amps) < car.min_a:
                break
            run[-1] -= car.min_a - amps
            amps = car.min_a
        run.append(amps)
        left -= amps
        slot += 1
    return run or None
