"""Act-On's limits, seen from the emulator: 4 threads of queries for 10 seconds never exceed 5 calls in any
second nor meet a 429 (the kit's shared limiter), and twenty fresh processes in a row spend one password grant
between them (the token store in OAuthSettingsLocation). The 10-second run is the one long test here."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
from connectors.acton.emulator import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, VENDOR_QUOTAS, ActOnEmulator

QUERIES = (
    'SELECT count(*) FROM a."List_Webinar_Attendees"',
    "SELECT Id FROM a.Images WHERE FolderName = 'New Folder'",
    "SELECT count(*) FROM a.Messages WHERE MsgType IN ('SENT', 'DRAFT')",
    "SELECT ContactId FROM a.List_Newsletter WHERE \"E-mail Address\" = 'mary.1@example.com'",
)
SCRIPT = """
import json, sys
import federation
with federation.connect({"a": json.loads(sys.argv[1])}) as con:
    print(con.execute("SELECT count(*) FROM a.Images").fetchone()[0])
"""


@pytest.fixture()
def emulator() -> Iterator[ActOnEmulator]:
    with ActOnEmulator(records=300, quotas=VENDOR_QUOTAS) as running:
        yield running


def properties(emulator: ActOnEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        "scheme": "acton",
        "URL": emulator.url,
        "InitiateOAuth": "GETANDREFRESH",
        "OAuthClientId": CLIENT_ID,
        "OAuthClientSecret": CLIENT_SECRET,
        "User": USERNAME,
        "Password": PASSWORD,
        "OAuthSettingsLocation": str(tmp_path / "OAuthSettings.txt"),
        "MetadataCacheDir": str(tmp_path / "cache"),
    }


def test_four_threads_for_ten_seconds_stay_within_five_calls_a_second(emulator: ActOnEmulator, tmp_path: Path) -> None:
    given = properties(emulator, tmp_path)
    failures: list[BaseException] = []
    done = [0] * 4
    deadline = time.monotonic() + 10.0

    def work(n: int) -> None:
        try:
            with federation.connect({"a": given}) as con:
                while time.monotonic() < deadline:
                    con.execute(QUERIES[(n + done[n]) % len(QUERIES)]).fetchall()
                    done[n] += 1
        except BaseException as error:  # reported below, with the thread's statement count
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert all(done), f"statements per thread: {done}"
    assert emulator.calls >= 40, "the run never pressed against the limit"
    assert emulator.rejected == 0, "the emulator answered 429"
    assert emulator.quotas.max_in_any_window("second") <= 5


def test_twenty_processes_in_a_row_log_in_once(tmp_path: Path) -> None:
    # Without the per-second quota: each process's limiter starts afresh, and waiting out what the previous
    # process spent is not what this test measures.
    with ActOnEmulator(records=20) as emulator:
        _run_twenty(emulator, tmp_path)


def _run_twenty(emulator: ActOnEmulator, tmp_path: Path) -> None:
    given = json.dumps(properties(emulator, tmp_path))
    assert emulator.oauth is not None
    for _ in range(20):
        run = subprocess.run([sys.executable, "-c", SCRIPT, given], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert int(run.stdout) == len(emulator.account.images)
    assert emulator.oauth.logins == 1
    assert emulator.calls_by_kind["token"] == 1
