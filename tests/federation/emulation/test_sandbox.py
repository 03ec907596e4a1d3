"""The sandbox protocol: specs given directly or by entry point, the properties a source needs, callback ports."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from federation.errors import ConfigurationError
from federation.sandbox import Sandbox, SandboxServer, SandboxSpec

from .toy import PASSWORD, USER, Toy


def toy_spec(*, oauth_callback: bool) -> SandboxSpec:
    return SandboxSpec(
        lambda records: Toy(records), {"User": USER, "Password": PASSWORD}, oauth_callback=oauth_callback
    )


def test_properties_hold_everything_a_source_needs() -> None:
    with Sandbox(records=5, specs={"toy": toy_spec(oauth_callback=False)}) as sandbox:
        server: SandboxServer = sandbox.server("toy")
        properties = sandbox.properties("toy")
        assert properties == {
            "User": USER,
            "Password": PASSWORD,
            "URL": server.url,
            "MetadataCacheDir": properties["MetadataCacheDir"],
        }
        assert sandbox.url("toy").startswith("toy:///?User=alice&")
        assert len(server.mutate("items", delete=1).deleted) == 1
        assert sandbox.calls("toy") == 0


def test_oauth_sources_get_a_free_callback_port_per_sandbox() -> None:
    specs = {"toy": toy_spec(oauth_callback=True)}
    with Sandbox(records=1, specs=specs) as one, Sandbox(records=1, specs=specs) as two:
        callbacks = [urlsplit(sandbox.properties("toy")["CallbackURL"]) for sandbox in (one, two)]
        assert all((url.scheme, url.hostname, url.path) == ("http", "127.0.0.1", "/callback") for url in callbacks)
        assert callbacks[0].port != callbacks[1].port
        for url in callbacks:
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", url.port or 0))  # free: a callback listener can take it


def test_unknown_sources_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"no sandbox for nope; there are: .*financialforce.*toy"):
        Sandbox(sources=["nope"], specs={"toy": toy_spec(oauth_callback=False)}).__enter__()
    with (
        Sandbox(records=1, specs={"toy": toy_spec(oauth_callback=False)}) as sandbox,
        pytest.raises(ConfigurationError, match="not running 'other'"),
    ):
        sandbox.properties("other")
