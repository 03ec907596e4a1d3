"""Single-use rotating refresh tokens shared by 8 pooled SQLAlchemy connections in each of 2 processes: 50
rotations, each spent once, none refused.

Access tokens live one second of the emulator's clock; each round advances that clock past their life, then all
16 connections query at once, so they reach expiry together. Exactly one of them must refresh (under the token
store's file lock) and the other fifteen adopt its token: the emulator counts the refresh grants it answered
and the most refresh tokens that were ever valid at once.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from connectors.template.emulator import TemplateEmulator

from ..template_source import template_properties

POOL = 8
ROUNDS = 50


def engine_for(url: str) -> Engine:
    return create_engine(url, pool_size=POOL, max_overflow=0)


def burst(engine: Engine) -> list[str]:
    """One query on each of the pool's connections at once; the errors, if any."""
    errors: list[str] = []
    barrier = threading.Barrier(POOL)

    def query() -> None:
        try:
            with engine.connect() as connection:
                barrier.wait(30)
                connection.execute(text("SELECT id FROM contacts LIMIT 1")).fetchall()
        except Exception as error:  # reported to the test, which fails on any
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=query) for _ in range(POOL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def child(url: str, pipe: Connection) -> None:
    engine = engine_for(url)
    while pipe.recv() == "go":
        pipe.send(burst(engine))
    engine.dispose()


def test_fifty_rotations_across_pooled_connections_and_processes(tmp_path: Path) -> None:
    with TemplateEmulator(records=10, access_seconds=1.0, rotate_refresh_tokens=True) as emulator:
        assert emulator.oauth is not None
        # 16 connections query at once in every round: well within a second, not at the API's 10 a second.
        props = template_properties(emulator, tmp_path, RateLimit="1000/second")
        url = f"template:///?{urlencode(props)}"
        engine = engine_for(url)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=child, args=(url, theirs), daemon=True)
        process.start()
        try:
            # The first round logs in once (consent) and fills every pool. Starting the other process takes longer
            # than a token lives, so it may refresh too: the rounds are counted from here.
            ours.send("go")
            assert burst(engine) == [] and ours.recv() == []
            assert emulator.oauth.logins == 1
            before = emulator.oauth.refreshes
            for number in range(1, ROUNDS + 1):
                emulator.clock.advance(1.5)  # every access token issued so far has expired
                ours.send("go")
                errors = burst(engine) + ours.recv()
                assert errors == [], f"round {number}: {errors}"
                assert emulator.oauth.refreshes - before == number, f"round {number}: one refresh per expiry"
            ours.send("stop")
            process.join(60)
        finally:
            if process.is_alive():
                process.kill()
            engine.dispose()
        assert emulator.oauth.logins == 1  # no refresh token was ever refused (that would mean a new consent)
        assert emulator.oauth.refreshes - before == ROUNDS
        assert emulator.oauth.max_live_refresh_tokens == 1
