"""Secrets never appear: not in logs (at DEBUG, httpx's included), reprs, error messages, SQLAlchemy engine URLs,
or any file but the token store.

The secrets are the values of every property the connector declares secret (as the sandbox gives them, and
wrong ones a failed login is tried with), the live session token, and every token the token store holds. The
walk-through covers what a session does: a scan, a query that fails, writes, a login that fails, an engine.
"""

from __future__ import annotations

import logging
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest
import sqlalchemy

from federation.auth import SessionAuth
from federation.connection import Connection
from federation.errors import Error
from federation.registry import connector_class
from federation.settings import normalize

from .support import SCHEMA, Source, Writer, quoted

_LOGGERS = (None, "httpx", "httpcore", "duckfed")


def secret_names(scheme: str) -> set[str]:
    """Normalized names (and aliases) of every property the connector declares secret."""
    return {normalize(n) for p in connector_class(scheme).all_properties() if p.secret for n in (p.name, *p.aliases)}


def stored_tokens(path: Path) -> set[str]:
    """Every credential-like value in a token file (tokens, session ids, secrets)."""
    if not path.exists():
        return set()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the token file must be readable by its owner only"
    found: set[str] = set()

    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and any(word in key.lower() for word in ("token", "secret", "session", "code")):
            found.add(value)

    walk(orjson.loads(path.read_bytes()))
    return found


def forms(secret: str) -> set[str]:
    """How a secret may be spelt where it leaks: as is, or URL-encoded in a query string or form body."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def session_token(con: Connection) -> str | None:
    http = con.federation.sources[SCHEMA].http
    auth = http.auth if http is not None else None
    return auth.session().token if isinstance(auth, SessionAuth) else None


def error_texts(error: BaseException) -> Iterator[str]:
    yield str(error)
    yield repr(error)
    yield "".join(traceback.format_exception(error))


def files_under(directory: Path, *, skip: set[Path]) -> Iterator[tuple[str, str]]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path not in skip:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def use(source: Source, con: Connection, stores: dict[str, str]) -> BaseException:
    """What a session does: a scan, a query that fails (every page refused, retries spent), and writes; the
    failed query's error."""
    case = source.case
    con.execute(f"SELECT * FROM {source.table()}").fetchall()
    source.server.inject(503, times=1000, kinds={case.scan_kind})
    with pytest.raises(Error) as failed:
        source.open(**stores, MaxRetries="1").execute(f"SELECT * FROM {source.table()}").fetchall()
    source.server.clear_faults()
    writer = Writer(source, con)
    (created,) = writer.insert_returning_keys(writer.rows(1))
    con.execute(f"UPDATE {writer.table} SET {quoted(case.update_column)} = ? WHERE {writer.key} = ?", ["x", created])
    con.execute(f"DELETE FROM {writer.table} WHERE {writer.key} = ?", [created])
    return failed.value


def log_in_wrongly(source: Source, wrong: dict[str, str]) -> tuple[list[BaseException], list[tuple[str, str]]]:
    """Logins with wrong secrets, directly and through SQLAlchemy: their errors, and the engines' reprs."""
    with pytest.raises(Error) as refused:
        source.open(**wrong).execute(f"SELECT * FROM {source.table()} LIMIT 1").fetchall()
    engine = sqlalchemy.create_engine(source.sandbox.url(source.scheme))
    bad_engine = sqlalchemy.create_engine(sqlalchemy.make_url(engine.url).update_query_dict(wrong))
    with pytest.raises(sqlalchemy.exc.DBAPIError) as wrapped, bad_engine.connect() as connection:
        table = f"{source.scheme}.{quoted(source.case.table)}"
        connection.execute(sqlalchemy.text(f"SELECT * FROM {table} LIMIT 1")).fetchall()
    reprs = [
        ("engine url", repr(engine.url)),
        ("engine url text", str(engine.url)),
        ("engine", repr(engine)),
        ("engine with wrong secrets", repr(bad_engine)),
    ]
    bad_engine.dispose()
    engine.dispose()
    return [refused.value, wrapped.value], reprs


def test_secrets_never_leak(
    scratch_source: Source, scheme: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    source = scratch_source
    for logger in _LOGGERS:
        caplog.set_level(logging.DEBUG, logger=logger)
    names = secret_names(scheme)
    # Token stores of the test's own, so that their tokens can be read (and nothing lands in the user's home).
    store, wrong_store = tmp_path / "tokens.json", tmp_path / "wrong-tokens.json"
    has_store = any(p.name == "OAuthSettingsLocation" for p in connector_class(scheme).all_properties())
    stores = {"OAuthSettingsLocation": str(store)} if has_store else {}
    given = {k: v for k, v in source.properties().items() if normalize(k) in names and v}
    wrong = {k: f"wrong-{normalize(k)}-5f2c9e" for k in given}
    if has_store:
        wrong["OAuthSettingsLocation"] = str(wrong_store)

    con = source.open(**stores, **source.case.small_pages)
    errors = [use(source, con, stores)]
    refusals, texts = log_in_wrongly(source, wrong)
    errors += refusals

    secrets = {*given.values(), *(v for k, v in wrong.items() if normalize(k) in names)}
    token = session_token(con)
    if token:
        secrets.add(token)
    secrets |= stored_tokens(store)
    connector = con.federation.sources[SCHEMA]
    texts += [
        ("connection repr", repr(con)),
        ("connection str", str(con)),
        ("connector repr", repr(connector)),
        ("connector str", str(connector)),
        ("settings repr", repr(connector.config)),
        ("settings by property", repr(connector.settings)),
    ]
    texts += [(f"error {type(e).__name__}", text) for e in errors for text in error_texts(e)]
    texts.append(("log", caplog.text))
    texts += [("log message", record.getMessage()) for record in caplog.records]
    texts += list(files_under(Path(source.properties()["MetadataCacheDir"]), skip=set()))
    token_files = {store, wrong_store, Path(f"{store}.lock"), Path(f"{wrong_store}.lock")}
    texts += list(files_under(tmp_path, skip=token_files))
    assert caplog.records, "nothing was logged at DEBUG, so the log check proves nothing"
    for secret in secrets:
        for form in forms(secret):
            leaks = [where for where, text in texts if form in text]
            assert not leaks, f"a secret ({len(secret)} characters) appears in: {', '.join(leaks)}"
