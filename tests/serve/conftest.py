"""A `duckfed serve` on the sandbox per test module, and the real clients that talk to it: the DuckDB CLI 1.5.5 with
its postgres extension, psql and psycopg. Everything listens on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import federation
from federation.connection import Connection
from federation.sandbox import Sandbox
from federation.serve import Limits, Security, Server

EXTENSION = (
    Path(sys.prefix)
    / "duckdb-extensions"
    / "duckdb_extension_postgres"
    / "extensions"
    / "v1.5.5"
    / "postgres.duckdb_extension"
)
INSTALL = ".venv/bin/pip install --no-deps --target .venv/duckdb-extensions duckdb-extension-postgres==1.5.5"
DUCKDB_CLI = Path(sys.prefix) / "bin" / "duckdb"
PASSWORD = "s3cret-for-tests"
#: The sources served, by schema name.
SOURCES = {"fin": "financialforce", "tpl": "template"}


@dataclass
class Served:
    """A running server, the sandbox behind it, and how to reach it."""

    sandbox: Sandbox
    server: Server
    host: str
    port: int
    password: str | None

    def dsn(self, password: str | None = None, **extra: str) -> str:
        given = password if password is not None else self.password
        parts = {"host": self.host, "port": str(self.port), "dbname": "duckfed", "user": "duckfed", **extra}
        if given:
            parts["password"] = given
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def calls(self) -> int:
        return sum(self.sandbox.calls(scheme) for scheme in SOURCES.values())


@contextmanager
def running(server: Server) -> Iterator[tuple[str, int]]:
    """Run `server` on its own event loop thread, on a free loopback port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True, name="duckfed-serve-test")
    thread.start()
    try:
        host, port = asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(30)
        yield host, port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@contextmanager
def serving(
    tmp: Path, *, limits: Limits | None = None, password: str | None = PASSWORD, records: int = 300
) -> Iterator[Served]:
    with Sandbox(records=records, sources=sorted(set(SOURCES.values()))) as sandbox:
        connection = federation.connect({key: sandbox.url(scheme) for key, scheme in SOURCES.items()})
        password_file = None
        if password is not None:
            password_file = tmp / "password.txt"
            password_file.write_text(password + "\n")
        security = Security.configure(
            "127.0.0.1",
            user="duckfed",
            password_file=password_file,
            trust=password is None,
            tls_cert=None,
            tls_key=None,
        )
        server = Server(connection, security, limits)
        try:
            with running(server) as (host, port):
                yield Served(sandbox, server, host, port, password)
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("serve")) as running_server:
        yield running_server


@pytest.fixture(scope="module")
def local(served: Served) -> Iterator[Connection]:
    """An in-process connection to the same sandbox, to compare results and API calls with."""
    sandbox = served.sandbox
    with federation.connect({key: sandbox.url(scheme) for key, scheme in SOURCES.items()}) as con:
        yield con


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The postgres extension, as the file name it must be loaded under."""
    if not EXTENSION.exists():
        pytest.fail(f"the DuckDB CLI's postgres extension is missing: install it with `{INSTALL}`")
    if not DUCKDB_CLI.exists():
        pytest.fail("the DuckDB CLI is missing: install duckdb-cli==1.5.5 (the dev extra)")
    target = tmp_path_factory.mktemp("extension") / "postgres_scanner.duckdb_extension"
    shutil.copyfile(EXTENSION, target)
    return target


class DuckdbCli:
    """Runs SQL in the real DuckDB CLI with the sources ATTACHed as `crm`."""

    def __init__(self, served: Served, extension: Path, workdir: Path) -> None:
        self.served = served
        self.extension = extension
        self.workdir = workdir
        self.count = 0

    def run(self, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        script = f"LOAD '{self.extension}';\nATTACH '{self.served.dsn()}' AS crm (TYPE postgres, READ_ONLY);\n{sql}\n"
        done = subprocess.run(
            [str(DUCKDB_CLI), "-csv", "-bail"],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.workdir,
        )
        if check:
            assert done.returncode == 0 and not done.stderr, done.stderr
        return done

    def table(self, query: str) -> pa.Table:
        """A query's result, written by the CLI to Parquet (types intact) and read back."""
        self.count += 1
        path = self.workdir / f"result{self.count}.parquet"
        self.run(f"COPY ({query}) TO '{path}' (FORMAT parquet);")
        return pq.read_table(path)


@pytest.fixture(scope="module")
def cli(served: Served, extension: Path, tmp_path_factory: pytest.TempPathFactory) -> DuckdbCli:
    return DuckdbCli(served, extension, tmp_path_factory.mktemp("cli"))
