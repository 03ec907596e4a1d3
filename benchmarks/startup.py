"""Cold start: what `import federation` and a first query cost a fresh process, against importing DuckDB and Arrow.

    python benchmarks/startup.py [--repeat 7] [--dev-only]

Each figure is the median over `--repeat` fresh interpreters (`python -c`), in one run. The sandbox's emulators run
in a process of their own, started once, with a warm metadata cache and stored tokens, as a user's second process
would find them. A first query is timed from the line after the import to its last row; "warm" is the same query
on a new connection in the same process, which makes the same API calls (no login: tokens and metadata come from
disk), so "first - warm" is the start-up cost beyond API time. "+ import line" adds the line a user's script
imports the path with (`import federation`; `from sqlalchemy import create_engine, text`, after which
`create_engine` imports duckdb-engine and duckfed): the whole cold start of a fresh process, beyond API time.

Also shown: what each path imports of SQLAlchemy, sqlglot, httpx, pandas and authlib; and, under each first query,
what the libraries that path can't do without cost on their own, with one DuckDB connection (`COMPONENTS`), to
set against its "+ import line": the difference is duckfed's own code. And how this machine's speed compares with
the one the targets were set on, by the one import timed on both (`import sqlalchemy`, 0.172 s there).

The processes read compiled bytecode, as an installed package's do: with `PYTHONDONTWRITEBYTECODE` in the
environment every process would compile duckfed's own modules again (~0.08 s of a first query that no user's
process spends), so they keep a bytecode cache of their own (`PYTHONPYCACHEPREFIX`), filled by a warm-up run of
each case.

Two environments are measured, unless `--dev-only`: this one (the test environment, with every extra) and a core
install (`pip install duckfed` into a fresh virtual environment, made by the script from this checkout's files),
which is what a user without the extras runs. They differ in what third-party packages import when present:
pyarrow imports pandas on its first conversion of Python values when pandas is installed (`pa.scalar`, `pa.array`
of a list: pyarrow's `_is_array_like`, which DuckDB's filter translation calls), and httpx imports its command
line's `rich` and `click` when they are installed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import venv
from multiprocessing.connection import Connection
from pathlib import Path

from federation.sandbox import Sandbox

HEAVY = ("sqlalchemy", "sqlglot", "httpx", "pandas", "authlib")
SOURCE, TABLE, WHERE = "template", "contacts", "city = 'Paris'"

IMPORT_BASE = """
import time, sys, json
t = time.perf_counter()
import duckdb, pyarrow
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

#: The one import the issue that set the cold-start targets timed on its machine: 0.172 s (`REFERENCE`).
IMPORT_SQLALCHEMY = """
import time, sys, json
t = time.perf_counter()
import sqlalchemy
print(json.dumps({"seconds": time.perf_counter() - t}))
"""
REFERENCE = ("import sqlalchemy", 0.172)
#: The targets for a first query beyond API time, set on the reference machine.
TARGETS = {"first query, federation.connect": 0.5, "first query, SQLAlchemy": 0.8}

IMPORT_FEDERATION = """
import time, sys, json
t = time.perf_counter()
import federation
print(json.dumps({"seconds": time.perf_counter() - t, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""

#: What a first query can't do without, timed alone: the libraries each path must load (SQLAlchemy's own import and
#: duckdb-engine's, which loads SQLAlchemy's PostgreSQL dialects and opens a DuckDB database to probe it; Arrow's
#: compute and JSON modules; sqlglot with its DuckDB dialect, which the planner parses every statement with; httpx)
#: and one DuckDB connection. A first query's time beyond this is what duckfed's own code costs.
COMPONENTS = """
import time, sys, json
t = time.perf_counter()
if sys.argv[1] == "sqlalchemy":
    import sqlalchemy, duckdb_engine
import duckdb, pyarrow, pyarrow.compute, pyarrow.json, sqlglot, httpx
sqlglot.parse_one("SELECT 1", read="duckdb")
duckdb.connect().close()
print(json.dumps({"seconds": time.perf_counter() - t}))
"""

FIRST_QUERY = """
import time, sys, json
t = time.perf_counter()
import federation
imported = time.perf_counter() - t
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
print(json.dumps({"seconds": first, "warm": warm, "imported": imported, "loaded": loaded}))
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
print(json.dumps({"seconds": first, "warm": warm, "imported": imported, "loaded": loaded}))
"""


def serve(pipe: Connection) -> None:
    """The sandbox, in its own process: sends the source's properties, serves until told to stop."""
    with Sandbox(sources=[SOURCE]) as sandbox:
        pipe.send((sandbox.properties(SOURCE), sandbox.url(SOURCE)))
        pipe.recv()


