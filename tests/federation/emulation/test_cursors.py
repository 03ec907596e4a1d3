"""Result cursors on the emulator's clock, the clock itself, and the hostile-text pool."""

from __future__ import annotations

import time

import pytest

from federation.emulation.clock import Clock
from federation.emulation.cursors import Cursors
from federation.emulation.pools import HOSTILE_TEXT


def test_a_cursor_lives_for_its_ttl_on_the_clock() -> None:
    clock = Clock(frozen=True)
    cursors: Cursors[int] = Cursors(clock, ttl=900, capacity=10)
    cursor = cursors.open([1, 2, 3], total_size=3, batch_size=2)
    # Margins of half a second: differences of large floats are not exact at the boundary.
    clock.advance(899.5)
    found = cursors.get(cursor.locator)
    assert found is cursor and list(found.rows) == [1, 2, 3]
    assert cursors.get(cursor.locator) is cursor  # reading a page again is allowed
    clock.advance(1)
    assert cursors.get(cursor.locator) is None


def test_the_oldest_cursors_are_released_beyond_capacity() -> None:
    cursors: Cursors[str] = Cursors(Clock(), ttl=60, capacity=2)
    first, second, third = (cursors.open(["row"], 1, 1) for _ in range(3))
    assert cursors.get(first.locator) is None
    assert cursors.get(second.locator) is second and cursors.get(third.locator) is third


def test_locators_are_the_vendors() -> None:
    cursors: Cursors[str] = Cursors(
        Clock(), ttl=60, capacity=5, new_locator=lambda serial: f"RES{serial:04d}", canonical=str.upper
    )
    cursor = cursors.open([], 0, 100)
    assert cursor.locator == "RES0001"
    assert cursors.get("res0001") is cursor
    assert cursors.get("nope") is None


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    clock = Clock(frozen=True)
    now, wall = clock.now(), clock.wall()
    time.sleep(0.01)
    assert (clock.now(), clock.wall()) == (now, wall)
    clock.advance(90)
    assert (clock.now() - now, clock.wall() - wall) == (pytest.approx(90), pytest.approx(90))
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_running_clock_is_real_time_plus_the_offset() -> None:
    clock = Clock()
    before = time.time()
    clock.advance(3600)
    assert clock.wall() - before >= 3600 and clock.now() - time.monotonic() >= 3599


def test_hostile_text_holds_what_breaks_naive_clients() -> None:
    text = "".join(HOSTILE_TEXT)
    for needle in ("'", '"', "\\", "%", "_", "&", "<", "🚀", "株"):
        assert needle in text
    assert any(value != value.strip() for value in HOSTILE_TEXT)
    assert len({value.lower() for value in HOSTILE_TEXT}) < len(set(HOSTILE_TEXT))  # case variants
    assert all(HOSTILE_TEXT) and len(set(HOSTILE_TEXT)) == len(HOSTILE_TEXT)
