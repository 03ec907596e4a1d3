"""The SQLSTATE and message a client gets for a failed statement: duckfed's errors and DuckDB's, mapped to
PostgreSQL's error codes (Appendix A of its documentation, errcodes.txt)."""

from __future__ import annotations

import duckdb

from federation import errors


class Failure(Exception):
    """A statement failed: the SQLSTATE and message the client gets."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: SQLSTATEs for duckfed's errors (PostgreSQL's errcodes.txt), most specific class first.
_CODES: list[tuple[type[Exception], str]] = [
    (errors.Cancelled, "57014"),
    (errors.UnknownTableError, "42P01"),
    (errors.UnknownColumnError, "42703"),
    (errors.MissingFilterError, "42P10"),
    (errors.ReadOnlyError, "25006"),
    (errors.NotSupportedError, "0A000"),
    (errors.IntegrityError, "23502"),
    (errors.DataError, "22000"),
    (errors.WriteError, "22000"),
    (errors.QuotaExhausted, "53400"),
    (errors.AuthenticationError, "08004"),
    (errors.ConnectionFailed, "08006"),
    (errors.ProgrammingError, "42000"),
    (errors.ConfigurationError, "22023"),
    (duckdb.InterruptException, "57014"),
    (duckdb.CatalogException, "42P01"),
    (duckdb.BinderException, "42703"),
    (duckdb.ParserException, "42601"),
    (duckdb.ConversionException, "22P02"),
    (duckdb.InvalidInputException, "22023"),
    (duckdb.PermissionException, "42501"),
]


def failure(error: BaseException) -> Failure:
    if isinstance(error, Failure):
        return error
    code = next((c for kind, c in _CODES if isinstance(error, kind)), "XX000")
    return Failure(code, str(error))
