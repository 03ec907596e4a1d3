"""Cold start: what `import federation` and a first query cost a fresh process, against importing DuckDB and Arrow.

    python benchmarks/startup.py [--repeat 7]

Each figure is the median over `--repeat` fresh interpreters (`python -c`), in one run. The sandbox's emulators run
in a process of their own, started once, with a warm metadata cache and stored tokens, as a user's second process
would find them. A first query is timed from the line after the import to its last row; "warm" is the same query
on a new connection in the same process, which makes the same API calls (no login: tokens and metadata come from
disk), so "first - warm" is the start-up cost beyond API time. Also shown: what each path imports of SQLAlchemy,
sqlglot, httpx, pandas and authlib.

The processes read compiled bytecode, as an installed package's do: with `PYTHONDONTWRITEBYTECODE` in the
environment every process would compile duckfed's own modules again (~0.08 s of a first query that no user's
process spends), so they keep a bytecode cache of their own (`PYTHONPYCACHEPREFIX`), filled by a warm-up run of
each case.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection

from federation.sandbox import Sandbox

HEAVY = ("sqlalchemy", "sqlglot", "httpx", "pandas", "authlib")
SOURCE, TABLE, WHERE = "template", "contacts", "city = 'Paris'"

IMPORT_BASE = """
import time, sys, json
t = time.perf_counter()
import duckdb, pyarrow
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

IMPORT_FEDERATION = """
import time, sys, json
t = time.perf_counter()
import federation
print(json.dumps({"seconds": time.perf_counter() - t, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""

FIRST_QUERY = """
import time, sys, json
import federation
PROPS = json.loads(sys.argv[1])
SQL = "SELECT * FROM src.TABLE WHERE WHERE LIMIT 10"

def once():
    t = time.perf_counter()
    con = federation.connect({"src": PROPS})
    rows = con.execute(SQL).fetchall()
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed, rows

first, rows = once()
loaded = [m for m in HEAVY if m in sys.modules]
warm, again = once()
assert rows == again and rows, rows
print(json.dumps({"seconds": first, "warm": warm, "loaded": loaded}))
"""

FIRST_SQLALCHEMY = """
import time, sys, json
t = time.perf_counter()
from sqlalchemy import create_engine, text
imported = time.perf_counter() - t
URL = sys.argv[1]
SQL = "SELECT * FROM TABLE WHERE WHERE LIMIT 10"

def once():
    t = time.perf_counter()
    engine = create_engine(URL)
    with engine.connect() as con:
        rows = con.execute(text(SQL)).fetchall()
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed, rows

first, rows = once()
loaded = [m for m in HEAVY if m in sys.modules]
warm, again = once()
assert rows == again and rows, rows
print(json.dumps({"seconds": first + imported, "warm": warm, "loaded": loaded}))
"""


def serve(pipe: Connection) -> None:
    """The sandbox, in its own process: sends the source's properties, serves until told to stop."""
    with Sandbox(sources=[SOURCE]) as sandbox:
        pipe.send((sandbox.properties(SOURCE), sandbox.url(SOURCE)))
        pipe.recv()


def run(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    code = code.replace("HEAVY", repr(HEAVY)).replace("TABLE", TABLE).replace("WHERE WHERE", f"WHERE {WHERE}")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cache = tempfile.TemporaryDirectory(prefix="duckfed-bytecode-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache.name
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs,))
    server.start()
    try:
        properties, url = ours.recv()
        props = json.dumps({**properties, "scheme": SOURCE})
        cases = [
            ("import duckdb, pyarrow", IMPORT_BASE, ()),
            ("import federation", IMPORT_FEDERATION, ()),
            ("first query, federation.connect", FIRST_QUERY, (props,)),
            ("first query, SQLAlchemy (import included)", FIRST_SQLALCHEMY, (url,)),
        ]
        # Log in once, fill the metadata cache (as a user's earlier process did) and compile every module each
        # case imports.
        for _, code, extra in cases:
            run(code, *extra, env=env)
        results: dict[str, list[dict[str, object]]] = {title: [] for title, _, _ in cases}
        for _ in range(args.repeat):  # interleaved, so drift in the machine's load hits every case alike
            for title, code, extra in cases:
                results[title].append(run(code, *extra, env=env))
    finally:
        ours.send("stop")
        server.join()
        cache.cleanup()

    def median(title: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[title])  # type: ignore[arg-type]

    base = median("import duckdb, pyarrow", "seconds")
    print(f"median of {args.repeat} fresh processes; query: SELECT * FROM {TABLE} WHERE {WHERE} LIMIT 10\n")
    print(f"{'what':<44} {'seconds':>8} {'ratio':>6} {'warm':>6} {'beyond API':>10}  heavy modules loaded")
    for title, _, _ in cases:
        seconds = median(title, "seconds")
        warm = median(title, "warm") if "warm" in results[title][0] else None
        loaded = results[title][-1].get("loaded", [])
        beyond = f"{seconds - warm:>10.3f}" if warm is not None else f"{'':>10}"
        warm_text = f"{warm:>6.3f}" if warm is not None else f"{'':>6}"
        print(f"{title:<44} {seconds:>8.3f} {seconds / base:>5.2f}x {warm_text} {beyond}  {', '.join(loaded)}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
