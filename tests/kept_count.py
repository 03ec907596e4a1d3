"""What the tests of a repeated full scan (`ScanRequest.known_rows`) share."""

from __future__ import annotations

import time

from federation.emulation.emulator import Emulator


def held_first(api: Emulator, kind: str) -> list[int]:
    """Hold the next request of `kind` in the emulator until another request arrives (or 5 s pass), and return the
    list that then gets the number of requests in flight: a scan that waits for its first page sends none meanwhile,
    and shows 1."""
    alongside: list[int] = []

    def hold() -> None:
        deadline = time.monotonic() + 5
        while api.in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        alongside.append(api.in_flight)

    api.after(kind, 1, hold)
    return alongside
