"""The balancer's decisions: headroom, fair shares, pausing, hysteresis, fail-safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.allocation import (
    Bound,
    ChargerLoad,
    Priority,
    allocate,
    share,
)
from custom_components.homecharge.logic.balancer import (
    BalancerSettings,
    Reason,
    Track,
    balance,
    fail_safe,
    follow,
    headroom,
    own_draw,
)

NOW = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
ALL = frozenset({0, 1, 2})
SETTINGS = BalancerSettings(main_fuse=32.0)


def charger(name: str, **kwargs: object) -> ChargerLoad:
    """A 3-phase 32 A charger with a car, unless told otherwise."""
    values: dict[str, object] = {"phases": ALL, "max_amps": 32.0}
    values.update(kwargs)
    return ChargerLoad(charger_id=name, **values)  # type: ignore[arg-type]


def test_headroom_subtracts_only_what_is_not_ours() -> None:
    """The house is measured minus our own chargers, then fuse minus margin."""
    ours = charger("a", draw=(16.0, 16.0, 16.0))
    room = headroom(32.0, (26.0, 20.0, 16.0), [ours], margin=1.0)
    assert room == (21.0, 27.0, 31.0)


def test_headroom_is_never_negative_and_missing_phases_have_none() -> None:
    """A 1-phase grid has no L2/L3; an overloaded phase offers nothing."""
    assert headroom(25.0, (40.0, None, None), [], margin=1.0) == (0.0, 0.0, 0.0)
    assert headroom(25.0, (10.0,), [], margin=1.0) == (14.0, 0.0, 0.0)


def test_equal_chargers_share_equally_up_to_their_maximum() -> None:
    """Two cars on a 30 A budget get 15 A each; one alone gets its maximum."""
    two = allocate((30.0, 30.0, 30.0), [charger("a"), charger("b")])
    assert two == {"a": 15.0, "b": 15.0}
    one = allocate((30.0, 30.0, 30.0), [charger("a", max_amps=16.0)])
    assert one == {"a": 16.0}


def test_a_capped_charger_leaves_its_share_to_the_others() -> None:
    """Water-filling: what a 10 A charger cannot take goes to the other one."""
    shares = allocate((30.0, 30.0, 30.0), [charger("a", max_amps=10.0), charger("b")])
    assert shares == {"a": 10.0, "b": 20.0}


def test_one_phase_chargers_load_only_their_phase() -> None:
    """A car on L1 leaves L2/L3 to a 3-phase car, which is held by L1."""
    shares = allocate(
        (20.0, 30.0, 30.0),
        [charger("one", phases=frozenset({0})), charger("three")],
    )
    assert shares == {"one": 10.0, "three": 10.0}
    shares = allocate(
        (20.0, 30.0, 30.0),
        [charger("l2", phases=frozenset({1})), charger("three")],
    )
    # L2 fills first (15 + 15); L1's 20 A would have allowed the 3-phase car more.
    assert shares == {"l2": 15.0, "three": 15.0}


def test_lowest_priority_is_paused_when_six_amps_each_does_not_fit() -> None:
    """10 A for two cars: the guest pauses instead of both flapping at 5 A."""
    shares = allocate(
        (10.0, 10.0, 10.0),
        [charger("guest", priority=Priority.LOW), charger("owner")],
    )
    assert shares == {"guest": 0.0, "owner": 10.0}


def test_among_equals_the_latest_to_plug_in_yields() -> None:
    """First come, first served when priorities are the same."""
    shares = allocate(
        (10.0, 10.0, 10.0), [charger("early", since=1.0), charger("late", since=2.0)]
    )
    assert shares == {"early": 10.0, "late": 0.0}


def test_pausing_helps_only_on_the_short_phase() -> None:
    """A low-priority car on L3 keeps charging when only L1 is short."""
    shares = allocate(
        (8.0, 20.0, 20.0),
        [
            charger("l3", phases=frozenset({2}), priority=Priority.LOW),
            charger("a", phases=frozenset({0})),
            charger("b", phases=frozenset({0}), since=5.0),
        ],
    )
    assert shares == {"l3": 20.0, "a": 8.0, "b": 0.0}


def test_connectors_of_one_charger_share_its_circuit() -> None:
    """Two cars on a twin charger's 32 A circuit: 16 A each, not 32 A each."""
    twin = {"circuit": "twin", "circuit_amps": 32.0}
    shares = allocate(
        (63.0, 63.0, 63.0),
        [charger("left", **twin), charger("right", **twin), charger("other")],
    )
    assert shares == {"left": 16.0, "right": 16.0, "other": 31.0}
    # Too little for 6 A each on the circuit: the later car yields.
    shares = allocate(
        (63.0, 63.0, 63.0),
        [
            charger("left", circuit="twin", circuit_amps=10.0, since=1.0),
            charger("right", circuit="twin", circuit_amps=10.0, since=2.0),
        ],
    )
    assert shares == {"left": 10.0, "right": 0.0}


