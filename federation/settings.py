"""Connection properties: parsed as the vendors' connectors spell them, typed, validated, secrets redacted.

Names match case-insensitively with spaces ignored (`Security Token` is `SecurityToken`), values arrive
URL-decoded (SQLAlchemy's URL parser decodes them). A connector declares its properties once, as the fields of
a frozen `Settings` dataclass:

```python
@dataclass(frozen=True)
class NotesSettings(OAuthSettings, CommonSettings):
    page_size: int = setting("PageSize", default=100, doc="Records per page (1-500).")
```

Each field carries the property's name, kind (from the annotation: `str`, `Secret`, `bool`, `int`, `float`,
`Path`; or given), default, aliases and doc. From that one declaration come parsing (`Settings.parse`, a
`ConfigurationError` that names the property and, for a misspelt one, the closest known name), masking, the
`duckfed properties` listing and the README's property tables.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import ipaddress
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from federation.errors import ConfigurationError


class Secret:
    """A credential: it never shows itself in a repr, str, log line or exception text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError("expected true or false")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    if any(ch.isspace() for ch in text.strip()):
        raise ValueError("a URL has no spaces (is a property's & missing?)")
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise ValueError("the port is not a number") from None
    # Passwords, session ids and tokens travel in every request: in clear only to this machine.
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise ValueError("plain http:// sends credentials in clear; use https://, or http:// only to a loopback host")
    return text.strip().rstrip("/")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("expected a positive whole number")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError("expected a non-negative number")
    return value


class Kind(enum.Enum):
    """How a property's text becomes a value."""

    TEXT = "text"
    SECRET = "secret"
    BOOLEAN = "boolean"
    URL = "url"
    PATH = "path"
    POSITIVE_INT = "positive integer"
    SECONDS = "seconds"
    CHOICE = "choice"


_CONVERTERS: dict[Kind, Callable[[str], Any]] = {
    Kind.TEXT: str,
    Kind.SECRET: Secret,
    Kind.BOOLEAN: _boolean,
    Kind.URL: _url,
    Kind.PATH: lambda text: Path(text).expanduser(),
    Kind.POSITIVE_INT: _positive_int,
    Kind.SECONDS: _non_negative_float,
}


@dataclass(frozen=True)
class Property:
    """One connection property as a vendor's connector names it."""

    name: str
    kind: Kind = Kind.TEXT
    default: object = None
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    doc: str = ""

    @property
    def secret(self) -> bool:
        return self.kind is Kind.SECRET

    def parse(self, text: str) -> object:
        if self.kind is Kind.CHOICE:
            for choice in self.choices:
                if choice.lower() == text.strip().lower():
                    return choice
            raise ConfigurationError(f"property {self.name} must be one of {', '.join(self.choices)}")
        try:
            return _CONVERTERS[self.kind](text)
        except ValueError as error:
            shown = "" if self.secret else f" {text!r}"
            raise ConfigurationError(f"property {self.name} has an invalid value{shown}: {error}") from None


def normalize(name: str) -> str:
    """The key a property name matches by: lowercase, with spaces, underscores and hyphens removed."""
    return "".join(ch for ch in name.lower() if ch not in " _-")


def parse_properties(properties: Sequence[Property], raw: Mapping[str, object], *, source: str) -> dict[str, object]:
    """Typed values for every declared property, keyed by its canonical name; raise on unknown or bad input."""
    by_key: dict[str, Property] = {}
    for prop in properties:
        for name in (prop.name, *prop.aliases):
            by_key[normalize(name)] = prop
    values: dict[str, object] = {}
    for name, value in raw.items():
        found = by_key.get(normalize(name))
        if found is None:
            known = sorted({p.name for p in properties})
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or difflib.get_close_matches(
                normalize(name), [normalize(k) for k in known], n=1, cutoff=0.6
            )
            hint = ""
            if close:
                match = next((k for k in known if normalize(k) == normalize(close[0])), close[0])
                hint = f"; did you mean {match}?"
            raise ConfigurationError(f"unknown connection property {name!r} for {source}{hint}", source=source)
        prop = found
        if prop.name in values:
            raise ConfigurationError(f"connection property {prop.name} is given twice", source=source)
        if isinstance(value, str):
            values[prop.name] = prop.parse(value)
        elif value is None:
            continue
        elif prop.kind is Kind.SECRET and not isinstance(value, Secret):
            values[prop.name] = Secret(str(value))
        else:
            values[prop.name] = prop.parse(str(value)) if not isinstance(value, bool | int | float | Path) else value
    for prop in properties:
        if prop.name not in values:
            if prop.required:
                raise ConfigurationError(f"connection property {prop.name} is required", source=source)
            values[prop.name] = prop.default
    return values


