"""A TOML file of sources, for `duckfed:///sources.toml`: several sources with their credentials in one place.

```toml
[sources.fin]                    # a source URL, as `federation.connect` takes it
url = "financialforce:///?User=me&Password=secret&SecurityToken=token"

[sources.gl]                     # or its scheme and properties, unencoded (`URL` is the API's base URL, as always)
scheme = "sageintacct"
CompanyId = "acme"
UserId = "me"
Password = "secret"
```

The file holds secrets, so it is read only when no other user can read or change it (`chmod 600`), as ssh treats
its keys. Errors name the file and the source, never a value.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from federation.errors import ConfigurationError
from federation.registry import connector_class, parse_source_url

#: A source as `federation.connect` takes it: a URL, or a mapping of properties with a `scheme` key.
Source = str | dict[str, str]


def read_sources(path: str | os.PathLike[str]) -> dict[str, Source]:
    """The sources the file at `path` names, by source name, each scheme checked to be installed."""
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"no sources file {str(file)!r}") from None
    except OSError as error:
        raise ConfigurationError(f"can't read the sources file {str(file)!r}: {error.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the sources file {str(file)!r} holds credentials, but other users can read or change it (mode "
            f"{stat.filemode(mode)}): make it yours alone with `chmod 600 {file}`"
        )
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"the sources file {str(file)!r} is not valid TOML: {error}") from None
    sources = document.get("sources")
    unknown = [key for key in document if key != "sources"]
    if not isinstance(sources, dict) or not sources or unknown:
        raise ConfigurationError(
            f"the sources file {str(file)!r} holds one [sources.NAME] table per source"
            + (f", and nothing else (not {', '.join(unknown)})" if unknown else "")
        )
    return {name: _source(file, name, entry) for name, entry in sources.items()}


def _source(file: Path, name: str, entry: object) -> Source:
    where = f"source {name!r} in {str(file)!r}"
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a table ([sources.{name}]) with `url`, or `scheme` and properties")
    if "scheme" not in entry:
        url = entry.get("url")
        if set(entry) != {"url"} or not isinstance(url, str):
            raise ConfigurationError(
                f"{where}: give either `url` (a source URL) alone, or `scheme` with the connection properties"
            )
        try:
            scheme = parse_source_url(url)[0]
        except ConfigurationError:  # its message quotes the value, which may be a secret
            raise ConfigurationError(f"{where}: `url` is not a source URL (scheme:///?Property=value&…)") from None
        _check_scheme(where, scheme)
        return url
    properties: dict[str, str] = {}
    for key, value in entry.items():
        if isinstance(value, bool):
            properties[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            properties[key] = str(value)
        else:
            raise ConfigurationError(f"{where}: property {key} must be a string, number or boolean")
    _check_scheme(where, properties["scheme"])
    return properties


def _check_scheme(where: str, scheme: str) -> None:
    try:
        connector_class(scheme)
    except ConfigurationError as error:
        raise ConfigurationError(f"{where}: {error.message}") from None
