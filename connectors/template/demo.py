"""The template source's part of `duckfed demo`: OAuth consent on the sandbox, then a query whose filter the
API evaluates (its `where` JSON), with the API calls it cost."""

from __future__ import annotations

from pathlib import Path

from federation.connection import connect
from federation.sandbox import Sandbox


def demo(sandbox: Sandbox, workdir: Path) -> None:
    print("\n== Template API (JSON REST, OAuth authorization code with PKCE, key paging)")
    before = sandbox.calls("template")
    with connect({"tpl": sandbox.url("template")}) as con:
        print(
            con.sql(
                "SELECT city, count(*) AS contacts, round(avg(score), 2) AS avg_score FROM tpl.contacts "
                "WHERE active AND city IS NOT NULL GROUP BY city ORDER BY contacts DESC, city LIMIT 5"
            )
        )
    print(f"   API calls: {sandbox.calls('template') - before} (consent, token, tables, describe, pages)")
