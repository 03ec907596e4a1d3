"""The server's limits (connections, rows, statement time) and its security options: what each address requires,
TLS, and the password never appearing in logs."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from federation.errors import ConfigurationError
from federation.serve import Limits, Security, listen_address
from tests.serve.conftest import PASSWORD, Served, serving


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    limits = Limits(max_connections=2, statement_timeout=1.0, max_rows=50)
    with serving(tmp_path_factory.mktemp("limited"), limits=limits) as running_server:
        yield running_server


def test_connections_beyond_the_maximum_are_refused(limited: Served) -> None:
    with (
        psycopg.connect(limited.dsn()),
        psycopg.connect(limited.dsn()),
        pytest.raises(psycopg.OperationalError, match="too many clients already"),
    ):
        psycopg.connect(limited.dsn())
    with psycopg.connect(limited.dsn()) as con:  # a closed connection's place is free again
        assert con.execute("SELECT 1").fetchone() == (1,)


def test_a_result_over_the_row_cap_fails_instead_of_arriving_cut_short(limited: Served) -> None:
    with psycopg.connect(limited.dsn(), autocommit=True) as con:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="more than 50 rows"):
            con.execute("SELECT * FROM tpl.contacts").fetchall()
        assert len(con.execute("SELECT * FROM tpl.contacts LIMIT 50").fetchall()) == 50


def test_a_statement_past_the_timeout_is_cancelled(limited: Served) -> None:
    emulator = limited.sandbox.server("template")
    with psycopg.connect(limited.dsn(), autocommit=True) as con:
        con.execute("SELECT count(*) FROM tpl.companies").fetchone()
        emulator.latency = 10.0
        try:
            with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout of 1 s"):
                con.execute("SELECT * FROM tpl.companies").fetchall()
        finally:
            emulator.latency = 0.0
        assert con.execute("SELECT count(*) FROM tpl.companies").fetchone() == (30,)


def test_the_password_never_reaches_the_log(limited: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(limited.dsn(password="guessed-wrong"))
    with psycopg.connect(limited.dsn()) as con:
        con.execute("SELECT 1")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "password authentication failed" in logged
    assert PASSWORD not in logged and "guessed-wrong" not in logged
    assert repr(limited.server.security.verifier) == "Verifier(…)"


def configure(host: str, tmp_path: Path, **options: object) -> Security:
    given: dict[str, object] = {
        "user": "duckfed",
        "password_file": None,
        "trust": False,
        "tls_cert": None,
        "tls_key": None,
    }
    given.update(options)
    return Security.configure(host, **given)  # type: ignore[arg-type]


def test_off_loopback_tls_and_a_password_are_required(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("pw")
    with pytest.raises(ConfigurationError, match="--trust is allowed on a loopback address only"):
        configure("0.0.0.0", tmp_path, trust=True)
    with pytest.raises(ConfigurationError, match="needs --tls-cert, --tls-key and --password-file"):
        configure("192.168.1.5", tmp_path, password_file=password)
    with pytest.raises(ConfigurationError, match="give --password-file FILE"):
        configure("127.0.0.1", tmp_path)
    with pytest.raises(ConfigurationError, match="both --tls-cert and --tls-key"):
        configure("127.0.0.1", tmp_path, trust=True, tls_cert=password)
    assert configure("::1", tmp_path, trust=True).verifier is None
    assert listen_address("[::1]:0") == ("::1", 0)
    with pytest.raises(ConfigurationError, match="--listen takes HOST:PORT"):
        listen_address("5433")


def test_tls_when_a_certificate_is_given(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    with serving(tmp_path, records=20) as served:
        served.server.security = configure(
            "127.0.0.1", tmp_path, password_file=_password(tmp_path), tls_cert=cert, tls_key=key
        )
        with psycopg.connect(served.dsn(sslmode="require")) as con:
            assert con.execute("SELECT count(*) FROM tpl.contacts").fetchone() == (20,)
            assert con.pgconn.ssl_in_use


def _password(tmp_path: Path) -> Path:
    path = tmp_path / "tls-password"
    path.write_text(PASSWORD)
    return path
