"""The Act-On source's part of `duckfed demo`: OAuth consent on the sandbox, then the vendor's image query and a
contact-list aggregate, with the API calls they cost (Act-On allows 5 a second)."""

from __future__ import annotations

from pathlib import Path

from federation.connection import connect
from federation.sandbox import Sandbox


def demo(sandbox: Sandbox, workdir: Path) -> None:
    print("\n== Act-On (REST, OAuth with tokens kept across processes, 5 calls a second)")
    before = sandbox.calls("acton")
    with connect({"acton": sandbox.url("acton")}) as con:
        print(
            con.sql("SELECT Name, Size, Width FROM acton.Images WHERE FolderName = 'New Folder' ORDER BY Name LIMIT 5")
        )
        print(
            con.sql(
                'SELECT "Lead Source", count(*) AS contacts FROM acton.List_Newsletter '
                'WHERE "Lead Source" IS NOT NULL GROUP BY ALL ORDER BY contacts DESC'
            )
        )
    print(f"   API calls: {sandbox.calls('acton') - before} (consent, token, lists, describe, images, record pages)")
