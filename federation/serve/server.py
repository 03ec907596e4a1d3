"""The asyncio server of `duckfed serve`: listening, TLS, authentication, limits and cancel requests.

Every client gets a DuckDB cursor of one federated connection (so registrations and results are its own) from a
pool made before the serving database is locked down: `enable_external_access = false` refuses file access,
ATTACH and INSTALL/LOAD, `python_enable_replacements = false` keeps table names from reaching Python variables,
and `lock_configuration = true` refuses every SET afterwards (DuckDB's "Securing DuckDB" guide). The Arrow
sources still scan under these switches: they are registered objects, not files.

Security: loopback by default; any other address needs TLS and a password (SCRAM-SHA-256, `federation.serve.auth`),
and `trust` (no password) is refused there. Clients' passwords and the sources' credentials are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import signal
import ssl
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from federation.connection import Connection
from federation.errors import ConfigurationError
from federation.serve import protocol
from federation.serve.auth import MECHANISM, AuthenticationFailed, Exchange, Verifier
from federation.serve.catalog import SERVER_VERSION, Catalog
from federation.serve.limits import Limits
from federation.serve.protocol import Cursor, ProtocolViolation, Reader
from federation.serve.session import Host, Session

log = logging.getLogger("duckfed.serve")

#: The output a client's running query queues before handing it over (DuckDB's `streaming_buffer_size`).
STREAMING_BUFFER = "1MB"

_PARAMETERS = {
    "server_version": SERVER_VERSION,
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "TimeZone": "UTC",
    "IntervalStyle": "postgres",
    "is_superuser": "off",
    "default_transaction_read_only": "off",
}


@dataclass(frozen=True)
class Security:
    """Who may connect: the user name, and the password's SCRAM verifier (None: trust, loopback only)."""

    user: str = "duckfed"
    verifier: Verifier | None = None
    tls: ssl.SSLContext | None = None

    @classmethod
    def configure(
        cls,
        host: str,
        *,
        user: str,
        password_file: Path | None,
        trust: bool,
        tls_cert: Path | None,
        tls_key: Path | None,
    ) -> Security:
        """Check the options against the address: off loopback, TLS and a password are required."""
        if (tls_cert is None) != (tls_key is None):
            raise ConfigurationError("give both --tls-cert and --tls-key, or neither")
        if password_file is not None and trust:
            raise ConfigurationError("--trust and --password-file exclude each other")
        if not loopback(host):
            if trust:
                raise ConfigurationError(f"--trust is allowed on a loopback address only, not {host}")
            if tls_cert is None or password_file is None:
                raise ConfigurationError(
                    f"listening on {host} (not loopback) needs --tls-cert, --tls-key and --password-file"
                )
        if password_file is None and not trust:
            raise ConfigurationError("give --password-file FILE (SCRAM-SHA-256), or --trust on a loopback address")
        verifier = None
        if password_file is not None:
            try:
                password = password_file.read_text().strip()
            except OSError as error:
                raise ConfigurationError(f"can't read --password-file: {error.strerror}") from None
            if not password:
                raise ConfigurationError("the --password-file is empty")
            verifier = Verifier.from_password(password)
        context = None
        if tls_cert is not None and tls_key is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(tls_cert, tls_key)
        return cls(user, verifier, context)


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lock_down(connection: Connection, cursors: int) -> list[Connection]:
    """The cursors clients will use, made before the database is locked (a cursor sets a setting when made)."""
    made = [connection.cursor() for _ in range(cursors)]
    for cursor in made:
        # A DuckDB query result hands its first batch over once this much output is queued, or the query ended:
        # at the default (10 MiB) most served scans would be over before a byte is sent. Small, so that sending
        # overlaps with the scan (`federation.serve.sending`) and memory stays flat per client.
        cursor.duckdb.execute(f"SET streaming_buffer_size = '{STREAMING_BUFFER}'")
    duck = connection.duckdb
    for key in connection.federation.sources:
        # Made now, not by the first statements of concurrent clients, whose catalog writes would conflict.
        duck.execute(f'CREATE SCHEMA IF NOT EXISTS "{key}"')
    duck.execute("SET enable_external_access = false")
    duck.execute("SET python_enable_replacements = false")
    duck.execute("SET lock_configuration = true")
    return made


