"""The vendors' published SQLAlchemy example for Exact Online, as pasted (Region quoted, Division 5512,
GETANDREFRESH with a settings file), plus `URL=` and the sandbox's OAuth client: the ORM reads with
`filter_by(IsCompetitor="False")`, Core `select().where()`, then add/commit, update and delete by the ORM's
primary key `Name`."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Column, Float, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from federation.sandbox import Sandbox


def test_the_example_runs_as_pasted(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = tmp_path / "OAuthSettings.txt"
    given = sandbox.properties("exactonline")
    extra = {k: given[k] for k in ("URL", "OAuthClientId", "OAuthClientSecret", "CallbackURL")}
    engine = create_engine(
        f"exactonline:///?Region='United States'&Division=5512&InitiateOAuth=GETANDREFRESH"
        f"&OAuthSettingsLocation={settings}&{urlencode(extra)}"
    )
    base: Any = declarative_base()

    class Accounts(base):  # type: ignore[misc, valid-type]
        __tablename__ = "Accounts"
        Name = Column(String, primary_key=True)
        IsCompetitor = Column(String)
        CreditLinePurchase = Column(Float)

    session = sessionmaker(bind=engine)()
    api = sandbox.server("exactonline")
    before = dict(api.calls_by_kind)

    rows = session.query(Accounts).filter_by(IsCompetitor="False").all()
    expected = [r for r in api.store.rows(5512, _accounts()) if not r["IsCompetitor"]]  # type: ignore[attr-defined]
    # Name is the ORM's key, not the API's: accounts sharing a name are one object in the identity map.
    assert {a.Name for a in rows} == {r["Name"] for r in expected}
    assert {a.IsCompetitor for a in rows} == {False}
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600

    table = Accounts.metadata.tables["Accounts"]
    competitors = session.execute(table.select().where(table.c.IsCompetitor == "True")).fetchall()
    assert len(competitors) == sum(1 for r in api.store.rows(5512, _accounts()) if r["IsCompetitor"])  # type: ignore[attr-defined]

    session.add(Accounts(Name="Exact Online example", IsCompetitor="False", CreditLinePurchase=1500.0))
    session.commit()
    made = _named(api, "Exact Online example")
    assert made is not None and made["CreditLinePurchase"] == 1500.0 and made["IsCompetitor"] is False

    updated = session.query(Accounts).filter_by(Name="Exact Online example").first()
    assert updated is not None
    updated.CreditLinePurchase = 2500.0
    session.commit()
    assert _named(api, "Exact Online example")["CreditLinePurchase"] == 2500.0  # type: ignore[index]

    session.delete(session.query(Accounts).filter_by(Name="Exact Online example").first())
    session.commit()
    assert _named(api, "Exact Online example") is None
    session.close()
    engine.dispose()

    spent = {k: v - before.get(k, 0) for k, v in api.calls_by_kind.items() if v != before.get(k, 0)}
    # One consent and one token for the whole session, then each statement's own calls.
    assert spent["authorize"] == spent["token"] == 1
    assert spent["create"] == spent["update"] == spent["delete"] == 1


def _accounts() -> Any:
    from connectors.exactonline.entities import BY_NAME

    return BY_NAME["Accounts"]


def _named(api: Any, name: str) -> dict[str, Any] | None:
    return next((r for r in api.store.rows(5512, _accounts()) if r["Name"] == name), None)
