"""`duckfed:///sources.toml`: the sources of one SQLAlchemy engine, credentials included, in a TOML file that only
its owner can read; cross-source joins from it equal `federation.connect`'s."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

import federation
from federation.errors import ConfigurationError
from federation.sandbox import Sandbox

CITIES = """
SELECT c.city, count(DISTINCT c.id) AS contacts, count(DISTINCT a.Id) AS accounts
FROM tpl.contacts AS c JOIN fin.Account AS a ON a.BillingCity = c.city
GROUP BY c.city ORDER BY c.city
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=200, sources=["financialforce", "template"]) as running:
        yield running


@pytest.fixture(scope="module")
def expected(sandbox: Sandbox) -> list[tuple[object, ...]]:
    with federation.connect({"fin": sandbox.url("financialforce"), "tpl": sandbox.url("template")}) as con:
        rows: list[tuple[object, ...]] = con.sql(CITIES).fetchall()
    return rows


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def properties_table(name: str, scheme: str, properties: dict[str, str]) -> str:
    """A `[sources.NAME]` table giving the scheme and each property unencoded (JSON strings are TOML strings)."""
    lines = [f"[sources.{name}]", f"scheme = {json.dumps(scheme)}"]
    lines += [f"{json.dumps(key)} = {json.dumps(value)}" for key, value in properties.items()]
    return "\n".join(lines) + "\n"


def test_a_join_across_a_files_sources_equals_federation_connect(
    sandbox: Sandbox, expected: list[tuple[object, ...]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One source as a URL, the other as its scheme and properties; named relative to the working directory.
    config = write(
        tmp_path / "sources.toml",
        f"[sources.fin]\nurl = {json.dumps(sandbox.url('financialforce'))}\n\n"
        + properties_table("tpl", "template", sandbox.properties("template")),
    )
    monkeypatch.chdir(tmp_path)
    engine = create_engine("duckfed:///sources.toml")
    try:
        with engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(text(CITIES))]
        assert len(expected) > 5 and rows == expected
        assert list(pd.read_sql(text(CITIES), engine).itertuples(index=False, name=None)) == expected
        # The URL names the file only: nothing in it to mask.
        assert repr(engine.url) == "duckfed:///sources.toml"
    finally:
        engine.dispose()
    # An absolute path, as SQLite's: four slashes.
    absolute = create_engine(f"duckfed:///{config}")
    try:
        with absolute.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM tpl.contacts")).scalar() == 200
    finally:
        absolute.dispose()


def test_the_query_string_adds_sources_to_the_files(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write(
        tmp_path / "fin.toml", properties_table("fin", "financialforce", sandbox.properties("financialforce"))
    )
    engine = create_engine(f"duckfed:///{config}?tpl={quote(sandbox.url('template'), safe='')}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM fin.Account")).scalar() == 200
            assert connection.execute(text("SELECT count(*) FROM tpl.contacts")).scalar() == 200
        assert "myPassword" not in repr(engine.url)
    finally:
        engine.dispose()
    with pytest.raises(ConfigurationError, match=r"^FIN: the source is named twice"):
        create_engine(f"duckfed:///{config}?FIN={quote(sandbox.url('template'), safe='')}")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_file_other_users_can_read_or_change_is_refused(sandbox: Sandbox, tmp_path: Path, mode: int) -> None:
    config = write(
        tmp_path / "sources.toml", f"[sources.fin]\nurl = {json.dumps(sandbox.url('financialforce'))}\n", mode
    )
    with pytest.raises(
        ConfigurationError, match=rf"other users can read or change it .*`chmod 600 {config}`"
    ) as raised:
        create_engine(f"duckfed:///{config}")
    assert "myPassword" not in str(raised.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[sources.fin\nurl = 'x'", r"is not valid TOML"),
        ("[other]\nx = 1\n", r"holds one \[sources.NAME\] table per source, and nothing else \(not other\)"),
        ("[sources]\n", r"holds one \[sources.NAME\] table per source"),
        ("[sources]\nfin = 'template:///'\n", r"source 'fin' in .*: expected a table"),
        (
            "[sources.fin]\nurl = 'template:///'\nPassword = 'hunter2'\n",
            r"source 'fin' in .*: give either `url` \(a source URL\) alone, or `scheme`",
        ),
        ("[sources.fin]\nscheme = 'nosuchsource'\nPassword = 'hunter2'\n", r"source 'fin' in .*: unknown source"),
        ("[sources.fin]\nurl = 'nosuchsource:///?Password=hunter2'\n", r"source 'fin' in .*: unknown source"),
        ("[sources.fin]\nurl = 'hunter2'\n", r"source 'fin' in .*: `url` is not a source URL"),
        ("[sources.fin]\nscheme = 'template'\nPageSize = [1, 2]\n", r"property PageSize must be a string, number"),
        ("[sources.main]\nurl = 'template:///'\n", r"source name 'main' must be a plain identifier"),
        (
            "[sources.fin]\nurl = 'template:///'\n[sources.FIN]\nurl = 'template:///'\n",
            r"^FIN: the source is named twice",
        ),
    ],
)
def test_a_bad_file_is_refused_when_the_engine_is_created(tmp_path: Path, content: str, message: str) -> None:
    config = write(tmp_path / "sources.toml", content)
    with pytest.raises(ConfigurationError, match=message) as raised:
        create_engine(f"duckfed:///{config}")
    assert "hunter2" not in str(raised.value)


def test_a_missing_file_and_a_path_that_is_no_toml_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no sources file '.*missing.toml'"):
        create_engine(f"duckfed:///{tmp_path / 'missing.toml'}")
    with pytest.raises(ConfigurationError, match=r"in the query string only, or a file"):
        create_engine("duckfed:///file.db?fin=template:///")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_file_made_as_the_readme_makes_it_is_accepted(sandbox: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.touch(mode=0o600)
    config.write_text(f"[sources.tpl]\nurl = {json.dumps(sandbox.url('template'))}\n")
    engine = create_engine(f"duckfed:///{config}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM tpl.contacts")).scalar() == 200
    finally:
        engine.dispose()
