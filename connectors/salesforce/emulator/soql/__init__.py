"""SOQL for the Salesforce emulator: a parser and an evaluator with the platform's semantics.

``parse(text)`` turns query text into a ``Query`` (no catalog needed); ``execute(query, catalog, ...)`` runs it and
returns a ``QueryResult`` whose rows are the platform's JSON records, rendered lazily. Anything the platform would
reject raises ``SoqlError`` with the platform's error code and message.
"""

from .ast import Query
from .engine import DEFAULT_URL_PREFIX, QueryResult, execute
from .errors import SoqlError
from .parser import parse

__all__ = ["DEFAULT_URL_PREFIX", "Query", "QueryResult", "SoqlError", "execute", "parse"]
