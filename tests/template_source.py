"""Connection properties for the template connector against a test's own `TemplateEmulator`: its OAuth client,
a free callback port (parallel workers never collide), and a token file and metadata cache in the test's
directory."""

from __future__ import annotations

from pathlib import Path

from connectors.template.emulator import CLIENT_ID, CLIENT_SECRET, TemplateEmulator
from federation.sandbox import free_port


def template_properties(emulator: TemplateEmulator, directory: Path, **extra: str) -> dict[str, str]:
    return {
        "URL": emulator.url,
        "InitiateOAuth": "GETANDREFRESH",
        "OAuthClientId": CLIENT_ID,
        "OAuthClientSecret": CLIENT_SECRET,
        "CallbackURL": f"http://127.0.0.1:{free_port()}/callback",
        "OAuthSettingsLocation": str(directory / "tokens.json"),
        "MetadataCacheDir": str(directory / "cache"),
        **extra,
    }
