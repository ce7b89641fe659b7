"""Password guessing slowed per charger id and per address (pure)."""

from __future__ import annotations

from custom_components.homecharge.central.guard import (
    FORGET_AFTER_S,
    FREE_TRIES,
    MAX_WAIT_S,
    LoginGuard,
)


def test_free_tries_then_doubling_waits() -> None:
    """A few mistakes cost nothing; then each one waits twice as long."""
    guard = LoginGuard()
    for _ in range(FREE_TRIES - 1):
        guard.failed("CP-1", "10.0.0.9", 0.0)
        assert guard.wait_s("CP-1", "10.0.0.9", 0.0) == 0
    guard.failed("CP-1", "10.0.0.9", 0.0)
    assert guard.wait_s("CP-1", "10.0.0.9", 0.0) == 1.0
    guard.failed("CP-1", "10.0.0.9", 1.0)
    assert guard.wait_s("CP-1", "10.0.0.9", 1.0) == 2.0
    assert guard.wait_s("CP-1", "10.0.0.9", 3.0) == 0


def test_the_wait_has_a_ceiling_and_is_forgotten() -> None:
    """Never more than the ceiling; an hour of quiet forgets it all."""
    guard = LoginGuard()
    for _ in range(50):
        guard.failed("CP-1", "10.0.0.9", 0.0)
    assert guard.wait_s("CP-1", "10.0.0.9", 0.0) == MAX_WAIT_S
    assert guard.wait_s("CP-1", "10.0.0.9", FORGET_AFTER_S + 1) == 0
    assert guard.failures_from("10.0.0.9") == 0


def test_by_id_and_by_address() -> None:
    """Guessing one id from many addresses, or many ids from one, both slow."""
    guard = LoginGuard()
    for n in range(FREE_TRIES):
        guard.failed("CP-1", f"10.0.0.{n}", 0.0)
    assert guard.wait_s("CP-1", "10.0.0.200", 0.0) > 0
    assert guard.wait_s("CP-2", "10.0.0.200", 0.0) == 0
    for n in range(FREE_TRIES):
        guard.failed(f"CP-{n + 10}", "10.0.0.99", 0.0)
    assert guard.wait_s("CP-3", "10.0.0.99", 0.0) > 0
    assert guard.failures_from("10.0.0.99") == FREE_TRIES


def test_success_clears_the_id() -> None:
    """The right password clears the id's record, not the address's."""
    guard = LoginGuard()
    for _ in range(FREE_TRIES):
        guard.failed("CP-1", "10.0.0.9", 0.0)
    guard.succeeded("CP-1")
    assert guard.wait_s("CP-1", "10.0.0.8", 0.0) == 0
    assert guard.wait_s("CP-1", "10.0.0.9", 0.0) > 0