class Server:
    """Serves a federated connection's sources to PostgreSQL clients."""

    def __init__(self, connection: Connection, security: Security, limits: Limits | None = None) -> None:
        self.connection = connection
        self.security = security
        self.limits = limits or Limits()
        self.catalog = Catalog(connection.federation)
        self.executor = ThreadPoolExecutor(self.limits.max_connections + 1, thread_name_prefix="duckfed-serve")
        self._idle = lock_down(connection, self.limits.max_connections)
        self._sessions: dict[int, tuple[int, Session]] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._client, host, port)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for _, session in list(self._sessions.values()):
            session.stop("the server is shutting down")
            session.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def _client(self, stream: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve(Reader(stream), writer)
        except (ProtocolViolation, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as error:
            log.info("client %s: connection ended: %s", peer, type(error).__name__)
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: Reader, writer: asyncio.StreamWriter) -> None:
        code, body = await reader.startup()
        encrypted = False
        while code in (protocol.SSL_REQUEST, protocol.GSS_REQUEST):
            if code == protocol.SSL_REQUEST and self.security.tls is not None and not encrypted:
                writer.write(b"S")
                await writer.drain()
                await writer.start_tls(self.security.tls)
                encrypted = True
            else:
                writer.write(b"N")
                await writer.drain()
            code, body = await reader.startup()
        if code == protocol.CANCEL_REQUEST:
            self._cancel(*struct.unpack("!ii", body[:8]))
            return
        if code != protocol.PROTOCOL_3:
            writer.write(
                protocol.error("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}", "FATAL")
            )
            return
        parameters = protocol.startup_parameters(body)
        user = parameters.get("user", "")
        peer = writer.get_extra_info("peername")
        if not loopback(str(peer[0])) and not encrypted and self.security.tls is not None:
            return await _refuse(writer, "28000", "this server requires SSL (sslmode=require)")
        if user != self.security.user:
            return await _refuse(writer, "28000", f'role "{user}" does not exist')
        if not self._idle:
            return await _refuse(writer, "53300", "sorry, too many clients already (the server's --max-connections)")
        cursor = self._idle.pop()
        try:
            if not await self._authenticate(reader, writer, user):
                return None
            log.info("client %s connected as %s", peer, user)
            session = Session(Host(self.catalog, self.executor, self.limits), cursor, reader, writer, user)
            pid, secret = self._register(session)
            try:
                for name, value in {**_PARAMETERS, "application_name": parameters.get("application_name", "")}.items():
                    writer.write(protocol.parameter_status(name, value))
                writer.write(protocol.backend_key(pid, secret))
                writer.write(protocol.ready(b"I"))
                await writer.drain()
                await session.run()
            finally:
                self._sessions.pop(pid, None)
                session.stop("the client disconnected")
        finally:
            self._idle.append(cursor)
        return None

    async def _authenticate(self, reader: Reader, writer: asyncio.StreamWriter, user: str) -> bool:
        verifier = self.security.verifier
        if verifier is None:
            writer.write(protocol.authentication(0))
            return True
        failed = f'password authentication failed for user "{user}"'
        writer.write(protocol.authentication(10, MECHANISM.encode() + b"\0\0"))
        await writer.drain()
        exchange = Exchange(verifier)
        try:
            first = await reader.message()
            if first.kind != b"p":
                raise AuthenticationFailed("expected a SASL response")
            body = Cursor(first.body)
            if body.string() != MECHANISM:
                raise AuthenticationFailed(f"only {MECHANISM} is offered")
            client_first = body.take(body.int32()).decode()
            writer.write(protocol.authentication(11, exchange.first(client_first).encode()))
            await writer.drain()
            final = await reader.message()
            if final.kind != b"p":
                raise AuthenticationFailed("expected a SASL response")
            writer.write(protocol.authentication(12, exchange.final(final.body.decode()).encode()))
        except (AuthenticationFailed, UnicodeDecodeError, ValueError) as error:
            log.warning("client %s: %s: %s", writer.get_extra_info("peername"), failed, error)
            await _refuse(writer, "28P01", failed)
            return False
        writer.write(protocol.authentication(0))
        return True

    def _register(self, session: Session) -> tuple[int, int]:
        while True:
            pid = secrets.randbelow(2**31 - 1) + 1
            if pid not in self._sessions:
                break
        secret = secrets.randbelow(2**31)
        self._sessions[pid] = (secret, session)
        return pid, secret

    def _cancel(self, pid: int, secret: int) -> None:
        found = self._sessions.get(pid)
        # The key must match exactly: a wrong one is ignored silently, as PostgreSQL does.
        if found is not None and secrets.compare_digest(struct.pack("!i", found[0]), struct.pack("!i", secret)):
            log.info("cancel request for session %d", pid)
            found[1].stop("canceled on the client's request")


async def _refuse(writer: asyncio.StreamWriter, code: str, message: str) -> None:
    writer.write(protocol.error(code, message, "FATAL"))
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def serve_forever(server: Server, host: str, port: int) -> None:
    """Run the server until SIGINT or SIGTERM, printing `listening on HOST:PORT` once it accepts clients."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        bound_host, bound_port = await server.start(host, port)
        print(f"listening on {bound_host}:{bound_port}", flush=True)
        await stop.wait()
        await server.close()

    asyncio.run(main())