def test_the_capacity_guard_caps_the_power_of_the_cars_it_holds() -> None:
    """11 kW for two 3-phase cars (0.69 kW/A): 7.9 A each; a charge-now car is free."""
    planned = {"kw_per_amp": 0.69}
    shares = share(
        (63.0, 63.0, 63.0),
        [charger("a", **planned), charger("b", **planned), charger("now")],
        power_kw=11.0,
    )
    assert shares.amps == {"a": 7.9, "b": 7.9, "now": 32.0}
    assert shares.bounds == {"a": Bound.CAPACITY, "b": Bound.CAPACITY, "now": Bound.OWN}
    # Not enough for 6 A each: the later car waits.
    shares = share(
        (63.0, 63.0, 63.0),
        [charger("a", since=1.0, **planned), charger("b", since=2.0, **planned)],
        power_kw=5.0,
    )
    assert shares.amps == {"a": 7.2, "b": 0.0}
    assert shares.bounds["b"] is Bound.CAPACITY


def test_bounds_say_what_holds_each_charger() -> None:
    """The fuse, a shared circuit, its own maximum, or no car."""
    shares = share(
        (20.0, 20.0, 20.0),
        [
            charger("capped", max_amps=8.0),
            charger("left", circuit="twin", circuit_amps=10.0),
            charger("right", circuit="twin", circuit_amps=10.0),
            charger("idle", active=False),
        ],
    )
    assert shares.bounds == {
        "capped": Bound.OWN,
        "left": Bound.CIRCUIT,
        "right": Bound.CIRCUIT,
        "idle": Bound.IDLE,
    }
    shares = share((13.0, 13.0, 13.0), [charger("a"), charger("b")])
    assert shares.bounds == {"a": Bound.MAIN_FUSE, "b": Bound.MAIN_FUSE}


def test_idle_chargers_get_a_standby_only_from_what_is_left() -> None:
    """No car: 6 A standby when it fits after the active cars, else nothing."""
    shares = allocate(
        (40.0, 40.0, 40.0), [charger("car"), charger("idle", active=False)]
    )
    assert shares == {"car": 32.0, "idle": 6.0}
    shares = allocate(
        (35.0, 35.0, 35.0), [charger("car"), charger("idle", active=False)]
    )
    assert shares == {"car": 32.0, "idle": 0.0}


def test_shares_are_rounded_down_to_a_tenth() -> None:
    """The charger is told 0.1 A steps; rounding never goes above the room.

    20/3 = 6.67 A: 6.6 each, the tenth below (in decimal: 6.6 is a tenth).
    """
    shares = allocate((20.0, 20.0, 20.0), [charger(n) for n in "abc"])
    assert shares == {"a": 6.6, "b": 6.6, "c": 6.6}
    assert sum(shares.values()) <= 20.0


