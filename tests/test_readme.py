"""The README's snippets, run as written against the sandbox, so the README can't drift from the product.

Python blocks run in order in one namespace, as a reader pasting them into one session would, changed only
where the sandbox needs it: each source URL gets the sandbox's `URL=`, each `…` in it the sandbox's credential
for that property, and the vendors' `/PATH/TO/OAuthSettings.txt` a writable file. In `bash` blocks every `duckfed`
command runs, in-process through `federation.cli.main`, except `duckfed sandbox`, which serves until stopped: it
runs as a subprocess of the installed command, and a URL it prints is used as it is. The set-up commands around
them (`python3 -m venv`, `pip install`, `python -m pytest`) are not run here: they need the network, or are
this suite. Everything runs in a temporary directory with a temporary home, for the files the snippets write.
"""

from __future__ import annotations

import logging
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import federation
from connectors.salesforce.emulator import CLIENT_ID, CLIENT_SECRET
from federation.cli import main
from federation.registry import schemes
from federation.sandbox import Sandbox
from federation.settings import normalize

README = Path(__file__).resolve().parent.parent / "README.md"
SYNC_DOC = README.with_name("docs") / "sync.md"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
#: The DuckDB CLI's postgres extension, as the README's test command installs it.
POSTGRES_EXTENSION = (
    Path(sys.prefix) / "duckdb-extensions/duckdb_extension_postgres/extensions/v1.5.5/postgres.duckdb_extension"
)
#: The port the README's `duckfed serve` listens on and its clients connect to.
SERVED_PORT = "port=5433"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# A URL ends at a quote, except a value quoted inside it (Exact Online's `Region='United States'`).
SOURCE_URL = re.compile(rf"\b({'|'.join(schemes())}):///\?(?:[^\n\"']|'[^'\n\"]*'(?=[&\"\n]))*")
#: What an OAuth source's example leaves for the user to add: their app's client, and its redirect URL.
OAUTH_CLIENT = ("OAuthClientId", "OAuthClientSecret", "CallbackURL")
#: The smallest valid PNG (1 by 1 pixel), for the Act-On example's upload of logo.png.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
SETUP = ("python3 -m venv .venv", ".venv/bin/pip install", ".venv/bin/python -m pytest")


def blocks(language: str, document: Path = README) -> list[tuple[int, str]]:
    """(line number, text) of every fenced block of `language` in the README (or another document)."""
    text = document.read_text()
    return [(text[: m.start()].count("\n") + 2, m.group(2)) for m in BLOCK.finditer(text) if m.group(1) == language]


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox of every source; the snippets' files go to a temporary directory and home."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "logo.png").write_bytes(PNG)
    with Sandbox() as running:
        yield running


def for_sandbox(sandbox: Sandbox, text: str, settings: Path) -> str:
    """`text` with every source URL pointed at the sandbox and its `…` filled with the sandbox's credentials."""

    def point(match: re.Match[str]) -> str:
        scheme, url = match.group(1), match.group(0)
        # The sandbox's own credentials first; the Salesforce emulator's OAuth client for a Salesforce URL that asks.
        known = {"OAuthClientId": CLIENT_ID, "OAuthClientSecret": CLIENT_SECRET, **sandbox.properties(scheme)}
        values = {normalize(name): value for name, value in known.items()}
        url = re.sub(r"([\w ]+)=…", lambda m: f"{m.group(1)}={quote(values[normalize(m.group(1))], safe='')}", url)
        url = url.replace("/PATH/TO/OAuthSettings.txt", str(settings))
        given = {normalize(part.split("=", 1)[0]) for part in url.split("?", 1)[1].split("&")}
        sandboxed = sandbox.properties(scheme)
        if "initiateoauth" in given and not any(normalize(n) in given for n in ("User", "OAuthClientId")):
            # An OAuth example: the user adds their app's client (here the sandbox's) to it.
            extra = {n: sandboxed[n] for n in OAUTH_CLIENT if n in sandboxed and normalize(n) not in given}
            url += "".join(f"&{n}={quote(v, safe='')}" for n, v in extra.items())
        return f"{url}&URL={quote(sandbox.endpoint(scheme), safe='')}"

    pointed = SOURCE_URL.sub(point, text)
    assert "…" not in pointed, f"a placeholder the sandbox can't fill: {pointed}"
    return pointed