def redacted(properties: Sequence[Property], raw: Mapping[str, str]) -> dict[str, str]:
    """The raw properties for reprs and logs: only values of properties known not to be secret are shown, so a
    misspelt secret (`Pasword=…`) is masked too."""
    shown = {normalize(n) for p in properties if not p.secret for n in (p.name, *p.aliases)}
    return {k: (v if normalize(k) in shown else "***") for k, v in raw.items()}


# -- settings declared as dataclass fields ----------------------------------------------------------------------

_META = "duckfed.property"

_KIND_OF_TYPE: dict[object, Kind] = {
    str: Kind.TEXT,
    Secret: Kind.SECRET,
    bool: Kind.BOOLEAN,
    int: Kind.POSITIVE_INT,
    float: Kind.SECONDS,
    Path: Kind.PATH,
}


def setting(
    name: str,
    *,
    kind: Kind | None = None,
    default: Any = None,
    required: bool = False,
    choices: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    doc: str = "",
) -> Any:
    """A dataclass field that is also the connection property `name` (see the module docstring)."""
    spec = Property(name, kind or Kind.TEXT, default, required, choices, aliases, doc)
    return dataclasses.field(default=default, metadata={_META: (spec, kind is not None)})


def _plain_type(hint: object) -> object:
    """`X` for `X | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return options[0] if len(options) == 1 else hint
    return hint


@dataclass(frozen=True)
class Settings:
    """Typed connection settings: every field declared with `setting(...)` is a connection property."""

    _properties: ClassVar[dict[type, tuple[tuple[str, Property], ...]]] = {}

    @classmethod
    def fields(cls) -> tuple[tuple[str, Property], ...]:
        """(field name, property) for every declared property, in declaration order (base classes first)."""
        cached = Settings._properties.get(cls)
        if cached is not None:
            return cached
        hints = typing.get_type_hints(cls)
        found: list[tuple[str, Property]] = []
        for item in dataclasses.fields(cls):
            if _META not in item.metadata:
                continue
            spec, explicit = item.metadata[_META]
            if not explicit:
                kind = _KIND_OF_TYPE.get(_plain_type(hints[item.name]))
                if kind is None:
                    raise TypeError(f"{cls.__name__}.{item.name}: give setting(kind=...) for {hints[item.name]}")
                spec = dataclasses.replace(spec, kind=kind)
            found.append((item.name, spec))
        Settings._properties[cls] = tuple(found)
        return Settings._properties[cls]

    @classmethod
    def properties(cls) -> tuple[Property, ...]:
        return tuple(spec for _, spec in cls.fields())

    @classmethod
    def parse(cls, raw: Mapping[str, object], *, source: str) -> Self:
        """Settings from raw connection properties; raises `ConfigurationError` naming the bad property."""
        values = parse_properties(cls.properties(), raw, source=source)
        made = cls(**{name: values[spec.name] for name, spec in cls.fields()})
        made.check(source)
        return made

    def check(self, source: str) -> None:
        """Checks across properties (one needs another, ranges); raise `ConfigurationError`."""

    def by_property(self) -> dict[str, object]:
        """The values keyed by property name (`{"Pushdown": True, …}`)."""
        return {spec.name: getattr(self, name) for name, spec in self.fields()}


def describe_properties(properties: Sequence[Property]) -> str:
    """A Markdown table of properties: name, kind, default and doc (for `duckfed properties` and the README)."""
    lines = ["| property | kind | default | meaning |", "|---|---|---|---|"]
    for prop in properties:
        kind = f"one of {', '.join(prop.choices)}" if prop.kind is Kind.CHOICE else prop.kind.value
        shown = str(prop.default).lower() if isinstance(prop.default, bool) else str(prop.default)
        default = "" if prop.default is None else f"`{shown}`"
        names = ", ".join(f"`{n}`" for n in (prop.name, *prop.aliases))
        lines.append(f"| {names} | {kind} | {default} | {prop.doc} |")
    return "\n".join(lines) + "\n"
