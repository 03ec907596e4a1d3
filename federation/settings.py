"""Connection properties: parsed as the vendors' connectors spell them, typed, validated, secrets redacted.

Names match case-insensitively with spaces ignored (`Security Token` is `SecurityToken`), values arrive
URL-decoded (SQLAlchemy's URL parser decodes them). A connector declares its properties as data (`Property`),
and `parse_properties` turns a raw mapping into typed values or a `ConfigurationError` that names the property
and, for a misspelt one, the closest known name.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
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


def _url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
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
    """The raw properties with every secret value replaced, for reprs and logs."""
    secret_keys = {normalize(n) for p in properties if p.secret for n in (p.name, *p.aliases)}
    return {k: ("***" if normalize(k) in secret_keys else v) for k, v in raw.items()}
