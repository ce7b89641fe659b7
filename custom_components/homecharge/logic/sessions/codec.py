"""A session as stored: compact JSON values, fast to read back.

Times are whole seconds since the epoch; a session's slots are one start and
a list of watt-hours (with offsets only where slots are missing); their
prices are lists beside them, with the markup, VAT and grid price written
once when every slot has the same; the readings kept are one start and two
lists of differences. A report reads sessions without their readings (only
a session that may still change needs them): ``decode(..., readings=False)``
keeps them packed, and ``encode`` writes them back as they were.

Version 1 (the first layout) wrote prices and readings as lists of rows;
``decode`` still reads it, so migrating is decoding and encoding again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .model import (
    QUARTER,
    Change,
    Classification,
    Flag,
    Reading,
    Session,
    SlotCost,
    keep_reading,
)


def _time(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _same_or_list(values: list[Any]) -> Any:
    """One value when all are the same, else the list."""
    return values[0] if values and values.count(values[0]) == len(values) else values


def _spread(value: Any, count: int) -> list[Any]:
    return value if isinstance(value, list) else [value] * count


def encode(session: Session) -> dict[str, Any]:
    """The session as JSON-ready data."""
    data: dict[str, Any] = {
        "c": session.charger,
        "n": session.connector,
        "t": session.transaction_id,
        "s": _time(session.started),
        "ms": session.meter_start_wh,
    }
    optional = {
        "id": session.id_tag,
        "v": session.vehicle,
        "pe": session.person,
        "e": _time(session.stopped) if session.stopped else None,
        "me": session.meter_stop_wh,
        "r": session.stop_reason,
        "cl": session.classification.value
        if session.classification is not Classification.PERSONAL
        else None,
        "no": session.note or None,
        "o0": session.odometer_start_km,
        "o1": session.odometer_stop_km,
        "q": session.seq,
        "p": session.prev_hash,
        "h": session.seal_hash,
        "demo": session.demo or None,
        "f": sorted(flag.value for flag in session.flags) or None,
    }
    data.update({key: value for key, value in optional.items() if value})
    starts = sorted(session.slots)
    if starts:
        first = starts[0]
        offsets = [int((start - first) / QUARTER) for start in starts]
        data["sl"] = [
            _time(first),
            [session.slots[start] for start in starts],
            None if offsets[-1] == len(offsets) - 1 else offsets,
        ]
    if session.costs:
        priced = sorted(session.costs)
        costs = [session.costs[start] for start in priced]
        packed: dict[str, Any] = {
            "s": [c.spot for c in costs],
            "e": [c.energy for c in costs],
            "m": _same_or_list([c.markup for c in costs]),
            "v": _same_or_list([c.vat_percent for c in costs]),
            "g": _same_or_list([c.grid for c in costs]),
        }
        if priced != starts:
            packed["a"] = [_time(start) for start in priced]
        data["co"] = packed
    if session.readings:
        kept = sorted(
            {reading for pair in session.readings.values() for reading in pair}
        )
        base = kept[0]
        data["rd"] = [
            _time(base.at),
            base.wh,
            [_time(r.at) - _time(base.at) for r in kept],
            [r.wh - base.wh for r in kept],
        ]
    elif session.packed_readings is not None:
        data["rd"] = session.packed_readings
    if session.changes:
        data["ch"] = [
            [_time(c.at), c.by, c.field, c.old, c.new] for c in session.changes
        ]
    return data


def decode(data: dict[str, Any], *, readings: bool = True) -> Session:
    """A session from what ``encode`` (or version 1) wrote."""
    session = Session(
        charger=data["c"],
        connector=int(data["n"]),
        transaction_id=str(data["t"]),
        started=_moment(data["s"]),
        meter_start_wh=data.get("ms"),
        id_tag=data.get("id"),
        vehicle=data.get("v"),
        person=data.get("pe"),
        stopped=_moment(data["e"]) if "e" in data else None,
        meter_stop_wh=data.get("me"),
        stop_reason=data.get("r"),
        classification=Classification(data.get("cl", "personal")),
        note=data.get("no", ""),
        odometer_start_km=data.get("o0"),
        odometer_stop_km=data.get("o1"),
        seq=data.get("q"),
        prev_hash=data.get("p"),
        seal_hash=data.get("h"),
        demo=bool(data.get("demo", False)),
        flags={Flag(flag) for flag in data.get("f", ())},
    )
    starts: list[datetime] = []
    if "sl" in data:
        first, energies, offsets = data["sl"]
        start = _moment(first)
        positions = offsets if offsets is not None else range(len(energies))
        starts = [start + QUARTER * offset for offset in positions]
        session.slots = dict(zip(starts, (int(wh) for wh in energies), strict=True))
    _decode_costs(session, data.get("co"), starts)
    packed = data.get("rd")
    if packed:
        if readings:
            _unpack_readings(session, packed)
        else:
            session.packed_readings = packed
    session.changes = [
        Change(at=_moment(at), by=by, field=name, old=old, new=new)
        for at, by, name, old, new in data.get("ch", ())
    ]
    return session


def _decode_costs(session: Session, packed: Any, starts: list[datetime]) -> None:
    if not packed:
        return
    if isinstance(packed, list):  # version 1: rows
        for at, spot, markup, vat, energy, grid in packed:
            session.costs[_moment(at)] = SlotCost(
                spot=spot, markup=markup, vat_percent=vat, energy=energy, grid=grid
            )
        return
    priced = [_moment(at) for at in packed["a"]] if "a" in packed else starts
    count = len(priced)
    for start, spot, energy, markup, vat, grid in zip(
        priced,
        packed["s"],
        packed["e"],
        _spread(packed["m"], count),
        _spread(packed["v"], count),
        _spread(packed["g"], count),
        strict=True,
    ):
        session.costs[start] = SlotCost(
            spot=spot, markup=markup, vat_percent=vat, energy=energy, grid=grid
        )


def _unpack_readings(session: Session, packed: list[Any]) -> None:
    """The kept readings back into their slots (first and last of each)."""
    if packed and isinstance(packed[0], list):  # version 1: [time, wh] rows
        for at, wh in packed:
            keep_reading(session.readings, Reading(_moment(at), int(wh)))
        return
    at, wh, seconds, energies = packed
    readings = session.readings
    slots: dict[int, datetime] = {}
    for offset, delta in sorted(zip(seconds, energies, strict=True)):
        moment = at + offset
        quarter = moment - moment % 900
        slot = slots.get(quarter) or slots.setdefault(quarter, _moment(quarter))
        reading = Reading(_moment(moment), int(wh + delta))
        pair = readings.get(slot)
        readings[slot] = (reading, reading) if pair is None else (pair[0], reading)
