"""The vendor's SQLAlchemy example as pasted, plus `URL=` and the sandbox's OAuth app: the ORM `Images` class
with `Id` as key, `filter_by(FolderName="New Folder")`, a Core `select().where()`, update and delete. Its insert
names no file, so it fails naming the `File` column; the same insert with the image's bytes uploads."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Column, LargeBinary, String, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from connectors.acton.emulator import ActOnEmulator
from connectors.acton.emulator.data import PNG_1X1
from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=40, sources=["acton"]) as running:
        yield running


def test_the_vendor_example_runs_as_pasted(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = tmp_path / "OAuthSettings.txt"
    given = {
        k: v for k, v in sandbox.properties("acton").items() if k not in ("InitiateOAuth", "OAuthSettingsLocation")
    }
    extra = urlencode(given)
    emulator = sandbox.server("acton")
    assert isinstance(emulator, ActOnEmulator) and emulator.oauth is not None
    logins = emulator.oauth.logins

    # -- the example, as published (with the URL and the app's properties added) -----------------------------
    engine = create_engine(f"acton:///?InitiateOAuth=GETANDREFRESH&OAuthSettingsLocation={settings}&{extra}")
    base: Any = declarative_base()

    class Images(base):  # type: ignore[misc]
        __tablename__ = "Images"
        Id = Column(String, primary_key=True)
        FolderName = Column(String)
        Name = Column(String)
        File = Column(LargeBinary)

    factory = sessionmaker(bind=engine)
    session = factory()
    found = []
    for instance in session.query(Images).filter_by(FolderName="New Folder"):
        found.append((instance.Id, instance.FolderName))
    assert found and all(folder == "New Folder" for _, folder in found)

    Images_table = Images.metadata.tables["Images"]
    selected = session.execute(Images_table.select().where(Images_table.c.FolderName == "New Folder")).fetchall()
    assert sorted(row.Id for row in selected) == sorted(image_id for image_id, _ in found)

    new_rec = Images(Id="placeholder", FolderName="New Folder")
    session.add(new_rec)
    with pytest.raises(IntegrityError, match="File"):
        session.commit()
    session.rollback()

    new_rec = Images(Id="placeholder", FolderName="New Folder", Name="logo.png", File=PNG_1X1)
    session.add(new_rec)
    session.commit()
    uploaded = [i for i in emulator.account.images.values() if i.name == "logo.png"]
    assert len(uploaded) == 1 and uploaded[0].folder == "New Folder" and uploaded[0].content == PNG_1X1

    updated_rec = session.query(Images).filter_by(Id=uploaded[0].id).first()
    assert updated_rec is not None
    updated_rec.FolderName = "Product Shots"  # type: ignore[assignment]
    session.commit()
    assert emulator.account.images[uploaded[0].id].folder == "Product Shots"

    deleted_rec = session.query(Images).filter_by(Id=uploaded[0].id).first()
    session.delete(deleted_rec)
    session.commit()
    assert uploaded[0].id not in emulator.account.images
    session.close()
    engine.dispose()

    # One consent and token grant, kept in the settings file (owner-only) for the next engine.
    assert emulator.oauth.logins == logins + 1
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    again = create_engine(f"acton:///?InitiateOAuth=GETANDREFRESH&OAuthSettingsLocation={settings}&{extra}")
    with sessionmaker(bind=again)() as later:
        assert later.query(Images).filter_by(FolderName="New Folder").count() == len(found)
    again.dispose()
    assert emulator.oauth.logins == logins + 1


def test_an_upload_that_is_not_an_image_fails_with_the_api_message(sandbox: Sandbox) -> None:
    engine = create_engine(sandbox.url("acton"))
    with engine.connect() as connection, pytest.raises(Exception, match=r"10085: Invalid file type specified"):
        connection.exec_driver_sql(
            "INSERT INTO Images (FolderName, Name, File) VALUES ('New Folder', 'notes.txt', 'plain text'::BLOB)"
        )
    engine.dispose()
