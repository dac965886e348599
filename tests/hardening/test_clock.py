"""The schedule clock: wall time that follows the clock forward but never back."""

from __future__ import annotations

from bridge.clock import ScheduleClock


class ManualClock:
    def __init__(self) -> None:
        self.wall_time = 1_000_000.0
        self.monotonic_time = 50.0

    def monotonic(self) -> float:
        return self.monotonic_time

    def time(self) -> float:
        return self.wall_time

    def advance(self, seconds: float) -> None:
        self.wall_time += seconds
        self.monotonic_time += seconds


def test_a_step_back_is_ignored_and_time_goes_on_at_the_monotonic_pace() -> None:
    manual = ManualClock()
    clock = ScheduleClock(manual)
    assert clock.time() == 1_000_000.0
    manual.wall_time -= 3600
    assert clock.time() == 1_000_000.0
    manual.advance(5)
    assert clock.time() == 1_000_005.0


def test_a_step_forward_is_followed() -> None:
    manual = ManualClock()
    clock = ScheduleClock(manual)
    clock.time()
    manual.wall_time += 600
    assert clock.time() == 1_000_600.0


def test_the_floor_holds_after_a_restart_with_the_clock_set_back() -> None:
    manual = ManualClock()
    clock = ScheduleClock(manual, floor=1_003_600.0)
    assert clock.time() == 1_003_600.0
    manual.advance(2)
    assert clock.time() == 1_003_602.0