def test_follow_cuts_at_once_and_raises_after_the_window() -> None:
    """Down immediately; up only after 60 s above, to the lowest target seen."""
    track = follow(None, 16.0, NOW, SETTINGS)
    assert track.amps == 16.0
    track = follow(track, 10.0, NOW, SETTINGS)
    assert track.amps == 10.0
    track = follow(track, 20.0, NOW + timedelta(seconds=1), SETTINGS)
    assert track.amps == 10.0
    track = follow(track, 14.0, NOW + timedelta(seconds=30), SETTINGS)
    track = follow(track, 25.0, NOW + timedelta(seconds=60), SETTINGS)
    assert track.amps == 10.0
    track = follow(track, 25.0, NOW + timedelta(seconds=61), SETTINGS)
    assert track.amps == 14.0


def test_a_dip_restarts_the_window() -> None:
    """Headroom that drops back to the limit is not stable: wait again."""
    track = Track(amps=10.0)
    track = follow(track, 20.0, NOW, SETTINGS)
    track = follow(track, 10.0, NOW + timedelta(seconds=50), SETTINGS)
    track = follow(track, 20.0, NOW + timedelta(seconds=61), SETTINGS)
    assert track.amps == 10.0
    track = follow(track, 20.0, NOW + timedelta(seconds=121), SETTINGS)
    assert track.amps == 20.0


def test_raises_respect_the_vendor_interval() -> None:
    """Two raises are at least raise_interval apart."""
    quick = BalancerSettings(
        main_fuse=32.0,
        raise_after=timedelta(0),
        raise_interval=timedelta(seconds=10),
    )
    track = follow(Track(amps=6.0), 10.0, NOW, quick)
    assert track.amps == 10.0
    track = follow(track, 16.0, NOW + timedelta(seconds=5), quick)
    assert track.amps == 10.0
    track = follow(track, 16.0, NOW + timedelta(seconds=10), quick)
    assert track.amps == 16.0


def test_balance_reports_each_change_with_its_reason() -> None:
    """An overload cuts both cars; a worse one pauses the guest."""
    chargers = [
        charger("guest", priority=Priority.LOW, draw=(10.0, 10.0, 10.0)),
        charger("owner", draw=(10.0, 10.0, 10.0)),
    ]
    # House 10 A, fuse 32 A, margin 1 A: 21 A to share.
    decision = balance({}, (30.0, 30.0, 30.0), chargers, NOW, SETTINGS)
    tracks, changes = decision.tracks, decision.changes
    assert [(c.charger_id, c.to_amps, c.reason) for c in changes] == [
        ("guest", 10.5, Reason.RAISED),
        ("owner", 10.5, Reason.RAISED),
    ]
    # House 20 A: 11 A left, not 6 A each; the guest pauses.
    decision = balance(tracks, (40.0, 40.0, 40.0), chargers, NOW, SETTINGS)
    tracks, changes = decision.tracks, decision.changes
    assert decision.targets == {"guest": 0.0, "owner": 11.0}
    assert decision.bounds == {"guest": Bound.MAIN_FUSE, "owner": Bound.MAIN_FUSE}
    assert [(c.charger_id, c.from_amps, c.to_amps, c.reason) for c in changes] == [
        ("guest", 10.5, 0.0, Reason.PAUSED),
    ]
    # House 16 A: 7.5 A each. The owner is cut now; the guest waits for 60 s.
    decision = balance(tracks, (36.0, 36.0, 36.0), chargers, NOW, SETTINGS)
    tracks, changes = decision.tracks, decision.changes
    assert [(c.charger_id, c.to_amps, c.reason) for c in changes] == [
        ("owner", 7.5, Reason.OVERLOAD),
    ]
    later = NOW + timedelta(seconds=60)
    decision = balance(tracks, (36.0, 36.0, 36.0), chargers, later, SETTINGS)
    tracks, changes = decision.tracks, decision.changes
    assert [(c.charger_id, c.to_amps, c.reason) for c in changes] == [
        ("guest", 7.5, Reason.RAISED),
    ]
    assert set(tracks) == {"guest", "owner"}


