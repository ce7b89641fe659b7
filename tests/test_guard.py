"""Password guessing slowed per address (pure)."""

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
        guard.failed("10.0.0.9", 0.0)
        assert guard.wait_s("10.0.0.9", 0.0) == 0
    guard.failed("10.0.0.9", 0.0)
    assert guard.wait_s("10.0.0.9", 0.0) == 1.0
    guard.failed("10.0.0.9", 1.0)
    assert guard.wait_s("10.0.0.9", 1.0) == 2.0
    assert guard.wait_s("10.0.0.9", 3.0) == 0


def test_the_wait_has_a_ceiling_and_is_forgotten() -> None:
    """Never more than the ceiling; an hour of quiet forgets it all."""
    guard = LoginGuard()
    for _ in range(50):
        guard.failed("10.0.0.9", 0.0)
    assert guard.wait_s("10.0.0.9", 0.0) == MAX_WAIT_S
    assert guard.wait_s("10.0.0.9", FORGET_AFTER_S + 1) == 0
    assert guard.failures_from("10.0.0.9") == 0


def test_addresses_are_apart() -> None:
    """A guesser elsewhere cannot lock a charger out: it is the address that waits."""
    guard = LoginGuard()
    for _ in range(FREE_TRIES + 5):
        guard.failed("10.0.0.66", 0.0)
    assert guard.wait_s("10.0.0.66", 0.0) > 0
    assert guard.wait_s("10.0.0.9", 0.0) == 0


def test_success_clears_the_address() -> None:
    """The right password from an address clears its record."""
    guard = LoginGuard()
    for _ in range(FREE_TRIES):
        guard.failed("10.0.0.9", 0.0)
    guard.succeeded("10.0.0.9")
    assert guard.wait_s("10.0.0.9", 0.0) == 0
    assert guard.failures_from("10.0.0.9") == 0