def test_the_python_snippets_run_as_written(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    snippets = [(line, code) for line, code in blocks("python") if not talks_to_the_server(code)]
    assert len(snippets) >= 4
    try:
        for line, code in snippets:
            pointed = for_sandbox(sandbox, code, tmp_path / "OAuthSettings.txt")
            # dont_inherit: the snippet runs without this module's `from __future__ import annotations`.
            exec(compile(pointed, f"README.md:{line}", "exec", dont_inherit=True), namespace)
    finally:
        for opened in ("con", "session"):
            if opened in namespace:
                namespace[opened].close()
    out = capsys.readouterr().out
    # The vendors' example finds the sandbox's floppy-disk accounts, and its login session is kept.
    assert out.count("BillingState: ") >= 1
    # The other vendors' examples find what their sandboxes hold for them.
    assert "TotalDue: " in out and "CreditLinePurchase: " in out and "FolderName:  New Folder" in out
    assert (tmp_path / "OAuthSettings.txt").stat().st_mode & 0o777 == 0o600
    assert Path("invoices.parquet").stat().st_size > 0
    held = {r["Name"] for r in sandbox.server("financialforce").store.records("Account")}
    assert "Acme" in held and "Acme Robotics" not in held  # inserted by SQL; added, changed and deleted by the ORM


def commands_of(text: str) -> list[str]:
    """The commands of a bash block but the set-up ones."""
    commands = []
    for line in text.splitlines():
        for command in line.split(" && "):
            command = command.strip()
            if command and not command.startswith("#") and not command.startswith(SETUP):
                commands.append(command)
    return commands


def uses_the_duckdb_cli(text: str) -> bool:
    return any(command.startswith("duckdb ") for command in commands_of(text)) and not serves(text)


def serves(text: str) -> bool:
    """A block starting `duckfed serve`, whose other commands are its clients (`test_duckfed_serve_…`)."""
    return any(command.startswith("duckfed serve") for command in commands_of(text))


def talks_to_the_server(code: str) -> bool:
    """A Python snippet that connects to the README's `duckfed serve` (run by `test_duckfed_serve_…`)."""
    return SERVED_PORT in code


def cli_commands() -> list[str]:
    """Every command of the README's bash blocks but the set-up ones and those of blocks that the DuckDB CLI reads
    a file in (`cli_sequences`); any other that is no `duckfed` command fails `run_cli`, so none is passed over
    unseen."""
    return [
        c for _, text in blocks("bash") if not uses_the_duckdb_cli(text) and not serves(text) for c in commands_of(text)
    ]


def cli_sequences() -> list[tuple[str, list[str]]]:
    """Commands that run in order in one directory, each reading what the ones before it wrote: every README bash
    block with a `duckdb` command (the DuckDB CLI opening a file `duckfed sync` wrote), and all of docs/sync.md's."""
    sequences = [(f"README.md:{line}", commands_of(text)) for line, text in blocks("bash") if uses_the_duckdb_cli(text)]
    sequences.append(("docs/sync.md", [c for _, text in blocks("bash", SYNC_DOC) for c in commands_of(text)]))
    return sequences


def run_cli(command: str, sandbox: Sandbox, settings: Path) -> int:
    argv = shlex.split(for_sandbox(sandbox, command, settings), comments=True)
    if argv[0] == "duckdb":
        # The DuckDB CLI from the package index (`duckdb-cli`, a dev dependency), beside this interpreter.
        done = subprocess.run([str(DUCKDB_CLI), *argv[1:]], capture_output=True, text=True, timeout=60)
        print(done.stdout, end="")
        print(done.stderr, end="", file=sys.stderr)
        return done.returncode
    assert Path(argv[0]).name == "duckfed", command
    return main(argv[1:])


@pytest.mark.parametrize("command", [c for c in cli_commands() if shlex.split(c, comments=True)[1:] != ["sandbox"]])
def test_the_command_lines_run_as_written(
    sandbox: Sandbox, tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert run_cli(command, sandbox, tmp_path / "OAuthSettings.txt") == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert captured.err in ("", "wrote accounts.parquet\n"), captured.err
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if "EXPLAIN" in command:
        assert "ARROW_SCAN" in captured.out


@pytest.mark.parametrize(("where", "commands"), cli_sequences(), ids=[where for where, _ in cli_sequences()])
def test_the_duckdb_cli_reads_what_the_commands_before_it_wrote(
    sandbox: Sandbox, tmp_path: Path, where: str, commands: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert any(c.startswith("duckdb ") for c in commands) and any(c.startswith("duckfed sync ") for c in commands)
    for command in commands:
        assert run_cli(command, sandbox, tmp_path / "OAuthSettings.txt") == 0, (command, capsys.readouterr().err)
        captured = capsys.readouterr()
        if command.startswith("duckdb "):
            # The CLI's box drawing around a result with rows, and no error.
            assert captured.err == "" and "│" in captured.out, (command, captured)
        else:
            assert " FAILED " not in captured.out, (command, captured.out)


def test_duckfed_sandbox_prints_urls_that_work_as_they_are(tmp_path: Path) -> None:
    assert [c for c in cli_commands() if shlex.split(c, comments=True)[1:] == ["sandbox"]]
    command = Path(sys.executable).with_name("duckfed")
    server = subprocess.Popen([str(command), "sandbox"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    # Should its output change, reading it would wait forever: stop the server after a minute regardless.
    deadline = threading.Timer(60, server.kill)
    deadline.start()
    try:
        assert server.stdout is not None
        urls: dict[str, str] = {}
        for line in server.stdout:
            found = re.match(r"\s+(\w+): (\S+)$", line)
            if found:
                urls[found.group(1)] = found.group(2)
            if {"financialforce", "certinia"} <= set(urls):
                break
        with federation.connect(urls["certinia"]) as con:
            assert con.execute("SELECT count(*) FROM pse__Proj__c").fetchone() == (1000,)
    finally:
        deadline.cancel()
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


def test_duckfed_serve_answers_the_clients_as_written(tmp_path: Path) -> None:
    """The README's `duckfed serve` line runs as a subprocess until it prints `listening on`; the block's `duckdb`
    and `psql` lines and the Python snippets that connect to it then run against it, changed only where the test
    needs it: a free port instead of 5433, and the DuckDB CLI given the extension file the test command installed
    (loaded under the name `postgres_scanner`, as it must be) instead of downloading it."""
    (block,) = [text for _, text in blocks("bash") if serves(text)]
    serve, *clients = commands_of(block)
    assert clients and serve.startswith("duckfed serve")
    assert POSTGRES_EXTENSION.exists(), "install the extension: the second command at the top of the README"
    extension = tmp_path / "postgres_scanner.duckdb_extension"
    extension.write_bytes(POSTGRES_EXTENSION.read_bytes())
    argv = shlex.split(serve, comments=True)
    command = Path(sys.executable).with_name("duckfed")
    server = subprocess.Popen(
        [str(command), *argv[1:], "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    deadline = threading.Timer(120, server.kill)  # should its output change, reading it would wait forever
    deadline.start()
    try:
        assert server.stdout is not None
        port = ""
        for line in server.stdout:
            found = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
            if found:
                port = found.group(1)
                break
        assert port, "duckfed serve ended without listening"
        for client in clients:
            words = shlex.split(client.replace(SERVED_PORT, f"port={port}"), comments=True)
            if words[0] == "duckdb":
                words = [str(DUCKDB_CLI), "-cmd", f"LOAD '{extension}'", *words[1:]]
            assert words[0] in (str(DUCKDB_CLI), "psql"), client
            done = subprocess.run(words, capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert done.returncode == 0 and done.stderr == "", (client, done.stderr)
            assert ("Name" in done.stdout or "Industry" in done.stdout) and len(done.stdout.splitlines()) > 4, client
        snippets = [(line, code) for line, code in blocks("python") if talks_to_the_server(code)]
        assert snippets
        namespace: dict[str, Any] = {"__name__": "readme"}
        for line, code in snippets:
            pointed = code.replace(SERVED_PORT, f"port={port}")
            exec(compile(pointed, f"README.md:{line}", "exec", dont_inherit=True), namespace)
        assert namespace["banks"]
    finally:
        deadline.cancel()
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
