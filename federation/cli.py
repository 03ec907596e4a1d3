"""The `duckfed` command: run SQL against sources, list and describe tables, run the sandbox and the demo.

```
duckfed demo                                   # the product end to end on the built-in sandbox
duckfed sandbox [--records N]                  # run the emulators until Ctrl-C and print their URLs
duckfed query "SQL" --source fin=URL … [--format table|csv|json|parquet] [--output FILE]
duckfed explain "SQL" --source fin=URL …        # DuckDB's plan and the API requests it will make, calling none
duckfed tables --source fin=URL
duckfed describe fin.Account --source fin=URL     # or just Account, when one source has a table of that name
duckfed sync FILE --source fin=URL [--table fin.Account …] [--where "fin.Account: SQL condition"]
                                               # replicate tables into a DuckDB file the DuckDB 1.5 CLI opens
duckfed serve --sandbox [--listen 127.0.0.1:5433] [--password-file FILE | --trust]
                                               # serve the sources over the PostgreSQL wire protocol
duckfed properties SCHEME [--markdown]         # the connection properties a source takes
duckfed login SCHEME --url 'SCHEME:///?…'      # sign in now (OAuth consent), storing tokens for later runs
duckfed cache clear [SCHEME]                   # forget cached table metadata
```
Every command that takes `--source` also takes `--sandbox` to run against a fresh sandbox instead, whose sources
are named by their schemes (`financialforce.Account`, `certinia.pse__Proj__c`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pyarrow.csv as pa_csv

from federation.catalog import clear_all
from federation.connection import Connection, connect
from federation.errors import ConfigurationError, Error
from federation.predicates import Operator
from federation.registry import connector_class, open_source, parse_source_url
from federation.sandbox import Sandbox
from federation.settings import describe_properties
from federation.sync import sync


def _sources(args: argparse.Namespace) -> dict[str, str]:
    sources: dict[str, str] = {}
    for item in args.source or []:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise ConfigurationError(f"--source takes name=URL (e.g. fin=financialforce:///?User=…), not {item!r}")
        sources[name] = url
    return sources


@contextlib.contextmanager
def _connection(args: argparse.Namespace) -> Iterator[Connection]:
    sources = _sources(args)
    if args.sandbox:
        with Sandbox(records=args.records) as sandbox, connect({n: sandbox.url(n) for n in sandbox.names}) as con:
            yield con
        return
    if not sources:
        raise ConfigurationError("give at least one --source name=URL, or --sandbox")
    with connect(sources) as con:
        yield con


def cmd_query(args: argparse.Namespace) -> int:
    with _connection(args) as con:
        relation = con.sql(args.sql)
        if relation is None:
            return 0
        if args.format == "parquet":
            if not args.output:
                raise ConfigurationError("--format parquet needs --output FILE")
            # A COPY through the connection, which makes a Parquet export of source tables stream with flat
            # memory (`federation.copy_options`); the query's own ORDER BY, if any, is kept.
            query, path = args.sql.strip().rstrip(";"), args.output.replace("'", "''")
            con.execute(f"COPY (\n{query}\n) TO '{path}' (FORMAT parquet)")
            print(f"wrote {args.output}", file=sys.stderr)
            return 0
        out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
        try:
            if args.format == "table":
                out.write(str(relation).encode())
            elif args.format == "csv":
                reader = relation.arrow()  # a RecordBatchReader: rows stream through, never held whole
                with pa_csv.CSVWriter(out, reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)
            else:
                for batch in relation.arrow():
                    for row in batch.to_pylist():
                        out.write(orjson.dumps(row, default=str) + b"\n")
        finally:
            if args.output:
                out.close()
            else:
                out.flush()
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    with _connection(args) as con:
        for key, value in con.execute(f"EXPLAIN {args.sql}").fetchall():
            print(value if key == "physical_plan" else f"{key}: {value}")
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    with _connection(args) as con:
        for source, table in con.tables():
            print(f"{source}.{table}")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    with _connection(args) as con:
        key, connector, table = con.federation.locate(args.table)
        info = connector.table(table).info
        print(f"{key}.{info.name}  {info.description}")
        width = max(len(c.name) for c in info.columns)
        for c in info.columns:
            flags = [
                flag
                for flag, on in (
                    ("key", c.primary_key),
                    ("required", c.required),
                    ("insert", c.insertable),
                    ("update", c.updatable),
                )
                if on
            ]
            pushed = ", ".join(op.value for op in Operator if op in c.pushdown) or "-"
            # A superset push returns extra rows from the API that duckfed filters out locally.
            how = "exact" if c.exact or not c.pushdown else "superset"
            print(f"  {c.name:<{width}}  {c.type!s:<24} push ({how:<8}): {pushed:<42} {' '.join(flags)}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    where: dict[str, str] = {}
    for item in args.where or []:
        table, sep, condition = item.partition(":")
        if not sep or not table.strip() or not condition.strip():
            raise ConfigurationError(f"--where takes 'table: SQL condition', not {item!r}")
        where[table.strip()] = condition.strip()
    with _connection(args) as con:
        runs = sync(con, args.file, args.table or (), where)
    return 1 if any(run.status != "ok" for run in runs) else 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    with Sandbox(records=args.records) as sandbox:
        print(f"duckfed sandbox: {args.records} records per main object. Ctrl-C stops it.")
        for name in sandbox.names:
            print(f"  {name}: {sandbox.url(name)}")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from federation.serve import Limits, Security, Server, listen_address, serve_forever

    host, port = listen_address(args.listen)
    security = Security.configure(
        host,
        user=args.user,
        password_file=Path(args.password_file) if args.password_file else None,
        trust=args.trust,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
    )
    limits = Limits(args.max_connections, args.statement_timeout, args.max_rows, args.max_bytes)
    with _connection(args) as con:
        serve_forever(Server(con, security, limits), host, port)
    return 0


def cmd_properties(args: argparse.Namespace) -> int:
    properties = connector_class(args.scheme).all_properties()
    if args.markdown:
        print(describe_properties(properties), end="")
        return 0
    width = max(len(p.name) for p in properties)
    for prop in properties:
        default = "" if prop.default is None else f" (default {prop.default})"
        print(f"{prop.name:<{width}}  {prop.kind.value}{default}: {prop.doc}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    scheme, _ = parse_source_url(args.url)
    if scheme != args.scheme:
        raise ConfigurationError(f"--url is a {scheme!r} URL, not {args.scheme!r}")
    if args.no_browser:
        os.environ["DUCKFED_NO_BROWSER"] = "1"  # consent prints the URL and takes the pasted redirect
    connector = open_source(args.url)
    try:
        connector.login()
    finally:
        connector.close()
    print(f"{scheme}: signed in; the session is stored where OAuthSettingsLocation says", file=sys.stderr)
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    removed = clear_all(Path(args.dir) if args.dir else None, args.scheme)
    print(f"removed {removed} cached metadata entries", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from federation.demo import run

    return run(records=args.records, workdir=Path(args.workdir))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="duckfed", description="SQL over SaaS business systems, on DuckDB.")
    top.add_argument("-v", "--verbose", action="count", default=0, help="log API calls (-vv: and SOQL)")
    commands = top.add_subparsers(dest="command", required=True)

    def sourced(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.add_argument(
            "--source", action="append", metavar="NAME=URL", help="a source, e.g. fin=financialforce:///?…"
        )
        sub.add_argument("--sandbox", action="store_true", help="use a fresh built-in sandbox as the sources")
        sub.add_argument("--records", type=int, default=1000, help="sandbox records per main object")
        return sub

    query = sourced("query", "run SQL and print or save the result")
    query.add_argument("sql")
    query.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    query.add_argument("--output", "-o", help="write to this file instead of standard output")
    query.set_defaults(run=cmd_query)
    explaining = sourced("explain", "show DuckDB's plan and the API requests a query will make, making none")
    explaining.add_argument("sql")
    explaining.set_defaults(run=cmd_explain)
    sourced("tables", "list every table").set_defaults(run=cmd_tables)
    describe = sourced("describe", "show a table's columns and what they push down")
    describe.add_argument("table", help="source.table, or a table name only one source has")
    describe.set_defaults(run=cmd_describe)
    syncing = sourced("sync", "replicate tables into a DuckDB file (incrementally) that the DuckDB 1.5 CLI opens")
    syncing.add_argument("file", help="the DuckDB database file to create or bring up to date")
    syncing.add_argument("--table", action="append", metavar="NAME", help="a table to sync (default: every table)")
    syncing.add_argument("--where", action="append", metavar="'TABLE: CONDITION'", help="sync only matching records")
    syncing.set_defaults(run=cmd_sync)
    serving = sourced("serve", "serve the sources over the PostgreSQL wire protocol (DuckDB CLI, psql, BI tools)")
    serving.add_argument("--listen", default="127.0.0.1:5433", metavar="HOST:PORT", help="port 0: a free one")
    serving.add_argument("--user", default="duckfed", help="the user name clients connect as")
    serving.add_argument("--password-file", metavar="FILE", help="the clients' password (SCRAM-SHA-256)")
    serving.add_argument("--trust", action="store_true", help="no password (loopback addresses only)")
    serving.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (PEM); needed off loopback")
    serving.add_argument("--tls-key", metavar="FILE", help="TLS private key (PEM)")
    serving.add_argument("--max-connections", type=int, default=16, help="clients at once")
    serving.add_argument("--statement-timeout", type=float, metavar="SECONDS", help="cancel longer statements")
    serving.add_argument("--max-rows", type=int, help="refuse results with more rows")
    serving.add_argument("--max-bytes", type=int, help="refuse results larger than this on the wire")
    serving.set_defaults(run=cmd_serve)
    sandbox = commands.add_parser("sandbox", help="run the sandbox emulators until Ctrl-C")
    sandbox.add_argument("--records", type=int, default=1000)
    sandbox.set_defaults(run=cmd_sandbox)
    properties = commands.add_parser("properties", help="list the connection properties a source takes")
    properties.add_argument("scheme", help="the source's scheme, e.g. financialforce")
    properties.add_argument("--markdown", action="store_true", help="as a Markdown table (as in the README)")
    properties.set_defaults(run=cmd_properties)
    login = commands.add_parser("login", help="sign in now and store the session or OAuth tokens")
    login.add_argument("scheme")
    login.add_argument("--url", required=True, help="the source URL, with InitiateOAuth=GETANDREFRESH and the client")
    login.add_argument("--no-browser", action="store_true", help="print the consent URL and take the pasted redirect")
    login.set_defaults(run=cmd_login)
    cache = commands.add_parser("cache", help="manage cached table metadata")
    cache_commands = cache.add_subparsers(dest="action", required=True)
    clear = cache_commands.add_parser("clear", help="forget cached table metadata (all sources, or one scheme's)")
    clear.add_argument("scheme", nargs="?", help="only this source's metadata")
    clear.add_argument("--dir", help="the cache directory (default: MetadataCacheDir's default)")
    clear.set_defaults(run=cmd_cache)
    demo = commands.add_parser("demo", help="show duckfed working end to end on the sandbox")
    demo.add_argument("--records", type=int, default=1000)
    demo.add_argument("--workdir", default=".", help="where the demo writes its files (a Parquet export)")
    demo.set_defaults(run=cmd_demo)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except Error as error:
        print(f"duckfed: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        # DuckDB's own errors (SQL syntax, unknown columns) are for the user too, not a traceback.
        if type(error).__module__.startswith(("duckdb", "_duckdb")):
            print(f"duckfed: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
