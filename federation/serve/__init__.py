"""`duckfed serve`: the sources over the PostgreSQL wire protocol, for the DuckDB CLI's postgres extension, psql,
psycopg and BI tools.

Each source is a schema and each of its tables a table (`fin.Account`); the modules, by what they hold:
`protocol` (message framing), `auth` (SCRAM-SHA-256), `limits`, `server` (asyncio listener, TLS, cancel requests,
the locked-down DuckDB), `session` (one client's messages, simple and extended protocol), `runner` (how one
statement runs), `worker` (the threads statements run on, cancel and timeout), `sending` (results sent while the
next batch is read and encoded), `results` (prepared statements, portals, results), `parameters` (Bind's values),
`sqlstate` (errors as SQLSTATEs), `statements` (splitting a Query, transaction control, COPY), `guard` (the
statement allowlist), `catalog` (answers to the clients' catalog queries), `types` (Arrow to PostgreSQL types) and
`encoding` (vectorised row encoding).
"""

from __future__ import annotations

from federation.errors import ConfigurationError
from federation.serve.limits import Limits
from federation.serve.server import Security, Server, serve_forever

__all__ = ["Limits", "Security", "Server", "listen_address", "serve_forever"]


def listen_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:5433` for IPv6) as a host and a port; port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigurationError(f"--listen takes HOST:PORT, e.g. 127.0.0.1:5433, not {text!r}")
    return host, int(port)
