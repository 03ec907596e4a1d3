"""Quotas: sliding windows (Act-On's 5 a second) and clock-aligned ones (Exact Online's minute), per key."""

from __future__ import annotations

import httpx
import pytest

from federation.emulation.clock import Clock
from federation.emulation.quotas import Quota, Quotas

from .conftest import password_grant
from .toy import Toy


def statuses(client: httpx.Client, count: int, **headers: str) -> list[int]:
    return [client.get("/items", headers=headers).status_code for _ in range(count)]


def test_a_sliding_window_admits_limit_calls_in_any_period(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("second", 5, 1.0)])
    assert statuses(client, 6) == [200] * 5 + [429]
    rejected = client.get("/items")
    assert rejected.status_code == 429 and rejected.headers["retry-after"] == "1"
    assert (toy.rejected, toy.calls_by_kind["items"]) == (2, 5)  # rejected calls are not served
    toy.clock.advance(0.5)
    assert statuses(client, 1) == [429]  # the window slides: the five calls are still in it
    toy.clock.advance(0.5)
    assert statuses(client, 5) == [200] * 5
    assert toy.quotas.max_in_any_window("second") == 5
    assert len(toy.quotas.served()) == 10


def test_a_sliding_window_frees_calls_as_they_leave_it(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("second", 2, 1.0)])
    statuses(client, 1)
    toy.clock.advance(0.6)
    assert statuses(client, 2) == [200, 429]
    toy.clock.advance(0.4)  # the first call has left the window, the second has not
    assert statuses(client, 2) == [200, 429]
    served = toy.quotas.served()
    assert [round(stamp - served[0], 3) for stamp in served] == [0, 0.6, 1.0]


def test_an_aligned_window_resets_on_the_clock_boundary(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("minute", 3, 60.0, aligned=True)])
    toy.clock.advance(59.5 - toy.clock.wall() % 60)  # half a second before a minute ends
    assert statuses(client, 4) == [200, 200, 200, 429]
    assert client.get("/items").headers["retry-after"] == "1"
    toy.clock.advance(1)
    assert statuses(client, 4) == [200, 200, 200, 429]
    # Aligned windows let a burst straddle the boundary: six calls within a second, which a sliding window refuses.
    assert toy.quotas.max_in_any_window("minute") == 6


def test_quotas_count_per_key_and_several_at_once(toy: Toy, anonymous: httpx.Client) -> None:
    toy.set_quotas([Quota("second", 2, 1.0), Quota("day", 3, 86400.0, aligned=True)])
    toy.clock.advance(86400 - toy.clock.wall() % 86400 + 10.5)  # just after midnight UTC
    client = anonymous
    client.headers["Authorization"] = f"Bearer {password_grant(client).json()['access_token']}"
    assert statuses(client, 3, **{"X-Account": "a"}) == [200, 200, 429]
    assert statuses(client, 2, **{"X-Account": "b"}) == [200, 200]
    toy.clock.advance(1)
    assert statuses(client, 2, **{"X-Account": "a"}) == [200, 429]  # the day is used up for "a" only
    last = client.get("/items", headers={"X-Account": "a"})
    assert last.status_code == 429 and int(last.headers["retry-after"]) == 86400 - 11
    assert last.headers["x-remaining-day"] == "0"
    assert toy.quotas.max_in_any_window("second", "a") == 2
    assert len(toy.quotas.served("a")) == 3 and len(toy.quotas.served("b")) == 2


def test_served_replies_carry_the_vendors_rate_limit_headers(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("minute", 60, 60.0, aligned=True)])
    response = client.get("/items")
    assert response.headers["x-remaining-minute"] == "59"


def test_unmetered_kinds_and_faulted_calls_use_no_quota(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("second", 1, 1.0)])
    toy.inject(503, kinds={"items"})
    assert statuses(client, 1) == [503]  # failed before reaching the API: not counted
    for _ in range(3):
        assert client.post("/oauth/token", data={"grant_type": "none"}).status_code == 401  # unknown client
    assert statuses(client, 2) == [200, 429]


def test_setting_quotas_starts_afresh_and_none_means_unlimited(toy: Toy, client: httpx.Client) -> None:
    toy.set_quotas([Quota("second", 1, 1.0)])
    assert statuses(client, 2) == [200, 429]
    toy.set_quotas([Quota("second", 1, 1.0)])
    assert statuses(client, 1) == [200]
    toy.set_quotas([])
    assert statuses(client, 20) == [200] * 20


def test_quota_definitions_are_checked() -> None:
    with pytest.raises(ValueError):
        Quota("x", 0, 1.0)
    with pytest.raises(ValueError):
        Quota("x", 1, 0)
    quotas = Quotas(Clock(frozen=True))
    with pytest.raises(ValueError, match="unique"):
        quotas.configure([Quota("x", 1, 1.0), Quota("x", 2, 1.0)])
    with pytest.raises(KeyError):
        quotas.max_in_any_window("x")