def test_a_car_the_plan_releases_gets_its_share_at_once() -> None:
    """Held off by another limit (max 0), then released: no raise window."""
    held = [charger("a", max_amps=0.0)]
    decision = balance({}, (10.0, 10.0, 10.0), held, NOW, SETTINGS)
    assert decision.tracks["a"].held
    assert decision.tracks["a"].amps == 0.0
    # The plan's slot begins a second later: the share now, not in 60 s.
    released = [charger("a")]
    later = NOW + timedelta(seconds=1)
    decision = balance(decision.tracks, (10.0, 10.0, 10.0), released, later, SETTINGS)
    assert decision.tracks["a"].amps == 21.0
    assert not decision.tracks["a"].held
    # A cut by the fuse itself still waits before rising again.
    decision = balance(decision.tracks, (25.0, 25.0, 25.0), released, later, SETTINGS)
    assert decision.tracks["a"].amps == 6.0
    decision = balance(decision.tracks, (10.0, 10.0, 10.0), released, later, SETTINGS)
    assert decision.tracks["a"].amps == 6.0


def test_fail_safe_lowers_but_never_raises() -> None:
    """Meter silent: down to the safe current; a paused charger stays paused."""
    tracks = {"a": Track(amps=16.0), "b": Track(amps=0.0)}
    new, changes = fail_safe(tracks, ["a", "b", "c"], 6.0)
    assert {k: v.amps for k, v in new.items()} == {"a": 6.0, "b": 0.0, "c": 6.0}
    assert [(c.charger_id, c.from_amps, c.to_amps) for c in changes] == [
        ("a", 16.0, 6.0),
        ("c", None, 6.0),
    ]
    assert all(c.reason is Reason.METER_OFFLINE for c in changes)


# Properties: for any readings and any set of chargers.

_phase_sets = st.sampled_from(
    [
        ALL,
        frozenset({0}),
        frozenset({1}),
        frozenset({2}),
        frozenset({0, 1}),
        frozenset({1, 2}),
        frozenset({0, 2}),
    ]
)
_amps = st.floats(min_value=0, max_value=100, allow_nan=False)


@st.composite
def _chargers(draw: st.DrawFn) -> list[ChargerLoad]:
    count = draw(st.integers(min_value=0, max_value=12))
    # Some share a circuit (the connectors of one charger) with its fuse.
    circuits = {
        name: draw(st.floats(min_value=0, max_value=80, allow_nan=False))
        for name in ("twin", "quad")
    }
    names = [draw(st.sampled_from((None, "twin", "quad"))) for _ in range(count)]
    return [
        ChargerLoad(
            charger_id=f"c{index}",
            phases=draw(_phase_sets),
            max_amps=draw(st.floats(min_value=0, max_value=80, allow_nan=False)),
            draw=(draw(_amps), draw(_amps), draw(_amps)),
            active=draw(st.booleans()),
            priority=draw(st.sampled_from(Priority)),
            since=draw(st.floats(min_value=0, max_value=1e6, allow_nan=False)),
            circuit=names[index],
            circuit_amps=circuits[names[index]] if names[index] else math.inf,
            kw_per_amp=draw(st.sampled_from((0.0, 0.23, 0.4, 0.69))),
        )
        for index in range(count)
    ]


