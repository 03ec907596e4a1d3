"""The vendors' published SQLAlchemy example as pasted (issue 8, item 1): User, Password, `Security Token` and
InitiateOAuth=GETANDREFRESH with no OAuth client log in with the password, and the session is kept in the
OAuthSettingsLocation file, reused by later engines and renewed when it expires."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from federation.sandbox import Sandbox


@pytest.mark.parametrize("scheme", ["financialforce", "certinia"])
def test_the_example_logs_in_once_and_keeps_the_session(sf_sandbox: Sandbox, scheme: str, tmp_path: Path) -> None:
    settings = tmp_path / "OAuthSettings.txt"
    url = (
        f"{scheme}:///?User=myUser&Password=myPassword&Security Token=myToken&InitiateOAuth=GETANDREFRESH"
        f"&OAuthSettingsLocation={settings}&URL={sf_sandbox.endpoint(scheme)}"
    )
    base: Any = declarative_base()

    class Account(base):  # type: ignore[misc, valid-type]
        __tablename__ = "Account"
        BillingState = Column(String, primary_key=True)
        Name = Column(String)
        Industry = Column(String)

    emulator = sf_sandbox.server(scheme)

    def floppy_disk_accounts() -> list[str]:
        engine = create_engine(url)
        session = sessionmaker(bind=engine)()
        names = [a.Name for a in session.query(Account).filter_by(Industry="Floppy Disks")]
        session.close()
        engine.dispose()
        return names

    logins = emulator.calls_by_kind["login"]
    first = floppy_disk_accounts()
    assert first and all(isinstance(name, str) for name in first)
    assert emulator.calls_by_kind["login"] == logins + 1
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert floppy_disk_accounts() == first  # a new engine reuses the stored session: no login
    assert emulator.calls_by_kind["login"] == logins + 1
    emulator.expire_sessions()
    assert floppy_disk_accounts() == first  # renewed once, and stored again
    assert emulator.calls_by_kind["login"] == logins + 2