def run(python: str, code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    code = code.replace("HEAVY", repr(HEAVY)).replace("TABLE", TABLE).replace("WHERE WHERE", f"WHERE {WHERE}")
    done = subprocess.run([python, "-c", code, *args], capture_output=True, text=True, check=True, env=env)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def core_install(where: Path) -> str:
    """A fresh virtual environment with duckfed installed without extras; its interpreter. The checkout's files are
    copied first, so building the package leaves nothing in the checkout."""
    root = Path(__file__).resolve().parents[1]
    source = where / "source"
    skipped = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache")
    shutil.copytree(root, source, ignore=skipped)
    venv.create(where / "venv", with_pip=True)
    python = str(where / "venv" / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "-q", str(source)], capture_output=True, text=True)
    if installed.returncode:
        sys.exit(f"pip install of the core package failed:\n{installed.stdout}{installed.stderr}")
    return python


def measure(
    python: str, cases: list[tuple[str, str, tuple[str, ...]]], repeat: int, env: dict[str, str]
) -> dict[str, list[dict[str, object]]]:
    # Log in once, fill the metadata cache (as a user's earlier process did) and compile every module each case
    # imports.
    for _, code, extra in cases:
        run(python, code, *extra, env=env)
    results: dict[str, list[dict[str, object]]] = {title: [] for title, _, _ in cases}
    for _ in range(repeat):  # interleaved, so drift in the machine's load hits every case alike
        for title, code, extra in cases:
            results[title].append(run(python, code, *extra, env=env))
    return results


def table(results: dict[str, list[dict[str, object]]]) -> None:
    def median(title: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[title])  # type: ignore[arg-type]

    def cell(value: float | None, width: int) -> str:
        return f"{value:>{width}.3f}" if value is not None else " " * width

    base = median("import duckdb, pyarrow", "seconds")
    print(
        f"{'what':<44} {'seconds':>8} {'ratio':>6} {'warm':>6} {'beyond API':>10} {'+ import line':>13}  "
        "heavy modules loaded"
    )
    for title, runs in results.items():
        seconds = median(title, "seconds")
        warm = median(title, "warm") if "warm" in runs[0] else None
        beyond = None if warm is None else seconds - warm
        with_import = None if beyond is None else beyond + median(title, "imported")
        loaded = ", ".join(runs[-1].get("loaded", []))  # type: ignore[arg-type]
        print(
            f"{title:<44} {seconds:>8.3f} {seconds / base:>5.2f}x {cell(warm, 6)} {cell(beyond, 10)} "
            f"{cell(with_import, 13)}  {loaded}"
        )
    factor = median(REFERENCE[0], "seconds") / REFERENCE[1]
    scaled = ", ".join(f"{title[len('first query, ') :]} {target * factor:.3f} s" for title, target in TARGETS.items())
    print(
        f"`{REFERENCE[0]}` takes {factor:.2f}x the {REFERENCE[1]} s of the machine the targets were set on: at that "
        f"speed, their {' and '.join(f'{t} s' for t in TARGETS.values())} are {scaled} here."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--dev-only", action="store_true", help="skip the core install (it is built from the registry)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="duckfed-startup-")
    pythons = {"this environment (every extra)": sys.executable}
    if not args.dev_only:
        pythons["core install (pip install duckfed)"] = core_install(Path(scratch.name))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(scratch.name) / "bytecode")
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(theirs,))
    server.start()
    try:
        properties, url = ours.recv()
        props = json.dumps({**properties, "scheme": SOURCE})
        cases = [
            ("import duckdb, pyarrow", IMPORT_BASE, ()),
            ("import federation", IMPORT_FEDERATION, ()),
            (REFERENCE[0], IMPORT_SQLALCHEMY, ()),
            ("first query, federation.connect", FIRST_QUERY, (props,)),
            ("  libraries it must load, and a DuckDB", COMPONENTS, ("federation",)),
            ("first query, SQLAlchemy", FIRST_SQLALCHEMY, (url,)),
            ("  libraries it must load, and a DuckDB (+SA)", COMPONENTS, ("sqlalchemy",)),
        ]
        measured = {name: measure(python, cases, args.repeat, env) for name, python in pythons.items()}
    finally:
        ours.send("stop")
        server.join()
        scratch.cleanup()

    print(f"median of {args.repeat} fresh processes; query: SELECT * FROM {TABLE} WHERE {WHERE} LIMIT 10")
    for name, results in measured.items():
        print(f"\n{name}")
        table(results)


if __name__ == "__main__":
    main()
