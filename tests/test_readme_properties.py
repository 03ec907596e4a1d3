"""The README's property tables are generated from the connectors' settings declarations and must not drift.

Run with DUCKFED_UPDATE_README=1 to rewrite them in place.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from federation.connector import CommonSettings
from federation.oauth import OAuthSettings
from federation.registry import connector_class
from federation.settings import describe_properties

README = Path(__file__).resolve().parent.parent / "README.md"
REGION = re.compile(r"(<!-- properties:(\w+) -->\n)(.*?)(<!-- /properties -->)", re.DOTALL)


def table(region: str) -> str:
    shared = {p.name for p in (*CommonSettings.properties(), *OAuthSettings.properties())}
    if region == "common":
        return describe_properties(CommonSettings.properties())
    if region == "oauth":
        return describe_properties(OAuthSettings.properties())
    own = [p for p in connector_class(region).all_properties() if p.name not in shared]
    return describe_properties(own)


def test_the_readme_property_tables_match_the_declarations() -> None:
    text = README.read_text(encoding="utf-8")
    regions = REGION.findall(text)
    assert {name for _, name, _, _ in regions} >= {"common", "oauth", "financialforce"}
    expected = REGION.sub(lambda m: m.group(1) + table(m.group(2)) + m.group(4), text)
    if os.environ.get("DUCKFED_UPDATE_README"):
        README.write_text(expected, encoding="utf-8")
    assert text == expected, "README property tables are stale: run with DUCKFED_UPDATE_README=1 to regenerate"