@settings(max_examples=400, deadline=None)
@given(
    fuse=st.floats(min_value=1, max_value=400, allow_nan=False),
    measured=st.tuples(_amps, _amps, _amps),
    margin=st.floats(min_value=0, max_value=10, allow_nan=False),
    chargers=_chargers(),
    power=st.none() | st.floats(min_value=-5, max_value=60, allow_nan=False),
)
def test_never_above_the_fuse_nor_a_circuit_nor_between_zero_and_six(
    fuse: float,
    measured: tuple[float, float, float],
    margin: float,
    chargers: list[ChargerLoad],
    power: float | None,
) -> None:
    """Per-phase shares ≤ headroom, circuits ≤ fuse, power ≤ the guard's cap."""
    room = headroom(fuse, measured, chargers, margin)
    shares = allocate(room, chargers, power)
    if power is not None:
        used = sum(shares[c.charger_id] * c.kw_per_amp for c in chargers)
        assert used <= max(power, 0.0) + 1e-6
    assert set(shares) == {c.charger_id for c in chargers}
    for phase in range(3):
        used = sum(shares[c.charger_id] for c in chargers if phase in c.phases)
        assert used <= room[phase] + 1e-6
    for circuit in {c.circuit for c in chargers} - {None}:
        members = [c for c in chargers if c.circuit == circuit]
        used = sum(shares[c.charger_id] for c in members)
        assert used <= members[0].circuit_amps + 1e-6
    for c in chargers:
        amps = shares[c.charger_id]
        assert amps == 0 or 6.0 <= amps <= c.max_amps + 1e-6


@settings(max_examples=200, deadline=None)
@given(
    room=st.floats(min_value=0, max_value=200, allow_nan=False),
    chargers=_chargers(),
)
def test_nobody_is_paused_while_the_room_fits_everyone(
    room: float, chargers: list[ChargerLoad]
) -> None:
    """Pausing is the last resort: with 6 A per active car, every car charges."""
    active = [c for c in chargers if c.active and c.max_amps >= 6.0]
    need = [6.0 * sum(1 for c in active if p in c.phases) for p in range(3)]
    if any(n > room for n in need) or any(
        6.0 * sum(1 for c in active if c.circuit == circuit) > c.circuit_amps
        for c in active
        if (circuit := c.circuit) is not None
    ):
        return
    shares = allocate((room, room, room), chargers)
    assert all(shares[c.charger_id] >= 6.0 for c in active)


@settings(max_examples=200, deadline=None)
@given(
    targets=st.lists(
        st.tuples(st.integers(min_value=0, max_value=300), _amps), max_size=30
    )
)
def test_follow_never_grants_more_than_was_available_for_the_window(
    targets: list[tuple[int, float]],
) -> None:
    """A limit never exceeds the current target unless it is a held older cut."""
    track: Track | None = None
    moment = NOW
    for seconds, target in targets:
        moment += timedelta(seconds=seconds)
        before = track
        track = follow(track, target, moment, SETTINGS)
        assert track.amps <= max(target, before.amps if before else target)
        if before is not None and track.amps > before.amps:
            assert track.amps <= target


@pytest.mark.parametrize("safe", [0.0, 6.0, 10.0])
def test_fail_safe_never_exceeds_the_safe_current(safe: float) -> None:
    """Whatever the chargers had, the fail-safe is at most the safe current."""
    tracks = {"a": Track(amps=32.0), "b": Track(amps=3.0)}
    new, _ = fail_safe(tracks, ["a", "b"], safe)
    assert all(track.amps <= safe for track in new.values())


def test_own_draw_follows_the_offer_only_when_the_report_is_stale() -> None:
    """A report from before a change: a limit-bound car follows the new offer."""
    one = frozenset({1})
    assert own_draw(one, (16.0, None, None), 10.0, charging=True) == (0.0, 10.0, 0.0)
    assert own_draw(one, (8.0,), 16.0, charging=True) == (0.0, 8.0, 0.0)
    # Just raised from 10 to 16 A, the car drew its 10 A: it follows.
    assert own_draw(
        one, (10.0,), 16.0, charging=True, previous_offer=10.0, stale=True
    ) == (0.0, 16.0, 0.0)
    # The car took 7 A of 10: its own limit, it keeps taking 7.
    assert own_draw(
        one, (7.0,), 16.0, charging=True, previous_offer=10.0, stale=True
    ) == (0.0, 7.0, 0.0)
    assert own_draw(ALL, (None, None, None), 12.0, charging=True) == (12.0, 12.0, 12.0)
    assert own_draw(ALL, (20.0, 20.0, 20.0), 12.0, charging=False) == (0.0, 0.0, 0.0)
